"""The SQLite store: schema from blank to latest, clients, attempts and events."""

from __future__ import annotations

import pytest

from dlwatch.errors import NotFoundError, UsageError
from dlwatch.models import ClientConfig, DownloadStatus, Protocol
from dlwatch.store import Attempt, Store, migrations, now_iso

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
CREATE TABLE "attempts" (
   "id" INTEGER PRIMARY KEY,
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
   "completed_at" TEXT
);
CREATE INDEX "idx_attempts_client_id_status"
    ON "attempts" ("client_id", "status");
CREATE INDEX "idx_attempts_client_id_client_download_id"
    ON "attempts" ("client_id", "client_download_id");
CREATE TABLE "events" (
   "id" INTEGER PRIMARY KEY,
   "attempt_id" INTEGER NOT NULL REFERENCES "attempts"("id"),
   "at" TEXT NOT NULL,
   "from_status" TEXT,
   "to_status" TEXT NOT NULL,
   "progress" REAL,
   "message" TEXT
);
CREATE INDEX "idx_events_attempt_id"
    ON "events" ("attempt_id");
CREATE TABLE "prowlarr" (
   "key" TEXT PRIMARY KEY,
   "url" TEXT NOT NULL,
   "updated_at" TEXT
);
CREATE TABLE "search_results" (
   "position" INTEGER PRIMARY KEY,
   "release" TEXT NOT NULL,
   "searched_at" TEXT NOT NULL
);"""


def test_blank_database_migrates_to_exactly_the_latest_schema(tmp_path):
    store = Store(tmp_path / "dlwatch.db")
    assert store.db.schema == LATEST_SCHEMA
    assert [m.name for m in migrations.applied(store.db)] == ["m001_initial", "m002_prowlarr"]
    assert store.db.journal_mode == "wal"
    store.close()


def test_reopening_applies_nothing_twice_and_keeps_data(tmp_path):
    store = Store(tmp_path / "dlwatch.db")
    store.insert_client(client("a"))
    store.close()
    again = Store(tmp_path / "dlwatch.db")
    assert [c.name for c in again.list_clients()] == ["a"]
    assert len(migrations.applied(again.db)) == 2


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


def client(name: str, priority: int = 0, enabled: bool = True) -> ClientConfig:
    return ClientConfig(id="", name=name, type="qbittorrent", host="h", port=1, priority=priority, enabled=enabled)


def test_clients_are_listed_by_priority_and_names_are_unique():
    store = Store(":memory:")
    store.insert_client(client("low", 1))
    store.insert_client(client("high", 5))
    store.insert_client(client("off", 9, enabled=False))
    assert [c.name for c in store.list_clients()] == ["off", "high", "low"]
    assert [c.name for c in store.list_clients(enabled_only=True)] == ["high", "low"]
    with pytest.raises(UsageError, match="exists already"):
        store.insert_client(client("low"))
    with pytest.raises(NotFoundError, match="client list"):
        store.get_client("nope")


def test_a_status_change_writes_the_attempt_and_its_event_together():
    store = Store(":memory:")
    c = store.insert_client(client("c"))
    stamp = now_iso()
    attempt = store.insert_attempt(
        Attempt(
            id=0,
            client_id=c.id,
            title="t",
            protocol=Protocol.TORRENT,
            status=DownloadStatus.QUEUED,
            created_at=stamp,
            updated_at=stamp,
            alt_ids=("a", "b"),
        )
    )
    attempt.status, attempt.progress = DownloadStatus.DOWNLOADING, 0.5
    store.save_attempt(attempt, previous=DownloadStatus.QUEUED)
    attempt.progress = 0.6
    store.save_attempt(attempt, previous=DownloadStatus.DOWNLOADING)  # no change of status: no event
    events = store.events(attempt.id)
    assert [(e.from_status, e.to_status) for e in events] == [(None, "queued"), ("queued", "downloading")]
    again = store.get_attempt(attempt.id)
    assert again.alt_ids == ("a", "b") and again.progress == 0.6
    assert store.list_attempts(active_only=True)[0].id == attempt.id
