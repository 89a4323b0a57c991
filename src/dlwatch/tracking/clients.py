"""Client management: add, edit, remove and test configured download clients."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dlwatch.adapters import registry
from dlwatch.core.attempt import now_iso
from dlwatch.core.errors import AuthRejected, ClientError, DlwatchError, KeyringUnavailable, Refused, UsageError
from dlwatch.core.models import ClientConfig, ClientVersion, Connection, DirSpace, Protocol, Secret, ShareLimits
from dlwatch.core.records import client_record
from dlwatch.core.safetext import check_name
from dlwatch.settings import secrets as keyring_secrets

if TYPE_CHECKING:
    from dlwatch.adapters.base import ClientAdapter
    from dlwatch.store.db import Store


def connection_for(
    client: ClientConfig, secret: Secret | None, timeout: float, max_answer_bytes: int | None = None
) -> Connection:
    verify: bool | str = client.ca_bundle or client.tls_verify
    limits = {"max_answer_bytes": max_answer_bytes} if max_answer_bytes else {}
    return Connection(
        host=client.host,
        port=client.port,
        use_ssl=client.use_ssl,
        url_base=client.url_base,
        username=client.username,
        secret=secret,
        timeout=timeout,
        verify=verify,
        **limits,
    )


def secret_kind(client: ClientConfig) -> str:
    return registry.adapter_class(client.type).secret_kind


def blame(exc: ClientError, client: ClientConfig) -> ClientError:
    """The error, naming the client and, in its hint, the option that sets this client's secret."""
    return exc.for_client(client.name, secret_kind(client))


def address(client: ClientConfig) -> str:
    """How dlwatch reaches the client: http(s)://…, or scgi://… and a socket path for rTorrent."""
    return registry.adapter_class(client.type).address(connection_for(client, None, timeout=1.0))


def client_json(client: ClientConfig, dirs: list[DirSpace] | None = None) -> dict[str, Any]:
    """The client's record (core.records.client_record) with how it is reached and where its
    secret comes from."""
    secret = keyring_secrets.secret_source(client.id, client.name, secret_kind(client))
    return client_record(client, address(client), secret, dirs)


def protocol_of(client: ClientConfig) -> Protocol:
    return registry.adapter_class(client.type).protocol


def load_secret(client: ClientConfig) -> Secret | None:
    return keyring_secrets.get_secret(client.id, client.name, secret_kind(client))


def open_adapter(
    client: ClientConfig, timeout: float, secret: Secret | None = None, *, max_answer_bytes: int | None = None
) -> ClientAdapter:
    """An adapter for a stored client, its secret read from the environment or the keyring."""
    cls = registry.adapter_class(client.type)
    if secret is None:
        try:
            secret = load_secret(client)
        except KeyringUnavailable as exc:
            raise KeyringUnavailable(f"{client.name}: {exc}") from exc
    return cls(connection_for(client, secret, timeout, max_answer_bytes))


def probe(client: ClientConfig, secret: Secret | None, timeout: float) -> ClientVersion:
    with open_adapter(client, timeout, secret) as adapter, adapter.work_within(2 * timeout):
        try:
            return adapter.version()
        except ClientError as exc:
            blame(exc, client)
            raise


_SHARE_LIMITS = "share_limits:"  # meta key prefix, then the client id: as `client test` last read them


def remember_share_limits(store: Store, client: ClientConfig, limits: ShareLimits | None) -> None:
    """Keep what `client test` read, so `client show` can tell it without asking the client."""
    value = {"at": now_iso(), "limits": asdict(limits) if limits else None}
    store.set_meta(_SHARE_LIMITS + client.id, json.dumps(value))


def known_share_limits(store: Store, client: ClientConfig) -> tuple[ShareLimits | None, str] | None:
    """The share limits as `client test` last read them, and when; None if it never did."""
    raw = store.meta(_SHARE_LIMITS + client.id)
    if raw is None:
        return None
    value = json.loads(raw)
    return (ShareLimits(**value["limits"]) if value["limits"] else None), value["at"]


