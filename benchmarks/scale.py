"""Thousands of tracked downloads against real daemons (run by hand; prints measured figures vs goals).

    .venv/bin/python benchmarks/scale.py [--torrents 6000] [--tracked 5000] [--attempts 10000]

Starts Transmission and qBittorrent on 127.0.0.1 in a temp dir and loads each with `--torrents`
small paused torrents (nobody seeds them, so nothing changes), waits until Transmission has
checked them all (about ten a second: 6,000 take ten minutes) and a minute more, tracks
`--tracked` of them in a dlwatch home (half in each client) plus finished attempts up to
`--attempts`, then measures each row of the scale issue's table.
"""

from __future__ import annotations

import argparse
import base64
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.integration.cli import Dlwatch  # noqa: E402
from tests.support import by_hand, daemons, nntp, payloads  # noqa: E402

from dlwatch.core.models import DownloadStatus, Protocol  # noqa: E402
from dlwatch.core.torrentmeta import parse_torrent  # noqa: E402
from dlwatch.cycle.polling import poll  # noqa: E402
from dlwatch.settings.config import Settings  # noqa: E402
from dlwatch.store import eventlog  # noqa: E402
from dlwatch.store.db import Attempt, Store, now_iso  # noqa: E402
from dlwatch.tracking.poll import CLOCK_SLACK, Sessions  # noqa: E402

ROWS: list[tuple[str, str, str]] = []


def row(label: str, goal: str, measured: str) -> None:
    ROWS.append((label, goal, measured))
    print(f"{label:<58} {goal:>14} {measured:>18}", flush=True)


def load(daemon: daemons.Daemon, root: Path, count: int) -> list[str]:
    torrents = [
        payloads.make_torrent(payloads.make_payload(root / "unseeded", f"{daemon.kind}-{i}.bin", 8))
        for i in range(count)
    ]
    if daemon.kind == "qbittorrent":
        for start in range(0, count, 100):
            with by_hand.qbittorrent(daemon) as client:
                files = [("torrents", (f"{start + i}.torrent", t)) for i, t in enumerate(torrents[start : start + 100])]
                client.post("/torrents/add", data={"paused": "true"}, files=files).raise_for_status()
    else:  # one torrent per request: all of them over one connection
        with httpx.Client() as http:
            for t in torrents:
                add = {"metainfo": base64.b64encode(t).decode(), "paused": True}
                by_hand.transmission(daemon, "torrent-add", add, http=http)
    return [parse_torrent(t).infohash_v1 for t in torrents]


def wait_until_checked(tr: daemons.Daemon) -> float:
    """When Transmission has checked every torrent added (one at a time, about ten a second here)."""
    while True:
        torrents = by_hand.transmission(tr, "torrent-get", {"fields": ["status"]})["torrents"]
        if not any(t["status"] in (1, 2) for t in torrents):  # waiting to check, checking
            return time.monotonic()
        time.sleep(5)


def track(store: Store, client_name: str, hashes: list[str], status=DownloadStatus.QUEUED) -> None:
    client = store.get_client(client_name)
    with store.write():
        for infohash in hashes:
            stamp = now_iso()
            attempt = Attempt(0, client.id, infohash, Protocol.TORRENT, status, stamp, stamp)
            attempt.client_download_id = infohash
            eventlog.start_tracking(store, attempt, client.name, client.type)


def median_ms(argv: list[str], env: dict, runs: int = 7) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, env=env, capture_output=True, check=False)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def peak_kb() -> int:
    """This process's own peak resident memory. Not getrusage's ru_maxrss: a child's starts at its
    parent's size when it was started, and this script holds thousands of torrents' worth."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def dlwatch_peak_kb(args: list[str], env: dict) -> int:
    """The peak memory of `dlwatch *args`, which reports it itself as it exits (peak_kb's reading,
    spelt out: importing this script there would add its own modules to the figure)."""
    code = (
        "import atexit, sys\n"
        "hwm = lambda: [l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM:')][0]\n"
        "atexit.register(lambda: print(hwm(), file=sys.stderr))\n"
        "from dlwatch.cli.main import main\n"
        "main()\n"
    )
    child = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True)
    return int(child.stderr.split()[-1])


def compile_sources() -> None:
    """Bytecode for dlwatch's own modules, as an installed copy has: an editable checkout run with
    PYTHONDONTWRITEBYTECODE set would compile each changed module again in every process timed."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "src" / "dlwatch")], check=True)


class Counting:
    """Bytes of every client answer dlwatch reads, counted where the adapters read them."""

    def __init__(self) -> None:
        import dlwatch.adapters.base as base

        self.bytes = 0
        self._base, self._read = base, base.read_bounded

        def counted(*args, **kwargs):
            response = self._read(*args, **kwargs)
            self.bytes += len(response.content)
            return response

        base.read_bounded = counted

    def __enter__(self) -> Counting:
        return self

    def __exit__(self, *exc) -> None:
        self._base.read_bounded = self._read


