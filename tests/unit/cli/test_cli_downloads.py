"""send / status / poll / watch / history / track / forget through the CLI, with recorded responses."""

from __future__ import annotations

import json
import re
import time

import httpx
import pytest

from tests.conftest import fixture_body, recorded
from tests.support.fakes import MAGNET, TR_HASH, fake_transmission

STATUS_SCHEMA = {
    "schema_version",
    "id",
    "title",
    "client",
    "client_type",
    "protocol",
    "client_download_id",
    "status",
    "progress",
    "size_bytes",
    "remaining_bytes",
    "download_speed",
    "eta_seconds",
    "raw_file_path",
    "error",
    "ref",
    "created_at",
    "updated_at",
    "completed_at",
    "category",
    "raw_state",
    "retry_of",
    "strike_rule",
    "strikes",
    "strike_since",
    "free_bytes",
    "import_state",
    "import_detail",
    "imported_at",
    "arr",
    "ratio",
    "seed_seconds",
    "uploaded_bytes",
    "upload_speed",
    "seeders",
    "seed_state",
    "seed_detail",
    "goal_met_at",
}


def test_send_prints_the_attempt_id_and_json_has_the_documented_schema(cli, tr_client, httpx_mock):
    fake_transmission(httpx_mock, [])
    result = cli("send", MAGNET, "--ref", "movie:42")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "1"
    result = cli("send", MAGNET, "--json")
    record = json.loads(result.stdout)
    assert set(record) == STATUS_SCHEMA
    assert (record["client"], record["client_type"], record["client_download_id"]) == ("tr", "transmission", TR_HASH)


def test_poll_once_prints_transitions_then_status_shows_the_end(cli, tr_client, httpx_mock):
    fake_transmission(httpx_mock, [fixture_body("transmission/list_completed.json")])
    cli("send", MAGNET)
    result = cli("poll", "--once", "--json")
    assert result.exit_code == 0, result.output
    [line] = result.stdout.strip().splitlines()
    event = json.loads(line)
    assert (event["previous_status"], event["status"]) == ("queued", "completed")
    assert event["raw_file_path"].endswith("/dlw-qb2tr-50d955.bin")
    status = json.loads(cli("status", "--all", "--no-refresh", "--json").stdout)
    assert [s["status"] for s in status] == ["completed"]
    assert json.loads(cli("status", "--no-refresh", "--json").stdout) == []  # active only by default
    history = cli("history", "1")
    assert "queued -> completed" in history.stdout


def test_poll_once_exits_1_when_a_client_is_down_and_keeps_the_last_state(cli, tr_client, httpx_mock):
    fake_transmission(httpx_mock, [fixture_body("transmission/list_paused.json")])
    cli("send", MAGNET)
    assert cli("poll", "--once").exit_code == 0
    httpx_mock.reset()
    httpx_mock.add_exception(httpx.ConnectError("[Errno 111] Connection refused"), is_reusable=True)
    result = cli("poll", "--once")
    assert result.exit_code == 1
    assert result.stderr.strip().startswith("error: tr: cannot connect to http://127.0.0.1:9091")
    assert json.loads(cli("status", "--no-refresh", "--json").stdout)[0]["status"] == "paused"


def test_watch_until_done_exit_codes(cli, tr_client, httpx_mock):
    fake_transmission(
        httpx_mock,
        [fixture_body("transmission/list_paused.json"), fixture_body("transmission/list_error_missing_data.json")],
    )
    cli("send", MAGNET)
    result = cli("watch", "--until-done", "--interval", "0.01")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "1 dlw-qb2tr-50d955.bin: queued -> paused (tr)",
        "1 dlw-qb2tr-50d955.bin: paused -> failed (tr): No data found! Ensure your drives are connected or use "
        '"Set Location". To re-download, remove the torrent and re-add it.',
    ]


def test_watch_json_streams_one_object_per_event(cli, tr_client, httpx_mock):
    fake_transmission(httpx_mock, [fixture_body("transmission/list_completed.json")])
    cli("send", MAGNET)
    result = cli("watch", "1", "--until-done", "--json", "--interval", "0.01")
    assert result.exit_code == 0
    assert [json.loads(line)["status"] for line in result.stdout.splitlines()] == ["completed"]


