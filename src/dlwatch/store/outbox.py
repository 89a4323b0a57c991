"""The hook outbox's rows: one per (event, hook or notification target), delivered at least once
by whichever dlwatch process gets to it (running them is delivery/deliver.py's job).

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
from typing import TYPE_CHECKING, Any

from dlwatch.core.errors import NotFoundError, Refused
from dlwatch.core.events import Event, HookOutcome, HookRun
from dlwatch.core.models import DownloadStatus
from dlwatch.core.records import feed_record
from dlwatch.settings.config import Hooks, Settings
from dlwatch.store.db import Store, now_iso

if TYPE_CHECKING:
    import sqlite3

# A lease outlives the hook's timeout by this much, so a live deliverer always finishes first.
LEASE_SLACK = 5.0
NOTIFY_PREFIX = "notify:"  # an outbox row for hook `notify:NAME` is a notification to target NAME


def runs_for(
    hooks: Hooks, status: DownloadStatus, what: str = "status", import_state: str | None = None
) -> list[tuple[str, str]]:
    """The outbox rows (hook, command) an event queues: a status change by its status; an import
    event (`what`) runs on_change, and tells the targets that hear of `imported` or `not_imported`;
    a seeding goal met, those that hear of `seeded`.
    For a notification target the command is the target's name, never its URL (that stays in the
    keyring)."""
    chosen = []
    if what == "status":
        if status is DownloadStatus.COMPLETED and hooks.on_complete:
            chosen.append(("on_complete", hooks.on_complete))
        if status in (DownloadStatus.FAILED, DownloadStatus.MISSING) and hooks.on_failed:
            chosen.append(("on_failed", hooks.on_failed))
        heard = str(status)
    elif what == "seeding_goal":
        heard = "seeded"
    elif what == "import_late" or import_state in IMPORT_PROBLEMS:
        heard = "not_imported"
    else:
        heard = "imported" if import_state == "imported" else ""
    if hooks.on_change:
        chosen.append(("on_change", hooks.on_change))
    chosen += [(NOTIFY_PREFIX + t.name, t.name) for t in hooks.notify if "any" in t.on or (heard and heard in t.on)]
    return chosen


# Import states a user is told of as "not imported" (notification targets with on = ["not_imported"]).
IMPORT_PROBLEMS = frozenset({"blocked", "failed", "ignored"})


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
    "e.to_status AS to_status, e.at AS at, e.message AS message, e.progress AS progress, e.what AS what "
    "FROM hook_runs r JOIN events e ON e.id = r.event_id"
)


def _from_row(row: dict[str, Any]) -> HookRun:
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
    # A read first: an idle poll (cron, watch and scripts on one home) must not queue for SQLite's one
    # writer only to change nothing. A run another process claims meanwhile is simply not claimed.
    if not store.conn.execute(f"SELECT 1 FROM hook_runs WHERE {where} LIMIT 1", params).fetchone():
        return []
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


def requeue(store: Store, settings: Settings, run_id: int) -> None:
    """Make a run due now, once more, with the command configured today for its hook (if still set)."""
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
