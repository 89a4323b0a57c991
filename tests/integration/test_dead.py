"""Dead downloads on the real daemons: a torrent nobody seeds and a magnet nobody has are caught,
each by the rule named in its reason; `remove` takes one out of its client; a retry blocklists the
dead release, searches again through a Prowlarr-shaped fake and the replacement (seeded by real
qBittorrent) really completes; the disk guard pauses at the threshold of a real small filesystem
and resumes afterwards. Rules of a few seconds stand for the hours of the defaults."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.conftest import fixture_body
from tests.integration.cli import Dlwatch
from tests.support import by_hand, payloads
from tests.support.daemons import Daemon
from tests.support.jsonserver import JsonServer
from tests.support.waiting import unique, wait_for

pytestmark = pytest.mark.integration

FAST = (
    "[dead]\nstalled_after = {stalled}\nmetadata_after = {metadata}\nunavailable_after = {unavailable}\nstrikes = 2\n"
)


def configure(cli: Dlwatch, *, stalled=0, metadata=0, unavailable=0, extra="") -> None:
    cli.home.mkdir(parents=True, exist_ok=True)
    text = FAST.format(stalled=stalled, metadata=metadata, unavailable=unavailable) + extra
    (cli.home / "config.toml").write_text(text)


def orphan_torrent(tmp: Path, tracker, name: str) -> Path:
    """A .torrent whose data exists nowhere a client can reach: nobody will ever seed it."""
    data = payloads.make_payload(tmp / "nowhere", name, 256 * 1024)
    torrent = tmp / f"{name}.torrent"
    torrent.write_bytes(payloads.make_torrent(data, announce=tracker.announce_url))
    data.unlink()
    return torrent


def polled_until(cli: Dlwatch, attempt_id: int, statuses: tuple[str, ...], timeout: float = 40) -> dict:
    def ended():
        cli("poll", "--once")
        record = cli.status_no_refresh(attempt_id)
        return record if record["status"] in statuses else None

    return wait_for(ended, timeout=timeout, every=0.5)


@pytest.mark.parametrize(
    ("kind", "rule", "settings"),
    [("transmission", "stalled", {"stalled": 2}), ("qbittorrent", "unavailable", {"unavailable": 2})],
)
def test_a_torrent_nobody_seeds_fails_with_its_rule_and_stays_in_the_client(
    tmp_path, tracker, transmission, qbittorrent, kind, rule, settings
):
    daemon: Daemon = {"transmission": transmission, "qbittorrent": qbittorrent}[kind]
    cli = Dlwatch(tmp_path)
    cli.add_client(kind, daemon)
    configure(cli, **settings)
    attempt = cli.send(orphan_torrent(tmp_path, tracker, unique("dead")), "--client", kind)
    try:
        dead = polled_until(cli, attempt["id"], ("failed",))
        assert dead["error"].startswith(f"dead (rule {rule}): "), dead["error"]
        assert "at 0.0 %" in dead["error"]
        history = json.loads(cli.ok("history", str(attempt["id"]), "--json"))
        assert history[-1]["to_status"] == "failed" and history[-1]["message"] == dead["error"]
        # report is the default: nothing was removed
        assert attempt["client_download_id"] in [h.lower() for h in by_hand.hashes(daemon)]
    finally:
        by_hand.remove(daemon, attempt["client_download_id"])


def test_a_magnet_nobody_has_is_caught_by_the_metadata_rule(tmp_path, transmission):
    cli = Dlwatch(tmp_path)
    cli.add_client("tr", transmission)
    configure(cli, metadata=2, stalled=2)
    infohash = uuid.uuid4().hex + uuid.uuid4().hex[:8]
    attempt = cli.send(f"magnet:?xt=urn:btih:{infohash}&dn={unique('ghost')}", "--client", "tr")
    try:
        dead = polled_until(cli, attempt["id"], ("failed",))
        assert dead["error"].startswith("dead (rule metadata): still fetching the magnet's metadata after"), dead
    finally:
        by_hand.remove(transmission, infohash)


def test_remove_takes_a_dead_torrent_out_of_its_client(tmp_path, tracker, transmission):
    cli = Dlwatch(tmp_path)
    cli.add_client("tr", transmission)
    configure(cli, stalled=2, extra='action = "remove"\n')
    attempt = cli.send(orphan_torrent(tmp_path, tracker, unique("dead-rm")), "--client", "tr")
    gone = polled_until(cli, attempt["id"], ("removed",))
    assert gone["error"].startswith("dead (rule stalled): ") and gone["error"].endswith("removed with dlwatch")
    assert attempt["client_download_id"] not in [h.lower() for h in by_hand.hashes(transmission)]


def test_retry_blocklists_the_dead_release_and_the_next_one_completes(tmp_path, tracker, transmission, qbittorrent):
    cli = Dlwatch(tmp_path)
    cli.add_client("tr", transmission)
    cli.add_client("qb", qbittorrent)
    dead_torrent = orphan_torrent(tmp_path, tracker, unique("release-dead"))
    live = cli.seed("qb", qbittorrent, unique("release-live"), 512 * 1024, tracker.announce_url, tmp_path)
    with JsonServer() as prowlarr:

        def release(n: int, title: str, seeders: int) -> dict:
            return {
                "guid": f"https://indexer.example/details/{n}",
                "indexerId": 3,
                "indexer": "Example",
                "title": title,
                "protocol": "torrent",
                "size": 1,
                "ageHours": 1.0,
                "seeders": seeders,
                "leechers": 0,
                "grabs": 0,
                "downloadUrl": f"{prowlarr.url}/download/{n}.torrent",
            }

        # the dead one has more seeders on paper: only the blocklist keeps it from being chosen again
        results = [release(1, dead_torrent.stem, 50), release(2, live.data.name, 1)]
        prowlarr.routes.update(
            {
                "/api/v1/system/status": (200, fixture_body("prowlarr/system_status.json")),
                "/api/v1/search": (200, results),
                "/download/1.torrent": (200, dead_torrent.read_bytes()),
                "/download/2.torrent": (200, live.torrent.read_bytes()),
            }
        )
        cli.ok("prowlarr", "set", "--url", prowlarr.url, "--api-key-stdin", stdin="fake-key\n")
        cli.ok("search", "open movie")
        first = json.loads(cli.ok("grab", "1", "--client", "tr", "--json"))
        configure(cli, stalled=2, extra='action = "retry"\n')
        polled_until(cli, first["id"], ("failed",))
        replacement = wait_for(
            lambda: next(
                (
                    a
                    for a in json.loads(cli.ok("status", "--all", "--json", "--no-refresh"))
                    if a["retry_of"] == first["id"]
                ),
                None,
            ),
            timeout=20,
        )
        # The replacement gets a rule of realistic length: 2 s would kill it before its first peer.
        configure(cli, stalled=600, extra='action = "retry"\n')
        by_hand.connect_peers(qbittorrent, live.record["client_download_id"], transmission.peer_port)
        done = polled_until(cli, replacement["id"], ("completed", "failed"), timeout=60)
        searches = [r for r in prowlarr.received if r.path.startswith("/api/v1/search")]
    assert done["status"] == "completed" and done["title"] == live.data.name, done
    assert Path(done["raw_file_path"]).read_bytes() == live.data.read_bytes()
    assert len(searches) == 2 and "query=open+movie" in searches[1].path  # the same search, asked again
    with sqlite3.connect(cli.home / "dlwatch.db") as db:
        blocked = {row[0] for row in db.execute("SELECT key FROM blocklist")}
    assert "guid:https://indexer.example/details/1" in blocked
    assert "guid:https://indexer.example/details/2" not in blocked
    by_hand.remove(transmission, replacement["client_download_id"])


@pytest.fixture
def small_disk(tmp_path):
    """A real 32 MiB filesystem (tmpfs), where this machine lets the tests mount one."""
    mount = tmp_path / "small-disk"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=32m", "tmpfs", str(mount)], capture_output=True)
    if made.returncode != 0:
        pytest.skip(
            f"cannot mount a tmpfs here ({made.stderr.decode().strip()}); "
            "tests/unit/policies/test_diskguard.py covers it"
        )
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def test_the_disk_guard_pauses_at_the_threshold_and_resumes_after(tmp_path, tracker, transmission, small_disk):
    cli = Dlwatch(tmp_path)
    cli.add_client("tr", transmission)
    cli.home.mkdir(parents=True, exist_ok=True)
    (cli.home / "config.toml").write_text(
        '[guard]\nmin_free = "16MiB"\n'
        f'[[path_mappings]]\nremote = "{transmission.download_dir}"\nlocal = "{small_disk}"\nclient = "tr"\n'
    )
    attempt = cli.send(orphan_torrent(tmp_path, tracker, unique("guarded")), "--client", "tr")
    infohash = attempt["client_download_id"]

    def state() -> int:
        return by_hand.transmission(transmission, "torrent-get", {"ids": [infohash], "fields": ["status"]})["torrents"][
            0
        ]["status"]

    try:
        wait_for(lambda: state() == 4, timeout=20)  # checked and started: a download the guard may pause
        cli.ok("poll", "--once")
        assert cli.status_no_refresh(attempt["id"])["free_bytes"] > 16 * 2**20
        filler = small_disk / "filler"
        filler.write_bytes(os.urandom(20 * 2**20))  # 12 MiB left
        out = cli.ok("poll", "--once")
        assert "downloading -> paused (tr): paused by the disk guard: 12.0 MiB free in" in out
        wait_for(lambda: state() == 0, timeout=10)  # really stopped (Transmission stops on its next tick)
        filler.unlink()
        out = cli.ok("poll", "--once")
        assert "paused -> queued (tr): resumed by the disk guard: 32.0 MiB free in" in out
        wait_for(lambda: state() != 0, timeout=10)
        shown = json.loads(cli.ok("client", "show", "tr", "--json"))
        assert [d["path"] for d in shown["download_dirs"]] == [str(small_disk)]
    finally:
        by_hand.remove(transmission, infohash)