PROWLARR_NAME = "prowlarr"
# A DNS name or an IPv4 address, or an IPv6 address (bare or in brackets): nothing else, so no
# "user@host" or "host:port/path" can slip into a URL.
_HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.\-]{0,251}[A-Za-z0-9])?|\[?[0-9A-Fa-f:.]+(?:%[A-Za-z0-9]+)?\]?")


def validate(client: ClientConfig) -> ClientConfig:
    """Fill per-type defaults and reject what cannot work, before anything is saved or sent."""
    cls = registry.adapter_class(client.type)
    check_name("a client name", client.name)
    if not client.name.strip() or len(client.name) > 100 or not keyring_secrets.env_slug(client.name):
        raise UsageError("a client needs a name of 1 to 100 characters with at least one letter or digit")
    if keyring_secrets.env_slug(client.name) == keyring_secrets.env_slug(PROWLARR_NAME):
        raise UsageError(f"{client.name!r} is taken: DLWATCH_PROWLARR_API_KEY is Prowlarr's own key")
    if cls.takes_socket_path and (client.host or "").startswith("/"):
        if client.use_ssl or client.url_base.strip("/"):
            raise UsageError("a unix socket (--host /PATH) takes no --ssl or --url-base")
        client.host = str(Path(client.host).expanduser().resolve())  # absolute, as cron will look for it
    elif not _HOST.fullmatch(client.host or ""):
        socket_too = f" or, for {cls.display_name}, the path of its unix socket" if cls.takes_socket_path else ""
        raise UsageError(
            f"--host takes a host name or IP address{socket_too}, not {client.host!r} "
            "(no scheme, user, port or path: use --port, --ssl, --url-base, --username)"
        )
    if not 0 < client.port < 65536:
        raise UsageError(f"--port must be between 1 and 65535, not {client.port}")
    if not -(10**6) <= client.priority <= 10**6:
        raise UsageError(f"--priority must be between -1000000 and 1000000, not {client.priority}")
    if client.ca_bundle:
        # Stored absolute, so cron (started elsewhere) finds the same file; checked now, not at poll.
        import ssl  # here, not at the top: loading it costs every command's start-up

        path = Path(client.ca_bundle).expanduser().resolve()
        try:
            ssl.create_default_context(cafile=str(path))
        except (OSError, ssl.SSLError, ValueError) as exc:
            raise UsageError(f"--ca-bundle {client.ca_bundle}: not a readable PEM certificate file ({exc})") from None
        client.ca_bundle = str(path)
    client.url_base = "/" + client.url_base.strip("/") if client.url_base.strip("/") else ""
    if not cls.uses_username:
        client.username = None
    if problem := cls.settings_problem(connection_for(client, None, timeout=1.0)):
        raise UsageError(problem)
    return client


def new_client(
    *,
    name: str,
    type_name: str,
    host: str,
    port: int | None = None,
    use_ssl: bool = False,
    url_base: str | None = None,
    username: str | None = None,
    category: str | None = None,
    priority: int = 0,
    enabled: bool = True,
    tls_verify: bool = True,
    ca_bundle: str | None = None,
) -> ClientConfig:
    cls = registry.adapter_class(type_name)
    return validate(
        ClientConfig(
            id=str(uuid.uuid4()),
            name=name,
            type=type_name,
            host=host,
            port=port or cls.default_port,
            use_ssl=use_ssl,
            url_base=cls.default_url_base if url_base is None else url_base,
            username=username,
            category=category,
            priority=priority,
            enabled=enabled,
            tls_verify=tls_verify,
            ca_bundle=ca_bundle,
        )
    )


