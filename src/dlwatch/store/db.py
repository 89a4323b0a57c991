"""SQLite store: the connection, clients, Prowlarr settings, and reading download attempts
(the Attempt model itself is in core/attempt.py).

Several dlwatch processes share one home, so every write goes through `Store.write()`: one short
`BEGIN IMMEDIATE` transaction, retried with back-off while another process holds the lock. How an
attempt's change and its event are written is the event log's job (`eventlog.py`).
"""

from __future__ import annotations

import os
import random
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

from dlwatch.core.attempt import Attempt, iso_ago, now_iso, seconds_since
from dlwatch.core.errors import DlwatchError, NotFoundError, Refused, UsageError
from dlwatch.core.models import ClientConfig, DownloadStatus
from dlwatch.store import schema_names
from dlwatch.store.releases import ReleaseTables

# Attempt and the time helpers live in core/attempt.py; most modules reach them through the store.
__all__ = ["Attempt", "DatabaseBusy", "Store", "iso_ago", "now_iso", "seconds_since"]

# How long a write may wait for other dlwatch processes before the user is told. A poll's
# transaction lasts milliseconds, so reaching this means something holds the database for good.
WRITE_WAIT = 30.0
# What SQLite's own busy handler waits before our loop decides again (jitter keeps rivals apart).
BUSY_TIMEOUT_MS = 2000


class DatabaseBusy(DlwatchError):
    pass


_FINALS = [str(s) for s in DownloadStatus if s.is_final]


