"""The page's server side, on a real socket (the clients behind it faked from Transmission 3.00's
recorded answers): the page and its strict CSP; writes refused without the write token, with the
read token, from another site, and when the download cannot take the action; a pause and a send
that reach the client; the event stream handing out a change recorded by another connection (as
another process would) with its id, and replaying what a reconnecting browser missed."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from dataclasses import replace

import pytest

from dlwatch.core.models import DownloadStatus, Secret
from dlwatch.server import stream
from dlwatch.server.serve import make_server
from dlwatch.server.stream import EventHub
from dlwatch.server.views import PollState
from dlwatch.settings.config import Hooks, Settings
from dlwatch.store import eventlog
from dlwatch.store.db import Store
from tests.conftest import fixture_body
from tests.support.fakes import MAGNET, fake_transmission

WRITE = "write-token-0123"
NO_TOKEN = "a write needs the write token (X-Dlwatch-Write-Token); the read token is not enough"


class Served:
    def __init__(self, home, *, write_token: str | None = WRITE, read_token: str | None = None) -> None:
        self.db = home / "dlwatch.db"
        self.hub = EventHub(self.db)
        self.server = make_server(
            home,
            self.db,
            Settings(),
            "127.0.0.1",
            0,
            read_token=Secret(read_token) if read_token else None,
            state=PollState(),
            write_token=Secret(write_token) if write_token else None,
            hub=self.hub,
        )
        self.port = self.server.address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.hub.start()

    def request(self, method: str, path: str, body: bytes | str | None = None, **headers: str):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        data = body.encode() if isinstance(body, str) else body
        named = {k.replace("_", "-"): v for k, v in headers.items()}
        if data is not None:
            named.setdefault("Content-Type", "application/json")
        conn.request(method, path, body=data, headers=named)
        response = conn.getresponse()
        payload = response.read()
        conn.close()
        return response, payload

    def write(self, path: str, body: object = None, **headers: str):
        response, payload = self.request("POST", path, json.dumps(body or {}), **headers)
        return response.status, json.loads(payload)

    def close(self) -> None:
        self.hub.stopped.set()
        self.server.close()


@pytest.fixture
def served(dlwatch_home, tr_client) -> Iterator[Served]:
    server = Served(dlwatch_home)
    yield server
    server.close()


@pytest.fixture
def sent(cli, served, httpx_mock) -> dict:
    fake_transmission(httpx_mock, [fixture_body("transmission/list_downloading.json")])
    return json.loads(cli("send", MAGNET, "--json").stdout)


def test_the_page_has_a_strict_csp_and_needs_no_token_while_the_data_does(dlwatch_home, tr_client):
    server = Served(dlwatch_home, read_token="read-0123")
    try:
        response, body = server.request("GET", "/")
        csp = response.getheader("Content-Security-Policy")
        assert response.status == 200 and b'<script type="module" src="/static/app.js"></script>' in body
        assert "script-src 'self'" in csp and "default-src 'none'" in csp and "unsafe-inline" not in csp
        assert response.getheader("X-Content-Type-Options") == "nosniff"
        for name in ("app.js", "stream.js", "text.js"):
            script, js = server.request("GET", f"/static/{name}")
            assert script.status == 200 and b"innerHTML" not in js  # text goes in as text, never as HTML
        assert server.request("GET", "/api/v1/downloads")[0].status == 401
        assert server.request("GET", "/api/v1/downloads", Authorization="Bearer read-0123")[0].status == 200
    finally:
        server.close()


def test_writes_need_the_write_token_not_the_read_token_and_not_from_another_site(served, sent):
    path = f"/api/v1/downloads/{sent['id']}/pause"
    assert served.write(path) == (401, {"schema_version": 1, "error": NO_TOKEN})
    assert served.write(path, X_Dlwatch_Write_Token="wrong")[0] == 401
    assert served.write(path, Authorization=f"Bearer {WRITE}")[0] == 401  # the read header is not the write one
    status, answer = served.write(path, X_Dlwatch_Write_Token=WRITE, Origin="http://evil.example")
    assert (status, answer["error"]) == (403, "refused: a write from another site (http://evil.example)")
    assert served.write(path, X_Dlwatch_Write_Token=WRITE, Sec_Fetch_Site="cross-site")[0] == 403


def test_with_no_write_token_set_writes_are_off(dlwatch_home, tr_client):
    server = Served(dlwatch_home, write_token=None)
    try:
        status, answer = server.write("/api/v1/downloads/1/pause", X_Dlwatch_Write_Token="anything")
        assert (status, answer["error"]) == (
            403,
            "writes are off: start `dlwatch serve --write-token-stdin` to allow them",
        )
    finally:
        server.close()


def test_pause_reaches_the_client_and_remove_keeps_the_files_unless_asked(served, sent, httpx_mock, cli):
    fake_transmission(httpx_mock, [{"arguments": {}, "result": "success"}] * 2)
    origin = f"http://127.0.0.1:{served.port}"
    status, answer = served.write(
        f"/api/v1/downloads/{sent['id']}/pause", X_Dlwatch_Write_Token=WRITE, Origin=origin, Host=origin[7:]
    )
    assert (status, answer["detail"]) == (200, "paused with dlwatch")
    calls = [json.loads(r.content) for r in httpx_mock.get_requests() if r.url.port == 9091]
    assert calls[-1]["method"] == "torrent-stop"
    status, _ = served.write(
        f"/api/v1/downloads/{sent['id']}/remove", {"delete_data": "yes"}, X_Dlwatch_Write_Token=WRITE
    )
    calls = [json.loads(r.content) for r in httpx_mock.get_requests() if r.url.port == 9091]
    assert status == 200 and calls[-1]["arguments"]["delete-local-data"] is False  # only `true` deletes
    status, answer = served.write(f"/api/v1/downloads/{sent['id']}/remove", X_Dlwatch_Write_Token=WRITE)
    assert (status, answer["error"]) == (409, "already removed")


def test_send_a_magnet_from_the_page(served, httpx_mock):
    fake_transmission(httpx_mock, [])
    status, answer = served.write("/api/v1/send?client=tr", {"magnet": MAGNET}, X_Dlwatch_Write_Token=WRITE)
    assert status == 200 and answer["attempt"]["client"] == "tr" and answer["attempt"]["status"] == "queued"
    status, answer = served.write("/api/v1/send", {"magnet": "http://x"}, X_Dlwatch_Write_Token=WRITE)
    assert status == 409 and "magnet" in answer["error"]


def read_frames(response: http.client.HTTPResponse, wanted: int) -> list[dict]:
    """Parse SSE frames off the stream until `wanted` frames with data have come."""
    frames, buffer = [], b""
    while len(frames) < wanted:
        buffer += response.read1(4096)
        while b"\n\n" in buffer:
            block, buffer = buffer.split(b"\n\n", 1)
            fields = dict(line.split(": ", 1) for line in block.decode().splitlines() if ": " in line)
            if "data" in fields:
                frames.append(
                    {"event": fields.get("event"), "id": fields.get("id"), "data": json.loads(fields["data"])}
                )
    return frames


def test_a_change_recorded_elsewhere_reaches_the_stream_with_its_id_and_a_reconnect_misses_nothing(
    served, sent, monkeypatch
):
    monkeypatch.setattr(stream, "TICK", 0.05)
    conn = http.client.HTTPConnection("127.0.0.1", served.port, timeout=10)
    conn.request("GET", "/api/v1/events")
    response = conn.getresponse()
    assert response.getheader("Content-Type").startswith("text/event-stream")
    [hello] = read_frames(response, 1)
    assert hello["event"] == "hello"

    other = Store(served.db)  # another connection to the same database, as another process writes
    attempt = other.get_attempt(sent["id"])
    [first] = eventlog.record(
        other, [eventlog.Change(attempt, replace(attempt, status=DownloadStatus.PAUSED), "tr", "transmission")], Hooks()
    )
    change = next(f for f in read_frames(response, 2) if f["event"] == "change")
    assert (change["id"], change["data"]["to_status"], change["data"]["title"]) == (
        str(first.id),
        "paused",
        sent["title"],
    )
    conn.close()

    attempt = other.get_attempt(sent["id"])
    [missed] = eventlog.record(
        other, [eventlog.Change(attempt, replace(attempt, status=DownloadStatus.QUEUED), "tr", "transmission")], Hooks()
    )
    again = http.client.HTTPConnection("127.0.0.1", served.port, timeout=10)
    again.request("GET", "/api/v1/events", headers={"Last-Event-ID": str(first.id)})
    replayed = read_frames(again.getresponse(), 1)[0]
    assert (replayed["event"], replayed["id"], replayed["data"]["to_status"]) == ("change", str(missed.id), "queued")
    again.close()
    other.close()


def test_the_downloads_list_says_which_event_it_is_as_of(served, sent):
    response, body = served.request("GET", "/api/v1/downloads?all=1")
    cursor = int(response.getheader("X-Last-Event-Id"))
    assert [r["id"] for r in json.loads(body)] == [sent["id"]]
    store = Store(served.db)
    assert cursor == eventlog.last_id(store) > 0
    store.close()


def test_send_an_uploaded_torrent_file_and_refuse_what_is_neither(served, httpx_mock, tmp_path):
    from tests.support import payloads

    fake_transmission(httpx_mock, [])
    data = payloads.make_payload(tmp_path, "uploaded.bin", 64 * 1024)
    torrent = payloads.make_torrent(data)
    response, body = served.request(
        "POST",
        "/api/v1/send",
        torrent,
        Content_Type="application/x-bittorrent",
        X_Filename="my%20upload.torrent",
        X_Dlwatch_Write_Token=WRITE,
    )
    answer = json.loads(body)
    assert response.status == 200 and answer["attempt"]["title"] == "uploaded.bin", answer
    response, body = served.request(
        "POST", "/api/v1/send", b"not a torrent", Content_Type="application/octet-stream", X_Dlwatch_Write_Token=WRITE
    )
    assert response.status == 409 and "neither a .torrent nor an .nzb" in json.loads(body)["error"]
    response, body = served.request(
        "POST", "/api/v1/send", b"x", Content_Type="text/plain", X_Dlwatch_Write_Token=WRITE
    )
    assert response.status == 415


def test_answers_are_gzipped_for_a_browser_that_asks_and_not_otherwise(served):
    import gzip

    plain, js = served.request("GET", "/static/app.js")
    zipped, packed = served.request("GET", "/static/app.js", Accept_Encoding="gzip, deflate")
    assert plain.getheader("Content-Encoding") is None
    assert zipped.getheader("Content-Encoding") == "gzip" and gzip.decompress(packed) == js
    assert len(packed) < len(js) / 2
