"""The database schema, made and upgraded by sqlite-utils Migrations.

Shipped migrations are never edited; a change to the schema is a new migration. `apply` runs them
under one write lock, so several dlwatch processes opening a new home at once cannot race, and it
refuses a database that a newer dlwatch has migrated further than this one knows.
"""

from __future__ import annotations

import sqlite_utils
from sqlite_utils.migrations import Migrations

from dlwatch.core.errors import DlwatchError

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


@migrations()
def m003_exactly_once(db: sqlite_utils.Database) -> None:
    # Attempts and events get AUTOINCREMENT, so an id is never handed out twice (readers follow the
    # event log by id, and users type attempt ids). Attempts get a version for compare-and-set
    # writes, the evidence "missing" needs (answers in a row without it, when the last counted) and
    # the hash of what was sent (to spot it sent again); events keep the attempt's record as it was
    # at that moment; hook_runs is the outbox.
    db.execute(
        """CREATE TABLE "attempts_v3" (
   "id" INTEGER PRIMARY KEY AUTOINCREMENT,
   "client_id" TEXT NOT NULL,
   "client_download_id" TEXT,
   "alt_ids" TEXT DEFAULT '[]',
   "dlwatch_tag" TEXT,
   "title" TEXT NOT NULL,
   "protocol" TEXT NOT NULL,
   "status" TEXT NOT NULL,
   "raw_state" TEXT,
   "progress" REAL DEFAULT 0.0,
   "size_bytes" INTEGER,
   "remaining_bytes" INTEGER,
   "download_speed" INTEGER,
   "eta_seconds" INTEGER,
   "category" TEXT,
   "raw_file_path" TEXT,
   "error" TEXT,
   "ref" TEXT,
   "source" TEXT,
   "seen" INTEGER DEFAULT 0,
   "created_at" TEXT NOT NULL,
   "updated_at" TEXT NOT NULL,
   "completed_at" TEXT,
   "version" INTEGER NOT NULL DEFAULT 0,
   "absent_count" INTEGER NOT NULL DEFAULT 0,
   "absent_at" TEXT,
   "payload_sha256" TEXT,
   "retry_of" INTEGER
)"""
    )
    db.execute(
        """CREATE TABLE "events_v3" (
   "id" INTEGER PRIMARY KEY AUTOINCREMENT,
   "attempt_id" INTEGER NOT NULL REFERENCES "attempts"("id") ON DELETE CASCADE,
   "at" TEXT NOT NULL,
   "from_status" TEXT,
   "to_status" TEXT NOT NULL,
   "progress" REAL,
   "message" TEXT,
   "snapshot" TEXT
)"""
    )
    columns = ", ".join(f'"{c.name}"' for c in db["attempts"].columns)
    db.execute(f'INSERT INTO "attempts_v3" ({columns}) SELECT {columns} FROM "attempts"')
    columns = ", ".join(f'"{c.name}"' for c in db["events"].columns)
    db.execute(f'INSERT INTO "events_v3" ({columns}) SELECT {columns} FROM "events"')
    db.execute('DROP TABLE "events"')
    db.execute('DROP TABLE "attempts"')
    db.execute('ALTER TABLE "attempts_v3" RENAME TO "attempts"')
    db.execute('ALTER TABLE "events_v3" RENAME TO "events"')
    db["attempts"].create_index(["client_id", "status"])
    db["attempts"].create_index(["client_id", "client_download_id"])
    db["attempts"].create_index(["status"])
    db["attempts"].create_index(["payload_sha256"])
    db["events"].create_index(["attempt_id"])
    db.execute(
        """CREATE TABLE "hook_runs" (
   "id" INTEGER PRIMARY KEY AUTOINCREMENT,
   "event_id" INTEGER NOT NULL REFERENCES "events"("id") ON DELETE CASCADE,
   "hook" TEXT NOT NULL,
   "command" TEXT NOT NULL,
   "state" TEXT NOT NULL,
   "tries" INTEGER NOT NULL DEFAULT 0,
   "next_at" REAL NOT NULL,
   "lease_until" REAL,
   "runner" TEXT,
   "exit_code" INTEGER,
   "duration" REAL,
   "output" TEXT,
   "detail" TEXT,
   "created_at" TEXT NOT NULL,
   "finished_at" TEXT
)"""
    )
    db["hook_runs"].create_index(["event_id", "hook"], unique=True)
    # What was sent, by its hash, so `dlwatch retry` can send the same .torrent/.nzb/magnet again.
    db.execute(
        """CREATE TABLE "payloads" (
   "sha256" TEXT PRIMARY KEY,
   "protocol" TEXT NOT NULL,
   "title" TEXT NOT NULL,
   "filename" TEXT,
   "content" BLOB,
   "magnet" TEXT,
   "created_at" TEXT NOT NULL
)"""
    )
    # Facts about this home itself, e.g. its id (each home's Prowlarr key is its own keyring entry).
    db["meta"].create({"key": str, "value": str}, pk="key", not_null={"value"})
    db["hook_runs"].create_index(["state", "next_at"])


