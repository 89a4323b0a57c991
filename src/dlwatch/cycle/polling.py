"""The poll cycle as every command runs it: ask the clients and record what changed
(tracking/poll.py), then the after-answer steps, in this order: act on the downloads the rules found
dead, let the disk guard measure and pause or resume, follow the *arr imports of completed
downloads, then remove the seeded torrents the [seeding] goal and those imports allow. Composed
here, above both, so the poll itself never reaches up into the policies."""

from __future__ import annotations

from functools import partial

from dlwatch.core.models import ClientConfig, DownloadItem
from dlwatch.policies import imports, seeding
from dlwatch.policies.dead_downloads import carry_out
from dlwatch.policies.diskguard import guard
from dlwatch.settings.config import Settings
from dlwatch.store.db import Store
from dlwatch.tracking.poll import AfterAnswer, ClientFailure, PollResult
from dlwatch.tracking.poll import poll as ask_and_record

Heard = list[tuple[ClientConfig, list[DownloadItem]]]


def dead_downloads(store: Store, settings: Settings, result: PollResult, heard: Heard) -> None:
    """Carry out [dead] action on what this process found dead (only the writer that won acts)."""
    for outcome in carry_out(store, settings, result.dead):
        if not outcome.ok:
            result.failures.append(ClientFailure("dead download", f"attempt {outcome.attempt_id}: {outcome.detail}"))


def disk_guard(store: Store, settings: Settings, result: PollResult, heard: Heard) -> None:
    """Measure each answering client's folders; pause or resume as [guard] min_free says."""
    for client, items in heard:
        for action in guard(store, settings, client, items):
            if not action.ok:
                result.failures.append(ClientFailure(client.name, action.detail))


AFTER_ANSWERS: tuple[AfterAnswer, ...] = (dead_downloads, disk_guard, imports.follow, seeding.clean_up)


# One whole cycle: tracking.poll.poll's arguments, with every after-answer step.
poll = partial(ask_and_record, after=AFTER_ANSWERS)
