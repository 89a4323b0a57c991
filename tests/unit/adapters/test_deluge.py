"""Deluge adapter against answers recorded from Deluge 2.0.3's web UI (tests/fixtures/deluge-2.0)."""

from __future__ import annotations

import json

import httpx
import pytest

from dlwatch.adapters.deluge import DelugeAdapter
from dlwatch.core.errors import AuthRejected, DownloadNotFound, UnexpectedResponse
from dlwatch.core.models import AddRequest, Connection, DownloadStatus, Secret
from tests.conftest import recorded

HASH = "db8c48916113d3ee9faed3b1d89ed7e1cedf7f56"


@pytest.fixture
def deluge() -> DelugeAdapter:
    return DelugeAdapter(Connection("127.0.0.1", 8112, secret=Secret("dlwpass")))


def body(name: str) -> dict:
    return recorded(f"deluge-2.0/{name}.json").body


class Web:
    """Answers each JSON-RPC method from a table of recorded answers (a list is used in turn)."""

    def __init__(self, httpx_mock, table: dict[str, object]) -> None:
        self.table = {k: list(v) if isinstance(v, list) else [v] for k, v in table.items()}
        self.sent: list[dict] = []
        httpx_mock.add_callback(self, is_reusable=True)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        call = json.loads(request.content)
        self.sent.append({**call, "content_type": request.headers["content-type"]})
        answers = self.table[call["method"]]
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        return httpx.Response(200, json=body(answer) if isinstance(answer, str) else answer)

    def methods(self) -> list[str]:
        return [c["method"] for c in self.sent]


LOGGED_IN = {"auth.login": "auth_login_ok", "web.connected": "web_connected"}


@pytest.mark.parametrize(
    ("fixture", "status", "progress"),
    [
        ("get_torrents_status_downloading", DownloadStatus.DOWNLOADING, 0.116406),
        ("get_torrents_status_paused", DownloadStatus.PAUSED, None),
        ("get_torrents_status_queued", DownloadStatus.QUEUED, None),
        ("get_torrents_status_seeding", DownloadStatus.COMPLETED, 1.0),
        ("get_torrents_status_error", DownloadStatus.FAILED, None),
        ("get_torrents_status_magnet_no_metadata", DownloadStatus.QUEUED, 0.0),
    ],
)
def test_recorded_states(httpx_mock, deluge, fixture, status, progress):
    Web(httpx_mock, {**LOGGED_IN, "core.get_torrents_status": fixture})
    [item] = deluge.list_downloads([HASH])
    assert item.status is status
    if progress is not None:
        assert item.progress == pytest.approx(progress, abs=1e-6)


def test_downloading_item_in_full(httpx_mock, deluge):
    web = Web(httpx_mock, {**LOGGED_IN, "core.get_torrents_status": "get_torrents_status_downloading"})
    [item] = deluge.list_downloads([HASH.upper()])
    assert (item.client_download_id, item.title) == (HASH, "dlwh-deluge-cap-573308.bin")
    assert (item.size_bytes, item.remaining_bytes) == (20971520, 20971520 - 2441216)
    assert (item.download_speed, item.eta_seconds, item.category) == (288271, 64, "dlwh-cat")
    assert item.save_path == "/tmp/dlw-harness/deluge/downloads"
    assert item.error is None  # "OK" is not an error
    assert web.methods() == ["auth.login", "web.connected", "core.get_torrents_status"]
    assert web.sent[-1]["params"][0] == {"id": [HASH]}
    # Deluge 2.0.3 refuses any other content type (bad_content_type.json)
    assert {c["content_type"] for c in web.sent} == {"application/json"}


def test_a_finished_torrent_gets_its_path_from_its_file_list(httpx_mock, deluge):
    files = {"result": {HASH: {"files": [{"index": 0, "path": "Show.S01/e01.mkv", "size": 1}]}}, "error": None}
    web = Web(httpx_mock, {**LOGGED_IN, "core.get_torrents_status": ["get_torrents_status_seeding", files]})
    [item] = deluge.list_downloads([HASH])
    assert item.content_path == "/tmp/dlw-harness/deluge/downloads/Show.S01"
    assert web.sent[-1]["params"] == [{"id": [HASH]}, ["files"]]


def test_an_error_keeps_deluges_reason_even_at_100_percent(httpx_mock, deluge):
    Web(httpx_mock, {**LOGGED_IN, "core.get_torrents_status": "get_torrents_status_error"})
    [item] = deluge.list_downloads(["2b5a50c0e89eef9430ad61cfb68ff31e73cc2550"])
    assert (item.status, item.error) == (DownloadStatus.FAILED, "Not a directory")


def test_a_removed_torrent_is_simply_not_listed(httpx_mock, deluge):
    Web(httpx_mock, {**LOGGED_IN, "core.get_torrents_status": "get_torrents_status_removed"})
    assert deluge.list_downloads([HASH]) == []


def test_wrong_password(httpx_mock, deluge):
    Web(httpx_mock, {"auth.login": "auth_login_failure"})
    with pytest.raises(AuthRejected, match="rejected the web UI password"):
        deluge.version()


def test_an_expired_session_logs_in_once_more(httpx_mock, deluge):
    web = Web(
        httpx_mock,
        {
            **LOGGED_IN,
            "daemon.get_version": ["unauthenticated_call", {"result": "2.0.3", "error": None, "id": 9}],
        },
    )
    assert deluge.version().version == "2.0.3"
    assert web.methods() == ["auth.login", "web.connected", "daemon.get_version", "auth.login", "daemon.get_version"]


