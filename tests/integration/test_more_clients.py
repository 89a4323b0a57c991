"""Deluge, rTorrent and aria2, each on its real Debian daemon, driven through the `dlwatch` CLI:
`client add` prints the daemon's version; wrong credentials are one line; a real transfer (seeded
by qBittorrent through the tests' tracker) is followed to `completed` with the right path; pause and
resume with dlwatch; an error in the client becomes `failed` with its reason; removed in the client
becomes `missing`. rTorrent also over a unix socket and over HTTP behind a web server."""

from __future__ import annotations

import base64
import time
import uuid
import xmlrpc.client
from pathlib import Path

import pytest

from tests.integration.cli import Dlwatch, client_add_args
from tests.support import by_hand, payloads
from tests.support.daemons import Daemon
from tests.support.scgi_bridge import ScgiBridge
from tests.support.waiting import unique, wait_for

pytestmark = pytest.mark.integration

KINDS = ["deluge", "rtorrent", "aria2"]
DISPLAY = {"deluge": "Deluge", "rtorrent": "rTorrent", "aria2": "aria2"}
SIZE = 4 * 1024 * 1024


@pytest.fixture
def more(deluge, rtorrent, aria2) -> dict[str, Daemon]:
    return {"deluge": deluge, "rtorrent": rtorrent, "aria2": aria2}


def daemon_version(daemon: Daemon) -> str:
    """The version as the daemon itself reports it, asked without dlwatch."""
    if daemon.kind == "deluge":
        return str(by_hand.deluge(daemon, "daemon.get_version"))
    if daemon.kind == "rtorrent":
        return str(by_hand.rtorrent(daemon, "system.client_version"))
    return str(by_hand.aria2(daemon, "aria2.getVersion")["version"])


# rTorrent drops a .torrent without a tracker, so every torrent here names one (nobody listens there).
NO_TRACKER = "http://127.0.0.1:9/announce"


def unseeded_torrent(tmp_path: Path, prefix: str) -> Path:
    """A .torrent whose data nobody has: it stays unfinished for as long as a test needs."""
    name = unique(prefix)
    data = payloads.make_payload(tmp_path / "elsewhere", name, 1024 * 1024)
    return _torrent_file(tmp_path, data)


@pytest.mark.parametrize("kind", KINDS)
def test_client_add_prints_the_daemons_version(more, kind, tmp_path):
    daemon = more[kind]
    added = Dlwatch(tmp_path).try_add_client(kind, daemon)
    assert added.returncode == 0, added.stderr
    assert added.stdout.startswith(f"added {kind}: {DISPLAY[kind]} {daemon_version(daemon)}")


@pytest.mark.parametrize("kind", ["deluge", "aria2"])
def test_wrong_secret_is_one_line_and_nothing_is_saved(more, kind, tmp_path):
    cli = Dlwatch(tmp_path)
    result = cli.try_add_client(kind, more[kind], password="wrong")
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"error: {kind}: {DISPLAY[kind]} rejected the "), line
    assert cli.ok("client", "list").startswith("no clients yet")