class Store(ReleaseTables):
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        try:
            if str(path) != ":memory:":
                _private_dir(self.path.parent)
                if not self.path.exists():  # made owner-only from the start; SQLite gives its WAL the same mode
                    os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
            conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
            self.conn = conn
            self._depth = 0
            self._db = None
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            if str(path) != ":memory:":
                if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                    self._retry_busy(lambda: conn.execute("PRAGMA journal_mode = wal"))
                # WAL with synchronous=NORMAL: a commit is atomic and ordered, fsync only at checkpoints.
                conn.execute("PRAGMA synchronous = NORMAL")
                _private_files(self.path)
            conn.execute("PRAGMA foreign_keys = ON")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise DlwatchError(f"cannot open the database {path}: {exc}") from exc

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, holding the lock from its first statement (`BEGIN IMMEDIATE`), so
        what it reads stays true until it commits. Nested calls join the outer transaction."""
        if self._depth:
            self._depth += 1
            try:
                yield self.conn
            finally:
                self._depth -= 1
            return
        self._retry_busy(lambda: self.conn.execute("BEGIN IMMEDIATE"))
        self._depth = 1
        try:
            yield self.conn
            self.conn.execute("COMMIT")
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise
        finally:
            self._depth = 0

    def _retry_busy(self, action):
        deadline = time.monotonic() + WRITE_WAIT
        delay = 0.02
        while True:
            try:
                return action()
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc):
                    raise
                if time.monotonic() >= deadline:
                    raise DatabaseBusy(
                        f"the database {self.path} stayed locked by another process for {WRITE_WAIT:g}s; "
                        "try again, or look for a stuck dlwatch process"
                    ) from exc
                time.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, 0.5)

    @property
    def db(self):
        """The connection as a sqlite-utils Database, for migrations (and tests). Everyday reads and
        writes use plain SQL: importing sqlite-utils costs ~50 ms, paid only when it is needed."""
        if self._db is None:
            # here, not at the top: start-up time (only this path needs it)
            import sqlite_utils

            self._db = sqlite_utils.Database(self.conn)
        return self._db

    def _migrate(self) -> None:
        exists = self.conn.execute("SELECT 1 FROM sqlite_master WHERE name = '_sqlite_migrations'").fetchone()
        applied = (
            {r[0] for r in self.conn.execute("SELECT name FROM _sqlite_migrations WHERE migration_set = 'dlwatch'")}
            if exists
            else set()
        )
        if unknown := applied - set(schema_names.MIGRATIONS):
            raise DlwatchError(
                f"{self.path} was made by a newer dlwatch (it has migration {sorted(unknown)[-1]}); "
                "upgrade dlwatch to use it"
            )
        if set(schema_names.MIGRATIONS) - applied:
            # here, not at the top: start-up time (only this path needs it)
            from dlwatch.store import schema

            self._retry_busy(lambda: schema.apply(self.db))

    def query(self, sql: str, params: Iterable[Any] = ()) -> list[dict[str, Any]]:
        cursor = self.conn.execute(sql, list(params))
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor]

    def close(self) -> None:
        self.conn.close()

    # -- clients ---------------------------------------------------------------------------------

    def list_clients(self, *, enabled_only: bool = False) -> list[ClientConfig]:
        where = " WHERE enabled = 1" if enabled_only else ""
        return [_client_from_row(r) for r in self.query(f"SELECT * FROM clients{where} ORDER BY priority DESC, name")]

    def find_client(self, name: str) -> ClientConfig | None:
        rows = self.query("SELECT * FROM clients WHERE name = ?", [name])
        return _client_from_row(rows[0]) if rows else None

    def get_client(self, name: str) -> ClientConfig:
        if client := self.find_client(name):
            return client
        raise NotFoundError(f"no client named {name!r} (see `dlwatch client list`)")

    def client_by_id(self, client_id: str) -> ClientConfig | None:
        rows = self.query("SELECT * FROM clients WHERE id = ?", [client_id])
        return _client_from_row(rows[0]) if rows else None

    def insert_client(self, client: ClientConfig) -> ClientConfig:
        with self.write():
            if self.find_client(client.name):
                raise Refused(f"a client named {client.name!r} exists already (use `dlwatch client edit`)")
            self._refuse_same_slug(client)
            stamp = now_iso()
            client.id = client.id or _new_id()
            client.created_at = client.created_at or stamp
            client.updated_at = stamp
            self.insert_row("clients", _client_to_row(client))
        return client

    def update_client(self, client: ClientConfig) -> ClientConfig:
        with self.write():
            other = self.find_client(client.name)
            if other and other.id != client.id:
                raise Refused(f"a client named {client.name!r} exists already")
            self._refuse_same_slug(client)
            client.updated_at = now_iso()
            row = _client_to_row(client)
            self.conn.execute(
                f"UPDATE clients SET {', '.join(f'{k} = ?' for k in row)} WHERE id = ?", [*row.values(), client.id]
            )
        return client

    def _refuse_same_slug(self, client: ClientConfig) -> None:
        # here, not at the top: start-up time (only this path needs it)
        from dlwatch.settings.secrets import env_slug, env_var

        slug = env_slug(client.name)
        for other in self.list_clients():
            if other.id != client.id and env_slug(other.name) == slug:
                raise UsageError(
                    f"{client.name!r} and the client {other.name!r} would share the environment variable "
                    f"{env_var(client.name, 'password')}; choose another name"
                )

    def delete_client(self, client_id: str) -> None:
        with self.write():
            self.conn.execute("DELETE FROM clients WHERE id = ?", [client_id])

    def home_id(self) -> str:
        """This home's own id, made on first use (the write lock only then, re-checked under it)."""
        query = "SELECT value FROM meta WHERE key = 'home_id'"
        if rows := self.query(query):
            return rows[0]["value"]
        with self.write():
            if rows := self.query(query):
                return rows[0]["value"]
            value = _new_id()
            self.insert_row("meta", {"key": "home_id", "value": value})
            return value

    def meta(self, key: str) -> str | None:
        rows = self.query("SELECT value FROM meta WHERE key = ?", [key])
        return rows[0]["value"] if rows else None

    def set_meta(self, key: str, value: str | None) -> None:
        """Set (or with None, delete) one of this home's own facts."""
        with self.write():
            if value is None:
                self.conn.execute("DELETE FROM meta WHERE key = ?", [key])
            else:
                self.conn.execute(
                    "INSERT INTO meta (key, value) VALUES (?, ?) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    [key, value],
                )

    # -- attempts and events ---------------------------------------------------------------------

    def get_attempt(self, attempt_id: int) -> Attempt:
        rows = self.query("SELECT * FROM attempts WHERE id = ?", [attempt_id])
        if not rows:
            raise NotFoundError(f"no download attempt {attempt_id} (see `dlwatch status --all`)")
        return Attempt.from_row(rows[0])

    def list_attempts(
        self,
        *,
        ids: Iterable[int] | None = None,
        active_only: bool = False,
        client_id: str | None = None,
        missing_since: str | None = None,
        seeding: bool = False,
    ) -> list[Attempt]:
        """Attempts by id; `active_only` keeps those not final (or held for an import before their
        removal); with `seeding` also the torrents followed as they seed, and with `missing_since`
        also the `missing` ones that went missing after that time (they are still looked for)."""
        where, params = attempt_filter(
            ids=ids, active_only=active_only, client_id=client_id, missing_since=missing_since, seeding=seeding
        )
        return [Attempt.from_row(r) for r in self.query(f"SELECT * FROM attempts{where} ORDER BY id", params)]

    def awaiting_import(self, completed_since: str, ended: Iterable[str]) -> list[Attempt]:
        """Completed attempts (since `completed_since`) whose import is not in one of the `ended`
        states yet: what policies/imports.py asks the *arrs about."""
        done = list(ended)
        rows = self.query(
            "SELECT * FROM attempts WHERE status = ? AND completed_at >= ? "
            f"AND (import_state IS NULL OR import_state NOT IN ({', '.join('?' * len(done))})) ORDER BY id",
            [str(DownloadStatus.COMPLETED), completed_since, *done],
        )
        return [Attempt.from_row(r) for r in rows]

    def attempts_in_seed_state(self, state: str) -> list[Attempt]:
        """Completed torrents whose seeding stands at `state` (tracking/seeding.py), by the index."""
        rows = self.query(
            "SELECT * FROM attempts WHERE seed_state = ? AND status = ? ORDER BY id",
            [state, str(DownloadStatus.COMPLETED)],
        )
        return [Attempt.from_row(r) for r in rows]

    def find_active(self, download_ids: Iterable[str], payload_sha256: str | None) -> Attempt | None:
        """A not-final attempt that answers to one of these ids (infohashes) or was sent from the
        same .torrent/.nzb bytes."""
        ids = [i.lower() for i in download_ids]
        marks = ", ".join("?" * len(ids)) or "NULL"
        rows = self.query(
            f"SELECT * FROM attempts WHERE status NOT IN ({', '.join('?' * len(_FINALS))}) AND ("
            f"lower(client_download_id) IN ({marks}) "
            f"OR EXISTS (SELECT 1 FROM json_each(alt_ids) WHERE lower(value) IN ({marks})) "
            "OR payload_sha256 = ?) ORDER BY id LIMIT 1",
            [*_FINALS, *ids, *ids, payload_sha256],
        )
        return next((Attempt.from_row(r) for r in rows), None)

    def keep_payload(self, sha256: str, protocol: str, title: str, filename: str | None, content, magnet) -> None:
        with self.write():
            self.conn.execute(
                "INSERT OR IGNORE INTO payloads (sha256, protocol, title, filename, content, magnet, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [sha256, protocol, title, filename, content, magnet, now_iso()],
            )

    def payload(self, sha256: str) -> dict[str, Any] | None:
        rows = self.query("SELECT * FROM payloads WHERE sha256 = ?", [sha256])
        return rows[0] if rows else None

    def prune(self, attempt_ids: Iterable[int]) -> None:
        """Delete these attempts (their events and hook runs with them) and what only they sent."""
        ids = list(attempt_ids)
        with self.write():
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                self.conn.execute(f"DELETE FROM attempts WHERE id IN ({', '.join('?' * len(chunk))})", chunk)
            self.conn.execute(
                "DELETE FROM payloads WHERE sha256 NOT IN "
                "(SELECT payload_sha256 FROM attempts WHERE payload_sha256 IS NOT NULL)"
            )

    def delete_attempt(self, attempt_id: int) -> None:
        with self.write():  # its events and their hook runs go with it (ON DELETE CASCADE)
            self.conn.execute("DELETE FROM attempts WHERE id = ?", [attempt_id])

    def insert_row(self, table: str, row: dict[str, Any]) -> int:
        """Insert one row (inside the caller's write transaction); its rowid."""
        columns = ", ".join(row)
        cursor = self.conn.execute(
            f"INSERT INTO {table} ({columns}) VALUES ({', '.join('?' * len(row))})", list(row.values())
        )
        return cursor.lastrowid


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc)
    return "database is locked" in text or "database is busy" in text or "database table is locked" in text


