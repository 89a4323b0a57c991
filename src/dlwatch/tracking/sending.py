"""Sending a download to a client (`send`) and adopting one already there (`track`)."""

from __future__ import annotations

import copy
import hashlib
import time
import uuid
from dataclasses import dataclass, field, replace

from dlwatch.core.errors import (
    CannotConnect,
    ClientError,
    DlwatchError,
    NotDelivered,
    NotFoundError,
    Refused,
    UsageError,
)
from dlwatch.core.matching import find_by_title
from dlwatch.core.models import AddRequest, ClientConfig, DownloadItem, DownloadStatus, Protocol
from dlwatch.core.torrentmeta import parse_torrent
from dlwatch.settings.config import Hooks, Settings
from dlwatch.store import eventlog
from dlwatch.store.db import Attempt, Store, now_iso
from dlwatch.tracking import push
from dlwatch.tracking.changes import apply_item
from dlwatch.tracking.clients import blame, open_adapter, protocol_of
from dlwatch.tracking.sources import Payload, load_source


@dataclass
class SendResult:
    attempt: Attempt
    client: ClientConfig
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (client name, why)
    # Set when this exact download was already tracked: the attempt returned is that one.
    already_tracked: bool = False
    # Set when the client may have it but did not confirm: the attempt stays `sending` until polled.
    unconfirmed: str | None = None


def candidates(store: Store, protocol: Protocol, client_name: str | None) -> list[ClientConfig]:
    if client_name:
        client = store.get_client(client_name)
        if protocol_of(client) is not protocol:
            raise Refused(f"{client.name} is a {protocol_of(client)} client; this download is {protocol}")
        return [client]
    chosen = [c for c in store.list_clients(enabled_only=True) if protocol_of(c) is protocol]
    if not chosen:
        raise Refused(f"no enabled {protocol} client (add one with `dlwatch client add`)")
    return chosen


MAX_TITLE = 1000


def payload_digest(payload: Payload) -> str:
    return hashlib.sha256(payload.content or (payload.magnet or "").encode()).hexdigest()


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
    force: bool = False,
    retry_of: int | None = None,
) -> SendResult:
    """Hand the payload to the preferred client of its protocol, tracking it from before the upload.

    The attempt is recorded `sending` first, so a send killed at any moment leaves a trace polling
    resolves. It moves on to the next client only when the first one certainly did not get it (it
    refused the connection, TLS or DNS failed); after a timeout it asks that client whether the
    download arrived, and keeps it `sending` there if the client cannot say."""
    if title is not None and not 0 < len(title) <= MAX_TITLE:
        raise UsageError(f"--title takes 1 to {MAX_TITLE} characters, not {len(title)}")
    chosen = candidates(store, payload.protocol, client_name) if client_name else None  # a typo first
    digest = payload_digest(payload)
    hashes = [h for h in (payload.infohash_v1, payload.infohash_v2) if h]
    if not force and (existing := store.find_active(hashes, digest)):
        client = store.client_by_id(existing.client_id) if existing.client_id else None
        if client is not None:
            return SendResult(existing, client, already_tracked=True)
    tag = uuid.uuid4().hex
    skipped: list[tuple[str, str]] = []
    chosen = chosen or candidates(store, payload.protocol, client_name)
    # Kept by its hash, so `dlwatch retry` can send exactly this again, long after the file is gone.
    store.keep_payload(digest, str(payload.protocol), payload.title, payload.filename, payload.content, payload.magnet)
    for client in chosen:
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
            report_script=push.script_for(store, client),
        )
        stamp = now_iso()
        sending = eventlog.start_tracking(
            store,
            Attempt(
                id=0,
                client_id=client.id,
                title=request.title,
                protocol=payload.protocol,
                status=DownloadStatus.SENDING,
                created_at=stamp,
                updated_at=stamp,
                client_download_id=hashes[0] if hashes else None,
                alt_ids=tuple(hashes[1:]),
                dlwatch_tag=tag,
                category=request.category,
                ref=ref,
                source="send",
                retry_of=retry_of,
                payload_sha256=digest,
            ),
            client.name,
            client.type,
        )
        try:
            with (
                open_adapter(client, settings.request_timeout) as adapter,
                adapter.work_within(settings.client_deadline),
            ):
                download_id = adapter.add(request)
        except NotDelivered as exc:
            store.delete_attempt(sending.id)  # nothing reached this client: nothing to track there
            skipped.append((client.name, str(blame(exc, client))))
            continue
        except CannotConnect as exc:  # it may have arrived: ask before sending it anywhere else
            found = _ask_whether_it_arrived(store, client, sending, settings)
            if found is None:
                return SendResult(sending, client, skipped, unconfirmed=str(blame(exc, client)))
            if found is False:
                store.delete_attempt(sending.id)
                skipped.append((client.name, f"{blame(exc, client)}, and it does not have the download"))
                continue
            return SendResult(store.get_attempt(sending.id), client, skipped)
        except ClientError as exc:
            store.delete_attempt(sending.id)
            blame(exc, client)
            raise
        after = replace(
            sending,
            client_download_id=download_id,
            alt_ids=tuple(h for h in hashes if h != download_id),
            status=DownloadStatus.PAUSED if paused else DownloadStatus.QUEUED,
        )
        # Recorded as an event like any other, but no hook: nothing happened to the download yet.
        eventlog.record(store, [eventlog.Change(sending, after, client.name, client.type, "sent")], Hooks())
        return SendResult(store.get_attempt(sending.id), client, skipped)
    reasons = "; ".join(why for _, why in skipped)
    raise DlwatchError(f"no {payload.protocol} client could be reached: {reasons}")


