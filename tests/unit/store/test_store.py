"""The SQLite store: schema from blank to latest, clients, attempts and events."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from dlwatch.core.errors import DlwatchError, NotFoundError, Refused
from dlwatch.core.models import DownloadStatus
from dlwatch.settings.config import Hooks
from dlwatch.store import eventlog, outbox
from dlwatch.store.db import DatabaseBusy, Store
from dlwatch.store.schema import migrations
from dlwatch.store.schema_names import MIGRATIONS
from tests.support.attempts import changed, client, tracked

LATEST_SCHEMA = """CREATE TABLE "_sqlite_migrations" (
   "id" INTEGER PRIMARY KEY,
   "migration_set" TEXT,
   "name" TEXT,
   "applied_at" TEXT
);
CREATE UNIQUE INDEX "idx__sqlite_migrations_migration_set_name"
    ON "_sqlite_migrations" ("migration_set", "name");
CREATE TABLE "clients" (
   "id" TEXT PRIMARY KEY,
   "name" TEXT NOT NULL,
   "type" TEXT NOT NULL,
   "host" TEXT NOT NULL,
   "port" INTEGER NOT NULL,
   "use_ssl" INTEGER DEFAULT 0,
   "url_base" TEXT DEFAULT '',
   "username" TEXT,
   "category" TEXT,
   "priority" INTEGER DEFAULT 0,
   "enabled" INTEGER DEFAULT 1,
   "tls_verify" INTEGER DEFAULT 1,
   "ca_bundle" TEXT,
   "created_at" TEXT NOT NULL,
   "updated_at" TEXT NOT NULL
);
CREATE UNIQUE INDEX "idx_clients_name"
    ON "clients" ("name");
CREATE TABLE "prowlarr" (
   "key" TEXT PRIMARY KEY,
   "url" TEXT NOT NULL,
   "updated_at" TEXT
);
CREATE TABLE "search_results" (
   "position" INTEGER PRIMARY KEY,
   "release" TEXT NOT NULL,
   "searched_at" TEXT NOT NULL
);
CREATE TABLE "attempts" (
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
, strike_rule TEXT, strikes INTEGER NOT NULL DEFAULT 0, strike_since TEXT, guard_paused INTEGER NOT NULL DEFAULT 0, \
import_state TEXT, import_detail TEXT, imported_at TEXT, arr TEXT, import_warned INTEGER NOT NULL DEFAULT 0, \
ratio REAL, seed_seconds INTEGER, uploaded_bytes INTEGER, upload_speed INTEGER, seeders INTEGER, \
seed_state TEXT, seed_detail TEXT, goal_met_at TEXT);
CREATE TABLE sqlite_sequence(name,seq);
CREATE TABLE "events" (
   "id" INTEGER PRIMARY KEY AUTOINCREMENT,
   "attempt_id" INTEGER NOT NULL REFERENCES "attempts"("id") ON DELETE CASCADE,
   "at" TEXT NOT NULL,
   "from_status" TEXT,
   "to_status" TEXT NOT NULL,
   "progress" REAL,
   "message" TEXT,
   "snapshot" TEXT
, what TEXT NOT NULL DEFAULT 'status');
CREATE INDEX "idx_attempts_client_id_status"
    ON "attempts" ("client_id", "status");
CREATE INDEX "idx_attempts_client_id_client_download_id"
    ON "attempts" ("client_id", "client_download_id");
CREATE INDEX "idx_attempts_status"
    ON "attempts" ("status");
CREATE INDEX "idx_attempts_payload_sha256"
    ON "attempts" ("payload_sha256");
CREATE INDEX "idx_events_attempt_id"
    ON "events" ("attempt_id");
CREATE TABLE "hook_runs" (
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
);
CREATE UNIQUE INDEX "idx_hook_runs_event_id_hook"
    ON "hook_runs" ("event_id", "hook");
CREATE TABLE "payloads" (
   "sha256" TEXT PRIMARY KEY,
   "protocol" TEXT NOT NULL,
   "title" TEXT NOT NULL,
   "filename" TEXT,
   "content" BLOB,
   "magnet" TEXT,
   "created_at" TEXT NOT NULL
);
CREATE TABLE "meta" (
   "key" TEXT PRIMARY KEY,
   "value" TEXT NOT NULL
);
CREATE INDEX "idx_hook_runs_state_next_at"
    ON "hook_runs" ("state", "next_at");