def test_track_forget_and_unknown_attempts(cli, tr_client, httpx_mock):
    fake_transmission(httpx_mock, [fixture_body("transmission/list_paused.json")])
    result = cli("track", "--client", "tr", "--id", TR_HASH.upper())
    assert result.exit_code == 0, result.output
    assert cli("track", "--client", "tr", "--id", TR_HASH).exit_code == 1  # already tracked
    assert "forgot 1" in cli("forget", "1").stdout
    missing = cli("history", "1")
    assert missing.exit_code == 1 and "no download attempt 1" in missing.stderr
    assert cli("track", "--client", "tr").exit_code == 2  # neither --id nor --title


def test_send_to_a_client_of_the_wrong_protocol(cli, tr_client, tmp_path):
    nzb = tmp_path / "x.nzb"
    nzb.write_bytes(b"<nzb/>")
    result = cli("send", str(nzb), "--client", "tr")
    assert result.exit_code == 1 and "tr is a torrent client" in result.stderr


def test_status_refresh_uses_recorded_qbittorrent(cli, httpx_mock):
    cli("client", "add", "qb", "--type", "qbittorrent", "--host", "127.0.0.1", "--no-test")
    httpx_mock.add_response(url="http://127.0.0.1:8080/api/v2/torrents/add", method="POST", text="Ok.")
    cli("send", "magnet:?xt=urn:btih:ed53c3c11edb5f5251c444e9870f44c769111050")
    httpx_mock.add_response(**recorded("qbittorrent/list_downloading.json").response_kwargs())
    result = cli("status")
    assert result.exit_code == 0
    assert "downloading" in result.stdout and "15.1%" in result.stdout


def test_table_shows_where_the_files_are_and_why_a_download_failed():
    from rich.console import Console

    from dlwatch.cli.render import attempts_table
    from dlwatch.core.models import DownloadStatus, Protocol
    from dlwatch.store.db import Attempt

    done = Attempt(
        id=1,
        client_id="c",
        title="Done",
        protocol=Protocol.TORRENT,
        status=DownloadStatus.COMPLETED,
        created_at="2026-01-01T00:00:00+00:00",
        updated_at="",
        progress=1.0,
        raw_file_path="/media/done.bin",
    )
    bad = Attempt(
        id=2,
        client_id="c",
        title="Bad",
        protocol=Protocol.USENET,
        status=DownloadStatus.FAILED,
        created_at="2026-01-01T00:00:00+00:00",
        updated_at="",
        error="health check failed",
    )
    console = Console(width=160, record=True)
    console.print(attempts_table([done, bad], {"c": "nas"}))
    text = console.export_text()
    assert "/media/done.bin" in text and "health check failed" in text and "100.0%" in text


EVENT_FIELDS = {
    "kind",
    "what",
    "event_id",
    "attempt_id",
    "from_status",
    "to_status",
    "at",
    "message",
    "progress",
    "previous_status",
}


def test_watch_json_records_are_the_attempt_at_that_event_plus_the_event(cli, tr_client, httpx_mock):
    fake_transmission(
        httpx_mock,
        [fixture_body("transmission/list_paused.json"), fixture_body("transmission/list_completed.json")],
    )
    cli("send", MAGNET)
    result = cli("watch", "--until-done", "--json", "--interval", "0.01")
    assert result.exit_code == 0, result.output
    paused, completed = (json.loads(line) for line in result.stdout.splitlines())
    assert set(paused) == STATUS_SCHEMA | EVENT_FIELDS | {"hooks"}
    assert (paused["status"], paused["from_status"], paused["to_status"]) == ("paused", "queued", "paused")
    assert paused["raw_file_path"] is None  # as it was then, though it has completed since
    assert (completed["from_status"], completed["status"]) == ("paused", "completed")
    assert completed["event_id"] > paused["event_id"] and completed["attempt_id"] == completed["id"] == 1
    history = json.loads(cli("history", "1", "--json").stdout)
    assert [(e["from_status"], e["to_status"]) for e in history][:2] == [(None, "sending"), ("sending", "queued")]
    assert [(e["event_id"], e["to_status"]) for e in history][2:] == [
        (paused["event_id"], "paused"),
        (completed["event_id"], "completed"),
    ]


