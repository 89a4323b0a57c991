"""Working with Prowlarr: its connection, importing its download clients, search, and sending releases."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from . import clients as client_core
from . import eventlog
from . import secrets as keyring_secrets
from .config import Settings
from .errors import ConfigError, KeyringUnavailable, UsageError
from .models import ClientConfig, DownloadStatus, Secret
from .prowlarr import Prowlarr, Release, RemoteClient, with_api_key
from .sending import SendResult, send
from .sources import load_source
from .store import Attempt, Store, now_iso

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


# -- importing Prowlarr's download clients -------------------------------------------------------


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unsupported: list[tuple[str, str]] = field(default_factory=list)  # (name, implementation)
    needs_secret: list[str] = field(default_factory=list)


def import_clients(
    store: Store,
    remote: list[RemoteClient],
    ask_secret: Callable[[RemoteClient, str], Secret | None],
    *,
    dry_run: bool = False,
) -> ImportReport:
    """Create or update a dlwatch client for each supported Prowlarr client, matched by name.

    Prowlarr never returns secrets, so `ask_secret(remote, kind)` supplies one (or None)."""
    report = ImportReport()
    for r in remote:
        if r.type_name is None:
            report.unsupported.append((r.name, r.implementation))
            continue
        existing = store.find_client(r.name)
        if existing and existing.type != r.type_name:
            report.unsupported.append((r.name, f"{r.implementation}, but dlwatch has {r.name} as {existing.type}"))
            continue
        config = client_core.new_client(
            name=r.name,
            type_name=r.type_name,
            host=r.host,
            port=r.port,
            use_ssl=r.use_ssl,
            url_base=r.url_base,
            username=r.username,
            category=r.category,
            priority=r.priority,
            enabled=r.enabled,
        )
        if existing:
            config.id, config.created_at = existing.id, existing.created_at
            config.tls_verify, config.ca_bundle = existing.tls_verify, existing.ca_bundle
        kind = client_core.secret_kind(config)
        secret = ask_secret(r, kind) if r.secret_masked and not dry_run else None
        if not dry_run:
            if secret:
                keyring_secrets.set_secret(config.id, config.name, kind, secret)
            if existing:
                store.update_client(config)
            else:
                store.insert_client(config)
        (report.updated if existing else report.created).append(r.name)
        if r.secret_masked and not secret and not _has_secret(config, kind):
            report.needs_secret.append(r.name)
    return report


def _has_secret(client: ClientConfig, kind: str) -> bool:
    try:
        return keyring_secrets.get_secret(client.id, client.name, kind) is not None
    except KeyringUnavailable:
        return False


# -- search and send -----------------------------------------------------------------------------


def search(store: Store, prowlarr: Prowlarr, query: str, **options) -> list[Release]:
    releases = prowlarr.search(query, **options)
    store.save_search([r.to_json() for r in releases])
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
    client, so the client's exact id is recorded."""
    release = Release.from_json(store.search_result(position))
    source = release.download_url or release.magnet_url
    if not source:
        raise UsageError(f"search result {position} has no download link")
    source = with_api_key(source, store.prowlarr_url() or "", prowlarr_key(store))
    payload = load_source(
        source,
        protocol=release.protocol,
        timeout=max(30.0, settings.request_timeout),
        max_bytes=settings.max_file_bytes,
    )
    return send(
        store,
        settings,
        payload,
        client_name=client_name,
        title=release.title,
        category=category,
        paused=paused,
        ref=ref,
    )


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