CREATE TABLE "blocklist" (
   "key" TEXT PRIMARY KEY,
   "title" TEXT NOT NULL,
   "reason" TEXT NOT NULL,
   "attempt_id" INTEGER,
   "created_at" TEXT NOT NULL
);
CREATE TABLE "grabs" (
   "attempt_id" INTEGER PRIMARY KEY REFERENCES "attempts"("id") ON DELETE CASCADE,
   "release" TEXT NOT NULL,
   "search" TEXT NOT NULL
);
CREATE INDEX idx_attempts_seed_state ON attempts (seed_state) WHERE seed_state IS NOT NULL;"""


def test_blank_database_migrates_to_exactly_the_latest_schema(tmp_path):
    store = Store(tmp_path / "dlwatch.db")
    assert store.db.schema == LATEST_SCHEMA
    # every migration dlwatch ships, in order (a test below holds that list to schema.py's)
    assert [m.name for m in migrations.applied(store.db)] == list(MIGRATIONS)
    assert store.db.journal_mode == "wal"
    store.close()


def test_reopening_applies_nothing_twice_and_keeps_data(tmp_path):
    store = Store(tmp_path / "dlwatch.db")
    store.insert_client(client("a"))
    store.close()
    again = Store(tmp_path / "dlwatch.db")
    assert [c.name for c in again.list_clients()] == ["a"]
    assert len(migrations.applied(again.db)) == len(MIGRATIONS)


def test_a_database_from_the_first_release_upgrades_with_its_data(tmp_path):
    import sqlite_utils

    db = sqlite_utils.Database(tmp_path / "dlwatch.db")
    migrations.apply(db, stop_before="m002_prowlarr")
    db["clients"].insert(
        {"id": "c1", "name": "old", "type": "nzbget", "host": "h", "port": 6789, "created_at": "t", "updated_at": "t"}
    )
    db.close()
    store = Store(tmp_path / "dlwatch.db")
    assert store.db.schema == LATEST_SCHEMA
    assert store.get_client("old").port == 6789
    store.set_prowlarr_url("http://prowlarr:9696")
    assert store.prowlarr_url() == "http://prowlarr:9696"


def test_clients_are_listed_by_priority_and_names_are_unique():
    store = Store(":memory:")
    store.insert_client(client("low", 1))
    store.insert_client(client("high", 5))
    store.insert_client(client("off", 9, enabled=False))
    assert [c.name for c in store.list_clients()] == ["off", "high", "low"]
    assert [c.name for c in store.list_clients(enabled_only=True)] == ["high", "low"]
    with pytest.raises(Refused, match="exists already"):
        store.insert_client(client("low"))
    with pytest.raises(NotFoundError, match="client list"):
        store.get_client("nope")


def test_a_database_from_the_second_release_keeps_its_attempts_events_and_ids(tmp_path):
    import sqlite_utils

    db = sqlite_utils.Database(tmp_path / "dlwatch.db")
    migrations.apply(db, stop_before="m003_exactly_once")
    db["clients"].insert(
        {"id": "c1", "name": "old", "type": "nzbget", "host": "h", "port": 6789, "created_at": "t", "updated_at": "t"}
    )
    row = {"client_id": "c1", "title": "Old.Show", "protocol": "usenet", "created_at": "t", "updated_at": "t"}
    db["attempts"].insert({"id": 7, **row, "status": "completed", "alt_ids": '["x"]'})
    db["events"].insert({"id": 3, "attempt_id": 7, "at": "t", "to_status": "queued"})
    db.close()
    store = Store(tmp_path / "dlwatch.db")
    assert store.db.schema == LATEST_SCHEMA
    old = store.get_attempt(7)
    assert (old.title, old.status, old.alt_ids, old.version) == ("Old.Show", DownloadStatus.COMPLETED, ("x",), 0)
    assert [(e.id, e.to_status) for e in eventlog.of_attempt(store, 7)] == [(3, "queued")]


def test_a_database_from_a_newer_dlwatch_is_refused_in_one_line(tmp_path):
    Store(tmp_path / "dlwatch.db").close()
    import sqlite_utils

    db = sqlite_utils.Database(tmp_path / "dlwatch.db")
    db["_sqlite_migrations"].insert({"migration_set": "dlwatch", "name": "m999_future", "applied_at": "t"})
    db.close()
    with pytest.raises(DlwatchError, match="made by a newer dlwatch"):
        Store(tmp_path / "dlwatch.db")


def test_the_home_and_database_files_are_private(tmp_path):
    store = Store(tmp_path / "home" / "dlwatch.db")
    tracked(store)
    assert (tmp_path / "home").stat().st_mode & 0o777 == 0o700
    for name in ("dlwatch.db", "dlwatch.db-wal", "dlwatch.db-shm"):
        assert (tmp_path / "home" / name).stat().st_mode & 0o777 == 0o600, name


def test_a_status_change_writes_the_attempt_its_event_and_its_hook_runs_together():
    store = Store(":memory:")
    attempt = tracked(store)
    hooks = Hooks(on_change="true", on_complete="true")
    [event] = eventlog.record(store, [changed(attempt, status=DownloadStatus.DOWNLOADING, progress=0.5)], hooks)
    again = store.get_attempt(attempt.id)
    assert (again.status, again.progress, again.version, again.alt_ids) == ("downloading", 0.5, 1, ("a", "b"))
    assert event.snapshot["status"] == "downloading" and event.snapshot["client"] == "c"
    assert [r.hook for r in outbox.for_events(store, [event.id])[event.id]] == ["on_change"]
    # progress alone is written, with no event; nothing visible changed: no write at all
    assert eventlog.record(store, [changed(again, progress=0.6)], hooks) == []
    assert store.get_attempt(attempt.id).version == 2
    assert eventlog.record(store, [changed(store.get_attempt(attempt.id))], hooks) == []
    assert store.get_attempt(attempt.id).version == 2
    events = eventlog.of_attempt(store, attempt.id)
    assert [(e.from_status, e.to_status) for e in events] == [(None, "queued"), ("queued", "downloading")]


def test_a_writer_that_read_a_stale_row_appends_nothing_and_overwrites_nothing(tmp_path):
    first, second = Store(tmp_path / "dlwatch.db"), Store(tmp_path / "dlwatch.db")
    attempt = tracked(first)
    stale = second.get_attempt(attempt.id)  # both processes read version 0
    won = eventlog.record(first, [changed(attempt, status=DownloadStatus.PAUSED)], Hooks(on_change="true"))
    lost = eventlog.record(second, [changed(stale, status=DownloadStatus.PAUSED)], Hooks(on_change="true"))
    late = eventlog.record(second, [changed(stale, status=DownloadStatus.DOWNLOADING)], Hooks())
    assert len(won) == 1 and lost == [] and late == []
    assert second.get_attempt(attempt.id).status is DownloadStatus.PAUSED
    assert [e.to_status for e in eventlog.of_attempt(second, attempt.id)] == ["queued", "paused"]
    assert second.conn.execute("select count(*) from hook_runs").fetchone()[0] == 1


def test_attempt_and_event_ids_are_never_handed_out_twice():
    store = Store(":memory:")
    first = tracked(store)
    last_event = eventlog.last_id(store)
    store.delete_attempt(first.id)
    second = tracked(store)
    assert second.id > first.id
    assert [e.id > last_event for e in eventlog.after(store, last_event)] == [True]


def hold_lock(db: Path, seconds: float) -> subprocess.Popen:
    """Another process holding the write lock for `seconds` (returns once it holds it)."""
    code = (
        "import sqlite3, sys, time; c = sqlite3.connect(sys.argv[1], isolation_level=None); "
        "c.execute('BEGIN IMMEDIATE'); print('locked', flush=True); time.sleep(float(sys.argv[2])); c.execute('COMMIT')"
    )
    holder = subprocess.Popen([sys.executable, "-c", code, str(db), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    return holder


def test_a_write_waits_for_another_process_holding_the_lock(tmp_path):
    store = Store(tmp_path / "dlwatch.db")
    holder = hold_lock(tmp_path / "dlwatch.db", 3)  # longer than SQLite's own busy wait
    started = time.monotonic()
    tracked(store)
    assert time.monotonic() - started >= 2
    assert len(store.list_attempts()) == 1
    holder.wait(5)


def test_a_lock_held_past_the_bound_is_one_line_naming_the_file(tmp_path, monkeypatch):
    monkeypatch.setattr("dlwatch.store.db.WRITE_WAIT", 0.5)
    store = Store(tmp_path / "dlwatch.db")
    holder = hold_lock(tmp_path / "dlwatch.db", 3)
    with pytest.raises(DatabaseBusy, match=f"{tmp_path / 'dlwatch.db'} stayed locked"):
        tracked(store)
    holder.wait(5)
    assert store.list_attempts() == []


def test_the_migration_names_the_store_checks_are_the_migrations_shipped():
    import sqlite_utils

    assert tuple(m.name for m in migrations.pending(sqlite_utils.Database(memory=True))) == MIGRATIONS


def test_opening_an_up_to_date_database_does_not_load_sqlite_utils(tmp_path):
    Store(tmp_path / "dlwatch.db").close()
    code = (
        "import sys; from dlwatch.store.db import Store; s = Store(sys.argv[1]); s.list_attempts(); "
        "print('sqlite_utils' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path / "dlwatch.db")], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr
