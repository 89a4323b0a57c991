"""Prowlarr's API v1: its download clients (to import), search, and grabs.

Facts this relies on (shared/docs/arr-and-prowlarr.md §A): the API key goes in `X-Api-Key`; a wrong
key is 401; GET responses mask secrets as `********` (fields with privacy `password`/`apiKey`); a grab
(`POST /api/v1/search` with `guid` and `indexerId`) answers with the request echoed back and no client
id, 404 when the release left the 30-minute cache, 409 when the indexer fetch failed, 500 when the
download client is unreachable. Prowlarr tracks nothing after a grab.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from .errors import AuthRejected, CannotConnect, ClientError, UnexpectedResponse
from .httpio import AnswerTooLarge, read_bounded
from .models import Protocol, Secret

MASKED = "********"
# Prowlarr's implementation class names, and the dlwatch types they become.
IMPLEMENTATIONS = {
    "Sabnzbd": "sabnzbd",
    "Nzbget": "nzbget",
    "QBittorrent": "qbittorrent",
    "Transmission": "transmission",
}


class ProwlarrError(ClientError):
    """Prowlarr refused or failed; the message says what to do."""


@dataclass(frozen=True)
class RemoteClient:
    """A download client as Prowlarr has it configured."""

    prowlarr_id: int
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
    secret_masked: bool  # Prowlarr has a secret for it, which it never returns


@dataclass(frozen=True)
class Release:
    guid: str
    indexer_id: int
    indexer: str
    title: str
    protocol: Protocol
    size: int | None
    age_hours: float | None
    seeders: int | None
    leechers: int | None
    grabs: int | None
    download_url: str | None
    magnet_url: str | None
    info_hash: str | None

    def to_json(self) -> dict[str, Any]:
        data = self.__dict__.copy()
        data["protocol"] = str(self.protocol)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Release:
        return cls(**{**data, "protocol": Protocol(data["protocol"])})


def without_api_key(url: str | None) -> str | None:
    """Prowlarr's links carry its API key (`apikey=`); dlwatch stores and prints them without it."""
    if not url or "apikey=" not in url.lower():
        return url
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k.lower() != "apikey"]
    return urlunsplit(parts._replace(query=urlencode(query)))


def with_api_key(url: str, prowlarr_url: str, api_key: Secret | None) -> str:
    """The link as Prowlarr gave it: its key added back, for Prowlarr's own links only."""
    if not api_key or not url.startswith(prowlarr_url.rstrip("/") + "/"):
        return url
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query, keep_blank_values=True), ("apikey", api_key.reveal())]
    return urlunsplit(parts._replace(query=urlencode(query)))


def dlwatch_priority(prowlarr_priority: Any) -> int:
    """Prowlarr prefers the lowest priority (1..50); dlwatch the highest."""
    try:
        return 51 - min(50, max(1, int(prowlarr_priority)))
    except (TypeError, ValueError):
        return 0


MAX_ANSWER_BYTES = 64 * 2**20  # a search of every indexer with hundreds of results is a few MiB


