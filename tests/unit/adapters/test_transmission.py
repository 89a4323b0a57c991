"""Transmission adapter against responses recorded from Transmission 3.00 (legacy RPC) and 4.1.3
(JSON-RPC 2.0), with the 409 session-id handshake."""

from __future__ import annotations

import json

import pytest

from dlwatch.adapters.transmission import TransmissionAdapter, camel, snake
from dlwatch.core.errors import AuthRejected, UnexpectedResponse
from dlwatch.core.models import AddRequest, Connection, DownloadStatus, Secret
from tests.conftest import recorded

URL = "http://127.0.0.1:9091/transmission/rpc"


@pytest.fixture
def tr() -> TransmissionAdapter:
    return TransmissionAdapter(
        Connection("127.0.0.1", 9091, url_base="/transmission", username="dlw", secret=Secret("dlwpass"))
    )


def replay(httpx_mock, *fixtures: str) -> None:
    for name in fixtures:
        httpx_mock.add_response(url=URL, method="POST", **recorded(name).response_kwargs())


def sent(httpx_mock) -> list[dict]:
    return [json.loads(r.content) for r in httpx_mock.get_requests()]


def test_name_conversions():
    assert snake("hashString") == "hash_string"
    assert snake("rpc-version-semver") == "rpc_version_semver"
    assert snake("torrent-added") == "torrent_added"
    assert camel("metadata_percent_complete") == "metadataPercentComplete"


def test_handshake_then_legacy_on_300(httpx_mock, tr):
    replay(httpx_mock, "transmission/session_id_409.json", "transmission/session_get.json")
    version = tr.version()
    assert version.version == "3.00 (bb6b5a062e)"
    first, second = httpx_mock.get_requests()
    assert "x-transmission-session-id" not in first.headers
    assert second.headers["x-transmission-session-id"] == "4RNQN5hH01JjJTvmQMrYQY7hD5RQQTbLkZDXFAQYTMYayYX8"
    assert sent(httpx_mock)[1]["method"] == "session-get"


def test_41_is_spoken_to_in_jsonrpc(httpx_mock, tr):
    replay(
        httpx_mock,
        "transmission-4.1.3/rpc-409-session-id.json",
        "transmission-4.1.3/session-get-versions.json",
        "transmission-4.1.3/jsonrpc-torrent_get-downloading.json",
    )
    [item] = tr.list_downloads(["7651A34945624D9F437ADF305EFB11F7B6673CD5"])
    request = sent(httpx_mock)[-1]
    assert request["jsonrpc"] == "2.0" and request["method"] == "torrent_get"
    assert "hash_string" in request["params"]["fields"]
    assert request["params"]["ids"] == ["7651a34945624d9f437adf305efb11f7b6673cd5"]
    assert item.status is DownloadStatus.DOWNLOADING
    assert 0 < item.progress < 1
    assert item.remaining_bytes == 15482880
    assert item.eta_seconds == 34
    assert item.category == "dlw"


def test_300_stays_legacy_with_camel_case_fields(httpx_mock, tr):
    replay(
        httpx_mock,
        "transmission/session_id_409.json",
        "transmission/session_get.json",
        "transmission/list_downloading.json",
    )
    items = tr.list_downloads()
    request = sent(httpx_mock)[-1]
    assert request["method"] == "torrent-get" and "hashString" in request["arguments"]["fields"]
    statuses = {i.title: i.status for i in items}
    assert DownloadStatus.DOWNLOADING in statuses.values()
    assert statuses["dlw-tr2qb-3b2993.bin"] is DownloadStatus.COMPLETED  # seeding counts as completed


@pytest.mark.parametrize(
    ("fixture", "status"),
    [
        ("transmission/list_completed.json", DownloadStatus.COMPLETED),
        ("transmission/list_seeding_completed.json", DownloadStatus.COMPLETED),
        ("transmission/list_paused.json", DownloadStatus.PAUSED),
        ("transmission/list_error_missing_data.json", DownloadStatus.FAILED),
        ("transmission/list_magnet_no_metadata.json", DownloadStatus.QUEUED),
    ],
)
def test_states_300(httpx_mock, tr, fixture, status):
    replay(httpx_mock, "transmission/session_id_409.json", "transmission/session_get.json", fixture)
    [item] = tr.list_downloads(["x"])
    assert item.status is status
    if status is DownloadStatus.FAILED:
        assert "no data" in item.error.lower()
    if status is DownloadStatus.COMPLETED:
        assert item.content_path and item.content_path.endswith(item.title)


