"""Prowlarr: connection, importing its download clients, search, and sending releases both ways."""

from __future__ import annotations

import json

import httpx
import pytest

from dlwatch.store.db import Store
from tests.conftest import fixture_body, recorded
from tests.support.payloads import bencode

PROWLARR = "http://prowlarr.local:9696"
KEY = "prowlarr-api-key-0123456789abcdef"
QB = "http://127.0.0.1:8080/api/v2"
SAB = "http://127.0.0.1:8090/api"


def reply(httpx_mock, path, fixture, method="GET", **match):
    httpx_mock.add_response(
        url=f"{PROWLARR}{path}", method=method, **match, **recorded(f"prowlarr/{fixture}").response_kwargs()
    )


@pytest.fixture
def connected(cli, httpx_mock):
    reply(httpx_mock, "/api/v1/system/status", "system_status.json")
    result = cli("prowlarr", "set", "--url", PROWLARR, "--api-key-stdin", input=KEY + "\n")
    assert result.exit_code == 0, result.output
    assert "Prowlarr 1.37.0.5076" in result.stdout


def test_set_keeps_the_key_in_the_keyring_and_sends_it_as_a_header(
    cli, connected, httpx_mock, memory_keyring, dlwatch_home
):
    assert httpx_mock.get_requests()[0].headers["x-api-key"] == KEY
    assert KEY in memory_keyring.store.values()
    assert json.loads(cli("prowlarr", "show", "--json").stdout) == {
        "schema_version": 1,
        "url": PROWLARR,
        "api_key": "keyring",
    }
    assert list(memory_keyring.store) == [
        ("dlwatch", f"prowlarr-{Store(dlwatch_home / 'dlwatch.db').home_id()}/api_key")
    ]
    for path in dlwatch_home.rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes()


def test_wrong_key_is_one_line_naming_the_fix(cli, httpx_mock, memory_keyring):
    reply(httpx_mock, "/api/v1/system/status", "unauthorized_401.json")
    result = cli("prowlarr", "set", "--url", PROWLARR, "--api-key-stdin", input="wrong\n")
    assert result.exit_code == 1
    [line] = result.stderr.strip().splitlines()
    assert "rejected the API key" in line and "--api-key-stdin" in line
    assert memory_keyring.store == {}


def test_prowlarr_down(cli, httpx_mock):
    httpx_mock.add_exception(httpx.ConnectError("[Errno 111] Connection refused"))
    result = cli("prowlarr", "set", "--url", PROWLARR, "--api-key-stdin", input=KEY + "\n")
    assert result.exit_code == 1 and "cannot connect to Prowlarr" in result.stderr


def test_commands_before_set_say_how_to_set_it(cli):
    result = cli("search", "x")
    assert result.exit_code == 1 and "dlwatch prowlarr set --url URL" in result.stderr


def test_import_maps_fields_and_asks_for_masked_secrets(cli, connected, httpx_mock, memory_keyring):
    reply(httpx_mock, "/api/v1/downloadclient", "downloadclient.json", is_reusable=True)
    dry = cli("client", "import", "--from-prowlarr", "--dry-run")
    assert dry.exit_code == 0
    assert "would add SABnzbd (sabnzbd at http://sabnzbd:8080/sabnzbd)" in dry.stdout
    assert "would add Deluge (deluge at http://localhost:8112)" in dry.stdout
    assert json.loads(cli("client", "list", "--json").stdout) == []

    result = cli(
        "client", "import", "--from-prowlarr", "--secrets-stdin", input="NZBGet=nzb-pass\nqBittorrent=qb-pass\n"
    )
    assert result.exit_code == 0, result.output
    assert "still without a secret" in result.stderr
    assert "SABnzbd (`dlwatch client edit SABnzbd --api-key-stdin`)" in result.stderr
    clients = {c["name"]: c for c in json.loads(cli("client", "list", "--json").stdout)}
    assert set(clients) == {"SABnzbd", "NZBGet", "qBittorrent", "Transmission", "Deluge"}
    qb = clients["qBittorrent"]
    assert (qb["type"], qb["host"], qb["port"], qb["use_ssl"], qb["username"], qb["category"]) == (
        "qbittorrent",
        "192.168.1.20",
        8080,
        True,
        "admin",
        "prowlarr",
    )
    assert qb["secret"] == "keyring"
    assert (clients["SABnzbd"]["url_base"], clients["SABnzbd"]["secret"]) == ("/sabnzbd", "none")
    assert (clients["Transmission"]["url_base"], clients["Transmission"]["enabled"]) == ("/transmission", False)
    # Prowlarr prefers priority 1 over 5; dlwatch prefers the higher number
    assert clients["qBittorrent"]["priority"] > clients["Transmission"]["priority"]
    assert sorted(memory_keyring.store.values()) == ["nzb-pass", KEY, "qb-pass"]

    again = cli("client", "import", "--from-prowlarr", "--json", input="")
    report = json.loads(again.stdout)
    assert report["created"] == [] and set(report["updated"]) == set(clients)
    assert report["unsupported"] == []
    assert len(json.loads(cli("client", "list", "--json").stdout)) == 5


