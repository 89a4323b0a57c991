"""Working with Prowlarr: its connection, importing its download clients, search, and sending releases."""

from __future__ import annotations

import json

from dlwatch.arr.prowlarr import Prowlarr, Release, with_api_key
from dlwatch.core.errors import ConfigError, Refused, UsageError
from dlwatch.core.models import DownloadStatus, Secret
from dlwatch.settings import secrets as keyring_secrets
from dlwatch.settings.config import Settings
from dlwatch.store import eventlog
from dlwatch.store.db import Attempt, Store, now_iso
from dlwatch.tracking.sending import SendResult, send
from dlwatch.tracking.sources import load_source

PROWLARR = "prowlarr"  # the name in DLWATCH_PROWLARR_API_KEY


def _account(store: Store) -> str:
    """Each home's Prowlarr key is its own keyring entry, so `prowlarr set` in one home leaves
    every other home's alone."""
    return f"{PROWLARR}-{store.home_id()}"


def prowlarr_key(store: Store) -> Secret | None:
    key = keyring_secrets.get_secret(_account(store), PROWLARR, keyring_secrets.API_KEY)
    # Before keys were per home they were one entry for all homes: still read, never written.
    return key or keyring_secrets.get_secret(PROWLARR, PROWLARR, keyring_secrets.API_KEY)


def prowlarr_key_source(store: Store) -> str:
    """Where the Prowlarr key would come from, for `prowlarr show`: never the key."""
    source = keyring_secrets.secret_source(_account(store), PROWLARR, keyring_secrets.API_KEY)
    if source == "none" and keyring_secrets.secret_source(PROWLARR, PROWLARR, keyring_secrets.API_KEY) == "keyring":
        return "keyring (shared by every home, from an older dlwatch; `prowlarr set` makes it this home's)"
    return source


def open_prowlarr(store: Store, settings: Settings) -> Prowlarr:
    url = store.prowlarr_url()
    if not url:
        raise ConfigError("Prowlarr is not set up: run `dlwatch prowlarr set --url URL --api-key-stdin`")
    return Prowlarr(url, prowlarr_key(store), timeout=max(30.0, settings.request_timeout))


def set_prowlarr(store: Store, url: str, api_key: Secret | None, *, test: bool, timeout: float) -> str | None:
    if not url.startswith(("http://", "https://")):
        raise UsageError(f"--url needs http:// or https://, not {url!r}")
    key = api_key or prowlarr_key(store)
    version = None
    if test:
        with Prowlarr(url, key, timeout=timeout) as prowlarr:
            version = prowlarr.version()
    if api_key:
        keyring_secrets.set_secret(_account(store), PROWLARR, keyring_secrets.API_KEY, api_key)
    store.set_prowlarr_url(url.rstrip("/"))
    return version


# -- search and send -----------------------------------------------------------------------------


LAST_SEARCH = "last_search"  # meta key: what the last `dlwatch search` asked, for `retry` to ask again


def search(store: Store, prowlarr: Prowlarr, query: str, **options) -> list[Release]:
    releases = prowlarr.search(query, **options)
    store.save_search([r.to_json() for r in releases])
    store.set_meta(LAST_SEARCH, json.dumps({"query": query, **options}))
    return releases


def send_release(
    store: Store,
    settings: Settings,
    position: int,
    *,
    client_name: str | None = None,
    category: str | None = None,
    paused: bool = False,
    ref: str | None = None,
) -> SendResult:
    """Fetch the release through Prowlarr's download link and send it to dlwatch's own choice of
    client, so the client's exact id is recorded; what it was searched with is kept with it."""
    release = Release.from_json(store.search_result(position))
    searched = json.loads(store.meta(LAST_SEARCH) or "null")
    return send_found(
        store, settings, release, searched, client_name=client_name, category=category, paused=paused, ref=ref
    )


def send_found(
    store: Store,
    settings: Settings,
    release: Release,
    searched: dict | None,
    *,
    client_name: str | None = None,
    category: str | None = None,
    paused: bool = False,
    ref: str | None = None,
    retry_of: int | None = None,
) -> SendResult:
    """Send one release of a search, and remember the search with it (`grabs`)."""
    source = release.download_url or release.magnet_url
    if not source:
        raise Refused(f"{release.title!r} has no download link")
    source = with_api_key(source, store.prowlarr_url() or "", prowlarr_key(store))
    payload = load_source(
        source,
        protocol=release.protocol,
        timeout=max(30.0, settings.request_timeout),
        max_bytes=settings.max_file_bytes,
    )
    result = send(
        store,
        settings,
        payload,
        client_name=client_name,
        title=release.title,
        category=category,
        paused=paused,
        ref=ref,
        retry_of=retry_of,
        force=retry_of is not None,
    )
    if searched is not None and not result.already_tracked:
        store.record_grab(result.attempt.id, release.to_json(), searched)
    return result


def grab_via_prowlarr(
    store: Store, settings: Settings, position: int, *, download_client_id: int | None = None, ref: str | None = None
) -> Attempt:
    """Ask Prowlarr to grab the release. Its answer names no client and no id, so the attempt starts
    unassigned and polling finds it by infohash (when the indexer gave one) or by title."""
    release = Release.from_json(store.search_result(position))
    with open_prowlarr(store, settings) as prowlarr:
        prowlarr.grab(release, download_client_id)
    stamp = now_iso()
    attempt = Attempt(
        id=0,
        client_id="",  # unassigned until a client lists it
        title=release.title,
        protocol=release.protocol,
        status=DownloadStatus.QUEUED,
        created_at=stamp,
        updated_at=stamp,
        client_download_id=release.info_hash,
        size_bytes=release.size,
        ref=ref,
        source="prowlarr",
    )
    return eventlog.start_tracking(store, attempt, "(finding)", None)
