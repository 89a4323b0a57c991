"""The lifecycle users care about, against the real daemons, driven through the `dlwatch` CLI:
send → downloading (0 < progress < 1) → completed with the right path; paused in the client →
paused; removed in the client → missing; a client stopped during `watch` → an error, then recovery;
a download added by hand → adopted with `track --title`; an NZB with missing articles → failed."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.integration.cli import Dlwatch
from tests.support import by_hand, nntp, payloads
from tests.support.waiting import unique, wait_for

pytestmark = pytest.mark.integration

RATE = 1024 * 1024  # bytes/s: an 6 MiB payload takes a few seconds, so progress is observable
SIZE = 6 * 1024 * 1024


@pytest.fixture
def dlwatch(tmp_path, transmission, qbittorrent):
    cli = Dlwatch(tmp_path)
    cli.add_client("tr", transmission)
    cli.add_client("qb", qbittorrent)
    return cli


@pytest.mark.parametrize(("seeder", "leecher"), [("tr", "qb"), ("qb", "tr")])
def test_real_transfer_is_followed_to_completed_with_the_right_path(
    dlwatch, transmission, qbittorrent, tracker, tmp_path, seeder, leecher
):
    daemons = {"tr": transmission, "qb": qbittorrent}
    name = unique(f"dlw-{seeder}2{leecher}")
    seeded = dlwatch.seed(seeder, daemons[seeder], name, SIZE, tracker.announce_url, tmp_path)
    data, torrent, seeding = seeded.data, seeded.torrent, seeded.record

    by_hand.limit_download(daemons[leecher], RATE)
    attempt = dlwatch.send(torrent, "--client", leecher, "--ref", "test:1")
    assert attempt["client_download_id"] == seeding["client_download_id"]  # the infohash dlwatch computed
    time.sleep(0.5)  # let the leecher register the torrent before qBittorrent dials Transmission
    by_hand.connect_peers(qbittorrent, attempt["client_download_id"], transmission.peer_port)

    def partly_downloaded():
        """downloading with 0 < progress < 1"""
        status = dlwatch.status(attempt["id"])
        return status["status"] == "downloading" and 0 < status["progress"] < 1

    wait_for(partly_downloaded, timeout=60, every=0.2)
    result = dlwatch("watch", str(attempt["id"]), "--until-done", "--interval", "0.5", timeout=120)
    assert result.returncode == 0, result.stderr
    expected = daemons[leecher].download_dir / name
    assert result.stdout.strip().splitlines()[-1].endswith(f"-> completed ({leecher}) at {expected}")
    final = dlwatch.status(attempt["id"])
    assert (final["raw_file_path"], final["progress"], final["ref"]) == (str(expected), 1.0, "test:1")
    assert expected.read_bytes() == data.read_bytes()


@pytest.mark.parametrize("kind", ["tr", "qb"])
def test_paused_then_removed_in_the_client(dlwatch, transmission, qbittorrent, tmp_path, kind):
    daemon = {"tr": transmission, "qb": qbittorrent}[kind]
    name = unique("dlw-nopeers")
    data = payloads.make_payload(tmp_path / "elsewhere", name, 1024 * 1024)  # nobody seeds this
    torrent = tmp_path / f"{name}.torrent"
    torrent.write_bytes(payloads.make_torrent(data))
    (dlwatch.home / "config.toml").write_text("[poll]\nmissing_gap = 1\n")  # 10 s by default
    attempt = dlwatch.send(torrent, "--client", kind)
    wait_for(lambda: dlwatch.status(attempt["id"])["status"] in ("stalled", "downloading", "queued"))
    by_hand.pause(daemon, attempt["client_download_id"])
    wait_for(lambda: dlwatch.status(attempt["id"])["status"] == "paused")
    by_hand.remove(daemon, attempt["client_download_id"])
    status = wait_for(lambda: (s := dlwatch.status(attempt["id"]))["status"] == "missing" and s)
    assert "no longer in the client" in status["error"]
    history = dlwatch.ok("history", str(attempt["id"]))
    assert "paused -> missing" in history


def test_a_client_stopped_during_watch_is_reported_then_recovers(dlwatch, transmission, tmp_path):
    name = unique("dlw-restart")
    data = payloads.make_payload(tmp_path / "elsewhere", name, 1024 * 1024)
    torrent = tmp_path / f"{name}.torrent"
    torrent.write_bytes(payloads.make_torrent(data))
    attempt = dlwatch.send(torrent, "--client", "tr")
    watch = dlwatch.popen("watch", str(attempt["id"]), "--until-done", "--interval", "0.5")
    try:
        time.sleep(1.5)
        transmission.stop()
        time.sleep(2)
        transmission.restart()
        time.sleep(1)
        by_hand.remove(transmission, attempt["client_download_id"])
        out, err = watch.communicate(timeout=60)
    finally:
        if watch.poll() is None:
            watch.kill()
    assert watch.returncode == 1  # it ended missing, not completed
    assert f"error: tr: cannot connect to {transmission.url}" in err
    assert "-> missing (tr)" in out  # seen after the daemon came back


def test_download_added_by_hand_is_adopted_by_title(dlwatch, qbittorrent, tmp_path):
    name = unique("Some.Show.S01E01")
    data = payloads.make_payload(qbittorrent.download_dir, name, 512 * 1024)
    torrent = payloads.make_torrent(data)
    by_hand.add_torrent(qbittorrent, torrent)
    title = name.removesuffix(".bin").replace(".", " ").upper()  # as a user might type it
    attempt_id = wait_for(lambda: dlwatch("track", "--client", "qb", "--title", title).stdout.strip())
    status = wait_for(lambda: (s := dlwatch.status(int(attempt_id)))["status"] == "completed" and s)
    assert status["title"] == name
    assert status["raw_file_path"] == str(qbittorrent.download_dir / name)


def test_wrong_password_in_the_keyring_is_a_one_line_auth_error(dlwatch, qbittorrent):
    dlwatch.ok("client", "edit", "qb", "--password-stdin", "--no-test", stdin="not-the-password\n")
    result = dlwatch("client", "test", "qb")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip() == (
        "FAILED qb: qBittorrent rejected the username or password; "
        "fix it with `dlwatch client edit qb --password-stdin`"
    )


def test_nzbget_downloads_a_real_nzb_and_fails_one_with_missing_articles(nzbget_with_news, news, tmp_path):
    cli = Dlwatch(tmp_path)
    cli.add_client("nzb", nzbget_with_news)
    good = news.add(nntp.make_posting(unique("dlw-nzb-good"), os.urandom(3 * 1024 * 1024)))
    broken = news.add(nntp.make_posting(unique("dlw-nzb-broken"), os.urandom(2 * 1024 * 1024)), leave_out={2, 3})
    good_attempt = cli.send(nntp.write_nzb(good, tmp_path))
    assert good_attempt["client_type"] == "nzbget" and int(good_attempt["client_download_id"]) > 0

    def partly_downloaded():
        """downloading with 0 < progress < 1"""
        status = cli.status(good_attempt["id"])
        return status["status"] == "downloading" and 0 < status["progress"] < 1

    wait_for(partly_downloaded, timeout=30, every=0.2)
    broken_attempt = cli.send(nntp.write_nzb(broken, tmp_path))
    result = cli("watch", "--until-done", "--interval", "0.5", timeout=120)
    assert result.returncode == 1  # one of them failed
    done, failed = cli.status(good_attempt["id"]), cli.status(broken_attempt["id"])
    assert done["status"] == "completed"
    files = list(Path(done["raw_file_path"]).rglob(good.name))
    assert files and files[0].read_bytes() == good.data
    assert failed["status"] == "failed"
    assert failed["error"].startswith("health check failed: too many articles are missing")


def test_nzbget_job_paused_then_deleted_by_hand(nzbget_with_news, news, tmp_path):
    cli = Dlwatch(tmp_path)
    cli.add_client("nzb", nzbget_with_news)
    posting = news.add(nntp.make_posting(unique("dlw-nzb-pause"), os.urandom(8 * 1024 * 1024)))
    attempt = cli.send(nntp.write_nzb(posting, tmp_path))
    by_hand.pause(nzbget_with_news, attempt["client_download_id"])
    assert wait_for(lambda: cli.status(attempt["id"])["status"] == "paused")
    assert "-> paused" in cli.ok("history", str(attempt["id"]))
    by_hand.nzbget(nzbget_with_news, "editqueue", "GroupDelete", "", [int(attempt["client_download_id"])])
    # NZBGet keeps a deleted job in its history (DELETED/MANUAL): that says how it ended, so not "missing"
    status = wait_for(lambda: (s := cli.status(attempt["id"]))["status"] == "failed" and s)
    assert status["error"] == "deleted in NZBGet"