def main() -> None:
    if sys.argv[1:2] == ["--cycles-in"]:
        cycles_in(Path(sys.argv[2]))
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--torrents", type=int, default=6000)
    parser.add_argument("--tracked", type=int, default=5000)
    parser.add_argument("--attempts", type=int, default=10000)
    args = parser.parse_args()
    compile_sources()
    with tempfile.TemporaryDirectory(prefix="dlw-scale-") as tmp:
        root = Path(tmp)
        tr, qb = daemons.start_transmission(root / "tr"), daemons.start_qbittorrent(root / "qb")
        try:
            run(root, tr, qb, args)
        finally:
            tr.stop()
            qb.stop()


def run(root: Path, tr, qb, args) -> None:
    # The in-process polls below read the clients' passwords the way cron can: from the environment.
    os.environ.update({"DLWATCH_TR_PASSWORD": tr.password, "DLWATCH_QB_PASSWORD": qb.password})
    cli = Dlwatch(root)
    cli.add_client("tr", tr)
    cli.add_client("qb", qb)
    started = time.monotonic()
    tr_hashes, qb_hashes = load(tr, root / "tr-data", args.torrents), load(qb, root / "qb-data", args.torrents)
    print(f"loaded {args.torrents} paused torrents into each daemon in {time.monotonic() - started:.0f}s")
    checked_at = wait_until_checked(tr)
    print(f"Transmission checked them all {checked_at - started:.0f}s after the start")
    # Transmission counts a torrent "recently active" for a minute after its check, as it does a
    # busy one: the rows below are of a home at rest, with nothing loaded or checked for a while.
    loaded = checked_at + 60
    time.sleep(max(0.0, loaded - time.monotonic()))
    store = Store(cli.home / "dlwatch.db")
    half = args.tracked // 2
    track(store, "tr", tr_hashes[:half])
    track(store, "qb", qb_hashes[:half])
    settings = Settings()
    with Sessions(cli.home) as sessions:
        for _ in range(5):  # until every tracked torrent has been seen
            poll(store, settings, sessions=sessions)
            if not store.list_attempts(active_only=True) or all(a.seen for a in store.list_attempts(active_only=True)):
                break
            time.sleep(1)
        print(f"{'figure':<58} {'goal':>14} {'measured':>18}")
        times = []
        for _ in range(5):
            began = time.perf_counter()
            result = poll(store, settings, sessions=sessions)
            times.append(time.perf_counter() - began)
            assert result.ok, result.failures
        row(f"one poll, {args.tracked} tracked (median of 5)", "<= 2 s", f"{statistics.median(times):.2f} s")
        before = store.conn.total_changes
        poll(store, settings, sessions=sessions)
        row("SQL rows written by a poll when nothing changed", "0", str(store.conn.total_changes - before))
    finished = args.attempts - args.tracked
    track(store, "tr", [f"{i:040x}" for i in range(finished)], status=DownloadStatus.COMPLETED)
    began = time.perf_counter()
    active = store.list_attempts(active_only=True, missing_since=now_iso())
    row(
        f"rows read per poll, {args.attempts} attempts ({args.tracked} active)",
        "active ones",
        f"{len(active)} in {(time.perf_counter() - began) * 1000:.0f} ms",
    )
    store.close()
    env = cli.env
    dlwatch = [str(Path(sys.executable).with_name("dlwatch"))]  # the command a user runs
    calibration = median_ms([sys.executable, "-c", "pass"], env, runs=21)
    row("  (this machine: python -c pass; the issue's machine: 11 ms)", "-", f"{calibration:.0f} ms")
    cold = median_ms([*dlwatch, "status", "--json", "--no-refresh"], env, runs=21)
    row(f"cold start status --json --no-refresh, {args.attempts} attempts", "<= 150 ms", f"{cold:.0f} ms")
    everything = median_ms([*dlwatch, "status", "--all", "--no-refresh", "--json"], env)
    row(f"status --all --no-refresh --json, {args.attempts} attempts", "<= 300 ms", f"{everything:.0f} ms")
    peak = dlwatch_peak_kb(["status", "--all", "--no-refresh", "--json"], env)
    row("  its peak memory", "-", f"{peak / 1024:.0f} MB")
    # A title-only attempt looks among what was added since its grab (less the clock slack): the
    # torrents loaded above must be older than that, as a home's are.
    time.sleep(max(0.0, loaded + CLOCK_SLACK + 5 - time.monotonic()))
    few_bytes(root, tr, qb, tr_hashes, qb_hashes)
    cycles(root, tr, qb, tr_hashes)
    poll_vs_minimal(root, tr, qb, tr_hashes, qb_hashes)


