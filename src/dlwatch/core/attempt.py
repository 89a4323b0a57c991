"""A download attempt as stored: the dataclass, its row conversion, and the timestamps it uses.

Kept apart from the store's connection and transactions (store/db.py): this is the model every module
reads; how it gets to and from SQLite is the store's business.
"""

from __future__ import annotations

import json
from dataclasses import MISSING, asdict, dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any

from dlwatch.core.errors import DlwatchError
from dlwatch.core.models import DownloadStatus, Protocol


def now_iso(*, precise: bool = False) -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds" if precise else "seconds")


def iso_ago(seconds: float) -> str:
    return (datetime.now(UTC) - timedelta(seconds=seconds)).isoformat(timespec="seconds")


def seconds_since(timestamp: str) -> float:
    try:
        return (datetime.now(UTC) - datetime.fromisoformat(timestamp)).total_seconds()
    except ValueError:
        return float("inf")  # unreadable: long ago


@dataclass
class Attempt:
    """A download sent through dlwatch (or adopted) and what dlwatch last knew of it."""

    id: int
    client_id: str
    title: str
    protocol: Protocol
    status: DownloadStatus
    created_at: str
    updated_at: str
    client_download_id: str | None = None
    alt_ids: tuple[str, ...] = ()
    dlwatch_tag: str | None = None
    raw_state: str | None = None
    progress: float = 0.0
    size_bytes: int | None = None
    remaining_bytes: int | None = None
    download_speed: int | None = None
    eta_seconds: int | None = None
    category: str | None = None
    raw_file_path: str | None = None
    error: str | None = None
    ref: str | None = None
    source: str | None = None
    seen: bool = False
    completed_at: str | None = None
    # Bumped by every write: a writer changes the row only if it still has the version it read.
    version: int = 0
    # Successful answers in a row that lacked it (and when the last counted): evidence for "missing".
    absent_count: int = 0
    absent_at: str | None = None
    payload_sha256: str | None = None  # of the .torrent/.nzb sent, to spot the same one sent again
    retry_of: int | None = None  # the attempt `dlwatch retry` sent this one again for
    # A dead-download rule this download has met on successive polls (tracking/deadness.py), how many, since when.
    strike_rule: str | None = None
    strikes: int = 0
    strike_since: str | None = None
    # Paused by the disk guard (never by the user): the guard resumes only these.
    guard_paused: bool = False
    # After `completed`: the import by the Sonarr or Radarr instance (`arr`) that knows the download,
    # in its own view (policies/imports.py): the state, the *arr's own messages, when it imported.
    import_state: str | None = None
    import_detail: str | None = None
    imported_at: str | None = None
    arr: str | None = None
    import_warned: bool = False  # the [import] warn_after event was recorded (once)
    # A completed torrent as it seeds (tracking/seeding.py): the client's figures, and where it stands
    # against its [seeding] goal (`seed_state`, one of tracking.seeding.SEED_STATES), with why.
    ratio: float | None = None
    seed_seconds: int | None = None
    uploaded_bytes: int | None = None
    upload_speed: int | None = None
    seeders: int | None = None
    seed_state: str | None = None
    seed_detail: str | None = None
    goal_met_at: str | None = None

    def visible_fields(self) -> dict[str, Any]:
        """What a user can see of the attempt, and what polling keeps: a write that changes none of
        these is skipped."""
        row = self.to_row()
        for key in ("updated_at", "version"):
            row.pop(key)
        return row

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Attempt:
        data = row if row.keys() <= _ATTEMPT_FIELDS else {k: v for k, v in row.items() if k in _ATTEMPT_FIELDS}
        try:
            protocol, status = _PROTOCOLS[data["protocol"]], _STATUSES[data["status"]]
        except KeyError as exc:
            raise DlwatchError(
                f"attempt {row.get('id')} holds a value this dlwatch does not know ({exc}): "
                "the database was written by a newer dlwatch; upgrade dlwatch to use it"
            ) from None
        # Filled in place rather than through the 30-argument __init__: `status --all` reads every row.
        attempt = cls.__new__(cls)
        attempt.__dict__.update(_ATTEMPT_DEFAULTS)
        attempt.__dict__.update(data)
        alt_ids = data.get("alt_ids")
        attempt.protocol, attempt.status = protocol, status
        attempt.alt_ids = tuple(json.loads(alt_ids)) if alt_ids and alt_ids != "[]" else ()
        attempt.seen = bool(data.get("seen"))
        attempt.guard_paused = bool(data.get("guard_paused"))
        attempt.import_warned = bool(data.get("import_warned"))
        attempt.progress = data.get("progress") or 0.0
        return attempt

    def to_row(self) -> dict[str, Any]:
        row = asdict(self)
        row["protocol"] = str(self.protocol)
        row["status"] = str(self.status)
        row["alt_ids"] = json.dumps(list(self.alt_ids))
        row["seen"] = int(self.seen)
        row["guard_paused"] = int(self.guard_paused)
        row["import_warned"] = int(self.import_warned)
        return row


# Looked up once: reading 10,000 attempts should cost the rows, not 10,000 dataclass inspections.
_ATTEMPT_FIELDS = frozenset(f.name for f in fields(Attempt))
_ATTEMPT_DEFAULTS = {f.name: f.default for f in fields(Attempt) if f.default is not MISSING}
_PROTOCOLS = {str(p): p for p in Protocol}
_STATUSES = {str(s): s for s in DownloadStatus}
