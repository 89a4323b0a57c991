"""The hook outbox: one row per (event, hook or notification target), delivered at least once by
whichever dlwatch process gets to it.

A row is queued in the same transaction as its event (`enqueue`), so a recorded transition can never
lose its hooks. A deliverer claims rows with a lease (pending → running), runs them, and marks each
done or failed; a failed run is retried with back-off up to `[hooks] retries` times. A deliverer
killed mid-run leaves its rows running until the lease passes; then the next one runs them again.
That crash window is the only way a hook runs twice, so each run gets DLWATCH_EVENT_ID to
de-duplicate on.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from dlwatch.core.errors import NotFoundError, Refused
from dlwatch.delivery.hooks import NOTIFY_PREFIX, HookOutcome, run_command
from dlwatch.settings.config import Settings
from dlwatch.store.db import Store, now_iso

if TYPE_CHECKING:
    import sqlite3

# A lease outlives the hook's timeout by this much, so a live deliverer always finishes first.
LEASE_SLACK = 5.0
PARALLEL = 4  # hooks run at once by one deliverer


@dataclass(frozen=True)
class HookRun:
    id: int
    event_id: int
    hook: str
    command: str
    state: str  # pending, running, done, failed
    tries: int
    next_at: float
    created_at: str
    lease_until: float | None = None
    runner: str | None = None
    exit_code: int | None = None
    duration: float | None = None
    output: str | None = None
    detail: str | None = None
    finished_at: str | None = None
    # From the event, for listing and for the hook's input.
    attempt_id: int | None = None
    record: dict[str, Any] | None = None

    @property
    def next_try_iso(self) -> str:
        return datetime.fromtimestamp(self.next_at, UTC).isoformat(timespec="seconds")


def enqueue(conn: sqlite3.Connection, event_id: int, hooks: Iterable[tuple[str, str]]) -> None:
    """Queue the hooks of an event; called inside the transaction that appends the event."""
    stamp, now = now_iso(), time.time()
    conn.executemany(
        "INSERT OR IGNORE INTO hook_runs (event_id, hook, command, state, next_at, created_at) "
        "VALUES (?, ?, ?, 'pending', ?, ?)",
        [(event_id, name, command, now, stamp) for name, command in hooks],
    )


# Runs some deliverer should start now: pending and due, or running under a lease that lapsed.
_DUE = "((state = 'pending' AND next_at <= ?) OR (state = 'running' AND lease_until < ?))"

_SELECT = (
    "SELECT r.*, e.attempt_id AS attempt_id, e.snapshot AS snapshot, e.from_status AS from_status, "
    "e.to_status AS to_status, e.at AS at, e.message AS message, e.progress AS progress "
    "FROM hook_runs r JOIN events e ON e.id = r.event_id"
)


def _from_row(row: dict[str, Any]) -> HookRun:
    from dlwatch.core.records import feed_record
    from dlwatch.store.eventlog import Event

    event = Event.from_row({"id": row["event_id"], **{k: row[k] for k in Event.__dataclass_fields__ if k != "id"}})
    fields = {k: row[k] for k in HookRun.__dataclass_fields__ if k in row and k != "record"}
    return HookRun(**fields, record=feed_record(event))


def due_count(store: Store) -> int:
    """How many runs are due (see `_DUE`)."""
    now = time.time()
    return store.conn.execute(f"SELECT count(*) FROM hook_runs WHERE {_DUE}", [now, now]).fetchone()[0]


def claim(store: Store, settings: Settings, limit: int, only: int | None = None) -> list[HookRun]:
    """Take up to `limit` due runs for this process, under a lease."""
    now = time.time()
    runner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    where, params = _DUE, [now, now]
    if only is not None:
        where += " AND id = ?"
        params.append(only)
    with store.write() as conn:
        claimed = conn.execute(
            "UPDATE hook_runs SET state = 'running', tries = tries + 1, lease_until = ?, runner = ? "
            f"WHERE id IN (SELECT id FROM hook_runs WHERE {where} ORDER BY id LIMIT ?) RETURNING id",
            [now + settings.hooks.timeout + LEASE_SLACK, runner, *params, limit],
        ).fetchall()
    ids = sorted(r[0] for r in claimed)
    if not ids:
        return []
    rows = store.query(f"{_SELECT} WHERE r.id IN ({', '.join('?' * len(ids))}) ORDER BY r.id", ids)
    return [_from_row(r) for r in rows]


def finish(store: Store, settings: Settings, run: HookRun, outcome: HookOutcome) -> None:
    """Mark a claimed run done, due for a retry, or failed for good. A run whose lease another
    process took over meanwhile is left to that process."""
    if outcome.ok:
        state, next_at = "done", run.next_at
    elif run.tries <= settings.hooks.retries:
        state, next_at = "pending", time.time() + settings.hooks.retry_delay * 2 ** (run.tries - 1)
    else:
        state, next_at = "failed", run.next_at
    with store.write() as conn:
        conn.execute(
            "UPDATE hook_runs SET state = ?, next_at = ?, lease_until = NULL, exit_code = ?, duration = ?, "
            "output = ?, detail = ?, finished_at = ? WHERE id = ? AND runner = ? AND state = 'running'",
            [
                state,
                next_at,
                outcome.exit_code,
                outcome.duration,
                outcome.output,
                outcome.detail,
                now_iso(),
                run.id,
                run.runner,
            ],
        )


def deliver_due(store: Store, settings: Settings, *, only: int | None = None) -> list[HookRun]:
    """Run every due hook (or the one `only`), a few at a time; the runs as they ended."""
    delivered: list[HookRun] = []
    home = str(store.path.parent)
    while runs := claim(store, settings, PARALLEL, only):
        with ThreadPoolExecutor(max_workers=len(runs)) as pool:
            outcomes = list(pool.map(lambda r: _run(r, home, settings.hooks.timeout), runs))
        for run, outcome in zip(runs, outcomes, strict=True):
            finish(store, settings, run, outcome)
        delivered += [get(store, run.id) for run in runs]
        if only is not None:
            break
    return delivered


def _run(run: HookRun, home: str, timeout: float) -> HookOutcome:
    if run.hook.startswith(NOTIFY_PREFIX):
        from dlwatch.delivery.notify import deliver

        return deliver(run.command, run.record or {})
    return run_command(run.command, run.record or {}, home, timeout)


def get(store: Store, run_id: int) -> HookRun:
    rows = list(store.query(f"{_SELECT} WHERE r.id = ?", [run_id]))
    if not rows:
        raise NotFoundError(f"no hook run {run_id} (see `dlwatch hooks`)")
    return _from_row(rows[0])


def for_events(store: Store, event_ids: Iterable[int]) -> dict[int, list[HookRun]]:
    ids = list(event_ids)
    found: dict[int, list[HookRun]] = {i: [] for i in ids}
    if ids:
        rows = store.query(f"{_SELECT} WHERE r.event_id IN ({', '.join('?' * len(ids))}) ORDER BY r.id", ids)
        for row in rows:
            found[row["event_id"]].append(_from_row(row))
    return found


def listing(store: Store, *, failed_only: bool = False, limit: int = 50) -> list[HookRun]:
    """The newest runs first (failed ones only with `failed_only`)."""
    where = " WHERE r.state = 'failed'" if failed_only else ""
    rows = store.query(f"{_SELECT}{where} ORDER BY r.id DESC LIMIT ?", [limit])
    return [_from_row(r) for r in rows]


def retry(store: Store, settings: Settings, run_id: int) -> HookRun:
    """Run a hook again now, once, with the command configured today for that hook (if still set)."""
    run = get(store, run_id)
    if run.state == "running":
        raise Refused(f"hook run {run_id} is running right now")
    command = getattr(settings.hooks, run.hook, "") or run.command
    with store.write() as conn:
        conn.execute(
            # tries at the limit: if this run fails too, it is failed again rather than retried
            "UPDATE hook_runs SET state = 'pending', next_at = 0, tries = ?, command = ? WHERE id = ?",
            [settings.hooks.retries, command, run_id],
        )
    deliver_due(store, settings, only=run_id)
    return get(store, run_id)
