"""Prowlarr's API v1: search and grabs (its download clients are read as in servarr.py).

Facts this relies on (shared/docs/arr-and-prowlarr.md §A): the API key goes in `X-Api-Key`; a wrong
key is 401; GET responses mask secrets as `********` (fields with privacy `password`/`apiKey`); a grab
(`POST /api/v1/search` with `guid` and `indexerId`) answers with the request echoed back and no client
id, 404 when the release left the 30-minute cache, 409 when the indexer fetch failed, 500 when the
download client is unreachable. Prowlarr tracks nothing after a grab.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from dlwatch.arr.servarr import ServarrApi, ServarrError, message_of
from dlwatch.core.errors import UnexpectedResponse
from dlwatch.core.models import Protocol, Secret


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


class Prowlarr(ServarrApi):
    app_name = "Prowlarr"
    api_prefix = "/api/v1"

    def __init__(self, url: str, api_key: Secret | None, timeout: float = 30.0) -> None:
        super().__init__(
            url,
            api_key,
            timeout,
            auth_hint=(
                "set it again with `dlwatch prowlarr set --url URL --api-key-stdin` (Settings > General > API Key)"
            ),
        )

    def __enter__(self) -> Prowlarr:
        return self

    def _refuse(self, method: str, path: str, response: httpx.Response) -> None:
        if response.status_code == 404 and method == "POST" and path == "/api/v1/search":
            raise ServarrError("Prowlarr no longer has this release in its cache (30 minutes): search again")
        if response.status_code == 409:
            raise ServarrError(f"Prowlarr could not get the release from the indexer: {message_of(response)}")
        if response.status_code >= 500:
            raise ServarrError(
                f"Prowlarr failed, often because its download client is unreachable: {message_of(response)}"
            )

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
