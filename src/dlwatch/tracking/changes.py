"""A client's answer turned into changes: which listed item each attempt is, what the item says
of it, and what an attempt the client no longer lists has become. Pure: no client is asked and
nothing is written here (poll.py asks, the event log records)."""

from __future__ import annotations

import copy
from collections.abc import Iterable

from dlwatch.core.attempt import Attempt, now_iso, seconds_since
from dlwatch.core.matching import normalise_title
from dlwatch.core.models import ClientConfig, DownloadItem, DownloadStatus
from dlwatch.settings.config import Settings
from dlwatch.store.eventlog import Change
from dlwatch.tracking.deadness import judge
from dlwatch.tracking.seeding import GOAL_EVENT, gone, seed


def match(attempts: Iterable[Attempt], items: list[DownloadItem]) -> dict[int, DownloadItem]:
    """Which item each attempt is: by any id the item answers to, then by dlwatch's tag, then (for
    attempts without an id) by a title only one item has. Dictionaries, so the cost is attempts +
    items, not their product."""
    by_id: dict[str, DownloadItem] = {}
    by_tag: dict[str, DownloadItem] = {}
    by_title: dict[str, list[DownloadItem]] | None = None
    for item in items:
        for known in (item.client_download_id, *item.alt_ids):
            by_id.setdefault(known.lower(), item)
        if item.dlwatch_tag:
            by_tag.setdefault(item.dlwatch_tag, item)
    found: dict[int, DownloadItem] = {}
    for attempt in attempts:
        item = None
        if attempt.client_download_id:
            wanted = (attempt.client_download_id, *attempt.alt_ids)
            item = next((by_id[w.lower()] for w in wanted if w.lower() in by_id), None)
        if item is None and attempt.dlwatch_tag:
            item = by_tag.get(attempt.dlwatch_tag)
        if item is None and not attempt.client_download_id:
            if by_title is None:
                by_title = {}
                for candidate in items:
                    by_title.setdefault(normalise_title(candidate.title), []).append(candidate)
            matches = by_title.get(normalise_title(attempt.title), [])
            item = matches[0] if len(matches) == 1 else None
        if item is not None:
            found[attempt.id] = item
    return found


def apply_item(attempt: Attempt, item: DownloadItem, client_name: str, settings: Settings) -> None:
    """Copy what the client says onto the attempt (the status already normalised by the adapter)."""
    attempt.client_download_id = item.client_download_id
    attempt.alt_ids = tuple(i for i in item.alt_ids if i != item.client_download_id)
    attempt.status = item.status
    attempt.raw_state = item.raw_state
    attempt.progress = item.progress
    attempt.size_bytes = item.size_bytes if item.size_bytes is not None else attempt.size_bytes
    attempt.remaining_bytes = item.remaining_bytes
    attempt.download_speed = item.download_speed
    attempt.eta_seconds = item.eta_seconds
    attempt.category = item.category or attempt.category
    attempt.error = item.error
    attempt.seen = True
    attempt.absent_count, attempt.absent_at = 0, None
    if item.status is not DownloadStatus.PAUSED:
        attempt.guard_paused = False  # resumed in the client: no longer the guard's to resume
    if item.status is DownloadStatus.COMPLETED:
        attempt.raw_file_path = settings.map_path(item.content_path or item.save_path, client_name)
        attempt.completed_at = attempt.completed_at or now_iso()
        attempt.download_speed, attempt.eta_seconds = 0, None


def mark_missing(attempt: Attempt) -> None:
    attempt.status = DownloadStatus.MISSING
    attempt.download_speed, attempt.eta_seconds = 0, None
    attempt.error = (
        f"no longer in the client ({attempt.absent_count} answers in a row without it), "
        "and no history entry says how it ended"
    )


def not_found(before: Attempt, settings: Settings) -> Change:
    after = copy.copy(before)
    after.status = DownloadStatus.FAILED
    after.error = f"not found in any {before.protocol} client within {settings.find_window / 60:g} minutes"
    return Change(before, after, "(finding)", None, after.error)


def changes_for(
    client: ClientConfig, attempts: list[Attempt], answer: dict[int, DownloadItem], settings: Settings
) -> list[Change]:
    changes = []
    for before in attempts:
        after = copy.copy(before)
        item = answer.get(before.id)
        mine = before.client_id == client.id
        verdict, event, message = None, None, None
        if item is not None:
            after.client_id = client.id
            apply_item(after, item, client.name, settings)
            verdict = judge(before, after, item, settings.dead_rules(client.name))
            if message := seed(before, after, item, settings.seeding.goal(client.name, after.category)):
                event = GOAL_EVENT
        elif mine and before.status is DownloadStatus.SENDING:
            if seconds_since(before.created_at) < settings.sending_grace:
                continue  # a send may still be under way
            after.status = DownloadStatus.FAILED
            after.error = f"never reached the client: not listed {settings.sending_grace:g}s after it was sent"
        elif mine and before.seen and before.status is not DownloadStatus.MISSING:
            if before.absent_at and seconds_since(before.absent_at) < settings.missing_gap:
                continue  # absent again too soon to count: one odd answer is no evidence
            after.absent_count, after.absent_at = before.absent_count + 1, now_iso(precise=True)
            if after.absent_count >= settings.missing_after:
                if before.status is DownloadStatus.COMPLETED:
                    gone(after)  # a torrent followed as it seeds stays completed: only its seeding ended
                else:
                    mark_missing(after)
        else:
            continue  # not listed yet: the client may still be fetching it
        changes.append(Change(before, after, client.name, client.type, message or after.error, verdict, event))
    return changes


def client_removed(before: Attempt) -> Change:
    after = copy.copy(before)
    after.status = DownloadStatus.FAILED
    after.download_speed, after.eta_seconds = 0, None
    after.error = "its client was removed from dlwatch"
    return Change(before, after, "(removed)", None, after.error)