def retry(store: Store, settings: Settings, attempt_id: int, *, client_name: str | None = None) -> SendResult:
    """Send what an ended attempt sent, again: to the same client, or to `client_name`. The new
    attempt records which one it retries."""
    old = store.get_attempt(attempt_id)
    if not old.status.is_final:
        raise Refused(f"attempt {old.id} is {old.status}, not finished: remove it first (`dlwatch remove {old.id}`)")
    kept = store.payload(old.payload_sha256) if old.payload_sha256 else None
    if kept is None:
        raise Refused(f"attempt {old.id} was not sent by this dlwatch (tracked or grabbed): nothing to send again")
    payload = _payload_from(kept)
    if client_name is None:
        client = store.client_by_id(old.client_id) if old.client_id else None
        client_name = client.name if client and client.enabled else None  # else: the preferred one
    return send(
        store, settings, payload, client_name=client_name, title=old.title, ref=old.ref, force=True, retry_of=old.id
    )


def _payload_from(kept: dict) -> Payload:
    protocol = Protocol(kept["protocol"])
    if kept["magnet"]:
        return load_source(kept["magnet"], protocol=protocol)
    content = bytes(kept["content"])
    hashes = parse_torrent(content) if protocol is Protocol.TORRENT else None
    return Payload(
        protocol,
        kept["title"],
        content=content,
        filename=kept["filename"],
        infohash_v1=hashes.infohash_v1 if hashes else None,
        infohash_v2=hashes.infohash_v2 if hashes else None,
    )


def _ask_whether_it_arrived(store: Store, client: ClientConfig, sending: Attempt, settings: Settings) -> bool | None:
    """True if the client lists the download now (then it is recorded), False if the client answered
    without it, None if it could not be asked. qBittorrent adds asynchronously: a miss is asked twice."""
    # here, not at the top: start-up time (only this path needs it)
    from dlwatch.tracking.poll import lookup

    for wait in (0.0, 1.0):
        time.sleep(wait)
        try:
            with (
                open_adapter(client, settings.request_timeout) as adapter,
                adapter.work_within(settings.client_deadline),
            ):
                found = lookup(adapter, [sending])
        except DlwatchError:
            return None
        if item := found.get(sending.id):
            after = copy.copy(sending)
            apply_item(after, item, client.name, settings)
            eventlog.record(store, [eventlog.Change(sending, after, client.name, client.type, "sent")], Hooks())
            return True
    return False


def adopt(
    store: Store,
    settings: Settings,
    client_name: str,
    *,
    download_id: str | None = None,
    title: str | None = None,
    ref: str | None = None,
) -> Attempt:
    """Start tracking a download that is already in a client; a `missing` attempt of the same
    download is taken up again rather than refused."""
    if bool(download_id) == bool(title):
        raise UsageError("give exactly one of --id or --title")
    client = store.get_client(client_name)
    tracked = [a for a in store.list_attempts(client_id=client.id) if a.client_download_id]

    def already(answers_to) -> Attempt | None:
        return next((a for a in tracked if answers_to(a.client_download_id)), None)

    known = already(lambda k: k.lower() == download_id.lower()) if download_id else None
    if known and known.status is not DownloadStatus.MISSING:
        raise Refused(f"already tracked as attempt {known.id}")
    with open_adapter(client, settings.request_timeout) as adapter, adapter.work_within(settings.client_deadline):
        try:
            item = _find(adapter, download_id, title)
        except ClientError as exc:
            blame(exc, client)
            raise
    if existing := already(item.answers_to):
        if existing.status is not DownloadStatus.MISSING:
            raise Refused(f"already tracked as attempt {existing.id}")
        after = copy.copy(existing)
        apply_item(after, item, client.name, settings)
        change = eventlog.Change(existing, after, client.name, client.type, "taken up again with `dlwatch track`")
        eventlog.record(store, [change], settings.hooks)
        return store.get_attempt(existing.id)
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
    listed = adapter.list_downloads()
    ids = {i.client_download_id for i in listed}
    # A Usenet job that already ended is in the history, not the queue.
    listed += [i for i in adapter.list_recent_finished() if i.client_download_id not in ids]
    matches = find_by_title(title or "", listed)
    if not matches:
        raise NotFoundError(f"{adapter.display_name} has no download titled {title!r}")
    if len(matches) > 1:
        ids = ", ".join(m.client_download_id for m in matches)
        raise Refused(f"{len(matches)} downloads match {title!r} ({ids}); use --id")
    return matches[0]


def forget(store: Store, attempt_id: int) -> Attempt:
    attempt = store.get_attempt(attempt_id)
    store.delete_attempt(attempt_id)
    return attempt
