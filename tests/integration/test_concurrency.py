"""Several real dlwatch processes on one home, against the real daemons: each change recorded once,
each hook run once per change, a `watch` that shows what another process recorded, and pollers
killed at random that lose no hook and leave a sound database."""

from __future__ import annotations

import itertools
import json
import random
import signal
import sqlite3
import subprocess
import threading
import time
import uuid
from pathlib import Path
from queue import Empty, Queue

import pytest

from tests.integration.cli import Dlwatch
from tests.support import by_hand, payloads

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def leave_the_clients_as_found(transmission, qbittorrent):
    yield
    for daemon in (transmission, qbittorrent):
        by_hand.remove_named(daemon, "dlw-many-")


def write_config(cli: Dlwatch, log: Path, *, hook: str = "", timeout: float = 10) -> None:
    command = hook or f'echo "$DLWATCH_EVENT_ID $DLWATCH_ID $DLWATCH_STATUS" >> {log}'
    cli.home.mkdir(parents=True, exist_ok=True)
    (cli.home / "config.toml").write_text(
        f"[poll]\ninterval = 1\n[hooks]\non_change = '{command}'\ntimeout = {timeout}\nretry_delay = 1\n"
    )


def no_peer_torrent(tmp_path: Path) -> Path:
    name = f"dlw-many-{uuid.uuid4().hex[:8]}.bin"
    data = payloads.make_payload(tmp_path / "elsewhere", name, 256 * 1024)  # nobody seeds it: it stays put
    torrent = tmp_path / f"{name}.torrent"
    torrent.write_bytes(payloads.make_torrent(data))
    return torrent


def db(cli: Dlwatch) -> sqlite3.Connection:
    conn = sqlite3.connect(cli.home / "dlwatch.db")
    conn.row_factory = sqlite3.Row
    return conn


def transitions(cli: Dlwatch, after: int = 0) -> list[sqlite3.Row]:
    with db(cli) as conn:
        return conn.execute(
            "SELECT * FROM events WHERE id > ? AND from_status IS NOT NULL ORDER BY id", [after]
        ).fetchall()


def assert_every_attempt_is_one_chain(cli: Dlwatch) -> None:
    """Each event starts where the one before it ended: nothing recorded twice, nothing skipped, and
    the attempt's status is where its last event went."""
    with db(cli) as conn:
        for attempt in conn.execute("SELECT id, status FROM attempts"):
            events = conn.execute("SELECT * FROM events WHERE attempt_id = ? ORDER BY id", [attempt["id"]]).fetchall()
            assert events[0]["from_status"] is None
            for earlier, later in itertools.pairwise(events):
                assert later["from_status"] == earlier["to_status"] != later["to_status"], [dict(e) for e in events]
            assert events[-1]["to_status"] == attempt["status"]


def run_together(cli: Dlwatch, count: int, *args: str) -> list[subprocess.CompletedProcess]:
    processes = [cli.popen(*args) for _ in range(count)]
    results = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        results.append(subprocess.CompletedProcess(process.args, process.returncode, out, err))
    return results


def applied(daemon, infohash: str, *, paused: bool) -> None:
    """Wait until the client itself reports the torrent paused (or no longer paused)."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if daemon.kind == "qbittorrent":
            with by_hand.qbittorrent(daemon) as client:
                state = client.get("/torrents/info", params={"hashes": infohash}).json()[0]["state"]
            is_paused = state in ("pausedDL", "stoppedDL", "pausedUP", "stoppedUP")
        else:
            fields = {"ids": [infohash], "fields": ["status"]}
            is_paused = by_hand.transmission(daemon, "torrent-get", fields)["torrents"][0]["status"] == 0
        if is_paused == paused:
            time.sleep(0.3)  # and its own listing agrees
            return
        time.sleep(0.2)
    raise AssertionError(f"{daemon.kind} did not {'pause' if paused else 'resume'} {infohash}")


def settle(cli: Dlwatch, ids: list[int], *, want: str | None = None, timeout: float = 30) -> None:
    """Poll until every attempt is listed (and has status `want`)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        cli.ok("poll", "--once")
        statuses = [cli.status_no_refresh(i) for i in ids]
        if all(s["raw_state"] for s in statuses) and (want is None or all(s["status"] == want for s in statuses)):
            return
        time.sleep(0.3)
    raise AssertionError(f"not settled: {[cli.status_no_refresh(i) for i in ids]}")


@pytest.fixture
def cli(tmp_path, transmission, qbittorrent):
    cli = Dlwatch(tmp_path)
    cli.add_client("tr", transmission)
    cli.add_client("qb", qbittorrent)
    return cli


