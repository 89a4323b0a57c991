"""What a user would do in a client's own UI (pause, remove, add by hand, limit speed), done through
the client's API directly, so tests can check how dlwatch sees it."""

from __future__ import annotations

import base64
import contextlib
import socket
import time
import xmlrpc.client
from collections.abc import Iterator

import httpx

from .daemons import Daemon


@contextlib.contextmanager
def qbittorrent(daemon: Daemon) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{daemon.url}/api/v2", timeout=10) as client:
        client.post("/auth/login", data={"username": daemon.username, "password": daemon.password}).raise_for_status()
        yield client


def transmission(
    daemon: Daemon, method: str, arguments: dict | None = None, *, http: httpx.Client | None = None
) -> dict:
    """One RPC call; with `http`, over that connection (each call of httpx.post builds a new client)."""
    url = f"{daemon.url}/transmission/rpc"
    auth = (daemon.username, daemon.password)
    payload = {"method": method, "arguments": arguments or {}}
    post = (http or httpx).post
    response = post(url, json=payload, auth=auth, timeout=10)
    if response.status_code == 409:
        headers = {"X-Transmission-Session-Id": response.headers["X-Transmission-Session-Id"]}
        response = post(url, json=payload, auth=auth, headers=headers, timeout=10)
    response.raise_for_status()
    body = response.json()
    assert body["result"] == "success", body
    return body["arguments"]


def nzbget(daemon: Daemon, method: str, *params) -> object:
    response = httpx.post(
        f"{daemon.url}/jsonrpc",
        json={"method": method, "params": list(params), "id": 1},
        auth=(daemon.username, daemon.password),
        timeout=10,
    )
    response.raise_for_status()
    return response.json()["result"]


def deluge(daemon: Daemon, method: str, *params) -> object:
    with httpx.Client(base_url=daemon.url, timeout=10) as client:
        login = client.post("/json", json={"method": "auth.login", "params": [daemon.password], "id": 1}).json()
        assert login["result"] is True, login
        body = client.post("/json", json={"method": method, "params": list(params), "id": 2}).json()
    assert body["error"] is None, body
    return body["result"]


def rtorrent(daemon: Daemon, method: str, *params) -> object:
    """One XML-RPC call over rTorrent's own SCGI socket (TCP or unix)."""
    body = xmlrpc.client.dumps(params, method).encode()
    headers = b"CONTENT_LENGTH\0%d\0SCGI\x001\0" % len(body)
    if "socket" in daemon.extra:
        sock = socket.socket(socket.AF_UNIX)
        sock.connect(daemon.extra["socket"])
    else:
        sock = socket.create_connection(("127.0.0.1", daemon.port), timeout=10)
    with sock:
        sock.sendall(b"%d:%s,%s" % (len(headers), headers, body))
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    (result,), _ = xmlrpc.client.loads(answer.split(b"\r\n\r\n", 1)[1])
    return result


def aria2(daemon: Daemon, method: str, *params) -> object:
    payload = {"jsonrpc": "2.0", "id": 1, "method": method, "params": [f"token:{daemon.password}", *params]}
    body = httpx.post(f"{daemon.url}/jsonrpc", json=payload, timeout=10).json()
    assert "error" not in body, body
    return body["result"]


