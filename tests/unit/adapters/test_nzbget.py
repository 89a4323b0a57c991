"""NZBGet adapter against responses recorded from NZBGet 21.0 (same fields in the nzbgetcom fork)."""

from __future__ import annotations

import base64
import json

import pytest

from dlwatch.adapters.nzbget import NzbgetAdapter, _int64
from dlwatch.core.errors import AuthRejected, UnexpectedResponse
from dlwatch.core.models import AddRequest, Connection, DownloadStatus, Secret
from tests.conftest import recorded

URL = "http://127.0.0.1:6789/jsonrpc"


@pytest.fixture
def nzbget() -> NzbgetAdapter:
    return NzbgetAdapter(Connection("127.0.0.1", 6789, username="dlw", secret=Secret("dlwpass")))


def reply(httpx_mock, method, params, fixture):
    httpx_mock.add_response(
        url=URL,
        method="POST",
        match_json={"method": method, "params": params, "id": 1},
        **recorded(fixture).response_kwargs(),
    )


def test_version_sends_basic_auth(httpx_mock, nzbget):
    reply(httpx_mock, "version", [], "nzbget/version.json")
    assert nzbget.version().version == "21.0"
    assert httpx_mock.get_request().headers["authorization"] == "Basic " + base64.b64encode(b"dlw:dlwpass").decode()


def test_wrong_password_is_401(httpx_mock, nzbget):
    reply(httpx_mock, "version", [], "nzbget/auth_failure_401.json")
    with pytest.raises(AuthRejected, match="NZBGet rejected"):
        nzbget.version()


def test_sizes_combine_lo_and_hi_halves():
    assert _int64({"FileSizeLo": 5, "FileSizeHi": 1}, "FileSize") == (1 << 32) + 5
    # Lo is unsigned even when a JSON encoder wrote it as a negative 32-bit number
    assert _int64({"FileSizeLo": -1, "FileSizeHi": 0}, "FileSize") == 0xFFFFFFFF


def test_listgroups_downloading(httpx_mock, nzbget):
    reply(httpx_mock, "listgroups", [0], "nzbget/listgroups_downloading.json")
    reply(httpx_mock, "status", [], "nzbget/status_downloading.json")
    [item] = nzbget.list_downloads()
    assert item.client_download_id == "1"
    assert item.status is DownloadStatus.DOWNLOADING
    assert item.size_bytes == 21644018
    assert item.remaining_bytes == 15725705
    assert item.progress == pytest.approx(1 - 15725705 / 21644018)
    assert item.download_speed and item.download_speed > 0
    assert item.eta_seconds == 15725705 // item.download_speed


@pytest.mark.parametrize(
    ("groups", "status_fixture"),
    [
        ("nzbget/listgroups_paused.json", "nzbget/status_idle.json"),
        ("nzbget/listgroups_pausing.json", "nzbget/status_downloading.json"),
        ("nzbget/listgroups_paused_global.json", "nzbget/status_paused_global.json"),
    ],
)
def test_paused_group_pausing_group_and_global_pause(httpx_mock, nzbget, groups, status_fixture):
    reply(httpx_mock, "listgroups", [0], groups)
    reply(httpx_mock, "status", [], status_fixture)
    [item] = nzbget.list_downloads()
    assert item.status is DownloadStatus.PAUSED


def test_health_failure_is_failed_before_it_reaches_history(httpx_mock, nzbget):
    reply(httpx_mock, "listgroups", [0], "nzbget/listgroups_health_failed.json")
    reply(httpx_mock, "status", [], "nzbget/status_idle.json")
    [item] = nzbget.list_downloads()
    assert item.status is DownloadStatus.FAILED
    assert "health" in item.error


def test_listgroups_is_filtered_locally(httpx_mock, nzbget):
    reply(httpx_mock, "listgroups", [0], "nzbget/listgroups_downloading.json")
    reply(httpx_mock, "status", [], "nzbget/status_downloading.json")
    assert nzbget.list_downloads(["99"]) == []


def test_history_by_id_success_and_failure(httpx_mock, nzbget):
    reply(httpx_mock, "history", [False], "nzbget/history.json")
    items = {i.client_download_id: i for i in nzbget.list_finished(["1", "2", "3"])}
    assert items["1"].status is DownloadStatus.COMPLETED
    assert items["1"].content_path == "/srv/dlw/nzbget/dst/Software/dlw-nzbget-good-224355"
    assert items["3"].status is DownloadStatus.COMPLETED  # SUCCESS/PAR: repaired
    assert items["2"].status is DownloadStatus.FAILED
    assert items["2"].error.startswith("health check failed")
    assert items["2"].error.endswith("(health 72.6%)")


def test_history_lookup_ignores_other_jobs(httpx_mock, nzbget):
    reply(httpx_mock, "history", [False], "nzbget/history.json")
    assert [i.client_download_id for i in nzbget.list_finished(["2"])] == ["2"]


def test_append_sends_the_dlwatch_parameter_and_returns_the_nzbid(httpx_mock, nzbget):
    httpx_mock.add_response(url=URL, method="POST", **recorded("nzbget/add_append.json").response_kwargs())
    nzbid = nzbget.add(
        AddRequest(title="job", content=b"<nzb/>", filename="job.nzb", category="Software", dlwatch_tag="17")
    )
    assert nzbid == "1"
    sent = json.loads(httpx_mock.get_request().content)
    assert sent["method"] == "append"
    assert sent["params"][0] == "job.nzb"
    assert base64.b64decode(sent["params"][1]) == b"<nzb/>"
    assert sent["params"][2] == "Software"
    assert sent["params"][9] == [["dlwatch", "17"]]


def test_append_failure_returns_zero(httpx_mock, nzbget):
    httpx_mock.add_response(url=URL, method="POST", json={"version": "1.1", "id": 1, "result": 0})
    with pytest.raises(UnexpectedResponse, match="did not accept"):
        nzbget.add(AddRequest(title="job", content=b"<nzb/>"))


def test_rpc_access_denied_for_add_only_user(httpx_mock, nzbget):
    httpx_mock.add_response(
        url=URL, method="POST", json={"version": "1.1", "id": 1, "error": {"code": 401, "message": "Access denied"}}
    )
    with pytest.raises(AuthRejected, match="Access denied"):
        nzbget.list_finished(["1"])
