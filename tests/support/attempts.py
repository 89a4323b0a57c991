"""Clients and attempts made straight in a store, for tests that need one tracked download."""

from __future__ import annotations

from dataclasses import replace

from dlwatch.core.attempt import Attempt, now_iso
from dlwatch.core.models import ClientConfig, DownloadStatus, Protocol
from dlwatch.store import eventlog
from dlwatch.store.db import Store


def client(name: str, priority: int = 0, enabled: bool = True) -> ClientConfig:
    return ClientConfig(id="", name=name, type="qbittorrent", host="h", port=1, priority=priority, enabled=enabled)


def tracked(store: Store, status: DownloadStatus = DownloadStatus.QUEUED) -> Attempt:
    c = store.find_client("c") or store.insert_client(client("c"))
    stamp = now_iso()
    attempt = Attempt(
        id=0,
        client_id=c.id,
        title="t",
        protocol=Protocol.TORRENT,
        status=status,
        created_at=stamp,
        updated_at=stamp,
        alt_ids=("a", "b"),
    )
    return eventlog.start_tracking(store, attempt, "c", "qbittorrent")


def changed(attempt: Attempt, **fields) -> eventlog.Change:
    return eventlog.Change(attempt, replace(attempt, **fields), "c", "qbittorrent")
