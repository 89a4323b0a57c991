"""The Sonarr and Radarr instances dlwatch may act through (`dlwatch arr add`): their addresses in
the home, their API keys in the keyring. Their imports of completed downloads are followed
(policies/imports.py), and a dead download one of them sent is handed back to it."""

from __future__ import annotations

import json
from dataclasses import dataclass

from dlwatch.arr.sonarr_radarr import APPS, ArrApp
from dlwatch.core.errors import NotFoundError, UsageError
from dlwatch.core.models import Secret
from dlwatch.core.safetext import check_name
from dlwatch.settings import secrets as keyring_secrets
from dlwatch.store.db import Store

_KEY = "arr:"  # meta key prefix, then the instance's name


@dataclass(frozen=True)
class ArrInstance:
    name: str
    app: str  # sonarr or radarr
    url: str


def _account(store: Store, name: str) -> str:
    return f"arr-{store.home_id()}-{name}"


def check(name: str, app: str, url: str) -> None:
    """What `arr add` is given, checked before it reads a key or asks anything."""
    check_name("an *arr instance's name", name)
    if not name.strip() or len(name) > 100:
        raise UsageError("an *arr instance needs a name of 1 to 100 characters")
    if app not in APPS:
        raise UsageError(f"--app takes {' or '.join(APPS)}, not {app!r}")
    if not url.startswith(("http://", "https://")):
        raise UsageError(f"--url needs http:// or https://, not {url!r}")


def add(store: Store, name: str, app: str, url: str, api_key: Secret, *, test: bool, timeout: float) -> str | None:
    check(name, app, url)
    version = None
    if test:
        with ArrApp(app, url, api_key, timeout) as connection:
            version = connection.check()
    keyring_secrets.set_secret(_account(store, name), name, keyring_secrets.API_KEY, api_key)
    store.set_meta(_KEY + name, json.dumps({"app": app, "url": url.rstrip("/")}))
    return version


def instances(store: Store) -> list[ArrInstance]:
    rows = store.query("SELECT key, value FROM meta WHERE key LIKE 'arr:%' ORDER BY key")
    return [ArrInstance(r["key"].removeprefix(_KEY), **json.loads(r["value"])) for r in rows]


def remove(store: Store, name: str) -> None:
    if store.meta(_KEY + name) is None:
        raise NotFoundError(f"no Sonarr or Radarr named {name!r} (see `dlwatch arr list`)")
    store.set_meta(_KEY + name, None)
    keyring_secrets.delete_secret(_account(store, name), keyring_secrets.API_KEY)


def key_source(store: Store, name: str) -> str:
    return keyring_secrets.secret_source(_account(store, name), name, keyring_secrets.API_KEY)


def connect(store: Store, instance: ArrInstance, timeout: float) -> ArrApp:
    key = keyring_secrets.get_secret(_account(store, instance.name), instance.name, keyring_secrets.API_KEY)
    return ArrApp(instance.app, instance.url, key, timeout)
