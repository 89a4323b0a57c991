"""Past `completed`: the import by the Sonarr or Radarr that knows the download, followed in that
app's own view until it ends (shared/docs/sonarr-radarr.md, "After the download").

A download is matched to an *arr by id: the queue's and the history's `downloadId` is the client's
id (an infohash in upper case, SABnzbd's nzo_id, NZBGet's `drone` parameter or NZBID), which dlwatch
knows already. Each poll asks each *arr instance for its queue (one request), and only while some
completed download waits on an import; a download that has left the queue is looked for in the
history since it completed (one more request per instance, only then). A completed download no
*arr lists within UNKNOWN_AFTER is `none`: an *arr did not grab it, so nobody will import it.

Each change is an event like any other (`what` = "import"), and [import] warn_after tells once of a
download completed that long ago and still not imported (`what` = "import_late")."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from dlwatch.arr import instances as arrs
from dlwatch.core.attempt import Attempt, iso_ago, now_iso, seconds_since
from dlwatch.core.errors import DlwatchError
from dlwatch.core.humane import human_duration
from dlwatch.core.models import ClientConfig, DownloadItem
from dlwatch.settings.config import Settings
from dlwatch.store import eventlog
from dlwatch.store.db import Store
from dlwatch.store.eventlog import Change
from dlwatch.tracking.poll import ClientFailure, PollResult

# The *arr's trackedDownloadState (its queue) and history eventType, in dlwatch's words.
QUEUE_STATES = {
    "downloading": "waiting",  # the *arr has not seen it complete yet
    "importPending": "pending",
    "importBlocked": "blocked",
    "importing": "importing",
    "imported": "imported",
    "failedPending": "failed",
    "failed": "failed",
    "ignored": "ignored",
}
HISTORY_ENDS = {"downloadFolderImported": "imported", "downloadFailed": "failed", "downloadIgnored": "ignored"}
ENDED = ("imported", "failed", "ignored", "none")  # nothing more to follow
FOLLOW_FOR = 7 * 86400.0  # seconds after completion an unended import is still asked about
UNKNOWN_AFTER = 600.0  # seconds after completion with no *arr listing it: `none`
DETAIL_MAX = 500


@dataclass(frozen=True)
class Seen:
    """What one *arr says of one download."""

    arr: str
    state: str
    detail: str | None = None
    at: str | None = None  # when it was imported (history), if it says


def follow(
    store: Store, settings: Settings, result: PollResult, heard: list[tuple[ClientConfig, list[DownloadItem]]]
) -> None:
    """The after-answer step: ask the *arrs about the completed downloads that wait on an import,
    record each change, and warn once of those late. Asks nothing when nothing waits."""
    instances = arrs.instances(store)  # none added: not even the attempts are read
    waiting = store.awaiting_import(iso_ago(FOLLOW_FOR), ENDED) if instances else []
    if not waiting:
        return
    seen: dict[int, Seen] = {}
    asked_everywhere = True
    for instance in instances:
        try:
            with arrs.connect(store, instance, settings.request_timeout) as app:
                queue = app.queue()
                found = _in_queue(instance.name, waiting, queue)
                rest = [a for a in waiting if a.id not in found and a.id not in seen]
                if rest:
                    since = min(a.completed_at or a.created_at for a in rest)
                    found.update(_in_history(instance.name, rest, app.history_since(iso_before(since))))
        except DlwatchError as exc:
            asked_everywhere = False
            result.failures.append(ClientFailure(instance.name, str(exc).removeprefix(f"{instance.name}: ")))
            continue
        for attempt_id, what in found.items():
            seen.setdefault(attempt_id, what)
    changes = [c for a in waiting if (c := _change(store, settings, a, seen.get(a.id), asked_everywhere)) is not None]
    result.events += eventlog.record(store, changes, settings.hooks)


def iso_before(stamp: str, slack: float = 3600.0) -> str:
    """A little before `stamp`, for clocks that differ between this machine and the *arr's."""
    return (datetime.fromisoformat(stamp) - timedelta(seconds=slack)).isoformat(timespec="seconds")


