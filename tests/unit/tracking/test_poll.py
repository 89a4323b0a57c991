"""Send → poll → completed/failed/missing, per client, replaying responses recorded from the real programs."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import httpx
import pytest

from dlwatch.core.errors import DlwatchError
from dlwatch.core.models import DownloadStatus, Protocol, Secret
from dlwatch.cycle.polling import poll
from dlwatch.delivery import deliver
from dlwatch.settings.config import Hooks, PathMapping, Settings
from dlwatch.store import eventlog, outbox
from dlwatch.store.db import Store
from dlwatch.tracking import clients as core
from dlwatch.tracking.poll import Sessions
from dlwatch.tracking.sending import adopt, send
from dlwatch.tracking.sources import Payload, load_source
from tests.conftest import fixture_body, recorded
from tests.support.fakes import fake_transmission

QB = "http://127.0.0.1:8080/api/v2"
SAB = "http://127.0.0.1:8090/api"
NZBGET = "http://127.0.0.1:6789/jsonrpc"
HASH = "ed53c3c11edb5f5251c444e9870f44c769111050"
TR_HASH = "2900b0c216d661243837ca0330d3479281db1002"
MAGNET = f"magnet:?xt=urn:btih:{HASH}&dn=dlw-tr2qb-dbb783.bin"


@pytest.fixture
def store(dlwatch_home) -> Store:
    store = Store(dlwatch_home / "dlwatch.db")
    yield store
    store.close()


def add(store, name, type_name, port, *, priority=0, secret="pw", username="dlw"):
    client = core.new_client(
        name=name, type_name=type_name, host="127.0.0.1", port=port, priority=priority, username=username
    )
    core.add_client(store, client, Secret(secret), test=False, timeout=5)
    return client


def qbit_login(httpx_mock, port=8080):
    httpx_mock.add_response(
        url=f"http://127.0.0.1:{port}/api/v2/auth/login",
        method="POST",
        is_reusable=True,
        **recorded("qbittorrent/auth_login_ok.json").response_kwargs(),
    )


def info(httpx_mock, fixture, hashes=HASH):
    httpx_mock.add_response(
        url=httpx.URL(f"{QB}/torrents/info", params={"hashes": hashes}), **recorded(fixture).response_kwargs()
    )


def test_qbittorrent_send_downloading_completed_with_mapped_path_and_one_hook(httpx_mock, store, tmp_path):
    add(store, "qb", "qbittorrent", 8080)
    hook_log = tmp_path / "hook.log"
    settings = Settings(
        path_mappings=(PathMapping("/srv/dlw/qbittorrent/downloads", "/mnt/media/dl"),),
        hooks=Hooks(on_complete=f'(cat; echo; echo "$DLWATCH_STATUS $DLWATCH_RAW_FILE_PATH") >> {hook_log}'),
    )
    qbit_login(httpx_mock)
    httpx_mock.add_response(
        url=f"{QB}/torrents/add", method="POST", **recorded("qbittorrent/add_magnet.json").response_kwargs()
    )
    result = send(store, settings, load_source(MAGNET), ref="tvdb:1")
    attempt = result.attempt
    assert (attempt.client_download_id, attempt.status, attempt.ref) == (HASH, DownloadStatus.QUEUED, "tvdb:1")

    info(httpx_mock, "qbittorrent/list_downloading.json")
    [e] = poll(store, settings).events
    assert (e.from_status, e.to_status) == ("queued", "downloading")
    downloading = store.get_attempt(attempt.id)
    assert 0 < downloading.progress < 1 and downloading.eta_seconds == 190
    assert deliver.deliver_due(store, settings) == []  # no hook for this change

    info(httpx_mock, "qbittorrent/list_completed.json")
    [e] = poll(store, settings).events
    done = store.get_attempt(attempt.id)
    assert done.status is DownloadStatus.COMPLETED and done.completed_at
    assert done.raw_file_path == "/mnt/media/dl/dlw-tr2qb-dbb783.bin"
    assert [(r.hook, r.state, r.event_id) for r in deliver.deliver_due(store, settings)] == [
        ("on_complete", "done", e.id)
    ]

    info(httpx_mock, "qbittorrent/list_completed.json")
    assert poll(store, settings).events == []  # asked again while it seeds: nothing new to tell
    seeding = store.get_attempt(attempt.id)
    assert (seeding.seed_state, seeding.seed_seconds, seeding.seeders, seeding.ratio) == ("seeding", 2, 2, 0.0)
    assert deliver.deliver_due(store, settings) == []  # the hook ran once
    lines = hook_log.read_text().strip().splitlines()
    assert (json.loads(lines[0])["id"], json.loads(lines[0])["event_id"]) == (attempt.id, e.id)
    assert lines[1] == "completed /mnt/media/dl/dlw-tr2qb-dbb783.bin"
    assert [e.to_status for e in eventlog.of_attempt(store, attempt.id)] == [
        "sending",
        "queued",
        "downloading",
        "completed",
    ]


def sab_url(**params):
    return httpx.URL(SAB, params={**params, "output": "json", "apikey": "pw"})


def test_sabnzbd_job_moves_from_queue_to_history(httpx_mock, store, tmp_path):
    add(store, "sab", "sabnzbd", 8090, username=None)
    nzb = tmp_path / "dlw-sab-good-224658.nzb"
    nzb.write_bytes(b"<nzb><file/></nzb>")
    httpx_mock.add_response(
        url=sab_url(mode="addfile", nzbname="dlw-sab-good-224658"),
        method="POST",
        **recorded("sabnzbd/add_addfile.json").response_kwargs(),
    )
    attempt = send(store, Settings(), load_source(str(nzb))).attempt
    nzo = "SABnzbd_nzo_5r1rzvhy"
    assert attempt.client_download_id == nzo
    httpx_mock.add_response(
        url=sab_url(mode="queue", start="0", limit="0", nzo_ids=nzo),
        **recorded("sabnzbd/queue_downloading.json").response_kwargs(),
    )
    assert poll(store, Settings()).events[0].to_status == "downloading"
    httpx_mock.add_response(
        url=sab_url(mode="queue", start="0", limit="0", nzo_ids=nzo),
        **recorded("sabnzbd/queue_empty.json").response_kwargs(),
    )
    httpx_mock.add_response(
        url=sab_url(mode="history", start="0", limit="1", nzo_ids=nzo),
        **recorded("sabnzbd/history_completed.json").response_kwargs(),
    )
    poll(store, Settings())
    done = store.get_attempt(attempt.id)
    assert done.status is DownloadStatus.COMPLETED
    assert done.raw_file_path == "/srv/dlw/sabnzbd/complete/dlw-sab-good-224658/dlw-sab-good-224658.bin"


def test_sabnzbd_failed_job_keeps_the_reason(httpx_mock, store):
    add(store, "sab", "sabnzbd", 8090, username=None)
    attempt = adopt_sab(httpx_mock, store, "SABnzbd_nzo_y8cbue1p")
    httpx_mock.add_response(
        url=sab_url(mode="queue", start="0", limit="0", nzo_ids="SABnzbd_nzo_y8cbue1p"),
        **recorded("sabnzbd/queue_empty.json").response_kwargs(),
    )
    httpx_mock.add_response(
        url=sab_url(mode="history", start="0", limit="1", nzo_ids="SABnzbd_nzo_y8cbue1p"),
        **recorded("sabnzbd/history_failed.json").response_kwargs(),
    )
    [e] = poll(store, Settings()).events
    failed = store.get_attempt(attempt.id)
    assert failed.status is DownloadStatus.FAILED
    assert failed.error == "Aborted, cannot be completed - https://sabnzbd.org/not-complete"
    assert (e.to_status, e.message, e.snapshot["error"]) == ("failed", failed.error, failed.error)


def adopt_sab(httpx_mock, store, nzo):
    body = fixture_body("sabnzbd/queue_downloading.json")
    body["queue"]["slots"][0]["nzo_id"] = nzo
    httpx_mock.add_response(url=sab_url(mode="queue", start="0", limit="0", nzo_ids=nzo), json=body)
    return adopt(store, Settings(), "sab", download_id=nzo)


def test_nzbget_health_failure_ends_failed_with_the_reason(httpx_mock, store):
    add(store, "nzb", "nzbget", 6789)
    httpx_mock.add_response(url=NZBGET, method="POST", json={"version": "1.1", "id": 1, "result": 2})
    attempt = send(
        store, Settings(), Payload(protocol=Protocol.USENET, title="job", content=b"<nzb/>", filename="job.nzb")
    ).attempt
    sent = json.loads(httpx_mock.get_requests()[-1].content)
    assert sent["params"][9] == [["dlwatch", attempt.dlwatch_tag]]
    httpx_mock.add_response(
        url=NZBGET,
        method="POST",
        match_json={"method": "listgroups", "params": [0], "id": 1},
        **recorded("nzbget/listgroups_health_failed.json").response_kwargs(),
    )
    httpx_mock.add_response(
        url=NZBGET,
        method="POST",
        match_json={"method": "status", "params": [], "id": 1},
        **recorded("nzbget/status_idle.json").response_kwargs(),
    )
    [e] = poll(store, Settings()).events
    assert e.to_status == "failed"
    assert store.get_attempt(attempt.id).error.startswith("health check failed")


def test_one_empty_answer_changes_nothing_and_two_apart_make_it_missing(httpx_mock, store):
    add(store, "tr", "transmission", 9091)
    empty = {"arguments": {"torrents": []}, "result": "success"}
    paused = fixture_body("transmission/list_paused.json")
    fake_transmission(httpx_mock, [paused, empty, paused, empty, empty, empty])
    attempt = send(store, Settings(), load_source("magnet:?xt=urn:btih:" + TR_HASH)).attempt
    assert attempt.client_download_id == TR_HASH
    settings = Settings(missing_gap=0.3)
    assert poll(store, settings).events[0].to_status == "paused"
    assert poll(store, settings).events == []  # a restarting client's one empty answer
    assert poll(store, settings).events == []  # listed again: the count starts over
    assert poll(store, settings).events == []  # absent once more
    assert poll(store, settings).events == []  # absent again, but too soon after to count
    time.sleep(0.35)
    [e] = poll(store, settings).events
    assert (e.from_status, e.to_status) == ("paused", "missing")
    assert "no longer in the client (2 answers in a row without it)" in store.get_attempt(attempt.id).error


def test_a_missing_download_listed_again_comes_back_and_track_readopts_one(httpx_mock, store):
    add(store, "tr", "transmission", 9091)
    empty = {"arguments": {"torrents": []}, "result": "success"}
    paused = fixture_body("transmission/list_paused.json")
    fake_transmission(httpx_mock, [paused, empty, empty, paused, empty, empty, paused])
    attempt = send(store, Settings(), load_source("magnet:?xt=urn:btih:" + TR_HASH)).attempt
    settings = Settings(missing_gap=0.01)
    poll(store, settings)
    poll(store, settings)
    time.sleep(0.02)
    assert poll(store, settings).events[0].to_status == "missing"
    [back] = poll(store, settings).events  # the client lists it again, within the window
    assert (back.from_status, back.to_status) == ("missing", "paused")
    poll(store, settings)
    time.sleep(0.02)
    assert poll(store, settings).events[0].to_status == "missing"
    adopted = adopt(store, settings, "tr", download_id=TR_HASH)
    assert (adopted.id, adopted.status) == (attempt.id, DownloadStatus.PAUSED)  # the same attempt, not a refusal


def test_not_yet_listed_is_not_missing(httpx_mock, store):
    add(store, "tr", "transmission", 9091)
    fake_transmission(httpx_mock, [{"arguments": {"torrents": []}, "result": "success"}])
    send(store, Settings(), load_source("magnet:?xt=urn:btih:" + TR_HASH))
    assert poll(store, Settings()).events == []


def test_a_down_client_is_reported_and_the_other_goes_on(httpx_mock, store):
    add(store, "tr", "transmission", 9091)
    add(store, "qb", "qbittorrent", 8080, priority=1)
    qbit_login(httpx_mock)
    httpx_mock.add_response(url=f"{QB}/torrents/add", method="POST", text="Ok.")
    qb_attempt = send(store, Settings(), load_source(MAGNET)).attempt
    fake_transmission(httpx_mock, [fixture_body("transmission/list_paused.json")])
    tr_attempt = send(store, Settings(), load_source("magnet:?xt=urn:btih:" + TR_HASH), client_name="tr").attempt
    httpx_mock.add_exception(
        httpx.ConnectError("refused"), url=httpx.URL(f"{QB}/torrents/info", params={"hashes": HASH})
    )
    result = poll(store, Settings())
    assert not result.ok
    assert [(f.client_name, f.error.split(" to ")[0]) for f in result.failures] == [("qb", "cannot connect")]
    assert store.get_attempt(tr_attempt.id).status is DownloadStatus.PAUSED
    assert store.get_attempt(qb_attempt.id).status is DownloadStatus.QUEUED  # last known state kept


def test_send_when_no_client_answers(httpx_mock, store):
    add(store, "qb", "qbittorrent", 8080)
    httpx_mock.add_exception(httpx.ConnectError("refused"))
    with pytest.raises(DlwatchError, match="no torrent client could be reached"):
        send(store, Settings(), load_source(MAGNET))
    assert store.list_attempts() == []


def test_a_hanging_hook_is_killed_with_its_children_and_a_failing_one_retried(httpx_mock, store, tmp_path):
    add(store, "qb", "qbittorrent", 8080)
    qbit_login(httpx_mock)
    httpx_mock.add_response(url=f"{QB}/torrents/add", method="POST", text="Ok.")
    attempt = send(store, Settings(), load_source(MAGNET)).attempt
    info(httpx_mock, "qbittorrent/list_downloading.json")
    child = tmp_path / "child.pid"
    settings = Settings(hooks=Hooks(on_change=f"sleep 30 & echo $! > {child}; wait", timeout=0.5, retries=0))
    poll(store, settings)
    [run] = deliver.deliver_due(store, settings)
    assert (run.state, run.detail) == ("failed", "killed after 0.5s")
    assert not alive(int(child.read_text()))  # the hook's own child went with it

    info(httpx_mock, "qbittorrent/list_completed.json")
    settings = Settings(hooks=Hooks(on_complete="echo broken >&2; exit 3", retries=1, retry_delay=0.3))
    poll(store, settings)
    [run] = deliver.deliver_due(store, settings)
    assert (run.state, run.tries, run.exit_code, run.detail) == ("pending", 1, 3, "exit 3: broken")
    assert deliver.deliver_due(store, settings) == []  # not due yet: back-off
    time.sleep(0.4)
    [run] = deliver.deliver_due(store, settings)
    assert (run.state, run.tries, run.output) == ("failed", 2, "broken\n")
    assert [r.id for r in outbox.listing(store, failed_only=True)] == [run.id, run.id - 1]
    assert store.get_attempt(attempt.id).status is DownloadStatus.COMPLETED  # a hook never changes the record


def alive(pid: int) -> bool:
    """Running, not a zombie waiting for an init that does not reap (as in some containers)."""
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return False
        if state == "Z":
            return False
        time.sleep(0.05)
    return True


def test_a_hook_gets_the_event_id_and_no_secret_from_the_environment(httpx_mock, store, tmp_path, monkeypatch):
    monkeypatch.setenv("DLWATCH_QB_PASSWORD", "hunter2")
    add(store, "qb", "qbittorrent", 8080)
    qbit_login(httpx_mock)
    httpx_mock.add_response(url=f"{QB}/torrents/add", method="POST", text="Ok.")
    send(store, Settings(), load_source(MAGNET))
    info(httpx_mock, "qbittorrent/list_downloading.json")
    dump = tmp_path / "env.txt"
    settings = Settings(hooks=Hooks(on_change=f"env > {dump}"))
    [event] = poll(store, settings).events
    deliver.deliver_due(store, settings)
    env = dict(line.split("=", 1) for line in dump.read_text().splitlines() if "=" in line)
    assert env["DLWATCH_EVENT_ID"] == str(event.id)
    assert (env["DLWATCH_PREVIOUS_STATUS"], env["DLWATCH_STATUS"]) == ("queued", "downloading")
    assert "hunter2" not in dump.read_text()


def test_sessions_log_in_once_across_cycles(httpx_mock, store):
    add(store, "qb", "qbittorrent", 8080)
    qbit_login(httpx_mock)
    httpx_mock.add_response(url=f"{QB}/torrents/add", method="POST", text="Ok.")
    send(store, Settings(), load_source(MAGNET))
    info(httpx_mock, "qbittorrent/list_downloading.json")
    info(httpx_mock, "qbittorrent/list_downloading.json")
    logins_before = len(httpx_mock.get_requests(url=f"{QB}/auth/login"))
    with Sessions() as sessions:
        poll(store, Settings(), sessions=sessions)
        poll(store, Settings(), sessions=sessions)
    assert len(httpx_mock.get_requests(url=f"{QB}/auth/login")) - logins_before == 1


def test_adopt_by_title(httpx_mock, store):
    add(store, "qb", "qbittorrent", 8080)
    qbit_login(httpx_mock)
    httpx_mock.add_response(
        url=f"{QB}/torrents/info", **recorded("qbittorrent/list_downloading.json").response_kwargs()
    )
    attempt = adopt(store, Settings(), "qb", title="DLW TR2QB DBB783", ref="x")
    assert attempt.client_download_id == HASH and attempt.status is DownloadStatus.DOWNLOADING and attempt.seen
    assert attempt.raw_file_path is None  # not completed: no path yet


def test_the_same_torrent_sent_twice_is_one_attempt_unless_forced(httpx_mock, store):
    add(store, "qb", "qbittorrent", 8080)
    qbit_login(httpx_mock)
    httpx_mock.add_response(url=f"{QB}/torrents/add", method="POST", text="Ok.", is_reusable=True)
    first = send(store, Settings(), load_source(MAGNET))
    again = send(store, Settings(), load_source(MAGNET.upper().replace("MAGNET:?XT=URN:BTIH:", "magnet:?xt=urn:btih:")))
    assert (again.already_tracked, again.attempt.id) == (True, first.attempt.id)
    assert len(httpx_mock.get_requests(url=f"{QB}/torrents/add")) == 1
    forced = send(store, Settings(), load_source(MAGNET), force=True)
    assert forced.attempt.id != first.attempt.id and not forced.already_tracked


def test_a_timeout_after_the_upload_asks_that_client_and_never_sends_it_elsewhere(httpx_mock, store):
    add(store, "qb", "qbittorrent", 8080, priority=9)
    add(store, "other", "qbittorrent", 8081, priority=1)
    qbit_login(httpx_mock)
    httpx_mock.add_exception(httpx.ReadTimeout("timed out"), url=f"{QB}/torrents/add", method="POST")
    info(httpx_mock, "qbittorrent/list_downloading.json")  # it did arrive
    result = send(store, Settings(), load_source(MAGNET))
    assert (result.client.name, result.attempt.status, result.attempt.client_download_id) == (
        "qb",
        DownloadStatus.DOWNLOADING,
        HASH,
    )
    assert not httpx_mock.get_requests(url="http://127.0.0.1:8081/api/v2/torrents/add")


def test_a_send_the_client_cannot_confirm_stays_sending_then_never_reached_fails(httpx_mock, store):
    add(store, "qb", "qbittorrent", 8080, priority=9)
    add(store, "other", "qbittorrent", 8081, priority=1)
    qbit_login(httpx_mock)
    httpx_mock.add_exception(httpx.ReadTimeout("timed out"), url=f"{QB}/torrents/add", method="POST")
    httpx_mock.add_exception(httpx.ConnectError("refused"), url=f"{QB}/torrents/info?hashes={HASH}", is_reusable=True)
    result = send(store, Settings(), load_source(MAGNET))
    assert result.unconfirmed and "did not answer" in result.unconfirmed
    assert (result.attempt.status, result.attempt.client_id) == (DownloadStatus.SENDING, store.get_client("qb").id)
    assert not httpx_mock.get_requests(url="http://127.0.0.1:8081/api/v2/torrents/add")
    httpx_mock.reset()
    qbit_login(httpx_mock)
    httpx_mock.add_response(url=f"{QB}/torrents/info?hashes={HASH}", json=[], is_reusable=True)
    assert poll(store, Settings()).events == []  # within the grace period: a send may be under way
    [e] = poll(store, Settings(sending_grace=0.001)).events
    assert (e.from_status, e.to_status) == ("sending", "failed")
    assert store.get_attempt(result.attempt.id).error.startswith("never reached the client")


def test_a_refused_client_is_skipped_and_leaves_no_attempt_behind(httpx_mock, store):
    add(store, "down", "qbittorrent", 8081, priority=9)
    add(store, "qb", "qbittorrent", 8080, priority=1)
    httpx_mock.add_exception(httpx.ConnectError("refused"), url="http://127.0.0.1:8081/api/v2/auth/login")
    qbit_login(httpx_mock)
    httpx_mock.add_response(url=f"{QB}/torrents/add", method="POST", text="Ok.")
    result = send(store, Settings(), load_source(MAGNET))
    assert (result.client.name, [name for name, _ in result.skipped]) == ("qb", ["down"])
    assert [a.client_id for a in store.list_attempts()] == [store.get_client("qb").id]
    assert result.attempt.status is DownloadStatus.QUEUED


def unassigned(store, title: str, age_seconds: float = 0) -> None:
    from dlwatch.store import eventlog as log
    from dlwatch.store.db import Attempt, iso_ago

    stamp = iso_ago(age_seconds)
    attempt = Attempt(0, "", title, Protocol.TORRENT, DownloadStatus.QUEUED, stamp, stamp, source="prowlarr")
    log.start_tracking(store, attempt, "(finding)", None)


def test_a_title_only_download_is_looked_for_among_the_newest_only_while_young(httpx_mock, store):
    add(store, "qb", "qbittorrent", 8080)
    qbit_login(httpx_mock)
    httpx_mock.add_response(url=f"{QB}/torrents/add", method="POST", text="Ok.")
    send(store, Settings(), load_source(MAGNET))
    unassigned(store, "Some Release Nobody Has", age_seconds=10)
    newest = {"sort": "added_on", "reverse": "true", "limit": "10", "offset": "0"}
    recent = httpx.URL(f"{QB}/torrents/info", params=newest)
    info(httpx_mock, "qbittorrent/list_downloading.json")  # the tracked one, still by its hash
    httpx_mock.add_response(url=recent, json=[])  # and, while the title is young, the newest ones
    poll(store, Settings(find_window=600))
    info(httpx_mock, "qbittorrent/list_downloading.json")  # once it is old: by hash only
    [lost] = [e for e in poll(store, Settings(find_window=5)).events if e.to_status == "failed"]
    assert store.get_attempt(lost.attempt_id).error == "not found in any torrent client within 0.0833333 minutes"
    asked = [str(r.url) for r in httpx_mock.get_requests() if "torrents/info" in str(r.url)]
    by_hash = f"{QB}/torrents/info?hashes={HASH}"
    assert asked == [by_hash, str(recent), by_hash]  # never the whole list


def test_the_newest_torrents_are_read_page_by_page_until_one_older_than_the_grab(httpx_mock, store):
    """Twelve torrents added since the grab (a season's worth at once): the one grabbed is on the
    second page, and no page past the first torrent added before the grab is read."""
    add(store, "qb", "qbittorrent", 8080)
    qbit_login(httpx_mock)
    unassigned(store, "Show.S01E12.1080p", age_seconds=30)
    now = time.time()
    newest = [
        {"hash": f"{i:040x}", "name": f"Show.S01E{12 - i:02}.1080p", "state": "downloading", "added_on": now - i}
        for i in range(12)
    ]
    older = [{"hash": f"{99:040x}", "name": "Old", "state": "uploading", "added_on": now - 86400}] * 9
    pages = [newest[:10], newest[10:] + older[:8], older]
    offsets: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        offsets.append(request.url.params["offset"])
        return httpx.Response(200, json=pages[int(request.url.params["offset"]) // 10])

    httpx_mock.add_callback(answer, url=re.compile(rf"{QB}/torrents/info\?sort=added_on.*"), is_reusable=True)
    poll(store, Settings(find_window=600))
    [found] = store.list_attempts()
    assert (found.client_download_id, found.status) == (f"{0:040x}", DownloadStatus.DOWNLOADING)
    assert offsets == ["0", "10"]


def test_thousands_of_hashes_go_to_qbittorrent_a_few_hundred_at_a_time(httpx_mock):
    from dlwatch.adapters.qbittorrent import QbittorrentAdapter
    from dlwatch.core.models import Connection

    asked: list[int] = []

    def answer(request: httpx.Request) -> httpx.Response:
        hashes = request.url.params["hashes"].split("|")
        asked.append(len(hashes))
        assert len(str(request.url)) < 16_000
        return httpx.Response(200, json=[{"hash": h, "name": h, "state": "pausedDL", "size": 1} for h in hashes])

    httpx_mock.add_callback(answer, url=re.compile(rf"{QB}/torrents/info\?hashes=.*"), is_reusable=True)
    adapter = QbittorrentAdapter(Connection(host="127.0.0.1", port=8080))
    wanted = [f"{i:040x}" for i in range(2000)]
    items = adapter.list_downloads(wanted + wanted[:10])  # a hash asked twice comes back once
    assert sorted(i.client_download_id for i in items) == sorted(wanted)
    assert sum(asked) == 2000 and max(asked) <= 300


def test_the_next_process_reuses_the_qbittorrent_login_and_logs_in_again_when_turned_away(
    httpx_mock, store, dlwatch_home
):
    add(store, "qb", "qbittorrent", 8080)
    first = {"url": f"{QB}/auth/login", "method": "POST", "text": "Ok.", "headers": {"set-cookie": "SID=first"}}
    httpx_mock.add_response(**first)
    httpx_mock.add_response(url=f"{QB}/torrents/add", method="POST", text="Ok.")
    send(store, Settings(), load_source(MAGNET))
    httpx_mock.add_response(**first)
    info(httpx_mock, "qbittorrent/list_downloading.json")
    assert poll(store, Settings()).ok  # logs in, and leaves its session in the home
    assert (dlwatch_home / "sessions.json").stat().st_mode & 0o777 == 0o600
    logins = len(httpx_mock.get_requests(url=f"{QB}/auth/login"))
    info(httpx_mock, "qbittorrent/list_downloading.json")
    poll(store, Settings())  # a new process: no login, the cookie sent
    assert len(httpx_mock.get_requests(url=f"{QB}/auth/login")) == logins
    assert httpx_mock.get_requests(url=f"{QB}/torrents/info?hashes={HASH}")[-1].headers["cookie"] == "SID=first"
    httpx_mock.add_response(url=f"{QB}/torrents/info?hashes={HASH}", status_code=403, text="Forbidden")
    httpx_mock.add_response(url=f"{QB}/auth/login", method="POST", text="Ok.", headers={"set-cookie": "SID=second"})
    info(httpx_mock, "qbittorrent/list_downloading.json")
    assert poll(store, Settings()).ok  # the cookie expired: one login, then on
    assert json.loads((dlwatch_home / "sessions.json").read_text())[store.get_client("qb").id]["state"] == {
        "cookies": {"SID": "second"}
    }
