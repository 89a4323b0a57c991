"""Sending a download to a client (`send`) and adopting one already there (`track`)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from . import eventlog
from .clients import open_adapter, protocol_of
from .config import Settings
from .errors import CannotConnect, ClientError, DlwatchError, NotFoundError, UsageError
from .matching import find_by_title
from .models import AddRequest, ClientConfig, DownloadItem, DownloadStatus, Protocol
from .sources import Payload
from .store import Attempt, Store, now_iso
from .tracker import apply_item


@dataclass
class SendResult:
    attempt: Attempt
    client: ClientConfig
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (client name, why)


def candidates(store: Store, protocol: Protocol, client_name: str | None) -> list[ClientConfig]:
    if client_name:
        client = store.get_client(client_name)
        if protocol_of(client) is not protocol:
            raise UsageError(f"{client.name} is a {protocol_of(client)} client; this download is {protocol}")
        return [client]
    chosen = [c for c in store.list_clients(enabled_only=True) if protocol_of(c) is protocol]
    if not chosen:
        raise UsageError(f"no enabled {protocol} client (add one with `dlwatch client add`)")
    return chosen


def send(
    store: Store,
    settings: Settings,
    payload: Payload,
    *,
    client_name: str | None = None,
    title: str | None = None,
    category: str | None = None,
    paused: bool = False,
    ref: str | None = None,
) -> SendResult:
    """Hand the payload to the preferred client of its protocol; on a connection failure, the next."""
    tag = uuid.uuid4().hex
    skipped: list[tuple[str, str]] = []
    for client in candidates(store, payload.protocol, client_name):
        request = AddRequest(
            title=title or payload.title,
            content=payload.content,
            filename=payload.filename,
            magnet=payload.magnet,
            category=category or client.category,
            paused=paused,
            infohash_v1=payload.infohash_v1,
            infohash_v2=payload.infohash_v2,
            dlwatch_tag=tag,
        )
        try:
            with open_adapter(client, settings.request_timeout) as adapter:
                download_id = adapter.add(request)
        except CannotConnect as exc:
            skipped.append((client.name, str(exc.for_client(client.name))))
            continue
        except ClientError as exc:
            exc.for_client(client.name)
            raise
        stamp = now_iso()
        alt = tuple(h for h in (payload.infohash_v1, payload.infohash_v2) if h and h != download_id)
        attempt = Attempt(
            id=0,
            client_id=client.id,
            title=request.title,
            protocol=payload.protocol,
            status=DownloadStatus.PAUSED if paused else DownloadStatus.QUEUED,
            created_at=stamp,
            updated_at=stamp,
            client_download_id=download_id,
            alt_ids=alt,
            dlwatch_tag=tag,
            category=request.category,
            ref=ref,
            source="send",
        )
        return SendResult(eventlog.start_tracking(store, attempt, client.name, client.type), client, skipped)
    reasons = "; ".join(why for _, why in skipped)
    raise DlwatchError(f"no {payload.protocol} client could be reached: {reasons}")


def adopt(
    store: Store,
    settings: Settings,
    client_name: str,
    *,
    download_id: str | None = None,
    title: str | None = None,
    ref: str | None = None,
) -> Attempt:
    """Start tracking a download that is already in a client."""
    if bool(download_id) == bool(title):
        raise UsageError("give exactly one of --id or --title")
    client = store.get_client(client_name)
    tracked = [a for a in store.list_attempts(client_id=client.id) if a.client_download_id]

    def refuse_if_tracked(answers_to) -> None:
        for existing in tracked:
            if answers_to(existing.client_download_id):
                raise UsageError(f"already tracked as attempt {existing.id}")

    if download_id:  # known before asking the client
        refuse_if_tracked(lambda known: known.lower() == download_id.lower())
    with open_adapter(client, settings.request_timeout) as adapter:
        try:
            item = _find(adapter, download_id, title)
        except ClientError as exc:
            exc.for_client(client.name)
            raise
    refuse_if_tracked(item.answers_to)
    stamp = now_iso()
    attempt = Attempt(
        id=0,
        client_id=client.id,
        title=item.title,
        protocol=adapter.protocol,
        status=DownloadStatus.QUEUED,
        created_at=stamp,
        updated_at=stamp,
        ref=ref,
        source="track",
    )
    apply_item(attempt, item, client.name, settings)
    return eventlog.start_tracking(store, attempt, client.name, client.type)


def _find(adapter, download_id: str | None, title: str | None) -> DownloadItem:
    if download_id:
        items = adapter.list_downloads([download_id] if adapter.can_filter_ids else None)
        item = next((i for i in items if i.answers_to(download_id)), None)
        if item is None:
            item = next((i for i in adapter.list_finished([download_id]) if i.answers_to(download_id)), None)
        if item is None:
            raise NotFoundError(f"{adapter.display_name} has no download with id {download_id}")
        return item
    matches = find_by_title(title or "", adapter.list_downloads())
    if not matches:
        raise NotFoundError(f"{adapter.display_name} has no download titled {title!r}")
    if len(matches) > 1:
        ids = ", ".join(m.client_download_id for m in matches)
        raise UsageError(f"{len(matches)} downloads match {title!r} ({ids}); use --id")
    return matches[0]


def forget(store: Store, attempt_id: int) -> Attempt:
    attempt = store.get_attempt(attempt_id)
    store.delete_attempt(attempt_id)
    return attempt