def limit_download(daemon: Daemon, bytes_per_second: int) -> None:
    """Cap the client's download speed; 0 takes the cap away."""
    if daemon.kind == "qbittorrent":
        with qbittorrent(daemon) as client:
            client.post("/transfer/setDownloadLimit", data={"limit": str(bytes_per_second)}).raise_for_status()
    elif daemon.kind == "transmission":
        # 0 is no limit, as for the others (enabled with 0 KiB/s, Transmission would stop downloading).
        kib = max(1, bytes_per_second // 1024)
        transmission(daemon, "session-set", {"speed-limit-down": kib, "speed-limit-down-enabled": bytes_per_second > 0})
    elif daemon.kind == "deluge":
        deluge(daemon, "core.set_config", {"max_download_speed": bytes_per_second / 1024 if bytes_per_second else -1})
    elif daemon.kind == "rtorrent":
        rtorrent(daemon, "throttle.global_down.max_rate.set", "", bytes_per_second)
    elif daemon.kind == "aria2":
        aria2(daemon, "aria2.changeGlobalOption", {"max-overall-download-limit": str(bytes_per_second)})


def pause(daemon: Daemon, download_id: str) -> None:
    if daemon.kind == "qbittorrent":
        with qbittorrent(daemon) as client:
            client.post("/torrents/pause", data={"hashes": download_id}).raise_for_status()
    elif daemon.kind == "transmission":
        transmission(daemon, "torrent-stop", {"ids": [download_id]})
    elif daemon.kind == "deluge":
        deluge(daemon, "core.pause_torrent", download_id)
    elif daemon.kind == "rtorrent":
        rtorrent(daemon, "d.stop", download_id.upper())
    elif daemon.kind == "aria2":
        aria2(daemon, "aria2.forcePause", download_id)
    else:
        assert nzbget(daemon, "editqueue", "GroupPause", "", [int(download_id)]) is True


def resume(daemon: Daemon, download_id: str) -> None:
    if daemon.kind == "qbittorrent":
        with qbittorrent(daemon) as client:
            client.post("/torrents/resume", data={"hashes": download_id}).raise_for_status()
    elif daemon.kind == "transmission":
        transmission(daemon, "torrent-start", {"ids": [download_id]})
    else:
        assert nzbget(daemon, "editqueue", "GroupResume", "", [int(download_id)]) is True


def remove(daemon: Daemon, download_id: str) -> None:
    if daemon.kind == "qbittorrent":
        with qbittorrent(daemon) as client:
            client.post("/torrents/delete", data={"hashes": download_id, "deleteFiles": "true"}).raise_for_status()
    elif daemon.kind == "deluge":
        deluge(daemon, "core.remove_torrent", download_id, True)
    elif daemon.kind == "rtorrent":
        rtorrent(daemon, "d.erase", download_id.upper())
    elif daemon.kind == "aria2":
        # Gone without a trace, as when aria2 restarts without a session file.
        aria2(daemon, "aria2.forceRemove", download_id)
        for _ in range(50):
            if aria2(daemon, "aria2.tellStatus", download_id, ["status"])["status"] == "removed":
                break
            time.sleep(0.1)
        aria2(daemon, "aria2.removeDownloadResult", download_id)
    else:
        transmission(daemon, "torrent-remove", {"ids": [download_id], "delete-local-data": True})


def hashes(daemon: Daemon) -> list[str]:
    """The infohash of every torrent the client holds."""
    if daemon.kind == "qbittorrent":
        with qbittorrent(daemon) as client:
            return [t["hash"] for t in client.get("/torrents/info").json()]
    return [t["hashString"] for t in transmission(daemon, "torrent-get", {"fields": ["hashString"]})["torrents"]]


def remove_named(daemon: Daemon, prefix: str | tuple[str, ...]) -> None:
    """Remove every torrent whose name starts with `prefix`: tests that leave idle torrents behind
    would fill the clients' download queues (Transmission starts 5 at a time, qBittorrent 3), and a
    later test's transfer would wait in line."""
    if daemon.kind == "qbittorrent":
        with qbittorrent(daemon) as client:
            hashes = [t["hash"] for t in client.get("/torrents/info").json() if t["name"].startswith(prefix)]
            for start in range(0, len(hashes), 300):
                client.post(
                    "/torrents/delete", data={"hashes": "|".join(hashes[start : start + 300]), "deleteFiles": "true"}
                )
        return
    torrents = transmission(daemon, "torrent-get", {"fields": ["hashString", "name"]})["torrents"]
    hashes = [t["hashString"] for t in torrents if t["name"].startswith(prefix)]
    if hashes:
        transmission(daemon, "torrent-remove", {"ids": hashes, "delete-local-data": True})


def add_torrent(daemon: Daemon, torrent: bytes) -> None:
    if daemon.kind == "qbittorrent":
        with qbittorrent(daemon) as client:
            response = client.post("/torrents/add", files={"torrents": ("by-hand.torrent", torrent)})
            assert response.text == "Ok.", response.text
    else:
        transmission(daemon, "torrent-add", {"metainfo": base64.b64encode(torrent).decode()})


def start_now(daemon: Daemon, infohash: str) -> None:
    """Start a torrent past the client's queues (earlier tests leave idle torrents queued, and
    seeding ones that take the client's upload slots)."""
    if daemon.kind == "qbittorrent":
        with qbittorrent(daemon) as client:
            client.post("/torrents/setForceStart", data={"hashes": infohash, "value": "true"}).raise_for_status()
    elif daemon.kind == "deluge":
        deluge(daemon, "core.set_torrent_options", [infohash], {"auto_managed": False})
        deluge(daemon, "core.resume_torrent", infohash)
    else:
        transmission(daemon, "torrent-start-now", {"ids": [infohash]})


def connect_peers(qbittorrent_daemon: Daemon, infohash: str, peer_port: int) -> None:
    """Ask qBittorrent to connect to a peer on loopback. Called once: a repeated call cancels the
    pending connection. (Transmission 3.00 does not reach qBittorrent through the tracker alone here.)"""
    with qbittorrent(qbittorrent_daemon) as client:
        response = client.post("/torrents/addPeers", data={"hashes": infohash, "peers": f"127.0.0.1:{peer_port}"})
        response.raise_for_status()
