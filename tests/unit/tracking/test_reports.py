"""`dlwatch report`: what each client passes to its finish program, read by its adapter, and the
end recorded once however many reports (and polls) say it."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from dlwatch.adapters.nzbget import NzbgetAdapter
from dlwatch.adapters.qbittorrent import QbittorrentAdapter
from dlwatch.adapters.sabnzbd import SabnzbdAdapter
from dlwatch.adapters.transmission import TransmissionAdapter
from dlwatch.core.errors import UsageError
from dlwatch.core.models import DownloadStatus, Secret
from dlwatch.settings.config import Settings
from dlwatch.store import eventlog
from dlwatch.store.db import Store
from dlwatch.tracking import clients as core
from dlwatch.tracking import push, reports
from dlwatch.tracking.sending import adopt
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


def test_the_program_lines_quote_the_placeholders(tmp_path):
    client = core.new_client(name="my qb", type_name="qbittorrent", host="h", port=1)
    local = push.Sender(tmp_path, client, 0, None, None).program_line(QbittorrentAdapter.report_placeholders)
    assert local.endswith(' report --client \'my qb\' -- "%I" "%J" "%F"')
    remote = push.Sender(tmp_path, client, 0, Secret("t0k"), "http://10.0.0.5:9797/").program_line(("%I", "%F"))
    assert remote == (
        'curl -fsS -m 5 -o /dev/null -H "X-Dlwatch-Token: t0k" --data-urlencode "arg=%I" '
        '--data-urlencode "arg=%F" "http://10.0.0.5:9797/report/my%20qb"'
    )


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


# SABnzbd is not packaged here: its script arguments and environment are built from SABnzbd 5.0.1's
# newsunpack.external_processing (shared/docs/client-scripts.md), the get_config answer from the
# shape SABnzbd's api.py gives ({"config": {"misc": {...}}}).
SAB = "http://127.0.0.1:8090/api"
NZO = "SABnzbd_nzo_5r1rzvhy"


def sab_url(**params):
    return httpx.URL(SAB, params={**params, "output": "json", "apikey": "key"})


def sab_args(status: str) -> list[str]:
    return ["/complete/Show.S01E01", "Show.S01E01.nzb", "Show.S01E01", "", "tv", "alt.binaries.x", status, ""]


def test_sabnzbd_passes_arguments_and_sab_variables():
    done = SabnzbdAdapter.read_report({"SAB_NZO_ID": NZO, "SAB_PP_STATUS": "0"}, sab_args("0"))
    assert (done.ids, done.complete, done.item.status) == ((NZO,), True, DownloadStatus.COMPLETED)
    assert (done.item.content_path, done.item.category) == ("/complete/Show.S01E01", "tv")
    env = {"SAB_NZO_ID": NZO, "SAB_FAIL_MSG": "Unpacking failed, CRC error"}
    failed = SabnzbdAdapter.read_report(env, sab_args("2"))
    assert (failed.item.status, failed.item.error) == (DownloadStatus.FAILED, "Unpacking failed, CRC error")
    with pytest.raises(UsageError, match="SAB_NZO_ID"):
        SabnzbdAdapter.read_report({}, sab_args("0"))


def test_sabnzbd_push_puts_a_script_in_its_folder_and_names_it_in_each_job(httpx_mock, cli, store, tmp_path):
    scripts = tmp_path / "sab-scripts"
    scripts.mkdir()
    assert cli("client", "add", "sab", "--type", "sabnzbd", "--host", "127.0.0.1", "--port", "8090",
               "--api-key-stdin", "--no-test", input="key\n").exit_code == 0  # fmt: skip
    config = {"config": {"misc": {"script_dir": str(scripts)}}}
    httpx_mock.add_response(url=sab_url(mode="get_config", section="misc", keyword="script_dir"), json=config)
    enabled = cli("client", "push", "sab", "--enable")
    assert enabled.exit_code == 0, enabled.output
    [script] = scripts.iterdir()
    assert script.stat().st_mode & 0o111 and " report --client sab" in script.read_text()
    nzb = tmp_path / "Show.S01E01.nzb"
    nzb.write_bytes(b"<nzb><file/></nzb>")
    added = recorded("sabnzbd/add_addfile.json").response_kwargs()
    url = sab_url(mode="addfile", nzbname="Show.S01E01", script=script.name)
    httpx_mock.add_response(url=url, method="POST", **added)
    sent = cli("send", str(nzb), "--json")
    assert sent.exit_code == 0, sent.output
    client = store.get_client("sab")
    outcome = reports.receive(store, Settings(), client, {"SAB_NZO_ID": NZO}, sab_args("0"))
    assert outcome.line.endswith("-> completed") and outcome.exit_code == 0
    assert cli("client", "push", "sab", "--disable").exit_code == 0
    assert list(scripts.iterdir()) == []


def test_a_push_client_is_polled_only_every_interval_with_push(store):
    client = core.new_client(name="qb", type_name="qbittorrent", host="127.0.0.1", port=8080, username="dlw")
    core.add_client(store, client, Secret("pw"), test=False, timeout=1)
    other = core.new_client(name="tr", type_name="transmission", host="127.0.0.1", port=9091)
    core.add_client(store, other, None, test=False, timeout=1)
    settings = Settings(interval_with_push=300)
    assert push.not_due(store, settings, {}) == frozenset()
    store.set_meta(push.STATE + client.id, json.dumps({"kind": "program", "program": "x", "previous": {}}))
    assert push.not_due(store, settings, {}) == frozenset()  # never asked by this process: ask it
    just_now = time.monotonic()
    assert push.not_due(store, settings, {client.id: just_now, other.id: just_now}) == {client.id}
    assert push.not_due(store, settings, {client.id: just_now - 301}) == frozenset()
