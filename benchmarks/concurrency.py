"""Several dlwatch processes on one home against real daemons (run by hand; prints figures vs goals).

    .venv/bin/python benchmarks/concurrency.py [--pollers 8] [--seconds 120] [--downloads 10]

Starts Transmission and qBittorrent on 127.0.0.1 in a temp dir, sends torrents nobody seeds (so
they stay where they are put), then runs N `dlwatch poll --once` loops and one `dlwatch watch
--json` on the same home while a driver pauses and resumes random downloads through the clients'
own APIs, holding each state for a few seconds. Then it counts what the issue measured: lock errors,
tracebacks, events against the changes driven, hook runs per transition, and what `watch` printed.
"""

from __future__ import annotations

import argparse
import collections
import itertools
import json
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.integration.cli import Dlwatch  # noqa: E402
from tests.support import by_hand, daemons, payloads  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pollers", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--downloads", type=int, default=10)
    parser.add_argument("--hold", type=float, default=4.0, help="seconds each driven state is held")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dlw-bench-") as tmp:
        root = Path(tmp)
        started = [daemons.start_transmission(root / "tr"), daemons.start_qbittorrent(root / "qb")]
        try:
            run(root, dict(zip(("tr", "qb"), started, strict=True)), args)
        finally:
            for daemon in started:
                daemon.stop()


def run(root: Path, clients: dict[str, daemons.Daemon], args: argparse.Namespace) -> None:
    cli = Dlwatch(root)
    log = root / "hooks.log"
    cli.home.mkdir(parents=True)
    (cli.home / "config.toml").write_text(
        f"[poll]\ninterval = 1\n[hooks]\non_change = 'echo $DLWATCH_EVENT_ID >> {log}'\n"
    )
    for name, daemon in clients.items():
        cli.add_client(name, daemon)
    attempts = []
    for i, name in zip(range(args.downloads), itertools.cycle(clients), strict=False):
        data = payloads.make_payload(root / "unseeded", f"dlw-bench-{i}-{uuid.uuid4().hex[:6]}.bin", 64 * 1024)
        torrent = root / f"{data.name}.torrent"
        torrent.write_bytes(payloads.make_torrent(data))
        attempts.append((name, cli.send(torrent, "--client", name)))
    for _ in range(20):  # until every download is listed and has left "queued"
        cli("poll", "--once")
        if all(cli.status_no_refresh(a["id"])["raw_state"] for _, a in attempts):
            break
        time.sleep(0.5)
    with sqlite3.connect(cli.home / "dlwatch.db") as conn:
        start_event = conn.execute("SELECT max(id) FROM events").fetchone()[0]

    stop = threading.Event()
    poll_results: list[subprocess.CompletedProcess] = []

    def poller() -> None:
        while not stop.is_set():
            poll_results.append(cli("poll", "--once", timeout=120))

    watch = cli.popen("watch", "--json", "--interval", "1")
    watched: list[str] = []
    threading.Thread(target=lambda: watched.extend(watch.stdout), daemon=True).start()
    time.sleep(2)
    threads = [threading.Thread(target=poller) for _ in range(args.pollers)]
    for thread in threads:
        thread.start()

    rng = random.Random(1)
    paused: set[int] = set()
    driven = collections.Counter()
    deadline = time.monotonic() + args.seconds
    while time.monotonic() < deadline:
        for name, attempt in rng.sample(attempts, k=max(1, len(attempts) // 3)):
            if attempt["id"] in paused:
                by_hand.resume(clients[name], attempt["client_download_id"])
                paused.discard(attempt["id"])
                driven["resumed"] += 1
            else:
                by_hand.pause(clients[name], attempt["client_download_id"])
                paused.add(attempt["id"])
                driven["paused"] += 1
        time.sleep(args.hold)
    stop.set()
    for thread in threads:
        thread.join()
    cli("poll", "--once")
    time.sleep(2.5)  # watch reads the log every second
    watch.send_signal(signal.SIGINT)
    _, watch_err = watch.communicate(timeout=30)
    report(cli, log, start_event, poll_results, watched, watch_err, driven, watch.returncode, args)


def report(cli, log, start_event, poll_results, watched, watch_err, driven, watch_code, args) -> None:
    with sqlite3.connect(cli.home / "dlwatch.db") as conn:
        conn.row_factory = sqlite3.Row
        events = conn.execute("SELECT * FROM events WHERE id > ? ORDER BY id", [start_event]).fetchall()
        chain_breaks = 0
        for (attempt_id,) in conn.execute("SELECT id FROM attempts"):
            chain = conn.execute("SELECT * FROM events WHERE attempt_id = ? ORDER BY id", [attempt_id]).fetchall()
            chain_breaks += sum(
                1
                for a, b in itertools.pairwise(chain)
                if b["from_status"] != a["to_status"] or b["to_status"] == a["to_status"]
            )
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
    stderr = "".join(r.stderr for r in poll_results) + watch_err
    hook_runs = collections.Counter(int(x) for x in log.read_text().split()) if log.exists() else collections.Counter()
    printed = collections.Counter(json.loads(line)["event_id"] for line in watched if line.strip())
    ids = [e["id"] for e in events]
    into_paused = sum(1 for e in events if e["to_status"] == "paused")
    out_of_paused = sum(1 for e in events if e["from_status"] == "paused")
    rows = [
        ("poll --once runs", len(poll_results), "-"),
        ("lock errors", stderr.count("database is locked"), 0),
        ("tracebacks", stderr.count("Traceback"), 0),
        ("poll exits other than 0", sum(1 for r in poll_results if r.returncode != 0), 0),
        ("watch still running at the end", int(watch_code in (130, 0)), 1),
        ("events recorded", len(events), "-"),
        ("pauses driven / events into paused", f"{driven['paused']} / {into_paused}", "equal"),
        ("resumes driven / events out of paused", f"{driven['resumed']} / {out_of_paused}", "equal"),
        ("events that repeat or skip a status", chain_breaks, 0),
        (
            "hook runs per event (min..max)",
            f"{min(hook_runs[i] for i in ids)}..{max(hook_runs[i] for i in ids)}" if ids else "-",
            "1..1",
        ),
        ("events watch printed 0 or 2+ times", sum(1 for i in ids if printed[i] != 1), 0),
        ("PRAGMA integrity_check", integrity, "ok"),
    ]
    print(f"{args.pollers} pollers + watch --json, {args.seconds:g} s, {args.downloads} downloads")
    print(f"{'figure':<42} {'measured':>14} {'goal':>8}")
    for label, measured, goal in rows:
        print(f"{label:<42} {measured!s:>14} {goal!s:>8}")


if __name__ == "__main__":
    main()
