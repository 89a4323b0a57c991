"""The page and its server, measured (run by hand; prints measured figures against the goals).

    .venv/bin/python benchmarks/web.py [--streams 50] [--events 40]

Starts a real Transmission on 127.0.0.1 in a temp dir as the client behind `dlwatch serve`, makes
one home with 1,000 tracked downloads and one with 10,000, and measures: the page's weight over the
wire; its first render in Debian's Chromium (navigation start to the first list drawn, the page's
own `dlwatch-first-render` mark) with 1,000 downloads; `/api/v1/downloads?all=1` at 10,000; serve's
start-up to its first answer and its memory idle and with `--streams` open event streams; the
server's CPU per event with 1 stream and with `--streams` (one hub reads the log for all of them);
and how it answers while 200 idle connections (a slow client) hold sockets open.
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.integration.cli import Dlwatch  # noqa: E402
from tests.support import daemons  # noqa: E402
from tests.support.browser import chromium  # noqa: E402

from dlwatch.core.models import DownloadStatus, Protocol  # noqa: E402
from dlwatch.settings.config import Hooks  # noqa: E402
from dlwatch.store import eventlog  # noqa: E402
from dlwatch.store.db import Attempt, Store, now_iso  # noqa: E402


def row(label: str, goal: str, measured: str) -> None:
    print(f"{label:<62} {goal:>12} {measured:>20}", flush=True)


def home_with(root: Path, tr: daemons.Daemon, count: int) -> Dlwatch:
    """A home with `count` attempts on the real Transmission: 5 % active (asked about on each poll),
    the rest completed, as a long-used home holds them."""
    cli = Dlwatch(root)
    cli.add_client("tr", tr)
    (cli.home / "config.toml").write_text("[poll]\ninterval = 30\n")
    store = Store(cli.home / "dlwatch.db")
    client = store.find_client("tr")
    stamp = now_iso()
    with store.write() as conn:
        for n in range(count):
            active = n % 20 == 0
            status = DownloadStatus.DOWNLOADING if active else DownloadStatus.COMPLETED
            attempt = Attempt(
                id=0,
                client_id=client.id,
                title=f"Some.Show.S{n // 100:02d}E{n % 100:02d}.1080p.WEB.h264-GROUP",
                protocol=Protocol.TORRENT,
                status=status,
                created_at=stamp,
                updated_at=stamp,
                client_download_id=os.urandom(20).hex(),  # infohashes do not compress
                progress=0.5 if active else 1.0,
                size_bytes=1_500_000_000,
                raw_file_path=None if active else f"/downloads/Some.Show.S{n // 100:02d}E{n % 100:02d}",
                completed_at=None if active else stamp,
            )
            row_ = attempt.to_row()
            row_.pop("id")
            conn.execute(
                f"INSERT INTO attempts ({', '.join(row_)}) VALUES ({', '.join('?' * len(row_))})", list(row_.values())
            )
    store.close()
    return cli


def serve(cli: Dlwatch) -> tuple[object, str, float]:
    port = daemons.free_port()
    started = time.monotonic()
    process = cli.popen("serve", "--bind", f"127.0.0.1:{port}")
    url = f"http://127.0.0.1:{port}"
    while True:
        try:
            httpx.get(f"{url}/api/v1/summary", timeout=1)
            return process, url, time.monotonic() - started
        except httpx.HTTPError:
            time.sleep(0.01)


def wire(url: str) -> int:
    """Bytes a browser downloads for `url` (it asks for gzip)."""
    with httpx.stream("GET", url, headers={"Accept-Encoding": "gzip"}) as response:
        response.read()
        return response.num_bytes_downloaded


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def open_streams(url: str, count: int) -> list[tuple[http.client.HTTPConnection, list[int]]]:
    """`count` event streams, each read by a thread that counts the change frames it gets."""
    port = int(url.rsplit(":", 1)[1])
    streams = []
    for _ in range(count):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request("GET", "/api/v1/events")
        response = conn.getresponse()
        seen = [0]

        def read(response=response, seen=seen) -> None:
            try:
                while line := response.readline():
                    if line.startswith(b"event: change"):
                        seen[0] += 1
            except OSError:
                pass

        threading.Thread(target=read, daemon=True).start()
        streams.append((conn, seen))
    return streams


def record_events(cli: Dlwatch, count: int) -> None:
    """Changes recorded by this process, as another dlwatch process (a cron poll) records them."""
    store = Store(cli.home / "dlwatch.db")
    attempt = store.list_attempts(active_only=True)[0]
    client = store.find_client("tr")
    for n in range(count):
        attempt = store.get_attempt(attempt.id)
        after = replace(attempt, progress=0.5 + n / (2 * count) - 0.0001, raw_state=f"step {n}")
        after.status = DownloadStatus.PAUSED if n % 2 == 0 else DownloadStatus.DOWNLOADING
        eventlog.record(store, [eventlog.Change(attempt, after, client.name, client.type)], Hooks())
        time.sleep(0.05)
    store.close()


def cpu_per_event(cli: Dlwatch, url: str, pid: int, streams: int, events: int) -> tuple[float, int]:
    opened = open_streams(url, streams)
    time.sleep(1.0)
    before = cpu_seconds(pid)
    record_events(cli, events)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and min(seen[0] for _, seen in opened) < events:
        time.sleep(0.05)
    spent = cpu_seconds(pid) - before
    delivered = min(seen[0] for _, seen in opened)
    for conn, _ in opened:
        conn.close()
    return spent / events, delivered


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--streams", type=int, default=50)
    parser.add_argument("--events", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        tr = daemons.start_transmission(root / "tr")
        try:
            print(f"{'':<62} {'goal':>12} {'measured':>20}")
            small = home_with(root / "small", tr, 1000)
            process, url, startup = serve(small)
            try:
                row("serve: start to first answer (1,000 attempts)", "-", f"{startup * 1000:.0f} ms")
                # Over the wire: what a browser asking for gzip (as every one does) downloads.
                files = (
                    "/",
                    "/static/app.js",
                    "/static/stream.js",
                    "/static/text.js",
                    "/static/app.css",
                    "/static/icon.svg",
                )
                weight = sum(wire(f"{url}{p}") for p in files)
                listing = wire(f"{url}/api/v1/downloads?all=1")
                summary = wire(f"{url}/api/v1/summary")
                row("page weight over the wire (HTML, JS, CSS, icon)", "-", f"{weight / 1024:.1f} KB")
                row("  + its first data: 1,000 downloads and the summary", "-", f"{(listing + summary) / 1024:.1f} KB")
                row("the page's first load in all", "<= 100 KB", f"{(weight + listing + summary) / 1024:.1f} KB")
                renders = []
                with chromium(1280, 900) as driver:
                    for _ in range(5):
                        driver.get(url)
                        mark = None
                        while mark is None:
                            mark = driver.execute_script(
                                "const m = performance.getEntriesByName('dlwatch-first-render');"
                                "return m.length ? m[0].startTime : null"
                            )
                        renders.append(mark)
                row(
                    "first render in Chromium, 1,000 downloads (median of 5)",
                    "< 1000 ms",
                    f"{statistics.median(renders):.0f} ms",
                )
            finally:
                process.terminate()
                process.wait(10)

            big = home_with(root / "big", tr, 10_000)
            process, url, startup = serve(big)
            pid = process.pid
            try:
                row("serve: start to first answer (10,000 attempts)", "-", f"{startup * 1000:.0f} ms")
                times = []
                for _ in range(15):
                    started = time.perf_counter()
                    answer = httpx.get(f"{url}/api/v1/downloads?all=1")
                    times.append(time.perf_counter() - started)
                assert len(answer.json()) == 10_000
                row(
                    "/api/v1/downloads?all=1, 10,000 attempts (median of 15)",
                    "<= 150 ms",
                    f"{statistics.median(times) * 1000:.0f} ms",
                )
                time.sleep(1)
                row("serve's memory, idle", "-", f"{rss_mib(pid):.0f} MiB")
                one, got_one = cpu_per_event(big, url, pid, 1, args.events)
                many, got_many = cpu_per_event(big, url, pid, args.streams, args.events)
                row(f"server CPU per event, 1 stream ({got_one}/{args.events} delivered)", "-", f"{one * 1000:.1f} ms")
                row(
                    f"server CPU per event, {args.streams} streams ({got_many}/{args.events} to each)",
                    "-",
                    f"{many * 1000:.1f} ms",
                )
                opened = open_streams(url, args.streams)
                time.sleep(1)
                row(f"serve's memory with {args.streams} open streams", "-", f"{rss_mib(pid):.0f} MiB")
                for conn, _ in opened:
                    conn.close()
                started = time.perf_counter()
                Dlwatch.__call__(big, "poll", "--once")
                row(
                    "for scale: one `dlwatch poll --once` (a process), wall",
                    "-",
                    f"{(time.perf_counter() - started) * 1000:.0f} ms",
                )
                idle = [socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1]))) for _ in range(200)]
                started = time.perf_counter()
                httpx.get(f"{url}/api/v1/summary", timeout=5)
                row(
                    "an answer while 200 idle connections hold sockets",
                    "-",
                    f"{(time.perf_counter() - started) * 1000:.0f} ms",
                )
                time.sleep(11)
                dropped = sum(1 for s in idle if s.recv(1) == b"")
                row("  idle connections dropped after 10 s", "200", f"{dropped}")
                for s in idle:
                    s.close()
            finally:
                process.terminate()
                process.wait(10)
        finally:
            tr.stop()


if __name__ == "__main__":
    main()
