"""Polling: where a poll asks the clients. One listing per client per cycle, clients in parallel.

Each client is asked once per cycle for the downloads dlwatch tracks there (filtered to their ids
where the client can filter), plus its history for Usenet jobs no longer in the queue. What it says
is turned into changes and handed to the event log as soon as that client has answered; a client
that fails (in any way) is reported and its downloads keep their last known state.
"""

from __future__ import annotations

import copy
import time
from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from dlwatch.core.errors import ClientError, DlwatchError
from dlwatch.core.events import Event
from dlwatch.core.matching import normalise_title
from dlwatch.core.models import ClientConfig, DownloadItem, DownloadStatus, Verdict
from dlwatch.settings.config import Settings
from dlwatch.store import eventlog, sessioncache
from dlwatch.store.db import Attempt, Store, iso_ago, now_iso, seconds_since
from dlwatch.store.eventlog import Change
from dlwatch.tracking.clients import blame, open_adapter, protocol_of
from dlwatch.tracking.deadness import judge

if TYPE_CHECKING:
    from dlwatch.adapters.base import ClientAdapter


@dataclass
class ClientFailure:
    client_name: str
    error: str


@dataclass
class PollResult:
    events: list[Event] = field(default_factory=list)  # recorded by this poll (other processes may add more)
    failures: list[ClientFailure] = field(default_factory=list)
    answered: list[str] = field(default_factory=list)  # names of the clients that answered
    # Downloads this process found dead (and recorded so: only the writer that won acts on them).
    dead: list[tuple[ClientConfig, Verdict]] = field(default_factory=list)

    def record(self, store: Store, changes: list[Change], settings: Settings, client: ClientConfig) -> None:
        """Record changes (one transaction) and keep what this process must act on."""
        events = eventlog.record(store, changes, settings.hooks)
        self.events += events
        verdicts = {c.after.id: c.verdict for c in changes if c.verdict is not None}
        if verdicts:
            self.dead += [(client, verdicts[e.attempt_id]) for e in events if e.attempt_id in verdicts]

    @property
    def ok(self) -> bool:
        return not self.failures


class Sessions:
    """Adapters kept across poll cycles, so `watch` and `poll` log in once, not on every cycle
    (a qBittorrent login per cycle can evict other WebUI sessions); with a `home`, the sessions are
    also handed to the next process through the home's session cache."""

    def __init__(self, home: Path | None = None) -> None:
        self._adapters: dict[str, tuple[str, ClientAdapter]] = {}
        self._home = home
        self._cached = sessioncache.load(home) if home else {}

    def get(self, client: ClientConfig, settings: Settings) -> ClientAdapter:
        kept = self._adapters.get(client.id)
        if kept and kept[0] == client.updated_at:
            return kept[1]
        if kept:
            kept[1].close()
        adapter = open_adapter(client, settings.request_timeout, max_answer_bytes=settings.max_answer_bytes)
        cached = self._cached.get(client.id)
        if isinstance(cached, dict) and cached.get("settings") == client.updated_at:
            adapter.resume_session(cached.get("state") or {})
        self._adapters[client.id] = (client.updated_at, adapter)
        return adapter

    def close(self) -> None:
        changed = {}
        for client_id, (updated_at, adapter) in self._adapters.items():
            state = adapter.session_state()
            entry = {"settings": updated_at, "state": state}
            if state is not None and self._cached.get(client_id) != entry:
                changed[client_id] = entry
            adapter.close()
        if self._home is not None:
            sessioncache.save(self._home, changed)
        self._adapters.clear()

    def __enter__(self) -> Sessions:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# A title-only download was added to its client about when its attempt was made, by the client's
# clock: added this much earlier still counts (two machines' clocks drift; a grab takes a moment).
CLOCK_SLACK = 120.0


def lookup(adapter: ClientAdapter, attempts: list[Attempt], *, find_window: float = 1800.0) -> dict[int, DownloadItem]:
    """Ask one client about its tracked attempts; the items found, by attempt id. Raises on failure.

    Attempts with an id are asked for by id (where the client filters). One known only by its title
    (sent through Prowlarr) is looked for among the client's newest downloads, and only while it is
    young: it must never turn filtering off for every tracked download."""
    with_id = [a for a in attempts if a.client_download_id]
    by_title = [a for a in attempts if not a.client_download_id and seconds_since(a.created_at) < find_window]
    ids = [i for a in with_id for i in (a.client_download_id, *a.alt_ids)]
    items: list[DownloadItem] = []
    if not adapter.can_filter_ids:
        items = adapter.list_downloads(None)
    elif ids:
        items = adapter.list_downloads(ids)
    if by_title:
        # Separate, bounded listings where a just-grabbed title will be: the newest downloads, and
        # a Usenet client's newest history (a small job can end before the first poll).
        listed = {i.client_download_id for i in items}
        since = time.time() - max(seconds_since(a.created_at) for a in by_title) - CLOCK_SLACK
        recent = (adapter.list_recent(since) if adapter.can_filter_ids else []) + adapter.list_recent_finished()
        items += [i for i in recent if i.client_download_id not in listed]
    found = match(with_id + by_title, items)
    unfound = [a.client_download_id for a in with_id if a.id not in found]
    if unfound:
        found.update({k: v for k, v in match(with_id, adapter.list_finished(unfound)).items() if k not in found})
    return found


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