def test_simultaneous_polls_record_each_change_once_and_run_its_hook_once(cli, transmission, qbittorrent, tmp_path):
    log = tmp_path / "hooks.log"
    write_config(cli, log)
    daemons = {"tr": transmission, "qb": qbittorrent}
    sent = {name: cli.send(no_peer_torrent(tmp_path), "--client", name) for name in daemons}
    ids = [a["id"] for a in sent.values()]
    settle(cli, ids)
    cli.ok("hooks", "run")
    for action, status in ((by_hand.pause, "paused"), (by_hand.resume, None)):
        before = transitions(cli)[-1]["id"] if transitions(cli) else 0
        log.write_text("")
        for name, attempt in sent.items():
            action(daemons[name], attempt["client_download_id"])
        for name, attempt in sent.items():  # both daemons have applied it (qBittorrent does so later)
            applied(daemons[name], attempt["client_download_id"], paused=status == "paused")
        results = run_together(cli, 4, "poll", "--once")
        for result in results:
            assert result.returncode == 0, result.stderr
            assert "Traceback" not in result.stderr and "locked" not in result.stderr, result.stderr
        changes = transitions(cli, before)
        assert sorted(e["attempt_id"] for e in changes) == sorted(ids), [dict(e) for e in changes]
        if status:
            assert {e["to_status"] for e in changes} == {status}
        lines = log.read_text().splitlines()
        assert sorted(int(line.split()[0]) for line in lines) == [e["id"] for e in changes]  # one run per change
        # every poll printed every change recorded while it ran, whoever recorded it
        printed = [line for result in results for line in result.stdout.splitlines()]
        assert all(" -> " in line for line in printed) and printed
    assert_every_attempt_is_one_chain(cli)


def read_lines(process: subprocess.Popen) -> Queue:
    lines: Queue = Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()
    return lines


def test_watch_json_prints_a_change_that_another_process_recorded(cli, transmission, tmp_path):
    write_config(cli, tmp_path / "hooks.log")
    attempt = cli.send(no_peer_torrent(tmp_path), "--client", "tr")
    settle(cli, [attempt["id"]])
    watch = cli.popen("watch", "--json", "--interval", "3600")  # it polls once at start, then only reads
    try:
        lines = read_lines(watch)
        time.sleep(2)
        by_hand.pause(transmission, attempt["client_download_id"])
        applied(transmission, attempt["client_download_id"], paused=True)
        cli.ok("poll", "--once")
        recorded_at = time.monotonic()
        [event] = transitions(cli)[-1:]
        assert event["to_status"] == "paused"
        record = json.loads(lines.get(timeout=5))
        assert time.monotonic() - recorded_at < 2.5
        assert (record["event_id"], record["attempt_id"], record["id"]) == (event["id"], attempt["id"], attempt["id"])
        assert (record["from_status"], record["to_status"], record["status"]) == (
            event["from_status"],
            "paused",
            "paused",
        )
        with pytest.raises(Empty):
            lines.get(timeout=2)  # printed once
    finally:
        watch.send_signal(signal.SIGINT)
        watch.wait(10)


def test_pollers_killed_at_random_lose_no_hook_and_leave_a_sound_database(cli, transmission, qbittorrent, tmp_path):
    log = tmp_path / "hooks.log"
    hook = f'sleep 0.3; echo "$DLWATCH_EVENT_ID" >> {log}'
    write_config(cli, log, hook=hook, timeout=2)
    daemons = {"tr": transmission, "qb": qbittorrent}
    sent = {name: cli.send(no_peer_torrent(tmp_path), "--client", name) for name in daemons}
    settle(cli, [a["id"] for a in sent.values()])
    cli.ok("hooks", "run")
    baseline = transitions(cli)[-1]["id"]  # what send and settling recorded: not what this test is about
    rng = random.Random(8)
    paused = False
    for _ in range(10):
        for name, attempt in sent.items():
            (by_hand.resume if paused else by_hand.pause)(daemons[name], attempt["client_download_id"])
        paused = not paused
        time.sleep(1)
        pollers = [cli.popen("poll", "--once") for _ in range(3)]
        time.sleep(rng.uniform(0.2, 1.5))
        for poller in pollers:
            poller.kill()
            poller.wait()
    time.sleep(2 + 5 + 0.5)  # the hook timeout and the lease's slack: every lease taken has lapsed
    cli.ok("poll", "--once")
    with db(cli) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        states = conn.execute(
            "SELECT state, count(*) FROM hook_runs WHERE event_id > ? GROUP BY state", [baseline]
        ).fetchall()
    changes = transitions(cli, baseline)
    assert len(changes) >= 4, "the pollers were killed before recording anything; the test proves nothing"
    assert {s["state"]: s[1] for s in states} == {"done": len(changes)}
    ran = {int(line) for line in log.read_text().split()} - set(range(baseline + 1))
    assert ran == {e["id"] for e in changes}  # at least once each; none lost
    assert_every_attempt_is_one_chain(cli)


def test_a_download_sent_from_another_terminal_appears_in_a_running_watch(cli, transmission, tmp_path):
    write_config(cli, tmp_path / "hooks.log")
    watch = cli.popen("watch", "--json", "--interval", "3600")  # no ids: everything, new ones included
    try:
        lines = read_lines(watch)
        time.sleep(2)
        attempt = cli.send(no_peer_torrent(tmp_path), "--client", "tr")
        sent_at = time.monotonic()
        first = json.loads(lines.get(timeout=5))
        assert time.monotonic() - sent_at < 2.5
        assert (first["attempt_id"], first["from_status"], first["to_status"]) == (attempt["id"], None, "sending")
        assert json.loads(lines.get(timeout=5))["to_status"] == "queued"  # sent, confirmed by the client
    finally:
        watch.send_signal(signal.SIGINT)
        watch.wait(10)
