"""Acting on downloads through their clients' own APIs: pause, resume, remove (with or without the
data). Each action is one request to the client, then one recorded change, so `watch`, hooks and
`history` see it like any other."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from dlwatch.core.errors import ClientError, DlwatchError
from dlwatch.core.models import DownloadStatus
from dlwatch.settings.config import Settings
from dlwatch.store import eventlog
from dlwatch.store.db import Attempt, Store
from dlwatch.tracking import localfiles
from dlwatch.tracking.clients import blame, open_adapter
from dlwatch.tracking.seeding import FOLLOWED

Action = Literal["pause", "resume", "remove"]

# What the attempt becomes once the client has accepted the action; a poll then follows the real state.
_AFTER = {"pause": DownloadStatus.PAUSED, "resume": DownloadStatus.QUEUED, "remove": DownloadStatus.REMOVED}


@dataclass
class ActionResult:
    attempt_id: int
    action: Action
    ok: bool
    detail: str
    attempt: Attempt | None = None
    client_name: str | None = None


def act(
    store: Store,
    settings: Settings,
    attempt_ids: Iterable[int],
    action: Action,
    *,
    delete_data: bool = False,
    why: str | None = None,
    by_guard: bool = False,
) -> list[ActionResult]:
    """Do `action` to each attempt; one result each, in the order given. A failure is that
    download's own result: the others are still acted on. `why` is recorded as the change's
    message (before "removed with dlwatch" for a removal); a pause `by_guard` (the disk guard) is
    one the guard may resume, a user's never is."""
    return [_act_on_one(store, settings, attempt_id, action, delete_data, why, by_guard) for attempt_id in attempt_ids]


def _act_on_one(
    store: Store,
    settings: Settings,
    attempt_id: int,
    action: Action,
    delete_data: bool,
    why: str | None = None,
    by_guard: bool = False,
) -> ActionResult:
    try:
        attempt = store.get_attempt(attempt_id)
    except DlwatchError as exc:
        return ActionResult(attempt_id, action, False, str(exc))
    refusal = _refusal(attempt, action)
    if refusal:
        return ActionResult(attempt_id, action, False, refusal, attempt)
    client = store.client_by_id(attempt.client_id) if attempt.client_id else None
    if client is None:
        return ActionResult(attempt_id, action, False, "its client is not known (removed, or not found yet)", attempt)
    try:
        deleted_here = None
        with open_adapter(client, settings.request_timeout) as adapter, adapter.work_within(settings.client_deadline):
            download_id = attempt.client_download_id or ""
            if action == "remove" and delete_data and not adapter.deletes_files:
                # Checked before the client is touched: a folder this machine cannot see removes nothing.
                doomed = localfiles.plan(adapter.files(download_id), settings, client.name)
                adapter.remove(download_id, delete_data=False)
                deleted_here = localfiles.delete(doomed)
            elif action == "remove":
                adapter.remove(download_id, delete_data=delete_data)
            else:
                getattr(adapter, action)(download_id)
    except DlwatchError as exc:
        if isinstance(exc, ClientError):
            blame(exc, client)
        return ActionResult(attempt_id, action, False, str(exc), attempt, client.name)
    after = copy.copy(attempt)
    after.status = _AFTER[action]
    after.eta_seconds = None  # until the next poll says; a paused or removed download moves nothing
    after.download_speed = None if action == "resume" else 0
    message = {"pause": "paused with dlwatch", "resume": "resumed with dlwatch", "remove": "removed with dlwatch"}[
        action
    ]
    if action == "remove" and delete_data:
        message += f", its data deleted ({deleted_here})" if deleted_here else ", its data deleted"
    if why:  # it says who did it and why; a removal still says what became of the files
        message = f"{why}; {message}" if action == "remove" else why
    after.guard_paused = by_guard and action == "pause"
    if action == "remove":
        after.error = message
        if after.seed_state in FOLLOWED:
            after.seed_state, after.upload_speed = "removed", 0  # it seeds no more
    change = eventlog.Change(attempt, after, client.name, client.type, message)
    eventlog.record(store, [change], settings.hooks)
    return ActionResult(attempt_id, action, True, message, store.get_attempt(attempt_id), client.name)


def _refusal(attempt: Attempt, action: Action) -> str | None:
    if attempt.status is DownloadStatus.REMOVED:
        return "already removed"
    if action != "remove" and attempt.status.is_final:
        return f"it is {attempt.status}: nothing to {action}"
    if attempt.status is DownloadStatus.SENDING or not attempt.client_download_id:
        return "its client has not listed it yet (status sending or finding); try again after a poll"
    return None  # pausing what is paused, or resuming what runs, is harmless: the client decides