def poll(
    store: Store,
    settings: Settings,
    attempt_ids: Iterable[int] | None = None,
    sessions: Sessions | None = None,
    *,
    skip: frozenset[str] = frozenset(),
) -> PollResult:
    """One cycle. Pass `sessions` to keep client logins across cycles; without it they end here.
    Clients whose ids are in `skip` are not asked this time (they report their ends themselves)."""
    if sessions is None:
        with Sessions(store.path.parent if store.path.name != ":memory:" else None) as own:
            return poll(store, settings, attempt_ids, own, skip=skip)
    ids = list(attempt_ids) if attempt_ids is not None else None
    looked_for_since = iso_ago(settings.missing_window)
    attempts = store.list_attempts(ids=ids, active_only=True, missing_since=looked_for_since)
    by_client: dict[str, list[Attempt]] = defaultdict(list)
    unassigned = []
    for attempt in attempts:
        if attempt.client_id:
            by_client[attempt.client_id].append(attempt)
        else:
            unassigned.append(attempt)
    result = PollResult()
    known = {c.id: c for c in store.list_clients()}
    enabled = [c for c in known.values() if c.enabled]  # preferred first: it wins an unassigned match
    for client in enabled:
        # Sent through Prowlarr, which does not say where: look in every client of its protocol.
        by_client[client.id] += [a for a in unassigned if a.protocol is protocol_of(client)]
    removed = [a for client_id, group in by_client.items() if client_id not in known for a in group]
    if removed:
        result.events += eventlog.record(store, [_client_removed(a) for a in removed], settings.hooks)
    clients = {c.id: c for c in enabled if by_client.get(c.id) and c.id not in skip}
    if not clients:
        return result

    def ask(client: ClientConfig) -> dict[int, DownloadItem] | DlwatchError:
        try:
            adapter = sessions.get(client, settings)
            with adapter.work_within(settings.client_deadline):
                return lookup(adapter, by_client[client.id], find_window=settings.find_window)
        except ClientError as exc:
            return blame(exc, client)
        except DlwatchError as exc:
            return exc
        except Exception as exc:  # an adapter bug or a library surprise is this client's failure only
            return DlwatchError(f"{client.name}: unexpected {type(exc).__name__}: {exc}")

    answers: dict[str, dict[int, DownloadItem]] = {}
    with ThreadPoolExecutor(max_workers=len(clients)) as pool:
        futures = {pool.submit(ask, client): client for client in clients.values()}
        for future in as_completed(futures):
            client = futures[future]
            answer = future.result()
            if isinstance(answer, DlwatchError):
                message = str(answer)
                result.failures.append(ClientFailure(client.name, message.removeprefix(f"{client.name}: ")))
                continue
            answers[client.id] = answer
            result.answered.append(client.name)
            # Its own downloads are written at once; Prowlarr's unassigned ones wait for every answer.
            mine = [a for a in by_client[client.id] if a.client_id == client.id]
            result.record(store, changes_for(client, mine, answer, settings), settings, client)
    claimed: set[int] = set()
    for client in enabled:  # in order of preference
        if client.id in answers:
            waiting = [a for a in unassigned if a.id not in claimed and a.id in answers[client.id]]
            claimed.update(a.id for a in waiting)
            result.record(store, changes_for(client, waiting, answers[client.id], settings), settings, client)
    answered = {protocol_of(c) for c in enabled if c.id in answers}
    lost = [
        _not_found(a, settings)
        for a in unassigned
        if a.id not in claimed and a.protocol in answered and seconds_since(a.created_at) >= settings.find_window
    ]
    result.events += eventlog.record(store, lost, settings.hooks)
    _after_answers(store, settings, result, {c.id: c for c in enabled}, answers)
    return result


def _after_answers(
    store: Store,
    settings: Settings,
    result: PollResult,
    clients: dict[str, ClientConfig],
    answers: dict[str, dict[int, DownloadItem]],
) -> None:
    """What the answers call for beyond recording them: acting on dead downloads, and the disk guard."""
    from dlwatch.policies.dead_downloads import carry_out
    from dlwatch.policies.diskguard import guard

    for outcome in carry_out(store, settings, result.dead):
        if not outcome.ok:
            result.failures.append(ClientFailure("dead download", f"attempt {outcome.attempt_id}: {outcome.detail}"))
    for client_id, answer in answers.items():
        client = clients[client_id]
        for action in guard(store, settings, client, list(answer.values())):
            if not action.ok:
                result.failures.append(ClientFailure(client.name, action.detail))


def _not_found(before: Attempt, settings: Settings) -> Change:
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
        verdict = None
        if item is not None:
            after.client_id = client.id
            apply_item(after, item, client.name, settings)
            verdict = judge(before, after, item, settings.dead_rules(client.name))
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
                mark_missing(after)
        else:
            continue  # not listed yet: the client may still be fetching it
        changes.append(Change(before, after, client.name, client.type, after.error, verdict))
    return changes


def _client_removed(before: Attempt) -> Change:
    after = copy.copy(before)
    after.status = DownloadStatus.FAILED
    after.download_speed, after.eta_seconds = 0, None
    after.error = "its client was removed from dlwatch"
    return Change(before, after, "(removed)", None, after.error)