def test_a_failed_hook_is_listed_and_can_be_retried_with_the_fixed_command(cli, tr_client, httpx_mock, dlwatch_home):
    config = dlwatch_home / "config.toml"
    config.write_text("[hooks]\non_complete = 'echo no disk >&2; exit 4'\nretries = 0\n")
    fake_transmission(httpx_mock, [fixture_body("transmission/list_completed.json")])
    cli("send", MAGNET)
    result = cli("poll", "--once")
    assert result.exit_code == 0  # a hook's failure is reported, not the poll's
    assert result.stdout.strip().endswith("[hook on_complete failed: exit 4: no disk]")
    [run] = json.loads(cli("hooks", "--failed", "--json").stdout)
    assert (run["name"], run["state"], run["ok"], run["exit_code"], run["output_tail"]) == (
        "on_complete",
        "failed",
        False,
        4,
        "no disk\n",
    )
    assert cli("hooks", "retry", str(run["run_id"])).exit_code == 1  # still broken
    config.write_text("[hooks]\non_complete = 'true'\nretries = 0\n")
    again = cli("hooks", "retry", str(run["run_id"]), "--json")
    assert again.exit_code == 0 and json.loads(again.stdout)["state"] == "done"
    assert cli("hooks", "--failed").stdout.strip() == "no failed hook runs"
    assert cli("hooks", "retry", "99").exit_code == 1


def test_forgotten_attempt_ids_are_not_given_out_again(cli, tr_client, httpx_mock):
    fake_transmission(httpx_mock, [])
    assert cli("send", MAGNET).stdout.strip() == "1"
    cli("forget", "1")
    assert cli("send", MAGNET).stdout.strip() == "2"


def test_status_never_waits_on_a_hook_and_the_hook_still_runs(cli, tr_client, httpx_mock, dlwatch_home, tmp_path):
    done = tmp_path / "hook-ran"
    (dlwatch_home / "config.toml").write_text(f"[hooks]\non_complete = 'sleep 3; echo $DLWATCH_ID > {done}'\n")
    fake_transmission(httpx_mock, [fixture_body("transmission/list_completed.json")])
    cli("send", MAGNET)
    started = time.monotonic()
    result = cli("status", "--all")
    assert result.exit_code == 0 and "completed" in result.stdout
    assert time.monotonic() - started < 2.5
    deadline = time.monotonic() + 15
    while json.loads(cli("hooks", "--json").stdout)[0]["state"] != "done" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert done.read_text().strip() == "1"  # delivered by a background `dlwatch hooks run`


def test_a_disabled_clients_downloads_say_so_and_watch_until_done_does_not_wait(cli, tr_client, httpx_mock):
    fake_transmission(httpx_mock, [])
    cli("send", MAGNET)
    assert cli("client", "edit", "tr", "--disabled", "--no-test").exit_code == 0
    assert "tr (disabled)" in cli("status", "--no-refresh").stdout
    assert json.loads(cli("status", "--no-refresh", "--json").stdout)[0]["client"] == "tr"  # the name, in JSON
    result = cli("watch", "--until-done", "--interval", "0.01")
    assert result.exit_code == 1  # it did not complete
    assert "not waiting for 1 download(s) of disabled clients" in result.stderr


def test_a_removed_clients_downloads_end_once_and_later_polls_are_clean(cli, tr_client, httpx_mock):
    fake_transmission(httpx_mock, [])
    cli("send", MAGNET)
    assert cli("client", "remove", "tr").exit_code == 0
    first = cli("poll", "--once")
    assert first.exit_code == 0 and "-> failed" in first.stdout and "its client was removed" in first.stdout
    again = cli("poll", "--once")
    assert (again.exit_code, again.stdout, again.stderr) == (0, "", "")


