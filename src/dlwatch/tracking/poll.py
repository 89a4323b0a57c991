"""Polling: where a poll asks the clients. One listing per client per cycle, clients in parallel.

Each client is asked once per cycle for the downloads dlwatch tracks there (filtered to their ids
where the client can filter), plus its history for Usenet jobs no longer in the queue. What it says
is turned into changes and handed to the event log as soon as that client has answered; a client
that fails (in any way) is reported and its downloads keep their last known state.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from dlwatch.core.errors import ClientError, DlwatchError
from dlwatch.core.events import Event
from dlwatch.core.models import ClientConfig, DownloadItem, Verdict
from dlwatch.settings.config import Settings
from dlwatch.store import eventlog, sessioncache
from dlwatch.store.db import Attempt, Store, iso_ago, seconds_since
from dlwatch.store.eventlog import Change
from dlwatch.tracking.changes import changes_for, client_removed, match, not_found
from dlwatch.tracking.clients import blame, open_adapter, protocol_of

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


# A step run after a cycle's answers are recorded: the store, the settings, the cycle's result (it
# may add failures) and each client that answered with the items it listed.
AfterAnswer = Callable[[Store, Settings, PollResult, list[tuple[ClientConfig, list[DownloadItem]]]], None]


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


def poll(
    store: Store,
    settings: Settings,
    attempt_ids: Iterable[int] | None = None,
    sessions: Sessions | None = None,
    *,
    skip: frozenset[str] = frozenset(),
    after: Sequence[AfterAnswer] = (),
) -> PollResult:
    """One cycle. Pass `sessions` to keep client logins across cycles; without it they end here.
    Clients whose ids are in `skip` are not asked this time (they report their ends themselves).
    Once every answer is recorded, each step of `after` runs on them in turn (the cycle package
    hands in the dead-download and disk-guard steps: this layer knows nothing of them)."""
    if sessions is None:
        with Sessions(store.path.parent if store.path.name != ":memory:" else None) as own:
            return poll(store, settings, attempt_ids, own, skip=skip, after=after)
    ids = list(attempt_ids) if attempt_ids is not None else None
    looked_for_since = iso_ago(settings.missing_window)
    attempts = store.list_attempts(ids=ids, active_only=True, missing_since=looked_for_since, seeding=True)
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
        result.events += eventlog.record(store, [client_removed(a) for a in removed], settings.hooks)
    clients = {c.id: c for c in enabled if by_client.get(c.id) and c.id not in skip}

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
    # None to ask (nothing active there): the after-answer steps still run (imports wait on them).
    with ThreadPoolExecutor(max_workers=max(1, len(clients))) as pool:
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
        not_found(a, settings)
        for a in unassigned
        if a.id not in claimed and a.protocol in answered and seconds_since(a.created_at) >= settings.find_window
    ]
    result.events += eventlog.record(store, lost, settings.hooks)
    heard = [(c, list(answers[c.id].values())) for c in enabled if c.id in answers]
    for step in after:
        step(store, settings, result, heard)
    return result