@migrations()
def m004_dead_downloads(db: sqlite_utils.Database) -> None:
    # Strikes of the dead-download rules, kept with the attempt so they survive restarts and every
    # process counts the same ones; which downloads the disk guard paused; the releases dlwatch
    # will not grab again, and what a grabbed release was searched with (for `retry`).
    db.execute("ALTER TABLE attempts ADD COLUMN strike_rule TEXT")
    db.execute("ALTER TABLE attempts ADD COLUMN strikes INTEGER NOT NULL DEFAULT 0")
    db.execute("ALTER TABLE attempts ADD COLUMN strike_since TEXT")
    db.execute("ALTER TABLE attempts ADD COLUMN guard_paused INTEGER NOT NULL DEFAULT 0")
    db.execute(
        """CREATE TABLE "blocklist" (
   "key" TEXT PRIMARY KEY,
   "title" TEXT NOT NULL,
   "reason" TEXT NOT NULL,
   "attempt_id" INTEGER,
   "created_at" TEXT NOT NULL
)"""
    )
    db.execute(
        """CREATE TABLE "grabs" (
   "attempt_id" INTEGER PRIMARY KEY REFERENCES "attempts"("id") ON DELETE CASCADE,
   "release" TEXT NOT NULL,
   "search" TEXT NOT NULL
)"""
    )


@migrations()
def m005_after_completion(db: sqlite_utils.Database) -> None:
    # Past `completed`: the import by a Sonarr or Radarr, as that *arr reports it; and events that
    # are not status changes (an import state, the import-late warning), told apart by `what`.
    db.execute("ALTER TABLE attempts ADD COLUMN import_state TEXT")
    db.execute("ALTER TABLE attempts ADD COLUMN import_detail TEXT")
    db.execute("ALTER TABLE attempts ADD COLUMN imported_at TEXT")
    db.execute("ALTER TABLE attempts ADD COLUMN arr TEXT")
    db.execute("ALTER TABLE attempts ADD COLUMN import_warned INTEGER NOT NULL DEFAULT 0")
    db.execute("ALTER TABLE events ADD COLUMN what TEXT NOT NULL DEFAULT 'status'")


@migrations()
def m006_seeding(db: sqlite_utils.Database) -> None:
    # A completed torrent as it seeds: the client's figures and the [seeding] goal's progress. The
    # index finds the few still followed among thousands of completed attempts on every poll.
    for column, kind in (
        ("ratio", "REAL"),
        ("seed_seconds", "INTEGER"),
        ("uploaded_bytes", "INTEGER"),
        ("upload_speed", "INTEGER"),
        ("seeders", "INTEGER"),
        ("seed_state", "TEXT"),
        ("seed_detail", "TEXT"),
        ("goal_met_at", "TEXT"),
    ):
        db.execute(f"ALTER TABLE attempts ADD COLUMN {column} {kind}")
    db.execute("CREATE INDEX idx_attempts_seed_state ON attempts (seed_state) WHERE seed_state IS NOT NULL")


def apply(db: sqlite_utils.Database) -> None:
    """Bring the schema up to date; a no-op read when it already is."""
    applied = {m.name for m in migrations.applied(db)}
    known = {m.name for m in migrations.pending(sqlite_utils.Database(memory=True))}  # every one we ship
    if unknown := applied - known:
        raise DlwatchError(
            f"{db.conn.execute('PRAGMA database_list').fetchone()[2]} was made by a newer dlwatch "
            f"(it has migration {sorted(unknown)[-1]}); upgrade dlwatch to use it"
        )
    if not migrations.pending(db):
        return
    # Table rebuilds need foreign keys off, and that pragma is ignored inside a transaction.
    db.execute("PRAGMA foreign_keys = OFF")
    try:
        db.execute("BEGIN IMMEDIATE")
        try:
            migrations.apply(db)  # re-reads what is pending now that this process holds the lock
            if problems := db.execute("PRAGMA foreign_key_check").fetchall():
                raise DlwatchError(f"the database upgrade left broken references: {problems[:3]}")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
    finally:
        db.execute("PRAGMA foreign_keys = ON")