@pytest.mark.parametrize("width", [80, 160])
def test_the_table_at_80_and_160_columns_keeps_titles_states_and_reasons(width):
    from rich.console import Console

    from dlwatch.cli.render import attempts_table
    from dlwatch.core.models import DownloadStatus, Protocol
    from dlwatch.store.db import Attempt

    stamp = "2026-01-01T00:00:00+00:00"
    title = "A.Very.Long.Movie.Title.That.Goes.On.And.On.2024.2160p.UHD.BluRay.REMUX.HDR.HEVC.Atmos-GROUP"
    rows = [
        Attempt(
            1,
            "c",
            title,
            Protocol.TORRENT,
            DownloadStatus.DOWNLOADING,
            stamp,
            "",
            progress=0.42,
            download_speed=1234567,
            eta_seconds=321,
        ),
        Attempt(
            2,
            "c",
            "Broken.Release.S02E03",
            Protocol.USENET,
            DownloadStatus.FAILED,
            stamp,
            "",
            error="health check failed: too many articles are missing (health 74.9%)",
        ),
        Attempt(
            3,
            "c",
            "Done.Release",
            Protocol.TORRENT,
            DownloadStatus.COMPLETED,
            stamp,
            "",
            progress=1.0,
            raw_file_path="/mnt/media/complete/Done.Release",
            seed_state="held",
            ratio=1.02,
            seed_seconds=5400,
            upload_speed=300 * 1024,
            seed_detail="goal met: ratio 1.02 ≥ 1; kept until imported",
        ),
    ]
    console = Console(width=width, record=True, force_terminal=False)
    console.print(attempts_table(rows, {"c": "nas-qbit"}, width=width))
    lines = console.export_text().splitlines()
    assert max(len(line) for line in lines) <= width
    first = next(line for line in lines if re.match(r"^[│ ]*1 ", line))
    assert title[:20] in first  # the title keeps at least 20 columns on its row
    for needed in ("nas-qbit", "downloading", "42.0%", "1.2 MiB/s", "5m21s"):
        assert needed in first, needed
    text = "".join(line.strip() for line in lines)
    assert "healthcheckfailed" in text.replace(" ", "").replace("│", "")  # the reason, on its own lines
    # (the status column's `held` sits beside the folded path on a narrow table)
    assert "/mnt/media/complete/Done.Release" in text.replace(" ", "").replace("│", "").replace("held", "")
    third = next(i for i, line in enumerate(lines) if re.match(r"^[│ ]*3 .*Done", line))
    assert "↑300.0 KiB/s" in lines[third]  # seeding: the upload speed where the download speed was
    assert "held" in lines[third + 1]  # the seeding state, in a word under the status
    figures = "ratio 1.02 · seeded 1h30m (goal met: ratio 1.02"
    assert any(figures in line for line in lines) is (width >= 120)  # the figures and why, where they fit


def test_retry_sends_the_same_download_again_as_a_linked_attempt(cli, tr_client, httpx_mock):
    fake_transmission(httpx_mock, [fixture_body("transmission/list_error_missing_data.json")])
    cli("send", MAGNET)
    refused = cli("retry", "1")
    assert refused.exit_code == 1 and "not finished" in refused.stderr  # still queued
    assert "-> failed" in cli("poll", "--once").stdout
    result = cli("retry", "1", "--json")
    assert result.exit_code == 0, result.output
    again = json.loads(result.stdout)
    assert (again["id"], again["retry_of"], again["client"], again["title"]) == (2, 1, "tr", "dlw-qb2tr-50d955.bin")
    sent = [json.loads(r.content) for r in httpx_mock.get_requests() if b"torrent-add" in r.content]
    assert [s["arguments"]["filename"] for s in sent] == [MAGNET, MAGNET]  # the very same magnet, twice


