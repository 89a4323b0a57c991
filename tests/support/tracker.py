"""A minimal BitTorrent HTTP tracker on 127.0.0.1, so peers find each other with no outside network.

Answers `/announce` with the compact list of the other peers that announced the same infohash.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from .payloads import bencode


class Tracker:
    def __init__(self) -> None:
        self.peers: dict[bytes, dict[bytes, tuple[str, int, float]]] = {}
        self.lock = threading.Lock()
        tracker = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = parse_qs(parts.query, encoding="latin-1")
                if parts.path != "/announce" or "info_hash" not in query:
                    self.send_error(404)
                    return
                body = tracker.announce(
                    query["info_hash"][0].encode("latin-1"),
                    query.get("peer_id", [""])[0].encode("latin-1"),
                    self.client_address[0],
                    int(query.get("port", ["0"])[0]),
                    query.get("event", [""])[0],
                )
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def announce_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/announce"

    def announce(self, info_hash: bytes, peer_id: bytes, ip: str, port: int, event: str) -> bytes:
        with self.lock:
            swarm = self.peers.setdefault(info_hash, {})
            if event == "stopped":
                swarm.pop(peer_id, None)
            else:
                swarm[peer_id] = (ip, port, time.monotonic())
            others = [(ip_, port_) for pid, (ip_, port_, _) in swarm.items() if pid != peer_id]
        compact = b"".join(socket.inet_aton(ip_) + struct.pack(">H", port_) for ip_, port_ in others)
        return bencode({"interval": 2, "min interval": 1, "peers": compact})

    def start(self) -> Tracker:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
