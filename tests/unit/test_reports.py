"""`dlwatch report`: what each client passes to its finish program, read by its adapter, and the
end recorded once however many reports (and polls) say it."""

from __future__ import annotations

import httpx
import pytest

from dlwatch import clients as core
from dlwatch import eventlog, reports
from dlwatch.adapters.nzbget import NzbgetAdapter
from dlwatch.adapters.qbittorrent import QbittorrentAdapter
from dlwatch.adapters.transmission import TransmissionAdapter
from dlwatch.config import Settings
from dlwatch.errors import UsageError
from dlwatch.models import DownloadStatus, Secret
from dlwatch.sending import adopt
from dlwatch.store import Store
from tests.conftest import recorded

QB = "http://127.0.0.1:8080/api/v2"

V1 = "ed53c3c11edb5f5251c444e9870f44c769111050"


def test_qbittorrent_passes_its_placeholders():
    report = QbittorrentAdapter.read_report({}, [V1.upper(), "", "/data/Show S01"])
    assert report.ids == (V1,) and report.complete
    assert (report.item.status, report.item.content_path) == (DownloadStatus.COMPLETED, "/data/Show S01")
    hybrid = QbittorrentAdapter.read_report({}, [V1, "b" * 64, "/d/x"])
    assert hybrid.ids == ("b" * 40, V1)  # qBittorrent's id for a hybrid is the v2 hash, cut
    with pytest.raises(UsageError, match="%I %J %F"):
        QbittorrentAdapter.read_report({}, ["%I"])


def test_the_qbittorrent_program_line_quotes_its_placeholders():
    line = QbittorrentAdapter.report_program("/venv/bin/python -m dlwatch report --client qb")
    assert line.endswith(' -- "%I" "%J" "%F"')


def test_transmission_passes_an_environment_and_is_asked_for_the_path():
    env = {"TR_TORRENT_HASH": V1.upper(), "TR_TORRENT_DIR": "/dl", "TR_TORRENT_NAME": "x.mkv"}
    report = TransmissionAdapter.read_report(env, [])
    assert report.ids == (V1,) and not report.complete  # the file list knows better than the name
    assert report.item.content_path == "/dl/x.mkv"
    with pytest.raises(UsageError, match="TR_TORRENT_HASH"):
        TransmissionAdapter.read_report({}, [])


@pytest.mark.parametrize(
    ("status", "total", "expected", "error"),
    [
        ("SUCCESS/ALL", "SUCCESS", DownloadStatus.COMPLETED, None),
        ("FAILURE/HEALTH", "FAILURE", DownloadStatus.FAILED, "health check failed"),
        ("DELETED/MANUAL", "DELETED", DownloadStatus.FAILED, "deleted in NZBGet"),
    ],
)
def test_nzbget_passes_nzbpp_variables(status, total, expected, error):
    env = {"NZBPP_NZBID": "7", "NZBPP_STATUS": status, "NZBPP_TOTALSTATUS": total, "NZBPP_DIRECTORY": "/dst/job"}
    report = NzbgetAdapter.read_report(env, [])
    assert report.ids == ("7",) and report.complete
    assert report.item.status is expected
    assert (report.item.error or "").startswith(error or "")
    assert NzbgetAdapter.report_exit_code == 95  # "nothing done": the job keeps its own status


@pytest.fixture
def store(dlwatch_home) -> Store:
    store = Store(dlwatch_home / "dlwatch.db")
    yield store
    store.close()


def test_an_end_is_recorded_once_however_often_it_is_reported(httpx_mock, store):
    client = core.new_client(name="qb", type_name="qbittorrent", host="127.0.0.1", port=8080, username="dlw")
    core.add_client(store, client, Secret("pw"), test=False, timeout=1)
    httpx_mock.add_response(url=f"{QB}/auth/login", **recorded("qbittorrent/auth_login_ok.json").response_kwargs())
    listing = recorded("qbittorrent/list_downloading.json").response_kwargs()
    httpx_mock.add_response(url=httpx.URL(f"{QB}/torrents/info", params={"hashes": V1}), **listing)
    attempt = adopt(store, Settings(), "qb", download_id=V1)
    assert attempt.status is DownloadStatus.DOWNLOADING
    args = [V1, "", "/data/x.bin"]
    first = reports.receive(store, Settings(), client, {}, args)
    again = reports.receive(store, Settings(), client, {}, args)
    assert first.line == f"qb: attempt {attempt.id}: {attempt.status} -> completed"
    assert "ended already" in again.line
    events = eventlog.of_attempt(store, attempt.id)
    assert [e.to_status for e in events].count("completed") == 1
    assert store.get_attempt(attempt.id).raw_file_path == "/data/x.bin"
    assert reports.last_report(store, client) is not None


def test_a_report_about_a_download_dlwatch_does_not_track(store):
    client = core.new_client(name="qb", type_name="qbittorrent", host="127.0.0.1", port=1, username="dlw")
    core.add_client(store, client, Secret("pw"), test=False, timeout=1)
    outcome = reports.receive(store, Settings(), client, {}, [V1, "", "/x"])
    assert "is not a download dlwatch tracks here" in outcome.line
