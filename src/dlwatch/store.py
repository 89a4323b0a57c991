"""SQLite store: clients, download attempts and their status events.

The schema is made and upgraded by sqlite-utils Migrations, applied on every open. Shipped migrations
are never edited; a change to the schema is a new migration.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils
from sqlite_utils.migrations import Migrations

from .errors import DlwatchError, NotFoundError, UsageError
from .models import ClientConfig, DownloadStatus, Protocol

migrations = Migrations("dlwatch")


@migrations()
def m001_initial(db: sqlite_utils.Database) -> None:
    db["clients"].create(
        {
            "id": str,
            "name": str,
            "type": str,
            "host": str,
            "port": int,
            "use_ssl": int,
            "url_base": str,
            "username": str,
            "category": str,
            "priority": int,
            "enabled": int,
            "tls_verify": int,
            "ca_bundle": str,
            "created_at": str,
            "updated_at": str,
        },
        pk="id",
        not_null={"name", "type", "host", "port", "created_at", "updated_at"},
        defaults={"use_ssl": 0, "url_base": "", "priority": 0, "enabled": 1, "tls_verify": 1},
    )
    db["clients"].create_index(["name"], unique=True)
    db["attempts"].create(
        {
            "id": int,
            "client_id": str,
            "client_download_id": str,
            "alt_ids": str,  # JSON list of other ids the download answers to
            "dlwatch_tag": str,
            "title": str,
            "protocol": str,
            "status": str,
            "raw_state": str,
            "progress": float,
            "size_bytes": int,
            "remaining_bytes": int,
            "download_speed": int,
            "eta_seconds": int,
            "category": str,
            "raw_file_path": str,
            "error": str,
            "ref": str,
            "source": str,
            "seen": int,  # the client has listed it at least once
            "created_at": str,
            "updated_at": str,
            "completed_at": str,
        },
        pk="id",
        not_null={"client_id", "title", "protocol", "status", "created_at", "updated_at"},
        defaults={"progress": 0.0, "seen": 0, "alt_ids": "[]"},
    )
    db["attempts"].create_index(["client_id", "status"])
    db["attempts"].create_index(["client_id", "client_download_id"])
    db["events"].create(
        {
            "id": int,
            "attempt_id": int,
            "at": str,
            "from_status": str,
            "to_status": str,
            "progress": float,
            "message": str,
        },
        pk="id",
        not_null={"attempt_id", "at", "to_status"},
        foreign_keys=[("attempt_id", "attempts", "id")],
    )
    db["events"].create_index(["attempt_id"])


@migrations()
def m002_prowlarr(db: sqlite_utils.Database) -> None:
    # The Prowlarr connection (its API key lives in the keyring) and the last search, so a user can
    # grab a result by its number.
    db["prowlarr"].create({"key": str, "url": str, "updated_at": str}, pk="key", not_null={"url"})
    db["search_results"].create(
        {"position": int, "release": str, "searched_at": str}, pk="position", not_null={"release", "searched_at"}
    )


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


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

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Attempt:
        known = {f.name for f in fields(cls)}
        data = {k: v for k, v in row.items() if k in known}
        data["protocol"] = Protocol(data["protocol"])
        data["status"] = DownloadStatus(data["status"])
        data["alt_ids"] = tuple(json.loads(data.get("alt_ids") or "[]"))
        data["seen"] = bool(data.get("seen"))
        data["progress"] = data.get("progress") or 0.0
        return cls(**data)

    def to_row(self) -> dict[str, Any]:
        row = asdict(self)
        row["protocol"] = str(self.protocol)
        row["status"] = str(self.status)
        row["alt_ids"] = json.dumps(list(self.alt_ids))
        row["seen"] = int(self.seen)
        return row


@dataclass(frozen=True)
class Event:
    id: int
    attempt_id: int
    at: str
    from_status: str | None
    to_status: str
    progress: float | None
    message: str | None


class Store:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        try:
            if str(path) != ":memory:":
                self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(path), timeout=10.0, isolation_level=None)
            self.db = sqlite_utils.Database(conn)
            if str(path) != ":memory:":
                self.db.enable_wal()
            self.db.execute("PRAGMA busy_timeout = 10000")
            self.db.execute("PRAGMA foreign_keys = ON")
            migrations.apply(self.db)
        except sqlite3.DatabaseError as exc:
            raise DlwatchError(f"cannot open the database {path}: {exc}") from exc

    def close(self) -> None:
        self.db.close()

    # -- clients ---------------------------------------------------------------------------------

    def list_clients(self, *, enabled_only: bool = False) -> list[ClientConfig]:
        where = "enabled = 1" if enabled_only else None
        rows = self.db["clients"].rows_where(where, order_by="priority desc, name")
        return [_client_from_row(r) for r in rows]

    def find_client(self, name: str) -> ClientConfig | None:
        rows = list(self.db["clients"].rows_where("name = ?", [name]))
        return _client_from_row(rows[0]) if rows else None

    def get_client(self, name: str) -> ClientConfig:
        if client := self.find_client(name):
            return client
        raise NotFoundError(f"no client named {name!r} (see `dlwatch client list`)")

    def client_by_id(self, client_id: str) -> ClientConfig | None:
        rows = list(self.db["clients"].rows_where("id = ?", [client_id]))
        return _client_from_row(rows[0]) if rows else None

    def insert_client(self, client: ClientConfig) -> ClientConfig:
        if self.find_client(client.name):
            raise UsageError(f"a client named {client.name!r} exists already (use `dlwatch client edit`)")
        stamp = now_iso()
        client.id = client.id or str(uuid.uuid4())
        client.created_at = client.created_at or stamp
        client.updated_at = stamp
        self.db["clients"].insert(_client_to_row(client))
        return client

    def update_client(self, client: ClientConfig) -> ClientConfig:
        other = self.find_client(client.name)
        if other and other.id != client.id:
            raise UsageError(f"a client named {client.name!r} exists already")
        client.updated_at = now_iso()
        self.db["clients"].update(client.id, _client_to_row(client))
        return client

    def delete_client(self, client_id: str) -> None:
        self.db["clients"].delete(client_id)

    # -- Prowlarr --------------------------------------------------------------------------------

    def prowlarr_url(self) -> str | None:
        rows = list(self.db["prowlarr"].rows_where("key = ?", ["default"]))
        return rows[0]["url"] if rows else None

    def set_prowlarr_url(self, url: str) -> None:
        self.db["prowlarr"].upsert({"key": "default", "url": url, "updated_at": now_iso()}, pk="key")

    def save_search(self, releases: list[dict[str, Any]]) -> None:
        stamp = now_iso()
        with self.db.atomic():
            self.db["search_results"].delete_where()
            self.db["search_results"].insert_all(
                {"position": i, "release": json.dumps(r), "searched_at": stamp} for i, r in enumerate(releases, 1)
            )

    def search_result(self, position: int) -> dict[str, Any]:
        rows = list(self.db["search_results"].rows_where("position = ?", [position]))
        if not rows:
            raise NotFoundError(f"no search result {position} (run `dlwatch search QUERY` first)")
        return json.loads(rows[0]["release"])

    # -- attempts and events ---------------------------------------------------------------------

    def insert_attempt(self, attempt: Attempt) -> Attempt:
        with self.db.atomic():
            row = attempt.to_row()
            row.pop("id")
            attempt.id = self.db["attempts"].insert(row).last_pk
            self._append_event(attempt.id, None, attempt.status, attempt.progress, "tracking started")
        return attempt

    def get_attempt(self, attempt_id: int) -> Attempt:
        rows = list(self.db["attempts"].rows_where("id = ?", [attempt_id]))
        if not rows:
            raise NotFoundError(f"no download attempt {attempt_id} (see `dlwatch status --all`)")
        return Attempt.from_row(rows[0])

    def list_attempts(
        self, *, ids: Iterable[int] | None = None, active_only: bool = False, client_id: str | None = None
    ) -> list[Attempt]:
        clauses: list[str] = []
        params: list[Any] = []
        if ids is not None:
            id_list = list(ids)
            clauses.append(f"id in ({', '.join('?' * len(id_list))})" if id_list else "0")
            params += id_list
        if active_only:
            finals = [str(s) for s in DownloadStatus if s.is_final]
            clauses.append(f"status not in ({', '.join('?' * len(finals))})")
            params += finals
        if client_id is not None:
            clauses.append("client_id = ?")
            params.append(client_id)
        where = " and ".join(clauses) or None
        return [Attempt.from_row(r) for r in self.db["attempts"].rows_where(where, params, order_by="id")]

    def save_attempt(self, attempt: Attempt, *, previous: DownloadStatus | None, message: str | None = None):
        """Write the attempt; if its status changed from `previous`, append the event in the same
        transaction so the two can never disagree."""
        attempt.updated_at = now_iso()
        with self.db.atomic():
            self.db["attempts"].update(attempt.id, attempt.to_row())
            if previous is not None and previous != attempt.status:
                self._append_event(attempt.id, previous, attempt.status, attempt.progress, message)

    def delete_attempt(self, attempt_id: int) -> None:
        with self.db.atomic():
            self.db["events"].delete_where("attempt_id = ?", [attempt_id])
            self.db["attempts"].delete(attempt_id)

    def events(self, attempt_id: int) -> list[Event]:
        rows = self.db["events"].rows_where("attempt_id = ?", [attempt_id], order_by="id")
        return [Event(**r) for r in rows]

    def _append_event(
        self,
        attempt_id: int,
        previous: DownloadStatus | None,
        status: DownloadStatus,
        progress: float | None,
        message: str | None,
    ) -> None:
        self.db["events"].insert(
            {
                "attempt_id": attempt_id,
                "at": now_iso(),
                "from_status": str(previous) if previous else None,
                "to_status": str(status),
                "progress": progress,
                "message": message,
            }
        )


_BOOL_COLUMNS = ("use_ssl", "enabled", "tls_verify")


def _client_from_row(row: dict[str, Any]) -> ClientConfig:
    data = dict(row)
    for key in _BOOL_COLUMNS:
        data[key] = bool(data[key])
    data["url_base"] = data.get("url_base") or ""
    return ClientConfig(**data)


def _client_to_row(client: ClientConfig) -> dict[str, Any]:
    row = asdict(client)
    for key in _BOOL_COLUMNS:
        row[key] = int(row[key])
    return row