def test_search_shows_numbered_results(cli, connected, httpx_mock, dlwatch_home):
    reply(httpx_mock, "/api/v1/search?query=open+movie&type=search&limit=5", "search.json")
    result = cli("search", "open movie", "--limit", "5", "--json")
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert [(r["index"], r["protocol"]) for r in found] == [(1, "usenet"), (2, "torrent")]
    assert found[1]["info_hash"] == "08ada5a7a6183aae1e09d831df6748d566095a10"
    # Prowlarr's links carry its key: dlwatch neither prints nor stores it
    assert "apikey" not in result.stdout.lower() and "PROWLARRKEY" not in result.stdout
    assert found[1]["download_url"].startswith(f"{PROWLARR}/3/download?link=ENCRYPTED2")
    for path in dlwatch_home.rglob("*"):
        if path.is_file():
            assert b"PROWLARRKEY" not in path.read_bytes()


TORRENT = bencode(
    {"info": {"name": "Sintel.2010.720p.WEB-DL.mkv", "length": 3, "piece length": 16384, "pieces": b"\0" * 20}}
)


@pytest.fixture
def searched(cli, connected, httpx_mock):
    reply(httpx_mock, "/api/v1/search?query=open+movie&type=search", "search.json")
    assert cli("search", "open movie").exit_code == 0
    cli("client", "add", "qb", "--type", "qbittorrent", "--host", "127.0.0.1", "--no-test")


def test_grab_fetches_through_prowlarr_and_records_the_exact_id(cli, searched, httpx_mock):
    from dlwatch.core.torrentmeta import parse_torrent

    httpx_mock.add_response(  # the key is put back from the keyring, for Prowlarr's own link only
        url=fixture_body("prowlarr/search.json")[1]["downloadUrl"].replace("PROWLARRKEY", KEY),
        content=TORRENT,
        headers={"content-type": "application/x-bittorrent"},
    )
    httpx_mock.add_response(url=f"{QB}/torrents/add", method="POST", text="Ok.")
    result = cli("grab", "2", "--json", "--ref", "tmdb:45745")
    assert result.exit_code == 0, result.output
    attempt = json.loads(result.stdout)
    assert attempt["client"] == "qb" and attempt["title"] == "Sintel.2010.720p.WEB-DL"
    assert attempt["client_download_id"] == parse_torrent(TORRENT).infohash_v1


@pytest.mark.parametrize(
    ("fixture", "words"),
    [
        ("grab_not_in_cache_404.json", "no longer has this release in its cache"),
        ("grab_indexer_failed_409.json", "could not get the release from the indexer"),
        ("grab_client_unreachable_500.json", "Unable to connect to qBittorrent"),
    ],
)
def test_grab_via_prowlarr_errors_are_one_line(cli, searched, httpx_mock, fixture, words):
    reply(httpx_mock, "/api/v1/search", fixture, method="POST")
    result = cli("grab", "2", "--via-prowlarr")
    assert result.exit_code == 1
    [line] = result.stderr.strip().splitlines()
    assert words in line
    assert json.loads(cli("status", "--all", "--no-refresh", "--json").stdout) == []


def test_via_prowlarr_the_torrent_is_found_by_its_infohash_then_tracked_by_id(cli, searched, httpx_mock):
    reply(
        httpx_mock,
        "/api/v1/search",
        "grab_ok.json",
        method="POST",
        match_json={"guid": "https://tracker.example/torrents/998", "indexerId": 3, "downloadClientId": 3},
    )
    result = cli("grab", "2", "--via-prowlarr", "--download-client-id", "3", "--json")
    assert result.exit_code == 0, result.output
    attempt = json.loads(result.stdout)
    assert attempt["client"] == "(finding)" and attempt["status"] == "queued"
    listing = fixture_body("qbittorrent/list_completed.json")
    infohash = "08ada5a7a6183aae1e09d831df6748d566095a10"
    listing[0].update(hash=infohash, infohash_v1=infohash, name="Sintel.2010.720p.WEB-DL")
    httpx_mock.add_response(url=httpx.URL(f"{QB}/torrents/info", params={"hashes": infohash}), json=listing)
    status = json.loads(cli("status", "--all", "--json").stdout)[0]
    assert (status["client"], status["status"], status["client_download_id"]) == ("qb", "completed", infohash)


