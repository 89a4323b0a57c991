"""Polling: one listing per client per cycle, clients in parallel, changes written with their events.

Each client is asked once per cycle for the downloads dlwatch tracks there (filtered to their ids
where the client can filter), plus its history for Usenet jobs no longer in the queue. A client that
fails is reported and its downloads keep their last known state; the other clients go on.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .clients import open_adapter, protocol_of
from .config import Settings
from .errors import DlwatchError
from .hooks import HookOutcome, hooks_for, run_hook
from .matching import find_by_title
from .models import ClientConfig, DownloadItem, DownloadStatus
from .store import Attempt, Store, now_iso

if TYPE_CHECKING:
    from .adapters.base import ClientAdapter


@dataclass
class Transition:
    attempt: Attempt
    previous: DownloadStatus
    client_name: str
    client_type: str
    hooks: list[HookOutcome] = field(default_factory=list)

    def record(self) -> dict:
        """The attempt's JSON record plus where it came from: hooks' stdin, `watch/poll --json`."""
        return {
            **attempt_record(self.attempt, self.client_name, self.client_type),
            "previous_status": str(self.previous),
        }


@dataclass
class ClientFailure:
    client_name: str
    error: str


@dataclass
class PollResult:
    transitions: list[Transition] = field(default_factory=list)
    failures: list[ClientFailure] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


class Sessions:
    """Adapters kept across poll cycles, so `watch` and `poll` log in once, not on every cycle
    (a qBittorrent login per cycle can evict other WebUI sessions)."""

    def __init__(self) -> None:
        self._adapters: dict[str, tuple[str, ClientAdapter]] = {}

    def get(self, client: ClientConfig, timeout: float) -> ClientAdapter:
        kept = self._adapters.get(client.id)
        if kept and kept[0] == client.updated_at:
            return kept[1]
        if kept:
            kept[1].close()
        adapter = open_adapter(client, timeout)
        self._adapters[client.id] = (client.updated_at, adapter)
        return adapter

    def close(self) -> None:
        for _, adapter in self._adapters.values():
            adapter.close()
        self._adapters.clear()

    def __enter__(self) -> Sessions:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def lookup(adapter: ClientAdapter, attempts: list[Attempt]) -> dict[int, DownloadItem]:
    """Ask one client about its tracked attempts; the items found, by attempt id. Raises on failure."""
    ids = [i for a in attempts if a.client_download_id for i in (a.client_download_id, *a.alt_ids)]
    need_titles = any(not a.client_download_id for a in attempts)
    items = adapter.list_downloads(None if need_titles or not adapter.can_filter_ids else ids)
    found = _match(attempts, items)
    unfound = [a.client_download_id for a in attempts if a.id not in found and a.client_download_id]
    if unfound:
        found.update({k: v for k, v in _match(attempts, adapter.list_finished(unfound)).items() if k not in found})
    return found


def _match(attempts: Iterable[Attempt], items: list[DownloadItem]) -> dict[int, DownloadItem]:
    found: dict[int, DownloadItem] = {}
    for attempt in attempts:
        if attempt.client_download_id:
            wanted = (attempt.client_download_id, *attempt.alt_ids)
            item = next((i for i in items if any(i.answers_to(w) for w in wanted)), None)
            if item is None and attempt.dlwatch_tag:
                item = next((i for i in items if i.dlwatch_tag == attempt.dlwatch_tag), None)
        else:
            matches = find_by_title(attempt.title, items)
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
    if item.status is DownloadStatus.COMPLETED:
        attempt.raw_file_path = settings.map_path(item.content_path or item.save_path, client_name)
        attempt.completed_at = attempt.completed_at or now_iso()
        attempt.download_speed, attempt.eta_seconds = 0, None


def mark_missing(attempt: Attempt) -> None:
    attempt.status = DownloadStatus.MISSING
    attempt.download_speed, attempt.eta_seconds = 0, None
    attempt.error = "no longer in the client, and no history entry says how it ended"


def poll(
    store: Store, settings: Settings, attempt_ids: Iterable[int] | None = None, sessions: Sessions | None = None
) -> PollResult:
    """One cycle. Pass `sessions` to keep client logins across cycles; without it they end here."""
    if sessions is None:
        with Sessions() as own:
            return poll(store, settings, attempt_ids, own)
    ids = list(attempt_ids) if attempt_ids is not None else None
    attempts = [a for a in store.list_attempts(ids=ids) if not a.status.is_final]
    by_client: dict[str, list[Attempt]] = defaultdict(list)
    unassigned = []
    for attempt in attempts:
        if attempt.client_id:
            by_client[attempt.client_id].append(attempt)
        else:
            unassigned.append(attempt)
    result = PollResult()
    enabled = store.list_clients(enabled_only=True)  # preferred first: it wins an unassigned match
    for client in enabled:
        # Sent through Prowlarr, which does not say where: look in every client of its protocol.
        by_client[client.id] += [a for a in unassigned if a.protocol is protocol_of(client)]
    clients = {c.id: c for c in enabled if by_client.get(c.id)}
    for client_id in by_client:
        if client_id not in clients and store.client_by_id(client_id) is None:
            result.failures.append(ClientFailure(f"(removed client {client_id[:8]})", "the client was removed"))
    if not clients:
        return result

    def ask(client: ClientConfig) -> dict[int, DownloadItem] | DlwatchError:
        try:
            return lookup(sessions.get(client, settings.request_timeout), by_client[client.id])
        except DlwatchError as exc:
            return exc

    with ThreadPoolExecutor(max_workers=len(clients)) as pool:
        answers = dict(zip(clients, pool.map(ask, clients.values()), strict=True))

    for client_id, answer in answers.items():
        client = clients[client_id]
        if isinstance(answer, DlwatchError):
            message = str(answer)
            result.failures.append(ClientFailure(client.name, message.removeprefix(f"{client.name}: ")))
            continue
        for attempt in by_client[client_id]:
            if attempt.client_id not in ("", client_id):
                continue  # an unassigned attempt a preferred client claimed earlier in this cycle
            previous = attempt.status
            item = answer.get(attempt.id)
            if item is not None:
                attempt.client_id = client_id
                apply_item(attempt, item, client.name, settings)
            elif attempt.seen and attempt.client_id == client_id:
                mark_missing(attempt)
            else:
                continue  # not listed yet: the client may still be fetching it
            store.save_attempt(attempt, previous=previous, message=attempt.error)
            if attempt.status is not previous:
                result.transitions.append(Transition(attempt, previous, client.name, client.type))
    _run_hooks(result.transitions, settings)
    return result


def attempt_record(attempt: Attempt, client_name: str, client_type: str | None) -> dict:
    """The documented, stable JSON shape of an attempt (`status --json`, hooks' stdin)."""
    return {
        "id": attempt.id,
        "title": attempt.title,
        "client": client_name,
        "client_type": client_type,
        "protocol": str(attempt.protocol),
        "client_download_id": attempt.client_download_id,
        "status": str(attempt.status),
        "progress": round(attempt.progress, 4),
        "size_bytes": attempt.size_bytes,
        "remaining_bytes": attempt.remaining_bytes,
        "download_speed": attempt.download_speed,
        "eta_seconds": attempt.eta_seconds,
        "raw_file_path": attempt.raw_file_path,
        "error": attempt.error,
        "ref": attempt.ref,
        "category": attempt.category,
        "raw_state": attempt.raw_state,
        "created_at": attempt.created_at,
        "updated_at": attempt.updated_at,
        "completed_at": attempt.completed_at,
    }


def _run_hooks(transitions: list[Transition], settings: Settings) -> None:
    jobs = []
    for t in transitions:
        record = t.record()
        for name, command in hooks_for(settings.hooks, t.attempt.status):
            jobs.append((t, name, command, record))
    if not jobs:
        return
    with ThreadPoolExecutor(max_workers=min(8, len(jobs))) as pool:
        outcomes = pool.map(lambda job: run_hook(job[1], job[2], job[3], settings.hooks.timeout), jobs)
        for (transition, *_), outcome in zip(jobs, outcomes, strict=True):
            transition.hooks.append(outcome)
