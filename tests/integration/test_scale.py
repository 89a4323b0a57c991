"""Thousands of tracked downloads against the real qBittorrent: the hashes no longer fit one URL,
and a poll still asks for just them, in a few requests, and records every one."""

from __future__ import annotations

import json
import uuid

import pytest

from dlwatch.core.models import DownloadStatus, Protocol
from dlwatch.core.torrentmeta import parse_torrent
from dlwatch.store import eventlog
from dlwatch.store.db import Attempt, Store, now_iso
from tests.integration.cli import Dlwatch
from tests.support import by_hand, payloads

pytestmark = pytest.mark.integration

COUNT = 2000


def test_a_poll_with_2000_tracked_torrents_on_the_real_qbittorrent(tmp_path, qbittorrent):
    cli = Dlwatch(tmp_path)
    cli.add_client("qb", qbittorrent)
    prefix = f"dlw-scale-{uuid.uuid4().hex[:6]}"
    torrents = []
    for i in range(COUNT):
        data = payloads.make_payload(tmp_path / "unseeded", f"{prefix}-{i}.bin", 16)
        torrents.append(payloads.make_torrent(data))
    hashes = [parse_torrent(t).infohash_v1 for t in torrents]
    with by_hand.qbittorrent(qbittorrent) as client:
        for start in range(0, COUNT, 100):
            files = [("torrents", (f"{start + i}.torrent", t)) for i, t in enumerate(torrents[start : start + 100])]
            client.post("/torrents/add", data={"paused": "true", "stopped": "true"}, files=files).raise_for_status()
    store = Store(cli.home / "dlwatch.db")
    qb = store.get_client("qb")
    for i, infohash in enumerate(hashes):
        stamp = now_iso()
        attempt = Attempt(0, qb.id, f"{prefix}-{i}.bin", Protocol.TORRENT, DownloadStatus.QUEUED, stamp, stamp)
        attempt.client_download_id = infohash
        eventlog.start_tracking(store, attempt, "qb", "qbittorrent")
    store.close()
    try:
        for _ in range(10):  # qBittorrent registers added torrents asynchronously
            result = cli("poll", "--once")
            assert result.returncode == 0, result.stderr
            statuses = [r["status"] for r in json.loads(cli.ok("status", "--no-refresh", "--all", "--json"))]
            if statuses.count("paused") == COUNT:
                break
        assert statuses.count("paused") == COUNT
        quiet = cli("poll", "--once")  # nothing changed: nothing printed, nothing written
        assert (quiet.returncode, quiet.stdout) == (0, "")
    finally:
        with by_hand.qbittorrent(qbittorrent) as client:
            for start in range(0, COUNT, 300):
                client.post(
                    "/torrents/delete", data={"hashes": "|".join(hashes[start : start + 300]), "deleteFiles": "true"}
                )


def test_titles_grabbed_elsewhere_are_found_among_the_newest_of_the_real_clients(tmp_path, qbittorrent, transmission):
    """Prowlarr sent them (dlwatch knows only their titles), each among a batch added at once: on
    qBittorrent the one looked for is past the first page of newest torrents, on Transmission among
    the recently active ones; a poll still finds both, by listing only what was added since."""
    cli = Dlwatch(tmp_path)
    cli.add_client("qb", qbittorrent)
    cli.add_client("tr", transmission)
    prefix = f"dlw-find-{uuid.uuid4().hex[:6]}"
    store = Store(cli.home / "dlwatch.db")
    for kind in ("qb", "tr"):  # the grabs, recorded before the clients have them
        stamp = now_iso()
        attempt = Attempt(0, "", f"{prefix}-{kind}-0.bin", Protocol.TORRENT, DownloadStatus.QUEUED, stamp, stamp)
        eventlog.start_tracking(store, attempt, "(finding)", None)
    store.close()
    wanted = {}
    for kind, daemon in (("qb", qbittorrent), ("tr", transmission)):
        for i in range(15):  # the one looked for first, so 14 newer ones come before it
            torrent = payloads.make_torrent(
                payloads.make_payload(tmp_path / "unseeded", f"{prefix}-{kind}-{i}.bin", 16)
            )
            wanted.setdefault(kind, parse_torrent(torrent).infohash_v1)
            by_hand.add_torrent(daemon, torrent)
    try:
        found = {}
        for _ in range(10):  # qBittorrent registers added torrents asynchronously
            assert cli("poll", "--once").returncode == 0
            records = json.loads(cli.ok("status", "--no-refresh", "--json"))
            found = {r["client"]: r["client_download_id"] for r in records}
            if "(finding)" not in found:
                break
        assert found == {"qb": wanted["qb"], "tr": wanted["tr"]}
    finally:
        by_hand.remove_named(qbittorrent, prefix)
        by_hand.remove_named(transmission, prefix)