def _record_for(attempt: Attempt, by_id: dict[str, dict]) -> dict | None:
    """The *arr's record whose downloadId is any id the client gives the download (case aside)."""
    ids = (i.lower() for i in (attempt.client_download_id, *attempt.alt_ids) if i)
    return next((by_id[i] for i in ids if i in by_id), None)


def _in_queue(arr: str, waiting: Iterable[Attempt], records: list[dict]) -> dict[int, Seen]:
    by_id = {str(r.get("downloadId") or "").lower(): r for r in records if r.get("downloadId")}
    found = {}
    for attempt in waiting:
        if (record := _record_for(attempt, by_id)) is not None:
            state = QUEUE_STATES.get(str(record.get("trackedDownloadState")), "waiting")
            found[attempt.id] = Seen(arr, state, _detail(record))
    return found


def _in_history(arr: str, waiting: Iterable[Attempt], records: list[dict]) -> dict[int, Seen]:
    ends: dict[str, dict] = {}
    for record in records:  # oldest first, as the *arr lists them: the last end wins
        if (state := HISTORY_ENDS.get(str(record.get("eventType")))) and record.get("downloadId"):
            ends[str(record["downloadId"]).lower()] = {**record, "_state": state}
    found = {}
    for attempt in waiting:
        if (record := _record_for(attempt, ends)) is not None:
            message = data.get("message") if isinstance(data := record.get("data"), dict) else None
            found[attempt.id] = Seen(arr, record["_state"], _clip(message), str(record.get("date") or "") or None)
    return found


def _detail(record: dict) -> str | None:
    """The *arr's own words: its status messages (the reasons its UI shows), or its error."""
    parts = []
    for message in record.get("statusMessages") or []:
        if isinstance(message, dict):
            lines, title = "; ".join(str(m) for m in message.get("messages") or [] if m), message.get("title")
            parts.append(f"{title}: {lines}" if lines and title else lines)
    if not parts and record.get("errorMessage"):
        parts.append(str(record["errorMessage"]))
    return _clip(" | ".join(p for p in parts if p))


def _clip(text: str | None) -> str | None:
    if not text:
        return None
    return text if len(text) <= DETAIL_MAX else text[: DETAIL_MAX - 1] + "…"


def _change(
    store: Store, settings: Settings, before: Attempt, seen: Seen | None, asked_everywhere: bool
) -> Change | None:
    after = copy.copy(before)
    if seen is not None:
        after.import_state, after.import_detail, after.arr = seen.state, seen.detail, seen.arr
        if seen.state == "imported":
            after.imported_at = before.imported_at or seen.at or now_iso()
    elif asked_everywhere and before.import_state in (None, "waiting") and _completed_for(before) >= UNKNOWN_AFTER:
        after.import_state, after.import_detail = "none", "no Sonarr or Radarr dlwatch knows lists this download"
    event = "import" if after.import_state != before.import_state else None
    late = settings.import_warn_after
    if (
        event is None
        and late
        and not before.import_warned
        and after.import_state in ("waiting", "pending", "blocked", "importing")
        and _completed_for(before) >= late
    ):
        after.import_warned, event = True, "import_late"
    if after.visible_fields() == before.visible_fields():
        return None
    client = store.client_by_id(before.client_id) if before.client_id else None
    return Change(
        before,
        after,
        client.name if client else "(removed)",
        client.type if client else None,
        _message(after, event),
        event=event,
    )


def _completed_for(attempt: Attempt) -> float:
    return seconds_since(attempt.completed_at or attempt.created_at)


def _message(attempt: Attempt, event: str | None) -> str:
    who = attempt.arr or "the *arrs"
    reason = f": {attempt.import_detail}" if attempt.import_detail else ""
    if event == "import_late":
        return f"completed {human_duration(_completed_for(attempt))} ago, not imported by {who}{reason}"
    if attempt.import_state == "none":
        return f"not imported: {attempt.import_detail}"
    return f"{who}: {attempt.import_state}{reason}"
