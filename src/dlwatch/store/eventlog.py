"""The event log: the one place where an attempt's change is recorded, and the feed everyone reads.

A writer changes an attempt only if the row still has the version it read (compare-and-set), inside
one `BEGIN IMMEDIATE` transaction that also appends the status event and queues its hook runs. A
writer that lost the race appends nothing: the winner's record stands, and the next poll sees the
client again. Readers (`watch`, `poll` output, the hook outbox) follow the log by event id, which
only grows, so each of them sees every transition recorded by any dlwatch process exactly once.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from dlwatch.core.events import Event
from dlwatch.core.models import Verdict
from dlwatch.core.records import attempt_record
from dlwatch.settings.config import Hooks
from dlwatch.store import outbox
from dlwatch.store.db import Attempt, Store, now_iso

_ATTEMPT_COLUMNS = [c for c in Attempt.__dataclass_fields__ if c not in ("id", "version")]


@dataclass
class Change:
    """An attempt as a writer read it (`before`, whose version is the compare-and-set token) and as
    it should be now (`after`)."""

    before: Attempt
    after: Attempt
    client_name: str
    client_type: str | None
    message: str | None = None
    verdict: Verdict | None = None  # this change is a dead-download rule failing it (tracking/deadness.py)
    # An event for a change that is not a status change ("import", "import_late"; core.events.Event.what):
    # appended (with its hooks) only if the status stays as it was.
    event: str | None = None


def start_tracking(store: Store, attempt: Attempt, client_name: str, client_type: str | None) -> Attempt:
    """Insert a new attempt with its first event ("tracking started"), in one transaction."""
    with store.write() as conn:
        row = attempt.to_row()
        row.pop("id")
        attempt.id = store.insert_row("attempts", row)
        _append(conn, attempt, None, "tracking started", client_name, client_type)
    return attempt


def record(store: Store, changes: Iterable[Change], hooks: Hooks) -> list[Event]:
    """Write every change whose attempt is unchanged since it was read, all in one transaction; a
    status change appends its event and queues its hook runs with it. Returns the events appended."""
    changes = [c for c in changes if c.after.visible_fields() != c.before.visible_fields()]
    if not changes:
        return []
    appended = []
    with store.write() as conn:
        stamp = now_iso()
        for change in changes:
            after = change.after
            after.updated_at = stamp
            row = after.to_row()
            values = [row[c] for c in _ATTEMPT_COLUMNS]
            cursor = conn.execute(
                f"UPDATE attempts SET {', '.join(f'{c} = ?' for c in _ATTEMPT_COLUMNS)}, version = version + 1 "
                "WHERE id = ? AND version = ?",
                [*values, after.id, change.before.version],
            )
            if cursor.rowcount == 0:
                continue  # another process wrote this attempt since we read it: its record stands
            after.version = change.before.version + 1
            what = "status" if after.status != change.before.status else change.event
            if what is not None:
                event = _append(
                    conn, after, str(change.before.status), change.message, change.client_name, change.client_type, what
                )
                outbox.enqueue(conn, event.id, outbox.runs_for(hooks, after.status, what, after.import_state))
                appended.append(event)
    return appended


def _append(
    conn,
    attempt: Attempt,
    from_status: str | None,
    message: str | None,
    client_name: str,
    client_type: str | None,
    what: str = "status",
) -> Event:
    snapshot = attempt_record(attempt, client_name, client_type)
    at = now_iso()
    cursor = conn.execute(
        "INSERT INTO events (attempt_id, at, from_status, to_status, progress, message, snapshot, what) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [attempt.id, at, from_status, str(attempt.status), attempt.progress, message, json.dumps(snapshot), what],
    )
    return Event(
        cursor.lastrowid, attempt.id, at, from_status, str(attempt.status), attempt.progress, message, snapshot, what
    )


def last_id(store: Store) -> int:
    """Where a reader that wants only what happens from now on starts."""
    return store.conn.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()[0]


def after(store: Store, cursor: int, attempt_ids: Iterable[int] | None = None) -> list[Event]:
    """Every event recorded after `cursor`, oldest first, optionally for some attempts only."""
    sql, params = "SELECT * FROM events WHERE id > ?", [cursor]
    if attempt_ids is not None:
        ids = list(attempt_ids)
        sql += f" AND attempt_id IN ({', '.join('?' * len(ids))})" if ids else " AND 0"
        params += ids
    return [Event.from_row(r) for r in store.query(sql + " ORDER BY id", params)]


def of_attempt(store: Store, attempt_id: int) -> list[Event]:
    return [
        Event.from_row(r) for r in store.query("SELECT * FROM events WHERE attempt_id = ? ORDER BY id", [attempt_id])
    ]
