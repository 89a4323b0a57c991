"""Free space of the download folders dlwatch can see, and the disk guard: below `[guard] min_free`
a client's active downloads are paused, and once space is back the ones the guard paused (never
the ones a user paused) are resumed. Each pause and resume is a recorded change, so it is an event.

The folders are where the client says its downloads are, after path mappings; one this machine
does not see (a client on another host with no mapping) has no reading, and the guard ignores it.
Readings are kept in the home only when they move by more than a little, so a quiet poll writes
nothing."""

from __future__ import annotations

import shutil

from dlwatch.core.attempt import now_iso
from dlwatch.core.humane import human_bytes
from dlwatch.core.models import ClientConfig, DirSpace, DownloadItem, DownloadStatus
from dlwatch.settings.config import Settings
from dlwatch.store import diskspace
from dlwatch.store.db import Store
from dlwatch.tracking.actions import ActionResult, act

RESUME_MARGIN = 1.05  # resume only with 5 % more than min_free, so it does not pause and resume in turn
_ACTIVE = (DownloadStatus.QUEUED, DownloadStatus.DOWNLOADING, DownloadStatus.STALLED, DownloadStatus.CHECKING)


def free_bytes(path: str) -> int | None:
    """The one place free space is read (tests replace it)."""
    try:
        return shutil.disk_usage(path).free
    except OSError:
        return None


def measure(settings: Settings, client: ClientConfig, items: list[DownloadItem]) -> list[DirSpace]:
    folders = sorted({settings.map_path(i.save_path, client.name) or "" for i in items if i.save_path} - {""})
    stamp = now_iso()
    return [DirSpace(folder, free_bytes(folder), stamp) for folder in folders]


def guard(store: Store, settings: Settings, client: ClientConfig, items: list[DownloadItem]) -> list[ActionResult]:
    """Measure this client's folders, keep the readings, and pause or resume as min_free says; one
    result per download acted on (a failure is that download's own: nothing else stops)."""
    readings = measure(settings, client, items)
    diskspace.keep(store, client, readings)
    minimum = settings.guard_min_free
    known = [(d.free_bytes, d.path) for d in readings if d.free_bytes is not None]
    if not minimum or not known:
        return []
    free, folder = min(known)
    attempts = store.list_attempts(client_id=client.id, active_only=True)
    if free < minimum:
        why = f"paused by the disk guard: {human_bytes(free)} free in {folder}, below {human_bytes(minimum)}"
        ids = [a.id for a in attempts if a.status in _ACTIVE and a.client_download_id]
        return act(store, settings, ids, "pause", why=why, by_guard=True)
    if free >= minimum * RESUME_MARGIN:
        why = f"resumed by the disk guard: {human_bytes(free)} free in {folder} again"
        ids = [a.id for a in attempts if a.guard_paused and a.status is DownloadStatus.PAUSED]
        return act(store, settings, ids, "resume", why=why)
    return []
