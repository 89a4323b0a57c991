"""A small real HTTP server on 127.0.0.1 for the programs dlwatch talks to that cannot run here
(Sonarr, Radarr) and for receivers (a notification target): fixed answers by path, and every
request kept for the test to read."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class JsonServer:
    def __init__(self, routes: dict[str, tuple[int, Any]] | None = None) -> None:
        self.routes = routes or {}  # path (without query) -> (status, JSON body, or bytes sent as they are)
        self.received: list[Received] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path = self.path.split("?", 1)[0]
                server.received.append(Received(self.command, self.path, dict(self.headers), body))
                status, answer = server.routes.get(path, (200, {}) if self.command == "POST" else (404, {}))
                raw = isinstance(answer, bytes)  # a file, e.g. a .torrent behind a download link
                data = answer if raw else json.dumps(answer).encode() if answer != "" else b""
                self.send_response(status)
                self.send_header(
                    "Content-Type", "application/x-bittorrent" if raw else "application/json; charset=utf-8"
                )
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _answer

            def log_message(self, *args: object) -> None:
                pass

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._http.server_port}"
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)

    def __enter__(self) -> JsonServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.shutdown()
        self._http.server_close()
