"""SABnzbd adapter against responses recorded from SABnzbd 5.0.1."""

from __future__ import annotations

import httpx
import pytest

from dlwatch.adapters.sabnzbd import SabnzbdAdapter
from dlwatch.core.errors import AuthRejected, UnexpectedResponse
from dlwatch.core.models import AddRequest, Connection, DownloadStatus, Secret
from tests.conftest import recorded

KEY = "dlwsabapikey0000000000000000000"
BASE = "http://127.0.0.1:8080/api"


@pytest.fixture
def sab() -> SabnzbdAdapter:
    return SabnzbdAdapter(Connection("127.0.0.1", 8080, secret=Secret(KEY)))


def api_url(**params: str) -> httpx.URL:
    return httpx.URL(BASE, params={**params, "output": "json", "apikey": KEY})


def test_version_also_proves_the_key(httpx_mock, sab):
    httpx_mock.add_response(url=api_url(mode="version"), **recorded("sabnzbd/version.json").response_kwargs())
    httpx_mock.add_response(
        url=api_url(mode="queue", limit="1"), **recorded("sabnzbd/queue_empty.json").response_kwargs()
    )
    assert sab.version().version == "5.0.1"


def test_wrong_key_is_an_auth_error_naming_the_nzb_key_trap(httpx_mock, sab):
    httpx_mock.add_response(url=api_url(mode="version"), **recorded("sabnzbd/version.json").response_kwargs())
    httpx_mock.add_response(
        url=api_url(mode="queue", limit="1"), **recorded("sabnzbd/auth_failure_wrong_apikey.json").response_kwargs()
    )
    with pytest.raises(AuthRejected, match=r"API Key Incorrect.*NZB key"):
        sab.version()


def test_old_sabnzbd_answers_a_bad_key_with_http_200(httpx_mock, sab):
    httpx_mock.add_response(url=api_url(mode="queue", start="0", limit="0"), text="API Key Incorrect")
    with pytest.raises(AuthRejected):
        sab.list_downloads()


def test_queue_downloading_numbers_arrive_as_strings(httpx_mock, sab):
    httpx_mock.add_response(
        url=api_url(mode="queue", start="0", limit="0"), **recorded("sabnzbd/queue_downloading.json").response_kwargs()
    )
    [item] = sab.list_downloads()
    assert item.client_download_id == "SABnzbd_nzo_5r1rzvhy"
    assert item.status is DownloadStatus.DOWNLOADING
    assert item.size_bytes == int(20.64 * 1024 * 1024)
    assert item.remaining_bytes == int(16.41 * 1024 * 1024)
    assert item.progress == pytest.approx(1 - 16.41 / 20.64, abs=1e-3)
    assert item.eta_seconds == 46
    assert item.download_speed == int(363.62 * 1024)
    assert item.category == "software"


def test_queue_is_filtered_by_nzo_ids(httpx_mock, sab):
    httpx_mock.add_response(
        url=api_url(mode="queue", start="0", limit="0", nzo_ids="a,b"),
        **recorded("sabnzbd/queue_empty.json").response_kwargs(),
    )
    assert sab.list_downloads(["a", "b"]) == []


@pytest.mark.parametrize(
    ("fixture", "status"),
    [
        ("sabnzbd/queue_item_paused.json", DownloadStatus.PAUSED),
        ("sabnzbd/queue_paused_global.json", DownloadStatus.PAUSED),
    ],
)
def test_paused_job_and_paused_queue(httpx_mock, sab, fixture, status):
    httpx_mock.add_response(url=api_url(mode="queue", start="0", limit="0"), **recorded(fixture).response_kwargs())
    [item] = sab.list_downloads()
    assert item.status is status
    assert item.eta_seconds is None


