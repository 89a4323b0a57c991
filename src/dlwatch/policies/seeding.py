"""Clean up only when both are done: a torrent whose [seeding] goal is met (`held`, see
tracking/seeding.py) leaves its client, with or without its files as [seeding] action says, once
the Sonarr or Radarr that knows it has reported the import, and never before.

The gate, from the import as policies/imports.py follows it:
- imported: removed.
- none (no *arr dlwatch knows lists it, asked for imports.UNKNOWN_AFTER) or no *arr added to
  dlwatch at all: removed at the goal; there is no import dlwatch could wait for.
- failed or ignored by the *arr: kept (`met`), and it says why: the *arr will not import it, and
  its files may be all there is.
- anything else (waiting, pending, blocked, importing): kept, held, and `status` says what for."""

from __future__ import annotations

import copy

from dlwatch.arr import instances as arrs
from dlwatch.core.attempt import Attempt
from dlwatch.core.models import ClientConfig, DownloadItem
from dlwatch.settings.config import Settings
from dlwatch.store import eventlog
from dlwatch.store.db import Store
from dlwatch.store.eventlog import Change
from dlwatch.tracking.actions import act
from dlwatch.tracking.poll import ClientFailure, PollResult

NEVER_IMPORTED = ("failed", "ignored")


def clean_up(
    store: Store, settings: Settings, result: PollResult, heard: list[tuple[ClientConfig, list[DownloadItem]]]
) -> None:
    """The after-answer step: remove each held torrent the import allows; say why of the rest."""
    held = store.attempts_in_seed_state("held")
    if not held:
        return
    have_arrs = bool(arrs.instances(store))
    clients = {c.id: c for c in store.list_clients()}
    quiet: list[Change] = []
    for attempt in held:
        client = clients.get(attempt.client_id)
        if client is None:
            continue
        goal = settings.seeding.goal(client.name, attempt.category)
        if not goal.removes:
            quiet.append(_note(attempt, client, "met", f"{attempt.seed_detail}; [seeding] action is now report"))
            continue
        allowed, why = gate(attempt, have_arrs)
        if allowed:
            wipe = goal.action == "remove_with_data"
            [done] = act(store, settings, [attempt.id], "remove", delete_data=wipe, why=why)
            if not done.ok:
                result.failures.append(ClientFailure(client.name, f"seeded {attempt.title!r}: {done.detail}"))
        elif why != attempt.seed_detail:
            quiet.append(_note(attempt, client, "met" if attempt.import_state in NEVER_IMPORTED else "held", why))
    eventlog.record(store, quiet, settings.hooks)


def gate(attempt: Attempt, have_arrs: bool) -> tuple[bool, str]:
    """Whether the import allows removing this seeded torrent now, and why (or why not)."""
    met = (attempt.seed_detail or "goal met").split(";")[0]
    who = attempt.arr or "Sonarr/Radarr"
    state = attempt.import_state
    if state == "imported":
        return True, f"seeding {met} and imported by {who}"
    if state == "none" or not have_arrs:
        nobody = "no Sonarr or Radarr lists it" if have_arrs else "no Sonarr or Radarr added to dlwatch"
        return True, f"seeding {met}; {nobody}"
    if state in NEVER_IMPORTED:
        return False, f"{met}; kept: {who} reports the import {state}, so it is not removed"
    waiting = f"{who} has not reported the import ({state or 'not asked yet'})"
    return False, f"{met}; kept until imported: {waiting}"


def _note(attempt: Attempt, client: ClientConfig, state: str, detail: str) -> Change:
    after = copy.copy(attempt)
    after.seed_state, after.seed_detail = state, detail
    return Change(attempt, after, client.name, client.type)