def add_client(
    store: Store, client: ClientConfig, secret: Secret | None, *, test: bool, timeout: float
) -> ClientVersion | None:
    """Test (unless told not to), then store the secret and the client; nothing is saved on failure."""
    if store.find_client(client.name):
        raise Refused(f"a client named {client.name!r} exists already (use `dlwatch client edit`)")
    try:
        version = probe(client, secret, timeout) if test else None
    except AuthRejected as exc:
        exc.what_to_do = "nothing was saved: run `dlwatch client add` again with the right one ({option})"
        raise
    kind = secret_kind(client)
    if secret:
        _store_secret(client, kind, secret)
    try:
        store.insert_client(client)
    except Exception:
        keyring_secrets.delete_secret(client.id, kind)
        raise
    return version


def edit_client(
    store: Store,
    name: str,
    changes: dict[str, object],
    secret: Secret | None,
    *,
    test: bool,
    timeout: float,
) -> tuple[ClientConfig, ClientVersion | None]:
    current = store.get_client(name)
    unknown = set(changes) - set(ClientConfig.__dataclass_fields__)
    if unknown or "id" in changes or "type" in changes:
        raise UsageError(f"cannot change {', '.join(sorted(unknown | ({'id', 'type'} & set(changes))))}")
    updated = validate(replace(current, **changes))  # type: ignore[arg-type]
    version = probe(updated, secret or _existing_secret(updated), timeout) if test else None
    if secret:
        _store_secret(updated, secret_kind(updated), secret)
    store.update_client(updated)
    return updated, version


def remove_client(store: Store, name: str) -> ClientConfig:
    client = store.get_client(name)
    store.delete_client(client.id)
    keyring_secrets.delete_secret(client.id, secret_kind(client))
    # Its push token too: a client dlwatch no longer knows may not report. (The client's own
    # setting stays as it is: `client push NAME --disable` first puts it back.)
    keyring_secrets.delete_secret(client.id, keyring_secrets.PUSH_TOKEN)
    return client


@dataclass
class CheckResult:
    client: ClientConfig
    version: ClientVersion | None = None
    error: DlwatchError | None = None
    # Its own seeding limits: one that removes a download may take it before an *arr imports it.
    share_limits: ShareLimits | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def check_clients(
    clients: Iterable[ClientConfig],
    timeout: float,
    on_result: Callable[[CheckResult], None] | None = None,
) -> list[CheckResult]:
    """Test every client at once, each within twice `timeout` in all; a failing one is reported and
    the rest are still tested. Results come back (and to `on_result`) in the order given."""
    # here, not at the top: start-up time (only this path needs it)
    from concurrent.futures import ThreadPoolExecutor

    def check(client: ClientConfig) -> CheckResult:
        try:
            with open_adapter(client, timeout) as adapter, adapter.work_within(2 * timeout):  # one login
                version, limits = adapter.version(), adapter.share_limits()
            return CheckResult(client, version=version, share_limits=limits)
        except ClientError as exc:
            return CheckResult(client, error=blame(exc, client))
        except DlwatchError as exc:
            return CheckResult(client, error=exc)
        except Exception as exc:  # one client's surprise is its own failure line
            return CheckResult(client, error=DlwatchError(f"{client.name}: unexpected {type(exc).__name__}: {exc}"))

    targets = list(clients)
    if not targets:
        return []
    results = []
    with ThreadPoolExecutor(max_workers=min(16, len(targets))) as pool:
        for result in pool.map(check, targets):
            results.append(result)
            if on_result:
                on_result(result)
    return results


def _existing_secret(client: ClientConfig) -> Secret | None:
    try:
        return load_secret(client)
    except KeyringUnavailable:
        return None


def _store_secret(client: ClientConfig, kind: str, secret: Secret) -> None:
    try:
        keyring_secrets.set_secret(client.id, client.name, kind, secret)
    except KeyringUnavailable:
        if keyring_secrets.env_override_present(client.name, kind):
            return  # the environment supplies it on every run; nothing needs storing
        raise