def test_history_completed_gives_the_final_path(httpx_mock, sab):
    httpx_mock.add_response(
        url=api_url(mode="history", start="0", limit="1", nzo_ids="SABnzbd_nzo_5r1rzvhy"),
        **recorded("sabnzbd/history_completed.json").response_kwargs(),
    )
    [item] = sab.list_finished(["SABnzbd_nzo_5r1rzvhy"])
    assert item.status is DownloadStatus.COMPLETED
    assert item.progress == 1.0
    assert item.content_path == "/srv/dlw/sabnzbd/complete/dlw-sab-good-224658/dlw-sab-good-224658.bin"
    assert item.error is None


def test_history_failed_gives_the_reason(httpx_mock, sab):
    httpx_mock.add_response(
        url=api_url(mode="history", start="0", limit="2", nzo_ids="SABnzbd_nzo_y8cbue1p,SABnzbd_nzo_5r1rzvhy"),
        **recorded("sabnzbd/history_failed.json").response_kwargs(),
    )
    items = {i.client_download_id: i for i in sab.list_finished(["SABnzbd_nzo_y8cbue1p", "SABnzbd_nzo_5r1rzvhy"])}
    failed = items["SABnzbd_nzo_y8cbue1p"]
    assert failed.status is DownloadStatus.FAILED
    assert failed.error == "Aborted, cannot be completed - https://sabnzbd.org/not-complete"
    assert items["SABnzbd_nzo_5r1rzvhy"].status is DownloadStatus.COMPLETED


def test_add_file_returns_the_nzo_id(httpx_mock, sab):
    httpx_mock.add_response(
        url=api_url(mode="addfile", cat="software", nzbname="dlw-sab-good"),
        method="POST",
        **recorded("sabnzbd/add_addfile.json").response_kwargs(),
    )
    nzo_id = sab.add(AddRequest(title="dlw-sab-good", content=b"<nzb/>", filename="x.nzb", category="software"))
    assert nzo_id == "SABnzbd_nzo_5r1rzvhy"
    request = httpx_mock.get_request()
    assert b'name="name"; filename="x.nzb"' in request.content


def test_add_rejected_as_duplicate(httpx_mock, sab):
    httpx_mock.add_response(method="POST", json={"status": False, "nzo_ids": []})
    with pytest.raises(UnexpectedResponse, match="did not accept"):
        sab.add(AddRequest(title="t", content=b"<nzb/>"))


# Actions: answers built from SABnzbd's api.py (`_api_queue_pause`, `_api_queue_delete`,
# `_api_history_delete` answer {"status": true, "nzo_ids": [...]}); no SABnzbd runs here.
NZO = "SABnzbd_nzo_5r1rzvhy"


def test_pause_resume_and_remove_from_the_queue(httpx_mock, sab):
    for name in ("pause", "resume"):
        httpx_mock.add_response(
            url=api_url(mode="queue", name=name, value=NZO), json={"status": True, "nzo_ids": [NZO]}
        )
    httpx_mock.add_response(
        url=api_url(mode="queue", name="delete", value=NZO, del_files="1"), json={"status": True, "nzo_ids": [NZO]}
    )
    sab.pause(NZO)
    sab.resume(NZO)
    sab.remove(NZO, delete_data=True)


def test_a_finished_job_is_removed_from_the_history(httpx_mock, sab):
    httpx_mock.add_response(
        url=api_url(mode="queue", name="delete", value=NZO, del_files="0"), json={"status": True, "nzo_ids": []}
    )
    httpx_mock.add_response(
        url=api_url(mode="history", name="delete", value=NZO, del_files="0"), json={"status": True, "nzo_ids": [NZO]}
    )
    sab.remove(NZO, delete_data=False)


def test_an_action_sabnzbd_did_not_do_is_an_error(httpx_mock, sab):
    from dlwatch.core.errors import DownloadNotFound

    httpx_mock.add_response(url=api_url(mode="queue", name="pause", value=NZO), json={"status": False})
    with pytest.raises(DownloadNotFound, match="could not pause"):
        sab.pause(NZO)