@pytest.mark.parametrize("kind", KINDS)
def test_real_transfer_is_followed_to_completed_with_the_right_path(more, qbittorrent, tracker, kind, tmp_path):
    daemon = more[kind]
    cli = Dlwatch(tmp_path)
    cli.add_client("qb", qbittorrent)
    cli.add_client(kind, daemon)
    name = unique(f"dlw-qb2{kind}")
    seeded = cli.seed("qb", qbittorrent, name, SIZE, tracker.announce_url, tmp_path)
    data, torrent, seeding = seeded.data, seeded.torrent, seeded.record

    attempt = cli.send(torrent, "--client", kind, "--category", "tv")
    time.sleep(0.5)  # let the leecher register the torrent before qBittorrent dials it
    by_hand.connect_peers(qbittorrent, seeding["client_download_id"], daemon.peer_port)
    result = cli("watch", str(attempt["id"]), "--until-done", "--interval", "0.5", timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    expected = daemon.download_dir / name
    assert result.stdout.strip().splitlines()[-1].endswith(f"-> completed ({kind}) at {expected}")
    final = cli.status(attempt["id"])
    assert (final["raw_file_path"], final["progress"]) == (str(expected), 1.0)
    assert expected.read_bytes() == data.read_bytes()
    if kind != "aria2":  # aria2 has no categories (nor has Sonarr's aria2 client)
        assert final["category"] == "tv"


def _listed(daemon: Daemon) -> list[str]:
    """Every download the client holds, by its id (rTorrent: infohash; aria2: gid)."""
    if daemon.kind == "rtorrent":
        return [str(h).lower() for h in by_hand.rtorrent(daemon, "download_list", "")]
    keys = ["gid"]
    held = [
        *by_hand.aria2(daemon, "aria2.tellActive", keys),
        *by_hand.aria2(daemon, "aria2.tellWaiting", 0, 1000, keys),
        *by_hand.aria2(daemon, "aria2.tellStopped", 0, 1000, keys),
    ]
    return [d["gid"] for d in held]


@pytest.mark.parametrize("kind", ["rtorrent", "aria2"])
def test_remove_delete_data_where_the_api_cannot_dlwatch_deletes_the_files(more, qbittorrent, tracker, kind, tmp_path):
    """rTorrent and aria2 have no call that deletes files: dlwatch removes the download, then
    deletes the files the client listed for it, and nothing beside them."""
    daemon = more[kind]
    cli = Dlwatch(tmp_path)
    cli.add_client("qb", qbittorrent)
    cli.add_client(kind, daemon)
    name = unique(f"dlw-del-{kind}")
    seeded = cli.seed("qb", qbittorrent, name, SIZE, tracker.announce_url, tmp_path)
    attempt = cli.send(seeded.torrent, "--client", kind)
    time.sleep(0.5)  # let the leecher register the torrent before qBittorrent dials it
    by_hand.connect_peers(qbittorrent, seeded.record["client_download_id"], daemon.peer_port)
    done = cli("watch", str(attempt["id"]), "--until-done", "--interval", "0.5", timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    files = daemon.download_dir / name
    beside = daemon.download_dir / f"{name}-beside.txt"
    beside.write_text("not part of the download")
    assert files.is_file() and attempt["client_download_id"].lower() in [i.lower() for i in _listed(daemon)]

    result = cli("remove", str(attempt["id"]), "--delete-data", "--yes")
    assert result.returncode == 0, result.stderr
    assert "its data deleted (" in result.stdout and "file(s) deleted by dlwatch" in result.stdout
    assert wait_for(lambda: attempt["client_download_id"].lower() not in [i.lower() for i in _listed(daemon)])
    assert not files.exists() and not Path(f"{files}.aria2").exists()
    assert beside.read_text() == "not part of the download"
    assert cli.status(attempt["id"])["status"] == "removed"


@pytest.mark.parametrize("kind", KINDS)
def test_pause_and_resume_with_dlwatch_then_removed_in_the_client(more, kind, tmp_path):
    daemon = more[kind]
    cli = Dlwatch(tmp_path)
    cli.add_client(kind, daemon)
    # "missing" takes two answers without it, 10 s apart by default: 1 s is enough evidence here.
    (cli.home / "config.toml").write_text("[poll]\nmissing_gap = 1\n")
    attempt = cli.send(unseeded_torrent(tmp_path, "dlw-nopeers"), "--client", kind)
    wait_for(lambda: cli.status(attempt["id"])["status"] in ("stalled", "downloading", "queued"))
    cli.ok("pause", str(attempt["id"]))
    assert wait_for(lambda: cli.status(attempt["id"])["status"] == "paused")
    cli.ok("resume", str(attempt["id"]))
    assert wait_for(lambda: cli.status(attempt["id"])["status"] in ("stalled", "downloading", "queued"))
    by_hand.remove(daemon, attempt["client_download_id"])
    status = wait_for(lambda: (s := cli.status(attempt["id"]))["status"] == "missing" and s)
    assert "no longer in the client" in status["error"]
    assert "paused -> " in cli.ok("history", str(attempt["id"]))


def _torrent_file(tmp_path: Path, data: Path) -> Path:
    torrent = tmp_path / f"{data.name}.torrent"
    torrent.write_bytes(payloads.make_torrent(data, announce=NO_TRACKER))
    return torrent


def _blocked_dir(tmp_path: Path) -> str:
    """A download folder that cannot exist: below a regular file."""
    blocker = tmp_path / f"blocker-{uuid.uuid4().hex[:6]}"
    blocker.write_text("a file, not a folder")
    return str(blocker / "sub")


def test_deluge_error_becomes_failed_with_its_reason(deluge, tmp_path):
    cli = Dlwatch(tmp_path)
    cli.add_client("deluge", deluge)
    torrent = unseeded_torrent(tmp_path, "dlw-deluge-err").read_bytes()
    infohash = by_hand.deluge(
        deluge,
        "core.add_torrent_file",
        "err.torrent",
        base64.b64encode(torrent).decode(),
        {"download_location": _blocked_dir(tmp_path)},
    )
    attempt_id = int(cli.ok("track", "--client", "deluge", "--id", str(infohash)).strip())

    def failed() -> dict | None:
        # The add-time error shows once the torrent runs; a resume sent while Deluge is still
        # settling the add is sometimes dropped, so it is sent again while Deluge says paused.
        if by_hand.deluge(deluge, "core.get_torrent_status", infohash, ["paused"])["paused"]:
            by_hand.deluge(deluge, "core.resume_torrent", infohash)
        return (s := cli.status(attempt_id))["status"] == "failed" and s

    status = wait_for(failed)
    assert status["error"] == "Not a directory"


def test_aria2_error_becomes_failed_with_its_reason(aria2, tmp_path):
    cli = Dlwatch(tmp_path)
    cli.add_client("aria2", aria2)
    torrent = unseeded_torrent(tmp_path, "dlw-aria2-err").read_bytes()
    gid = by_hand.aria2(
        aria2, "aria2.addTorrent", base64.b64encode(torrent).decode(), [], {"dir": _blocked_dir(tmp_path)}
    )
    attempt_id = int(cli.ok("track", "--client", "aria2", "--id", str(gid)).strip())
    status = wait_for(lambda: (s := cli.status(attempt_id))["status"] == "failed" and s)
    assert "Not a directory" in status["error"]


def test_rtorrent_error_becomes_failed_with_its_reason(rtorrent, tmp_path):
    """A finished download whose file was deleted: rTorrent's recheck stops it with a message."""
    cli = Dlwatch(tmp_path)
    cli.add_client("rt", rtorrent)
    name = unique("dlw-rt-err")
    data = payloads.make_payload(rtorrent.download_dir, name, 1024 * 1024)
    torrent = _torrent_file(tmp_path, data).read_bytes()
    by_hand.rtorrent(rtorrent, "load.raw_start", "", xmlrpc.client.Binary(torrent))
    infohash = next(h for h in by_hand.rtorrent(rtorrent, "download_list", "") if _named(rtorrent, h, name))
    wait_for(lambda: by_hand.rtorrent(rtorrent, "d.complete", infohash) == 1)
    data.unlink()
    for method in ("d.stop", "d.close", "d.start"):
        by_hand.rtorrent(rtorrent, method, infohash)
    attempt_id = int(cli.ok("track", "--client", "rt", "--id", infohash).strip())
    status = wait_for(lambda: (s := cli.status(attempt_id))["status"] == "failed" and s)
    assert "hash check returned unfinished chunks" in status["error"]


def _named(daemon: Daemon, infohash: str, name: str) -> bool:
    return by_hand.rtorrent(daemon, "d.name", infohash) == name


def test_rtorrent_on_a_unix_socket(rtorrent_on_socket, tmp_path):
    daemon = rtorrent_on_socket
    cli = Dlwatch(tmp_path)
    result = cli(*client_add_args("rt", daemon))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"added rt: rTorrent {daemon_version(daemon)}")
    assert f"scgi://{daemon.extra['socket']}" in cli.ok("client", "list")
    name = unique("dlw-rt-sock")
    data = payloads.make_payload(daemon.download_dir, name, 512 * 1024)
    attempt = cli.send(_torrent_file(tmp_path, data), "--client", "rt")
    status = wait_for(lambda: (s := cli.status(attempt["id"]))["status"] == "completed" and s)
    assert status["raw_file_path"] == str(daemon.download_dir / name)


def test_rtorrent_over_http_behind_a_web_server_with_basic_auth(rtorrent, tmp_path):
    bridge = ScgiBridge(rtorrent.port, "dlw", "bridge-pass").start()
    try:
        cli = Dlwatch(tmp_path)
        args = ["client", "add", "rt", "--type", "rtorrent", "--host", "127.0.0.1", "--port", str(bridge.port)]
        args += ["--url-base", "/RPC2", "--username", "dlw", "--password-stdin"]
        wrong = cli(*args, stdin="not-it\n")
        assert wrong.returncode == 1
        [line] = wrong.stderr.strip().splitlines()
        assert "rejected the credentials (HTTP 401 at /RPC2)" in line
        assert cli(*args, stdin="bridge-pass\n").returncode == 0
        name = unique("dlw-rt-http")
        data = payloads.make_payload(rtorrent.download_dir, name, 512 * 1024)
        attempt = cli.send(_torrent_file(tmp_path, data), "--client", "rt")
        status = wait_for(lambda: (s := cli.status(attempt["id"]))["status"] == "completed" and s)
        assert status["raw_file_path"] == str(rtorrent.download_dir / name)
    finally:
        bridge.stop()


def test_aria2_magnet_is_followed_across_its_handover(aria2, qbittorrent, tracker, tmp_path):
    """A magnet is a metadata download first; the attempt moves to the download that follows it."""
    cli = Dlwatch(tmp_path)
    cli.add_client("qb", qbittorrent)
    cli.add_client("aria2", aria2)
    name = unique("dlw-a2-magnet")
    seeded = cli.seed("qb", qbittorrent, name, 1024 * 1024, tracker.announce_url, tmp_path)
    seeding = seeded.record
    infohash = seeding["client_download_id"]
    magnet = f"magnet:?xt=urn:btih:{infohash}&dn={name}&tr={tracker.announce_url}"
    attempt = cli.send(magnet, "--client", "aria2")
    first_gid = attempt["client_download_id"]
    time.sleep(0.5)
    by_hand.connect_peers(qbittorrent, infohash, aria2.peer_port)
    status = wait_for(lambda: (s := cli.status(attempt["id"]))["status"] == "completed" and s, timeout=90)
    assert status["client_download_id"] != first_gid  # the real download's gid
    assert status["raw_file_path"] == str(aria2.download_dir / name)
    assert by_hand.aria2(aria2, "aria2.tellStatus", status["client_download_id"], ["following"])["following"] == (
        first_gid
    )