def few_bytes(root: Path, tr, qb, tr_hashes, qb_hashes) -> None:
    """Bytes a poll reads for 10 tracked in each client among thousands, against what listing just
    those 10 costs (the same adapter call, filtered), with a title-only attempt young and old."""
    cli = Dlwatch(root / "few")
    cli.add_client("tr", tr)
    cli.add_client("qb", qb)
    store = Store(cli.home / "dlwatch.db")
    wanted = {"tr": tr_hashes[-10:], "qb": qb_hashes[-10:]}
    for name, hashes in wanted.items():
        track(store, name, hashes)
    settings = Settings()
    with Sessions() as sessions:
        adapters = {c.name: sessions.get(c, settings) for c in store.list_clients()}
        for name, adapter in adapters.items():
            adapter.list_downloads(wanted[name])  # log in and handshake first: not counted
        with Counting() as listing:
            for name, adapter in adapters.items():
                adapter.list_downloads(wanted[name])
        stamp = now_iso()
        unassigned = Attempt(0, "", "Some Release Nobody Has", Protocol.TORRENT, DownloadStatus.QUEUED, stamp, stamp)
        eventlog.start_tracking(store, unassigned, "(finding)", None)
        for label, window in (("a young title-only attempt", 600.0), ("an old title-only attempt", 0.001)):
            with Counting() as polled:
                poll(store, Settings(find_window=window), sessions=sessions)
            row(f"bytes per poll, 10 tracked in each, {label}", "<= 2x listing", f"{polled.bytes / listing.bytes:.2f}x")
    store.close()


def cycles(root: Path, tr, qb, tr_hashes) -> None:
    """1,000 polls of 10 tracked torrents, in a process of their own: the figures are that
    process's, not this one's (which has held thousands of torrents' worth of answers)."""
    cli = Dlwatch(root / "cycles")
    cli.add_client("tr", tr)
    store = Store(cli.home / "dlwatch.db")
    track(store, "tr", tr_hashes[:10])
    store.close()
    child = subprocess.run(
        [sys.executable, __file__, "--cycles-in", str(cli.home)], env=cli.env, capture_output=True, text=True
    )
    first, last, traced_peak = (int(v) for v in child.stdout.split())
    row("memory over 1,000 cycles (max RSS growth)", "<= 5 %", f"{(last - first) / first * 100:.1f} %")
    row("  peak memory of the process", "<= 80 MB", f"{last / 1024:.0f} MB")
    row("  Python heap peak during them", "-", f"{traced_peak / 2**10:.0f} KB")


def cycles_in(home: Path) -> None:
    store = Store(home / "dlwatch.db")
    settings = Settings()
    tracemalloc.start()
    with Sessions() as sessions:
        poll(store, settings, sessions=sessions)
        first = peak_kb()
        for _ in range(1000):
            poll(store, settings, sessions=sessions)
    _, traced_peak = tracemalloc.get_traced_memory()
    print(first, peak_kb(), traced_peak)


def poll_vs_minimal(root: Path, tr, qb, tr_hashes, qb_hashes) -> None:
    """`dlwatch poll --once` of three real clients (NZBGet too), as cron runs it, against the slowest of
    the three clients' one request made by a minimal httpx script in a new process."""
    nz = daemons.start_nzbget(root / "nz")
    try:
        cli = Dlwatch(root / "minimal")
        for name, daemon in (("tr", tr), ("qb", qb), ("nz", nz)):
            cli.add_client(name, daemon)
        store = Store(cli.home / "dlwatch.db")
        track(store, "tr", tr_hashes[:5])
        track(store, "qb", qb_hashes[:5])
        store.close()
        for i in range(5):
            posting = nntp.Posting(f"minimal-{i}", b"x", [nntp.Article(f"<minimal-{i}@dlwatch>", b"", 100)])
            cli("send", str(nntp.write_nzb(posting, root)), "--client", "nz", "--paused")
        cli("poll", "--once")  # leaves the sessions in the home, as cron's previous run would
        ours = median_ms([str(Path(sys.executable).with_name("dlwatch")), "poll", "--once"], cli.env)
        requests = {
            "transmission": f"httpx.post('{tr.url}/transmission/rpc', auth=('{tr.username}', '{tr.password}'), "
            "json={'method': 'session-get'}, timeout=10)",
            "qbittorrent": f"httpx.post('{qb.url}/api/v2/auth/login', "
            f"data={{'username': '{qb.username}', 'password': '{qb.password}'}}, timeout=10)",
            "nzbget": f"httpx.post('{nz.url}/jsonrpc', auth=('{nz.username}', '{nz.password}'), "
            "json={'method': 'listgroups', 'params': [0]}, timeout=10)",
        }
        minimal = {
            kind: median_ms([sys.executable, "-c", f"import httpx; {call}"], os.environ.copy())
            for kind, call in requests.items()
        }
        slowest = max(minimal, key=minimal.get)
        row("poll --once, 3 clients, vs a minimal httpx script", "<= 1.25x", f"{ours / minimal[slowest]:.2f}x")
        row(f"  (poll --once / minimal {slowest}, ms)", "-", f"{ours:.0f} / {minimal[slowest]:.0f}")
    finally:
        nz.stop()


if __name__ == "__main__":
    main()
