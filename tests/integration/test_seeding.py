"""Seeding to a goal, then removal only after the import, on the real daemons: a torrent dlwatch
sent to Transmission, qBittorrent or Deluge seeds to a second client until ratio 1.0. The goal is
met once (`seeding goal met`, one event); with [seeding] action = "remove" it stays `held` while a
stand-in Sonarr (answers built from Sonarr's OpenAPI description, as in tests/fixtures/sonarr)
reports the import pending, and `status` says why; once Sonarr's history says imported, the next
poll removes it from the client and its files stay."""

from __future__ import annotations

import copy
import json
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

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


SEEDERS = ("transmission", "qbittorrent", "deluge")


@dataclass
class Seeding:
    """One seeder's run: its dlwatch home, stand-in Sonarr, torrent and leecher."""

    kind: str
    cli: Dlwatch
    sonarr: JsonServer
    source: object
    leecher: object
    name: str
    infohash: str = ""
    attempt_id: int = 0
    data: Path | None = None
    torrent: Path | None = None


def test_seeded_to_ratio_one_then_removed_only_after_the_import(tmp_path, transmission, qbittorrent, deluge, tracker):
    """The three seeders at once (each with its own home and Sonarr): the test waits as long as the
    slowest, not as long as all three."""
    daemons = {"transmission": transmission, "qbittorrent": qbittorrent, "deluge": deluge}
    runs = []
    with ExitStack() as stack:
        for kind in SEEDERS:
            folder = tmp_path / kind
            folder.mkdir()
            sonarr = stack.enter_context(JsonServer())
            leecher = transmission if kind == "qbittorrent" else qbittorrent
            runs.append(Seeding(kind, Dlwatch(folder), sonarr, daemons[kind], leecher, unique(f"dlw-seed-{kind[:2]}")))
        try:
            for run in runs:
                start(run, tracker)
                by_hand.start_now(run.source, run.infohash)  # past the upload slots earlier tests took
            for run in runs:
                by_hand.add_torrent(run.leecher, run.torrent.read_bytes())
                by_hand.start_now(run.leecher, run.infohash)
                peer = run.leecher if run.kind == "qbittorrent" else run.source
                by_hand.connect_peers(qbittorrent, run.infohash, peer.peer_port)

            waiting = list(runs)

            def all_held() -> bool:
                for run in list(waiting):
                    assert run.cli("poll", "--once").returncode == 0
                    if run.cli.status_no_refresh(run.attempt_id)["seed_state"] == "held":
                        waiting.remove(run)
                return not waiting

            try:
                wait_for(all_held, timeout=90, every=0.5)
            except AssertionError:
                stuck = {r.kind: r.cli.status_no_refresh(r.attempt_id) for r in waiting}
                raise AssertionError(
                    {k: {f: v[f] for f in ("seed_state", "ratio", "raw_state")} for k, v in stuck.items()}
                ) from None
            for run in runs:
                check_held(run)
            for run in runs:
                check_removed_after_the_import(run)
        finally:
            for run in runs:
                clean_up(run)


def start(run: Seeding, tracker) -> None:
    """Its home set to seed to ratio 1.0 and then remove, its Sonarr knowing no download yet, and
    the torrent sent to the seeder with dlwatch and followed until it seeds."""
    run.cli.home.mkdir(parents=True, exist_ok=True)
    (run.cli.home / "config.toml").write_text('[seeding]\nratio = 1.0\naction = "remove"\n')
    run.cli.add_client("seeder", run.source)
    run.sonarr.routes["/api/v3/queue"] = (200, sonarr_queue("0" * 40, None))
    run.cli.ok(
        "arr", "add", "sonarr", "--app", "sonarr", "--url", run.sonarr.url, "--api-key-stdin", "--no-test", stdin="k\n"
    )
    seeded = run.cli.seed("seeder", run.source, run.name, SIZE, tracker.announce_url, run.cli.home.parent)
    run.infohash, run.attempt_id = seeded.record["client_download_id"], seeded.record["id"]
    run.data, run.torrent = seeded.data, seeded.torrent
    run.sonarr.routes["/api/v3/queue"] = (200, sonarr_queue(run.infohash, "importPending"))


def check_held(run: Seeding) -> None:
    """Goal met, told once; kept, since Sonarr has not imported it; `status` says why."""
    for _ in range(2):  # more polls: still held, the goal not told again
        assert run.cli("poll", "--once").returncode == 0
    held = run.cli.status_no_refresh(run.attempt_id)
    assert (held["status"], held["import_state"]) == ("completed", "pending"), run.kind
    assert held["ratio"] >= 1.0 and held["uploaded_bytes"] in (None, *range(SIZE, 2 * SIZE)), held
    assert run.infohash in torrents_in(run.source), run.kind  # the goal is met, but not the import
    events = json.loads(run.cli.ok("history", str(run.attempt_id), "--json"))
    assert [e["what"] for e in events].count("seeding_goal") == 1, run.kind
    [line] = [x for x in run.cli.ok("status").splitlines() if x.startswith(f"{run.attempt_id}\t")]
    assert "held; goal met: ratio" in line and "kept until imported: sonarr has not reported" in line


def check_removed_after_the_import(run: Seeding) -> None:
    run.sonarr.routes["/api/v3/queue"] = (200, sonarr_queue(run.infohash, None))
    run.sonarr.routes["/api/v3/history/since"] = (200, sonarr_history(run.infohash))
    assert run.cli("poll", "--once").returncode == 0
    final = run.cli.status_no_refresh(run.attempt_id)
    assert (final["status"], final["seed_state"], final["import_state"]) == ("removed", "removed", "imported")
    assert final["error"].endswith("and imported by sonarr; removed with dlwatch")
    assert run.infohash not in torrents_in(run.source), run.kind
    assert run.data.exists()  # action "remove" keeps the files


def clean_up(run: Seeding) -> None:
    if run.kind == "deluge":
        if run.infohash and run.infohash in torrents_in(run.source):
            by_hand.deluge(run.source, "core.remove_torrent", run.infohash, True)
    else:
        by_hand.remove_named(run.source, run.name)
    by_hand.remove_named(run.leecher, run.name)
