"""Fake client servers for unit tests, answering with responses recorded from the real programs."""

from __future__ import annotations

import json
import re

import httpx

from tests.conftest import fixture_body, recorded

TRANSMISSION_URL = "http://127.0.0.1:9091/transmission/rpc"
# The torrent of the recorded Transmission and qBittorrent listings.
TR_HASH = "2900b0c216d661243837ca0330d3479281db1002"
MAGNET = f"magnet:?xt=urn:btih:{TR_HASH}&dn=dlw-qb2tr-50d955.bin"


def fake_transmission(httpx_mock, listings: list, url: str = TRANSMISSION_URL) -> None:
    """Transmission 3.00 by RPC method: session-get and torrent-add as recorded, then each torrent-get
    answered with the next of `listings` (a body, or a whole httpx.Response)."""
    replies = iter(listings)

    def handler(request: httpx.Request) -> httpx.Response:
        method = json.loads(request.content)["method"]
        if method == "session-get":
            return httpx.Response(200, json=fixture_body("transmission/session_get.json"))
        if method == "torrent-add":
            return httpx.Response(200, json=fixture_body("transmission/add_torrent_download.json"))
        reply = next(replies)
        return reply if isinstance(reply, httpx.Response) else httpx.Response(200, json=reply)

    httpx_mock.add_callback(handler, url=url, is_reusable=True)


SONARR = "http://sonarr.local:8989"


def fake_sonarr(httpx_mock, *names: str) -> None:
    """Sonarr answering each named exchange of tests/fixtures/sonarr/ once, at its path and query; a
    `history/since` answers whatever date is asked (an hour before the oldest completion waited on)."""
    for name in names:
        fixture = recorded(f"sonarr/{name}.json")
        path = fixture.request["path"]
        if path.endswith("/since"):
            url = re.compile(re.escape(f"{SONARR}{path}") + r"\?date=[^&]+$")
        else:
            url = httpx.URL(f"{SONARR}{path}", params=fixture.request.get("query"))
        httpx_mock.add_response(url=url, method=fixture.request["method"], **fixture.response_kwargs())