def test_prune_forgets_ended_attempts_older_than_asked(cli, tr_client, httpx_mock, dlwatch_home):
    import sqlite3

    fake_transmission(httpx_mock, [fixture_body("transmission/list_completed.json")])
    cli("send", MAGNET)
    cli("poll", "--once")
    cli("send", "magnet:?xt=urn:btih:" + "b" * 40)  # still active: never pruned
    with sqlite3.connect(dlwatch_home / "dlwatch.db") as conn:
        conn.execute("UPDATE attempts SET updated_at = '2026-01-01T00:00:00+00:00'")
    assert cli("prune", "--older-than", "soon").exit_code == 2
    assert cli("prune", "--status", "downloading").exit_code == 2
    dry = cli("prune", "--older-than", "7d", "--dry-run")
    assert dry.stdout.startswith("would prune 1 dlw-qb2tr-50d955.bin (completed")
    assert len(json.loads(cli("status", "--all", "--no-refresh", "--json").stdout)) == 2
    [pruned] = json.loads(cli("prune", "--older-than", "7d", "--json").stdout)
    assert (pruned["id"], pruned["pruned"]) == (1, True)
    assert [r["id"] for r in json.loads(cli("status", "--all", "--no-refresh", "--json").stdout)] == [2]
    with sqlite3.connect(dlwatch_home / "dlwatch.db") as conn:
        assert conn.execute("SELECT count(*) FROM events WHERE attempt_id = 1").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM payloads").fetchone()[0] == 1  # only the active one's


def test_prune_older_than_0s_takes_what_ended_this_very_second(cli, tr_client, httpx_mock, dlwatch_home):
    import sqlite3

    from dlwatch.core.attempt import now_iso

    fake_transmission(httpx_mock, [fixture_body("transmission/list_completed.json")])
    cli("send", MAGNET)
    cli("poll", "--once")
    with sqlite3.connect(dlwatch_home / "dlwatch.db") as conn:  # ended in the second that is now
        conn.execute("UPDATE attempts SET updated_at = ?", [now_iso()])
    [listed] = json.loads(cli("prune", "--older-than", "0s", "--dry-run", "--json").stdout)
    assert (listed["id"], listed["status"]) == (1, "completed")


def test_a_poll_where_nothing_changed_and_nothing_is_due_writes_nothing(
    cli, tr_client, httpx_mock, monkeypatch, dlwatch_home
):
    """cron, watch and scripts share one home: an idle poll must not queue for SQLite's one writer."""
    import sqlite3

    (dlwatch_home / "config.toml").write_text("[hooks]\non_change = 'true'\n")  # hook rows exist, none due
    fake_transmission(httpx_mock, [fixture_body("transmission/list_completed.json")] * 2)
    cli("send", MAGNET)
    assert cli("poll", "--once").exit_code == 0  # completed: recorded, and its hook run
    statements: list[str] = []
    connect = sqlite3.connect

    def traced(*args, **kwargs):
        conn = connect(*args, **kwargs)
        conn.set_trace_callback(statements.append)
        return conn

    monkeypatch.setattr(sqlite3, "connect", traced)
    assert cli("poll", "--once").exit_code == 0
    assert any(s.startswith("SELECT") for s in statements)  # the trace saw the poll's reads
    writes = [s for s in statements if s.split()[0].upper() in ("INSERT", "UPDATE", "DELETE", "REPLACE", "BEGIN")]
    assert writes == []


def test_watch_json_progress_adds_the_active_downloads_between_events(cli, tr_client, httpx_mock):
    fake_transmission(
        httpx_mock,
        [fixture_body("transmission/list_downloading.json")] * 3 + [fixture_body("transmission/list_completed.json")],
    )
    cli("send", MAGNET)
    result = cli("watch", "1", "--until-done", "--json", "--interval", "0.3", "--progress", "0.01")
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    kinds = [r["kind"] for r in records]
    assert kinds[0] == "event" and kinds[-1] == "event" and "progress" in kinds
    progress = next(r for r in records if r["kind"] == "progress")
    assert set(progress) == STATUS_SCHEMA | {"kind", "at"} and progress["status"] == "downloading"
    assert 0 < progress["progress"] < 1
