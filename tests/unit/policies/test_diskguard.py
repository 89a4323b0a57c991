"""The disk guard, in one process against recorded Transmission answers, with the one free-space
function replaced: below min_free the client's active downloads are paused (an event each, the
client really asked), the ones a user paused are never resumed, and space back resumes the rest."""

from __future__ import annotations

import json

import httpx
import pytest

from dlwatch.policies import diskguard
from tests.conftest import fixture_body
from tests.support import schemas
from tests.support.fakes import MAGNET, TR_HASH

GiB = 2**30


@pytest.fixture
def transmission_calls(httpx_mock):
    """Transmission by method, stopping and starting as asked; every method asked is kept, in order."""
    calls: list[str] = []
    stopped = {"now": False}

    def handler(request: httpx.Request) -> httpx.Response:
        method = json.loads(request.content)["method"]
        calls.append(method)
        if method == "session-get":
            return httpx.Response(200, json=fixture_body("transmission/session_get.json"))
        if method == "torrent-add":
            return httpx.Response(200, json=fixture_body("transmission/add_torrent_download.json"))
        if method == "torrent-get":
            body = fixture_body("transmission/list_downloading.json")
            for torrent in body["arguments"]["torrents"]:
                if torrent["hashString"] == TR_HASH and stopped["now"]:
                    torrent["status"], torrent["rateDownload"] = 0, 0
            return httpx.Response(200, json=body)
        stopped["now"] = {"torrent-stop": True, "torrent-start": False}.get(method, stopped["now"])
        return httpx.Response(200, json={"result": "success", "arguments": {}})

    httpx_mock.add_callback(handler, url="http://127.0.0.1:9091/transmission/rpc", is_reusable=True)
    return calls


def test_below_min_free_it_pauses_and_with_space_back_it_resumes(
    cli, tr_client, transmission_calls, dlwatch_home, tmp_path, monkeypatch
):
    seen = tmp_path / "nas-downloads"
    seen.mkdir()
    (dlwatch_home / "config.toml").write_text(
        '[guard]\nmin_free = "10GiB"\n'
        f'[[path_mappings]]\nremote = "/srv/dlw/transmission/downloads"\nlocal = "{seen}"\n'
    )
    free = {"bytes": 50 * GiB}
    monkeypatch.setattr(diskguard, "free_bytes", lambda path: free["bytes"] if path == str(seen) else None)
    sent = json.loads(cli("send", MAGNET, "--json").stdout)
    assert cli("poll", "--once").exit_code == 0
    [record] = schemas.check("status", json.loads(cli("status", "--json", "--no-refresh").stdout))
    assert (record["status"], record["free_bytes"]) == ("downloading", 50 * GiB)
    shown = json.loads(cli("client", "show", "tr", "--json").stdout)
    assert [(d["path"], d["free_bytes"]) for d in shown["download_dirs"]] == [(str(seen), 50 * GiB)]

    free["bytes"] = 2 * GiB
    transmission_calls.clear()
    out = cli("poll", "--once").stdout
    assert "torrent-stop" in transmission_calls
    assert "paused by the disk guard: 2.0 GiB free in" in out
    transmission_calls.clear()
    assert cli("poll", "--once").exit_code == 0
    assert "torrent-stop" not in transmission_calls  # already paused: nothing more

    free["bytes"] = 30 * GiB
    transmission_calls.clear()
    out = cli("poll", "--once").stdout
    assert "torrent-start" in transmission_calls and "resumed by the disk guard: 30.0 GiB free" in out
    events = json.loads(cli("history", str(sent["id"]), "--json").stdout)
    messages = [e["message"] or "" for e in events]
    assert any(m.startswith("paused by the disk guard") for m in messages)
    assert any(m.startswith("resumed by the disk guard") for m in messages)


def test_a_download_the_user_paused_is_not_resumed_by_the_guard(
    cli, tr_client, transmission_calls, dlwatch_home, tmp_path, monkeypatch
):
    seen = tmp_path / "nas"
    seen.mkdir()
    (dlwatch_home / "config.toml").write_text(
        f'[guard]\nmin_free = 1000\n[[path_mappings]]\nremote = "/srv/dlw/transmission/downloads"\nlocal = "{seen}"\n'
    )
    monkeypatch.setattr(diskguard, "free_bytes", lambda path: 10**9)
    sent = json.loads(cli("send", MAGNET, "--json").stdout)
    assert cli("pause", str(sent["id"])).exit_code == 0  # the user's own pause
    transmission_calls.clear()
    cli("poll", "--once")
    assert "torrent-start" not in transmission_calls
    [record] = json.loads(cli("status", "--json", "--no-refresh").stdout)
    assert record["status"] == "paused"