RECENT_HISTORY = {"mode": "history", "start": "0", "limit": "50", "output": "json", "apikey": "sabkey"}


def add_sab(cli):
    result = cli(
        "client",
        "add",
        "sab",
        "--type",
        "sabnzbd",
        "--host",
        "127.0.0.1",
        "--port",
        "8090",
        "--api-key-stdin",
        "--no-test",
        input="sabkey\n",
    )
    assert result.exit_code == 0, result.output


def test_via_prowlarr_an_nzb_that_ended_before_the_first_poll_is_found_in_the_history(cli, searched, httpx_mock):
    add_sab(cli)
    reply(httpx_mock, "/api/v1/search", "grab_ok.json", method="POST")
    assert cli("grab", "1", "--via-prowlarr").exit_code == 0
    history = fixture_body("sabnzbd/history_completed.json")
    history["history"]["slots"][0]["name"] = "Big.Buck.Bunny.2008.1080p.BluRay.x264-DLW"
    queue = {"mode": "queue", "start": "0", "limit": "0", "output": "json", "apikey": "sabkey"}
    httpx_mock.add_response(url=httpx.URL(SAB, params=queue), json=fixture_body("sabnzbd/queue_empty.json"))
    httpx_mock.add_response(url=httpx.URL(SAB, params=RECENT_HISTORY), json=history)
    assert "-> completed" in cli("poll", "--once").stdout
    status = json.loads(cli("status", "--all", "--json", "--no-refresh").stdout)[0]
    assert (status["client"], status["status"], status["client_download_id"]) == (
        "sab",
        "completed",
        "SABnzbd_nzo_5r1rzvhy",
    )


def test_track_by_title_finds_a_finished_usenet_job(cli, httpx_mock):
    add_sab(cli)
    queue = {"mode": "queue", "start": "0", "limit": "0", "output": "json", "apikey": "sabkey"}
    httpx_mock.add_response(url=httpx.URL(SAB, params=queue), json=fixture_body("sabnzbd/queue_empty.json"))
    httpx_mock.add_response(
        url=httpx.URL(SAB, params=RECENT_HISTORY), json=fixture_body("sabnzbd/history_completed.json")
    )
    result = cli("track", "--client", "sab", "--title", "dlw-sab-good-224658", "--json")
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert (record["status"], record["client_download_id"]) == ("completed", "SABnzbd_nzo_5r1rzvhy")


def test_via_prowlarr_an_nzb_is_found_by_title_then_tracked_by_id(cli, searched, httpx_mock):
    add_sab(cli)
    reply(httpx_mock, "/api/v1/search", "grab_ok.json", method="POST")
    assert cli("grab", "1", "--via-prowlarr").exit_code == 0
    queue = fixture_body("sabnzbd/queue_downloading.json")
    queue["queue"]["slots"][0]["filename"] = "Big Buck Bunny 2008 1080p BluRay x264-DLW"  # as SABnzbd renamed it
    httpx_mock.add_response(
        url=httpx.URL(SAB, params={"mode": "queue", "start": "0", "limit": "0", "output": "json", "apikey": "sabkey"}),
        json=queue,
    )
    httpx_mock.add_response(url=httpx.URL(SAB, params=RECENT_HISTORY), json=fixture_body("sabnzbd/history_empty.json"))
    status = json.loads(cli("status", "--json").stdout)[0]
    assert (status["client"], status["status"], status["client_download_id"]) == (
        "sab",
        "downloading",
        "SABnzbd_nzo_5r1rzvhy",
    )
    # From now on it is polled by id, like anything dlwatch sent itself
    httpx_mock.add_response(
        url=httpx.URL(
            SAB,
            params={
                "mode": "queue",
                "start": "0",
                "limit": "0",
                "output": "json",
                "apikey": "sabkey",
                "nzo_ids": "SABnzbd_nzo_5r1rzvhy",
            },
        ),
        **recorded("sabnzbd/queue_empty.json").response_kwargs(),
    )
    httpx_mock.add_response(
        url=httpx.URL(
            SAB,
            params={
                "mode": "history",
                "start": "0",
                "limit": "1",
                "output": "json",
                "apikey": "sabkey",
                "nzo_ids": "SABnzbd_nzo_5r1rzvhy",
            },
        ),
        **recorded("sabnzbd/history_completed.json").response_kwargs(),
    )
    assert json.loads(cli("status", "--all", "--json").stdout)[0]["status"] == "completed"


def test_grab_options_that_do_not_go_together(cli, searched):
    assert cli("grab", "2", "--via-prowlarr", "--client", "qb").exit_code == 2
    assert cli("grab", "2", "--download-client-id", "3").exit_code == 2
    assert "no search result 9" in cli("grab", "9").stderr
