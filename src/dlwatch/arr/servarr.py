"""What Prowlarr, Sonarr and Radarr share (one code base, "Servarr"): the API key header, the error
answers, and the download-client resources with their `fields`.

Facts (shared/docs/arr-and-prowlarr.md §A, shared/docs/sonarr-radarr.md): the key goes in
`X-Api-Key`; a wrong key is 401; `GET …/system/status` names the app and its version; a download
client is `{id, name, implementation, enable, priority, fields: [{name, value, privacy}]}` and its
secrets come back masked as `********`. Prowlarr's routes are /api/v1, Sonarr's and Radarr's /api/v3.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx

from dlwatch.adapters.httpio import AnswerTooLarge, read_bounded
from dlwatch.core.errors import AuthRejected, CannotConnect, ClientError, UnexpectedResponse
from dlwatch.core.models import Secret

MASKED = "********"
# The apps' implementation class names, and the dlwatch types they become.
IMPLEMENTATIONS = {
    "Sabnzbd": "sabnzbd",
    "Nzbget": "nzbget",
    "QBittorrent": "qbittorrent",
    "Transmission": "transmission",
    "Deluge": "deluge",
    "RTorrent": "rtorrent",
    "Aria2": "aria2",
}
# Prowlarr names its category field `category`, Sonarr `tvCategory`, Radarr `movieCategory`.
CATEGORY_FIELDS = ("category", "tvCategory", "movieCategory")
MAX_ANSWER_BYTES = 64 * 2**20  # a search of every indexer with hundreds of results is a few MiB


class ServarrError(ClientError):
    """The app refused or failed; the message says what to do."""


@dataclass(frozen=True)
class RemoteClient:
    """A download client as Prowlarr, Sonarr or Radarr has it configured."""

    remote_id: int
    name: str
    implementation: str
    type_name: str | None  # None: dlwatch has no adapter for it
    host: str
    port: int | None
    use_ssl: bool
    url_base: str
    username: str | None
    category: str | None
    priority: int  # dlwatch's scale: higher is preferred
    enabled: bool
    secret_masked: bool  # the app has a secret for it, which it never returns


@dataclass(frozen=True)
class RemotePathMapping:
    """Sonarr/Radarr: a client on `host` reports `remote_path…`, seen here at `local_path…`."""

    host: str
    remote_path: str
    local_path: str


def dlwatch_priority(app_priority: Any) -> int:
    """The *arr apps prefer the lowest priority (1..50); dlwatch the highest."""
    try:
        return 51 - min(50, max(1, int(app_priority)))
    except (TypeError, ValueError):
        return 0


class ServarrApi:
    """An HTTP connection to one of the apps, with their error answers turned into one-line errors."""

    app_name = "Prowlarr"
    api_prefix = "/api/v1"

    def __init__(self, url: str, api_key: Secret | None, timeout: float = 30.0, *, auth_hint: str = "") -> None:
        self.url = url.rstrip("/")
        self.auth_hint = auth_hint
        self._http = httpx.Client(
            base_url=self.url,
            timeout=timeout,
            headers={"X-Api-Key": api_key.reveal() if api_key else "", "User-Agent": "dlwatch/0.1"},
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r}, api_key=Secret('{MASKED}'))"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ServarrApi:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        name = self.app_name
        try:
            response = read_bounded(self._http, method, path, limit=MAX_ANSWER_BYTES, **kwargs)
        except AnswerTooLarge:
            raise UnexpectedResponse(f"{name} at {self.url} sent more than {MAX_ANSWER_BYTES // 2**20} MiB") from None
        except httpx.TimeoutException as exc:
            raise CannotConnect(f"{name} at {self.url} did not answer in time") from exc
        except httpx.HTTPError as exc:
            raise CannotConnect(f"cannot connect to {name} at {self.url}: {exc}") from exc
        if response.status_code == 401:
            hint = self.auth_hint or f"use the key at {name}'s Settings > General > API Key"
            raise AuthRejected(f"{name} rejected the API key (HTTP 401); {hint}")
        self._refuse(method, path, response)
        if response.status_code >= 500:
            raise ServarrError(f"{name} failed (HTTP {response.status_code}): {message_of(response)}")
        if not 200 <= response.status_code < 300:
            raise UnexpectedResponse(f"{name} answered HTTP {response.status_code} to {path}: {message_of(response)}")
        if method == "DELETE" and not response.content.strip():
            return None  # a removal answers 200 with an empty body
        try:
            return response.json()
        except json.JSONDecodeError as exc:
            raise UnexpectedResponse(f"{name} did not answer JSON to {path}; is {self.url} {name}?") from exc

    def _refuse(self, method: str, path: str, response: httpx.Response) -> None:
        """Raise for the answers that mean something particular to this app (none by default)."""

    def status(self) -> dict[str, Any]:
        status = self._request("GET", f"{self.api_prefix}/system/status")
        if not isinstance(status, dict) or "version" not in status:
            raise UnexpectedResponse(f"{self.app_name}'s system/status has no version; is this {self.app_name}?")
        return status

    def version(self) -> str:
        return str(self.status()["version"])

    def download_clients(self) -> list[RemoteClient]:
        body = self._request("GET", f"{self.api_prefix}/downloadclient")
        try:
            return [remote_client(resource) for resource in body]
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise UnexpectedResponse(f"{self.app_name}'s download clients came in an unexpected shape ({exc})") from exc


def message_of(response: httpx.Response) -> str:
    try:
        body = response.json()
    except json.JSONDecodeError:
        return response.text.strip()[:200] or f"HTTP {response.status_code}"
    if isinstance(body, dict):
        return str(body.get("message") or body.get("description") or body)[:200]
    if isinstance(body, list) and body and isinstance(body[0], dict):
        return str(body[0].get("errorMessage") or body[0])[:200]
    return str(body)[:200]


def remote_client(resource: dict[str, Any]) -> RemoteClient:
    fields = {f["name"]: f for f in resource.get("fields") or []}

    def value(name: str, default: Any = None) -> Any:
        field = fields.get(name)
        return default if field is None or field.get("value") in (None, "") else field["value"]

    masked = any(f.get("privacy") in ("password", "apiKey") and f.get("value") == MASKED for f in fields.values())
    implementation = str(resource["implementation"])
    type_name = IMPLEMENTATIONS.get(implementation)
    return RemoteClient(
        remote_id=int(resource["id"]),
        name=str(resource["name"]),
        implementation=implementation,
        type_name=type_name,
        host=str(value("host", "localhost")),
        port=int(value("port")) if value("port") is not None else None,
        use_ssl=bool(value("useSsl", False)),
        url_base=_url_base(type_name, value),
        username=value("username"),
        category=next((value(name) for name in CATEGORY_FIELDS if value(name)), None),
        priority=dlwatch_priority(resource.get("priority", 1)),
        enabled=bool(resource.get("enable", True)),
        secret_masked=masked,
    )


def _url_base(type_name: str | None, value: Any) -> str:
    if type_name == "aria2":
        # The apps speak XML-RPC at `rpcPath` (default /rpc); dlwatch speaks JSON-RPC at /jsonrpc
        # beside it, so only the prefix in front of /rpc carries over.
        path = str(value("rpcPath", "/rpc")).rstrip("/")
        return path[: -len("/rpc")] if path.endswith("/rpc") else path
    base = str(value("urlBase", "")).strip("/")
    return f"/{base}" if base else ""


def remote_path_mapping(resource: dict[str, Any]) -> RemotePathMapping:
    return RemotePathMapping(
        host=str(resource["host"]), remote_path=str(resource["remotePath"]), local_path=str(resource["localPath"])
    )
