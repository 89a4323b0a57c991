"""What happened and what it set off: an entry of the event log, a hook run it queued, and how a
run ended. Plain data that the store writes, delivery runs and every output prints."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class Event:
    id: int
    attempt_id: int
    at: str
    from_status: str | None
    to_status: str
    progress: float | None
    message: str | None
    # The attempt's JSON record at that moment (None for events older than the snapshot column).
    snapshot: dict[str, Any] | None = None
    # What changed: "status" (from_status -> to_status), "import" (the *arr's import state, with the
    # status unchanged) or "import_late" (completed long ago and still not imported: [import]).
    what: str = "status"

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Event:
        data = dict(row)
        data["snapshot"] = json.loads(data["snapshot"]) if data.get("snapshot") else None
        return cls(**data)


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


@dataclass(frozen=True)
class HookOutcome:
    ok: bool
    exit_code: int | None
    duration: float
    output: str
    detail: str = ""
