"""pause, resume and remove through the clients' own APIs, on the real daemons: the client really
does it, the attempt records it, and --delete-data deletes the download's files and only them."""

from __future__ import annotations

import json
import os
import uuid

import pytest

from tests.integration.cli import Dlwatch
from tests.support import by_hand, nntp, payloads
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
def cli(tmp_path, transmission, qbittorrent):
    cli = Dlwatch(tmp_path)
    cli.add_client("tr", transmission)
    cli.add_client("qb", qbittorrent)
    yield cli
    for daemon in (transmission, qbittorrent):
        by_hand.remove_named(daemon, "dlw-act-")


def client_state(daemon, infohash: str) -> str:
    if daemon.kind == "qbittorrent":
        with by_hand.qbittorrent(daemon) as client:
            return client.get("/torrents/info", params={"hashes": infohash}).json()[0]["state"]
    [torrent] = by_hand.transmission(daemon, "torrent-get", {"ids": [infohash], "fields": ["status"]})["torrents"]
    return str(torrent["status"])


PAUSED = {"qbittorrent": ("pausedDL", "stoppedDL"), "transmission": ("0",)}


@pytest.mark.parametrize("name", ["tr", "qb"])
def test_pause_and_resume_in_the_client_itself(cli, transmission, qbittorrent, tmp_path, name):
    daemon = {"tr": transmission, "qb": qbittorrent}[name]
    data = payloads.make_payload(tmp_path / "elsewhere", f"dlw-act-{uuid.uuid4().hex[:8]}.bin", 256 * 1024)
    torrent = tmp_path / "t.torrent"
    torrent.write_bytes(payloads.make_torrent(data))
    attempt = cli.send(torrent, "--client", name)
    wait_for(lambda: cli("poll", "--once") and cli.status_no_refresh(attempt["id"])["raw_state"])
    result = cli("pause", str(attempt["id"]))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{attempt['id']} {data.name}: paused with dlwatch ({name})"
    assert wait_for(lambda: client_state(daemon, attempt["client_download_id"]) in PAUSED[daemon.kind])
    cli("poll", "--once")
    assert cli.status_no_refresh(attempt["id"])["status"] == "paused"
    [record] = json.loads(cli.ok("resume", str(attempt["id"]), "--json"))
    assert (record["ok"], record["action"], record["client"]) == (True, "resume", name)
    assert wait_for(lambda: client_state(daemon, attempt["client_download_id"]) not in PAUSED[daemon.kind])
    history = cli.ok("history", str(attempt["id"]))
    assert "paused with dlwatch" in history and "resumed with dlwatch" in history


@pytest.mark.parametrize("name", ["tr", "qb"])
def test_remove_with_delete_data_deletes_its_files_and_only_them(cli, transmission, qbittorrent, tmp_path, name):
    daemon = {"tr": transmission, "qb": qbittorrent}[name]
    stem = f"dlw-act-{uuid.uuid4().hex[:8]}"
    data = payloads.make_payload(daemon.download_dir, f"{stem}.bin", 512 * 1024)  # complete: it seeds
    neighbour = payloads.make_payload(daemon.download_dir, f"{stem}-neighbour.bin", 1024)
    torrent = tmp_path / "t.torrent"
    torrent.write_bytes(payloads.make_torrent(data))
    attempt = cli.send(torrent, "--client", name)
    wait_for(lambda: cli("poll", "--once") and cli.status_no_refresh(attempt["id"])["status"] == "completed")
    refused = cli("remove", str(attempt["id"]), "--delete-data")  # no terminal, no --yes
    assert refused.returncode == 2 and "--yes" in refused.stderr and data.exists()
    result = cli("remove", str(attempt["id"]), "--delete-data", "--yes")
    assert result.returncode == 0, result.stderr
    assert "removed with dlwatch, its data deleted" in result.stdout
    wait_for(lambda: not data.exists())
    assert neighbour.exists()  # only its own files
    assert attempt["client_download_id"] not in [h.lower() for h in by_hand.hashes(daemon)]
    assert cli.status_no_refresh(attempt["id"])["status"] == "removed"
    again = cli("remove", str(attempt["id"]))
    assert again.returncode == 1 and "FAILED already removed" in again.stderr
    assert cli("poll", "--once").stdout == ""  # final: not polled again, no "missing"


def test_nzbget_pause_resume_and_remove(nzbget_with_news, news, tmp_path):
    cli = Dlwatch(tmp_path)
    cli.add_client("nzb", nzbget_with_news)
    posting = news.add(nntp.make_posting(f"dlw-act-{uuid.uuid4().hex[:8]}.bin", os.urandom(16 * 1024 * 1024)))
    attempt = cli.send(nntp.write_nzb(posting, tmp_path))
    job = int(attempt["client_download_id"])

    def job_status() -> str:
        groups = by_hand.nzbget(nzbget_with_news, "listgroups", 0)
        return next((g["Status"] for g in groups if g["NZBID"] == job), "gone")

    assert cli("pause", str(attempt["id"])).returncode == 0
    assert wait_for(lambda: job_status() == "PAUSED")
    assert cli("resume", str(attempt["id"])).returncode == 0
    assert wait_for(lambda: job_status() in ("QUEUED", "DOWNLOADING"))
    result = cli("remove", str(attempt["id"]), "--json")
    assert json.loads(result.stdout)[0]["status"] == "removed"
    assert wait_for(lambda: job_status() == "gone")


def test_retry_sends_a_removed_torrent_to_the_real_client_again(cli, transmission, tmp_path):
    data = payloads.make_payload(tmp_path / "elsewhere", f"dlw-act-{uuid.uuid4().hex[:8]}.bin", 128 * 1024)
    torrent = tmp_path / "t.torrent"
    torrent.write_bytes(payloads.make_torrent(data))
    first = cli.send(torrent, "--client", "tr")
    torrent.unlink()  # dlwatch kept what it sent: the file is not needed again
    assert cli("remove", str(first["id"])).returncode == 0
    wait_for(lambda: first["client_download_id"] not in [h.lower() for h in by_hand.hashes(transmission)])
    again = json.loads(cli.ok("retry", str(first["id"]), "--json"))
    assert (again["retry_of"], again["client"], again["client_download_id"]) == (
        first["id"],
        "tr",
        first["client_download_id"],
    )
    assert again["id"] > first["id"]
    assert wait_for(lambda: first["client_download_id"] in [h.lower() for h in by_hand.hashes(transmission)])