class Prowlarr:
    def __init__(self, url: str, api_key: Secret | None, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.url,
            timeout=timeout,
            headers={"X-Api-Key": api_key.reveal() if api_key else "", "User-Agent": "dlwatch/0.1"},
        )

    def __repr__(self) -> str:
        return f"Prowlarr({self.url!r}, api_key=Secret('********'))"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Prowlarr:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = read_bounded(self._http, method, path, limit=MAX_ANSWER_BYTES, **kwargs)
        except AnswerTooLarge:
            raise UnexpectedResponse(f"Prowlarr at {self.url} sent more than {MAX_ANSWER_BYTES // 2**20} MiB") from None
        except httpx.TimeoutException as exc:
            raise CannotConnect(f"Prowlarr at {self.url} did not answer in time") from exc
        except httpx.HTTPError as exc:
            raise CannotConnect(f"cannot connect to Prowlarr at {self.url}: {exc}") from exc
        if response.status_code == 401:
            raise AuthRejected(
                "Prowlarr rejected the API key (HTTP 401); set it again with "
                "`dlwatch prowlarr set --url URL --api-key-stdin` (Settings > General > API Key)"
            )
        if response.status_code == 404 and method == "POST" and path == "/api/v1/search":
            raise ProwlarrError("Prowlarr no longer has this release in its cache (30 minutes): search again")
        if response.status_code == 409:
            raise ProwlarrError(f"Prowlarr could not get the release from the indexer: {_message(response)}")
        if response.status_code >= 500:
            raise ProwlarrError(
                f"Prowlarr failed, often because its download client is unreachable: {_message(response)}"
            )
        if not 200 <= response.status_code < 300:
            raise UnexpectedResponse(f"Prowlarr answered HTTP {response.status_code} to {path}: {_message(response)}")
        try:
            return response.json()
        except json.JSONDecodeError as exc:
            raise UnexpectedResponse(f"Prowlarr did not answer JSON to {path}; is {self.url} Prowlarr?") from exc

    def version(self) -> str:
        status = self._request("GET", "/api/v1/system/status")
        if not isinstance(status, dict) or "version" not in status:
            raise UnexpectedResponse("Prowlarr's system/status has no version; is this Prowlarr?")
        return str(status["version"])

    def download_clients(self) -> list[RemoteClient]:
        body = self._request("GET", "/api/v1/downloadclient")
        try:
            return [_remote_client(resource) for resource in body]
        except (KeyError, TypeError, ValueError) as exc:
            raise UnexpectedResponse(f"Prowlarr's download clients came in an unexpected shape ({exc})") from exc

    def search(
        self,
        query: str,
        *,
        search_type: str = "search",
        indexer_ids: list[int] | None = None,
        categories: list[int] | None = None,
        limit: int | None = None,
    ) -> list[Release]:
        params: list[tuple[str, str | int]] = [("query", query), ("type", search_type)]
        params += [("indexerIds", i) for i in indexer_ids or []]
        params += [("categories", c) for c in categories or []]
        if limit:
            params.append(("limit", limit))
        body = self._request("GET", "/api/v1/search", params=params)
        try:
            return [_release(r) for r in body if r.get("protocol") in ("usenet", "torrent")]
        except (KeyError, TypeError, ValueError) as exc:
            raise UnexpectedResponse(f"Prowlarr's search results came in an unexpected shape ({exc})") from exc

    def grab(self, release: Release, download_client_id: int | None = None) -> None:
        body: dict[str, Any] = {"guid": release.guid, "indexerId": release.indexer_id}
        if download_client_id is not None:
            body["downloadClientId"] = download_client_id
        self._request("POST", "/api/v1/search", json=body)


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except json.JSONDecodeError:
        return response.text.strip()[:200] or f"HTTP {response.status_code}"
    if isinstance(body, dict):
        return str(body.get("message") or body.get("description") or body)[:200]
    if isinstance(body, list) and body and isinstance(body[0], dict):
        return str(body[0].get("errorMessage") or body[0])[:200]
    return str(body)[:200]


def _remote_client(resource: dict[str, Any]) -> RemoteClient:
    fields = {f["name"]: f for f in resource.get("fields", [])}

    def value(name: str, default: Any = None) -> Any:
        field = fields.get(name)
        return default if field is None or field.get("value") in (None, "") else field["value"]

    masked = any(f.get("privacy") in ("password", "apiKey") and f.get("value") == MASKED for f in fields.values())
    implementation = str(resource["implementation"])
    return RemoteClient(
        prowlarr_id=int(resource["id"]),
        name=str(resource["name"]),
        implementation=implementation,
        type_name=IMPLEMENTATIONS.get(implementation),
        host=str(value("host", "localhost")),
        port=int(value("port")) if value("port") is not None else None,
        use_ssl=bool(value("useSsl", False)),
        url_base=str(value("urlBase", "")),
        username=value("username"),
        category=value("category") or value("tvCategory") or value("movieCategory"),
        priority=dlwatch_priority(resource.get("priority", 1)),
        enabled=bool(resource.get("enable", True)),
        secret_masked=masked,
    )


def _release(r: dict[str, Any]) -> Release:
    return Release(
        guid=str(r["guid"]),
        indexer_id=int(r["indexerId"]),
        indexer=str(r.get("indexer") or r["indexerId"]),
        title=str(r["title"]),
        protocol=Protocol(r["protocol"]),
        size=r.get("size"),
        age_hours=r.get("ageHours"),
        seeders=r.get("seeders"),
        leechers=r.get("leechers"),
        grabs=r.get("grabs"),
        download_url=without_api_key(r.get("downloadUrl")),
        magnet_url=without_api_key(r.get("magnetUrl")),
        info_hash=(r.get("infoHash") or "").lower() or None,
    )