def _private_dir(path: Path) -> None:
    if path.exists() and not path.is_dir():
        raise DlwatchError(f"the dlwatch home {path} is a file, not a folder (see --home and $DLWATCH_HOME)")
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        if path.stat().st_uid == os.getuid() and path.stat().st_mode & 0o077:
            os.chmod(path, 0o700)  # the home holds every download's history: owner only
    except OSError:
        pass


def _private_files(db_path: Path) -> None:
    """The database, its WAL and shared-memory file hold every download's history, config.toml the
    commands dlwatch runs: owner only (files made by an older dlwatch or by hand are fixed here)."""
    for target in (
        *(db_path.with_name(db_path.name + s) for s in ("", "-wal", "-shm")),
        db_path.parent / "config.toml",
    ):
        try:
            if target.exists() and target.stat().st_uid == os.getuid() and target.stat().st_mode & 0o077:
                os.chmod(target, 0o600)
        except OSError:
            pass  # another user's file, or a read-only home: reading still works


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


def attempt_filter(
    *,
    ids: Iterable[int] | None = None,
    active_only: bool = False,
    client_id: str | None = None,
    missing_since: str | None = None,
    seeding: bool = False,
) -> tuple[str, list[Any]]:
    """The WHERE clause (and its parameters) of list_attempts, for queries that read the same
    attempts another way (records.attempt_records_json)."""
    clauses: list[str] = []
    params: list[Any] = []
    if ids is not None:
        id_list = list(ids)
        clauses.append(f"id in ({', '.join('?' * len(id_list))})" if id_list else "0")
        params += id_list
    if active_only:
        # Not final, or seeded and held for the *arr import before its removal (tracking/seeding.py);
        # with `seeding`, also every torrent still followed as it seeds (what the poll asks about).
        followed = "('seeding', 'held')" if seeding else "('held')"
        active = f"(status not in ({', '.join('?' * len(_FINALS))}) or seed_state in {followed})"
        params += _FINALS
        if missing_since is not None:
            active = f"({active} or (status = ? and updated_at >= ?))"
            params += [str(DownloadStatus.MISSING), missing_since]
        clauses.append(active)
    if client_id is not None:
        clauses.append("client_id = ?")
        params.append(client_id)
    return (f" WHERE {' AND '.join(clauses)}" if clauses else ""), params


def _new_id() -> str:
    import uuid  # here: only a new client or home needs it, and it costs every start ~3 ms

    return str(uuid.uuid4())
