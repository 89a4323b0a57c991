"""Seeding to a goal, then removal only after the import, on the real daemons: a torrent dlwatch
sent to Transmission, qBittorrent or Deluge seeds to a second client until ratio 1.0. The goal is
met once (`seeding goal met`, one event); with [seeding] action = "remove" it stays `held` while a
stand-in Sonarr (answers built from Sonarr's OpenAPI description, as in tests/fixtures/sonarr)
reports the import pending, and `status` says why; once Sonarr's history says imported, the next
poll removes it from the client and its files stay."""

from __future__ import annotations

import copy
import json

import pytest

from tests.conftest import fixture_body
from tests.integration.cli import Dlwatch
from tests.support import by_hand
from tests.support.jsonserver import JsonServer
from tests.support.waiting import unique, wait_for

pytestmark = pytest.mark.integration

SIZE = 3 * 1024 * 1024


def sonarr_queue(infohash: str, state: str | None) -> dict:
    """Sonarr's queue (the built fixture's shape) holding this download in `state`, or not at all."""
    body = copy.deepcopy(fixture_body("sonarr/queue_import_blocked.json"))
    records = [r for r in body["records"] if r.get("protocol") != "torrent"]
    if state is not None:
        [torrent] = [r for r in body["records"] if r.get("protocol") == "torrent"]
        torrent.update(downloadId=infohash.upper(), trackedDownloadState=state, trackedDownloadStatus="ok")
        torrent.update(statusMessages=[], errorMessage="")
        records.append(torrent)
    body["records"], body["totalRecords"] = records, len(records)
    return body


def sonarr_history(infohash: str) -> list[dict]:
    records = copy.deepcopy(fixture_body("sonarr/history_since_imported.json"))
    for record in records:
        record["downloadId"] = infohash.upper()
    return records


def torrents_in(daemon) -> list[str]:
    if daemon.kind == "deluge":
        return [h.lower() for h in by_hand.deluge(daemon, "core.get_session_state")]
    return [h.lower() for h in by_hand.hashes(daemon)]


@pytest.mark.parametrize("seeder", ["transmission", "qbittorrent", "deluge"])
def test_seeded_to_ratio_one_then_removed_only_after_the_import(
    seeder, tmp_path, transmission, qbittorrent, deluge, tracker
):
    daemons = {"transmission": transmission, "qbittorrent": qbittorrent, "deluge": deluge}
    source = daemons[seeder]
    leecher = transmission if seeder == "qbittorrent" else qbittorrent
    cli = Dlwatch(tmp_path)
    cli.home.mkdir(parents=True, exist_ok=True)
    (cli.home / "config.toml").write_text('[seeding]\nratio = 1.0\naction = "remove"\n')
    cli.add_client("seeder", source)
    name = unique(f"dlw-seed-{seeder[:2]}")
    with JsonServer() as sonarr:
        sonarr.routes["/api/v3/queue"] = (200, sonarr_queue("0" * 40, None))
        cli.ok(
            "arr", "add", "sonarr", "--app", "sonarr", "--url", sonarr.url, "--api-key-stdin", "--no-test", stdin="k\n"
        )
        seeded = cli.seed("seeder", source, name, SIZE, tracker.announce_url, tmp_path)
        infohash, attempt_id = seeded.record["client_download_id"], seeded.record["id"]
        sonarr.routes["/api/v3/queue"] = (200, sonarr_queue(infohash, "importPending"))
        try:
            by_hand.add_torrent(leecher, seeded.torrent.read_bytes())
            by_hand.connect_peers(qbittorrent, infohash, (leecher if seeder == "qbittorrent" else source).peer_port)

            def goal_met() -> bool:
                assert cli("poll", "--once").returncode == 0
                return cli.status_no_refresh(attempt_id)["seed_state"] == "held"

            wait_for(goal_met, timeout=90, every=0.5)
            for _ in range(2):  # more polls: still held, the goal not told again
                assert cli("poll", "--once").returncode == 0
            held = cli.status_no_refresh(attempt_id)
            assert (held["status"], held["import_state"]) == ("completed", "pending")
            assert held["ratio"] >= 1.0 and held["uploaded_bytes"] in (None, *range(SIZE, 2 * SIZE))
            assert infohash in torrents_in(source)  # the goal is met, but Sonarr has not imported it
            events = json.loads(cli.ok("history", str(attempt_id), "--json"))
            assert [e["what"] for e in events].count("seeding_goal") == 1
            [line] = [x for x in cli.ok("status").splitlines() if x.startswith(f"{attempt_id}\t")]
            assert "held; goal met: ratio" in line and "kept until imported: sonarr has not reported" in line

            sonarr.routes["/api/v3/queue"] = (200, sonarr_queue(infohash, None))
            sonarr.routes["/api/v3/history/since"] = (200, sonarr_history(infohash))
            assert cli("poll", "--once").returncode == 0
            final = cli.status_no_refresh(attempt_id)
            assert (final["status"], final["seed_state"], final["import_state"]) == ("removed", "removed", "imported")
            assert final["error"].endswith("and imported by sonarr; removed with dlwatch")
            assert infohash not in torrents_in(source)
            assert seeded.data.exists()  # action "remove" keeps the files
        finally:
            if seeder == "deluge" and infohash in torrents_in(source):
                by_hand.deluge(source, "core.remove_torrent", infohash, True)
            elif seeder != "deluge":
                by_hand.remove_named(source, name)
            by_hand.remove_named(leecher, name)