@pytest.mark.parametrize(
    ("fixture", "status"),
    [
        ("transmission-4.1.3/jsonrpc-torrent_get-completed.json", DownloadStatus.COMPLETED),
        ("transmission-4.1.3/jsonrpc-torrent_get-error-missing-data.json", DownloadStatus.FAILED),
        ("transmission-4.1.3/jsonrpc-torrent_get-magnet-no-metadata.json", DownloadStatus.QUEUED),
        ("transmission-4.1.3/jsonrpc-torrent_get-verifying.json", DownloadStatus.CHECKING),
    ],
)
def test_states_413(httpx_mock, tr, fixture, status):
    replay(
        httpx_mock,
        "transmission-4.1.3/rpc-409-session-id.json",
        "transmission-4.1.3/session-get-versions.json",
        fixture,
    )
    items = tr.list_downloads(["x"])
    assert items[0].status is status


def test_wrong_password(httpx_mock, tr):
    replay(httpx_mock, "transmission/auth_failure_401.json")
    with pytest.raises(AuthRejected):
        tr.version()


def test_whitelist_refusal_is_explained(httpx_mock, tr):
    httpx_mock.add_response(url=URL, method="POST", status_code=403, text="<h1>403: Forbidden</h1>")
    with pytest.raises(AuthRejected, match="rpc-whitelist"):
        tr.version()


def test_handshake_is_bounded(httpx_mock, tr):
    for i in range(3):
        httpx_mock.add_response(
            url=URL, method="POST", status_code=409, headers={"X-Transmission-Session-Id": f"id{i}"}
        )
    with pytest.raises(UnexpectedResponse, match="409"):
        tr.version()
    assert len(httpx_mock.get_requests()) == 3


def test_add_returns_hash_and_duplicate_is_success(httpx_mock, tr):
    replay(
        httpx_mock,
        "transmission/session_id_409.json",
        "transmission/session_get.json",
        "transmission/add_torrent_download.json",
        "transmission/add_torrent_duplicate.json",
    )
    assert (
        tr.add(AddRequest(title="t", content=b"d4:infoe", category="tv")) == "2900b0c216d661243837ca0330d3479281db1002"
    )
    request = sent(httpx_mock)[-1]
    assert request["method"] == "torrent-add" and request["arguments"]["labels"] == ["tv"]
    assert tr.add(AddRequest(title="t", content=b"d4:infoe"))


def test_add_jsonrpc_error(httpx_mock, tr):
    replay(
        httpx_mock,
        "transmission-4.1.3/rpc-409-session-id.json",
        "transmission-4.1.3/session-get-versions.json",
        "transmission-4.1.3/jsonrpc-error-torrent_add-bad-file.json",
    )
    with pytest.raises(UnexpectedResponse, match="unrecognized info"):
        tr.add(AddRequest(title="t", content=b"garbage"))


def test_add_jsonrpc(httpx_mock, tr):
    replay(
        httpx_mock,
        "transmission-4.1.3/rpc-409-session-id.json",
        "transmission-4.1.3/session-get-versions.json",
        "transmission-4.1.3/jsonrpc-torrent_add-added.json",
    )
    assert len(tr.add(AddRequest(title="t", magnet="magnet:?xt=urn:btih:" + "a" * 40))) == 40
    assert sent(httpx_mock)[-1]["params"]["filename"].startswith("magnet:")


@pytest.mark.parametrize(
    ("fixtures", "expected"),
    [
        (["transmission/session_id_409.json", "transmission/session_get.json"], "recently-active"),
        (
            ["transmission-4.1.3/rpc-409-session-id.json", "transmission-4.1.3/session-get-versions.json"],
            "recently_active",
        ),
    ],
)
def test_the_newest_torrents_are_asked_for_in_each_dialects_own_spelling(httpx_mock, tr, fixtures, expected):
    replay(httpx_mock, *fixtures)
    tr.version()
    httpx_mock.add_response(
        url=URL,
        method="POST",
        json={"result": "success", "arguments": {"torrents": []}}
        if expected == "recently-active"
        else {"jsonrpc": "2.0", "id": 3, "result": {"torrents": []}},
    )
    assert tr.list_recent(since=0) == []
    request = sent(httpx_mock)[-1]
    assert (request.get("arguments") or request.get("params"))["ids"] == expected


def test_of_the_recently_active_torrents_only_those_added_since_are_read_in_full(httpx_mock, tr):
    """Busy seeds are recently active too: their full fields are not read while a title is looked for."""
    replay(httpx_mock, "transmission/session_id_409.json", "transmission/session_get.json")
    tr.version()
    seeding = {"hashString": "a" * 40, "addedDate": 1_000}
    grabbed = {"hashString": "b" * 40, "addedDate": 2_000_000_000}
    httpx_mock.add_response(
        url=URL, method="POST", json={"result": "success", "arguments": {"torrents": [seeding, grabbed]}}
    )
    httpx_mock.add_response(url=URL, method="POST", json={"result": "success", "arguments": {"torrents": []}})
    tr.list_recent(since=1_900_000_000)
    first, full = (r["arguments"] for r in sent(httpx_mock)[-2:])
    assert sorted(first["fields"]) == ["addedDate", "hashString"]
    assert full["ids"] == ["b" * 40] and "percentDone" in full["fields"]
