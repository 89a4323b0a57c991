"""`make demo`: dlwatch doing its job on real download clients, with nothing of yours touched.

Starts Transmission, qBittorrent, NZBGet, Deluge, rTorrent and aria2 (Debian packages) on 127.0.0.1
in a temp dir, with a local tracker and a local news server; registers them in a throwaway dlwatch
home (secrets in a throwaway keyring file, never your keyring); sends a torrent each way between
Transmission and qBittorrent, one torrent seeded by qBittorrent to each of Deluge, rTorrent and aria2,
and an NZB to NZBGet with `dlwatch send`; shows `dlwatch watch` until all complete; then stops
everything it started (by pid) and deletes the temp dir.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.integration.cli import Dlwatch, client_add_args  # noqa: E402
from tests.support import by_hand, daemons, nntp, payloads  # noqa: E402
from tests.support.tracker import Tracker  # noqa: E402

RATE = 2 * 1024 * 1024  # bytes/s, so the table has something to show for a few seconds
SIZE = 24 * 1024 * 1024


def say(text: str) -> None:
    print(f"\033[1m==> {text}\033[0m", flush=True)


class Demo:
    def __init__(self, tmp: Path) -> None:
        # The same throwaway home and keyring file the integration tests use: never the user's own.
        self.cli = Dlwatch(tmp)

    def dlwatch(self, *args: str, stdin: str | None = None, show: bool = True, capture: bool = True) -> str:
        if show:
            print("$ dlwatch " + " ".join(shlex.quote(a) for a in args), flush=True)
        result = subprocess.run(
            self.cli.argv(*args),
            input=stdin,
            text=True,
            env=self.cli.env,
            cwd=ROOT,
            capture_output=capture,
        )
        if capture and show and result.stdout.strip() and "--json" not in args:
            print(result.stdout.rstrip())
        if result.returncode != 0 and "--until-done" not in args:
            raise SystemExit(f"dlwatch {' '.join(args)} failed: {result.stderr if capture else ''}")
        return result.stdout if capture else str(result.returncode)

    def add(self, name: str, daemon: daemons.Daemon) -> None:
        self.dlwatch(*client_add_args(name, daemon), stdin=daemon.password + "\n")

    def send(self, source: Path, *args: str) -> dict:
        record = json.loads(self.dlwatch("send", str(source), *args, "--json"))
        print(f"   attempt {record['id']}: {record['title']} -> {record['client']} ({record['client_download_id']})")
        return record

    def wait_completed(self, attempt_id: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = json.loads(self.dlwatch("status", str(attempt_id), "--json", show=False))[0]
            if status["status"] == "completed":
                return
            time.sleep(0.5)
        raise SystemExit(f"attempt {attempt_id} did not complete in {timeout:g}s")


def main() -> int:
    missing = [kind for kind in daemons.BINARIES if not daemons.installed(kind)]
    if missing:
        print(f"demo: {', '.join(missing)} not installed (run `make demo`, which installs them)", file=sys.stderr)
        return 1
    started: list = []
    with tempfile.TemporaryDirectory(prefix="dlwatch-demo-") as tmp_name:
        tmp = Path(tmp_name)
        demo = Demo(tmp)
        try:
            say(f"starting a tracker, a news server and six real clients on 127.0.0.1 in {tmp}")
            tracker = Tracker().start()
            news = nntp.NewsServer(delay=0.15).start()
            started += [tracker, news]
            tr = daemons.start_transmission(tmp / "transmission")
            started.append(tr)
            qb = daemons.start_qbittorrent(tmp / "qbittorrent")
            started.append(qb)
            nz = daemons.start_nzbget(tmp / "nzbget", news_port=news.port)
            started.append(nz)
            more = []
            for kind in ("deluge", "rtorrent", "aria2"):
                more.append(daemons.STARTERS[kind](tmp / kind))
                started.append(more[-1])
            for d in (tr, qb, nz, *more):
                print(f"   {d.kind}: 127.0.0.1:{d.port} (pid {d.pid})")

            say("registering them with dlwatch (each is tested before it is saved)")
            for d in (tr, qb, nz, *more):
                demo.add(d.kind, d)

            say("making payloads: a torrent each way, and an NZB on the news server")
            a = payloads.make_payload(tr.download_dir, "dlwatch-demo-transmission-to-qbittorrent.bin", SIZE)
            b = payloads.make_payload(qb.download_dir, "dlwatch-demo-qbittorrent-to-transmission.bin", SIZE)
            to_more = {
                d.kind: payloads.make_payload(qb.download_dir, f"dlwatch-demo-to-{d.kind}.bin", SIZE) for d in more
            }
            torrents = {}
            for data in (a, b, *to_more.values()):
                path = tmp / f"{data.stem}.torrent"
                path.write_bytes(payloads.make_torrent(data, announce=tracker.announce_url))
                torrents[data] = path
            posting = news.add(nntp.make_posting("dlwatch-demo-usenet.bin", os.urandom(12 * 1024 * 1024)))
            nzb = nntp.write_nzb(posting, tmp)

            say("seeding: each torrent goes first to the client that has its data")
            seeds = [
                demo.send(torrents[a], "--client", "transmission"),
                demo.send(torrents[b], "--client", "qbittorrent"),
                *(demo.send(torrents[data], "--client", "qbittorrent") for data in to_more.values()),
            ]
            for seed in seeds:
                demo.wait_completed(seed["id"])
            for d in (qb, tr, *more):
                by_hand.limit_download(d, RATE)

            say("sending the downloads")
            watched = [
                demo.send(torrents[a], "--client", "qbittorrent"),
                demo.send(torrents[b], "--client", "transmission"),
                demo.send(nzb),
                *(demo.send(torrents[to_more[d.kind]], "--client", d.kind) for d in more),
            ]
            time.sleep(0.5)
            for attempt in watched[:2]:
                by_hand.connect_peers(qb, attempt["client_download_id"], tr.peer_port)
            for d, seed in zip(more, seeds[2:], strict=True):
                by_hand.connect_peers(qb, seed["client_download_id"], d.peer_port)

            say("watching until every download is done (Ctrl-C to stop)")
            code = demo.dlwatch(
                "watch", *(str(w["id"]) for w in watched), "--until-done", "--interval", "1", capture=False
            )
            say("final state")
            demo.dlwatch("status", "--all", capture=False)
            return int(code)
        except KeyboardInterrupt:
            return 130
        finally:
            with contextlib.suppress(OSError):  # the terminal may be gone (closed window, SIGHUP)
                say("stopping everything the demo started")
            for thing in reversed(started):
                thing.stop()


def _stop_on(signum: int, frame: object) -> None:
    """A closed terminal (SIGHUP) or a `kill` (SIGTERM) ends the demo as Ctrl-C does, so the
    daemons it started are stopped too instead of living on, listening."""
    raise KeyboardInterrupt


if __name__ == "__main__":
    signal.signal(signal.SIGHUP, _stop_on)
    signal.signal(signal.SIGTERM, _stop_on)
    sys.exit(main())