def test_a_web_ui_without_its_daemon_is_connected_to_the_first_host(httpx_mock, deluge):
    not_connected = {"result": False, "error": None, "id": 1}
    web = Web(
        httpx_mock,
        {
            "auth.login": "auth_login_ok",
            "web.connected": [not_connected, "web_connected"],
            "web.get_hosts": "web_get_hosts",
            "web.connect": "web_connect",
            "daemon.get_version": {"result": "2.0.3", "error": None, "id": 9},
        },
    )
    deluge.version()
    assert web.sent[3] == {**web.sent[3], "method": "web.connect", "params": ["be865c88f8365de9a327a94af7e337fc"]}


def test_a_web_ui_with_no_daemon_at_all_is_one_clear_error(httpx_mock, deluge):
    Web(
        httpx_mock,
        {
            "auth.login": "auth_login_ok",
            "web.connected": {"result": False, "error": None, "id": 1},
            "web.get_hosts": {"result": [], "error": None, "id": 2},
        },
    )
    with pytest.raises(UnexpectedResponse, match="not connected to a daemon and knows none"):
        deluge.version()


def test_add_with_a_label_creates_the_label(httpx_mock, deluge):
    web = Web(
        httpx_mock,
        {
            **LOGGED_IN,
            "core.add_torrent_file": "core_add_torrent_file",
            "label.get_labels": "label_get_labels",
            "label.add": "label_add",
            "label.set_torrent": "label_set_torrent",
        },
    )
    torrent_id = deluge.add(AddRequest(title="x", content=b"d4:infod4:name1:xee", category="TV Shows"))
    assert torrent_id == HASH
    assert [c["params"] for c in web.sent if c["method"].startswith("label.")][1:] == [
        ["tv-shows"],
        [HASH, "tv-shows"],
    ]


def test_add_of_a_torrent_deluge_has_already_is_that_torrent(httpx_mock, deluge):
    Web(httpx_mock, {**LOGGED_IN, "core.add_torrent_file": "core_add_torrent_file_duplicate"})
    assert deluge.add(AddRequest(title="x", content=b"...", infohash_v1=HASH.upper())) == HASH


def test_add_without_the_label_plugin_still_adds(httpx_mock, deluge):
    unknown = {"result": None, "error": {"message": "Unknown method", "code": 2}, "id": 5}
    Web(httpx_mock, {**LOGGED_IN, "core.add_torrent_magnet": "core_add_torrent_magnet", "label.get_labels": unknown})
    assert deluge.add(AddRequest(title="x", magnet="magnet:?xt=urn:btih:09c3", category="tv")) == (
        "09c3fd13f1379b8944069cae4810c7c8e0c695f9"
    )


def test_removing_an_unknown_torrent(httpx_mock, deluge):
    Web(httpx_mock, {**LOGGED_IN, "core.remove_torrent": "core_remove_torrent_unknown"})
    with pytest.raises(DownloadNotFound):
        deluge.remove("db3b3a00a8fd269a84a6c0831705df27385d6f08", delete_data=False)


def test_daemon_errors_are_one_readable_line(httpx_mock, deluge):
    Web(httpx_mock, {**LOGGED_IN, "core.pause_torrent": "core_add_torrent_file_duplicate"})
    with pytest.raises(UnexpectedResponse) as caught:
        deluge.pause(HASH)
    assert str(caught.value).startswith(f"Deluge refused core.pause_torrent: Torrent already in session ({HASH}).")
    assert "Traceback" not in str(caught.value) and "\n" not in str(caught.value)


def test_a_session_left_by_another_process_is_taken_up_without_logging_in(httpx_mock, deluge):
    first = Web(httpx_mock, {**LOGGED_IN, "daemon.get_version": {"result": "2.0.3", "error": None, "id": 9}})
    deluge.http.cookies.set("_session_id", "abc")
    deluge._logged_in = True
    state = deluge.session_state()
    assert state == {"cookies": {"_session_id": "abc"}}
    again = DelugeAdapter(deluge.connection)
    again.resume_session(state)
    again.version()
    assert "auth.login" not in first.methods()
    assert httpx_mock.get_requests()[0].headers["cookie"] == "_session_id=abc"


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"stop_seed_at_ratio": False, "stop_seed_ratio": 2.0, "remove_seed_at_ratio": True}, None),
        ({"stop_seed_at_ratio": True, "stop_seed_ratio": 2.0, "remove_seed_at_ratio": False}, ("stop", 2.0, False)),
        ({"stop_seed_at_ratio": True, "stop_seed_ratio": 2.0, "remove_seed_at_ratio": True}, ("remove", 2.0, True)),
    ],
)
def test_share_limits_from_the_daemons_config(httpx_mock, deluge, config, expected):
    # core.get_config_values answers a dict of the keys asked for (as the recorded call shows)
    web = Web(httpx_mock, {**LOGGED_IN, "core.get_config_values": {"result": config, "error": None, "id": 1}})
    limits = deluge.share_limits()
    assert (None if limits is None else (limits.action, limits.ratio, limits.removes)) == expected
    [asked] = [c for c in web.sent if c["method"] == "core.get_config_values"]
    assert asked["params"] == [["stop_seed_at_ratio", "stop_seed_ratio", "remove_seed_at_ratio"]]
