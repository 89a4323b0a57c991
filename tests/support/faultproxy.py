"""An HTTP proxy on 127.0.0.1 in front of a real daemon that misbehaves on demand.

Modes: `pass` (forward), `hang` (read the request, never answer), `drip` (forward, then send the
answer's body one byte every 0.2 s), `drip-head` (the same from the status line on, headers too),
`reset` (read the request, close with a TCP reset), `huge` (answer a body of 1 GiB, produced as it
is read), `empty` (Transmission: answer torrent-get with no torrents), `add-then-hang` (forward an
add to the daemon, never pass its answer back). `refuse` closes the listening socket, so
connections are refused. `times` makes a mode last that many requests only.
"""

from __future__ import annotations

import http.client
import json
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection"}
# Asked of the daemon in plain text, so `empty` can rewrite the answer (dlwatch's own requests ask
# for gzip: the proxy answers them uncompressed, which any HTTP client accepts).
NOT_FORWARDED = {*HOP_HEADERS, "accept-encoding"}


class FaultProxy:
    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.mode = "pass"
        self.times: int | None = None
        self.requests: list[bytes] = []
        self.stopping = threading.Event()
        self.port = 0
        self._server: ThreadingHTTPServer | None = None

    @property
    def url_port(self) -> int:
        return self.port

    def start(self) -> FaultProxy:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                proxy.handle(self)

            do_POST = do_GET

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def set(self, mode: str, times: int | None = None) -> None:
        if mode == "refuse":
            self._close()
        elif self._server is None:
            self.start()
        self.mode, self.times = mode, times

    def stop(self) -> None:
        self.stopping.set()
        self._close()

    def _close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def _current_mode(self) -> str:
        mode = self.mode
        if self.times is not None:
            self.times -= 1
            if self.times <= 0:
                self.mode, self.times = "pass", None
        return mode

    # -- one request ------------------------------------------------------------------------------

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        self.requests.append(body)
        mode = self._current_mode()
        if mode == "add-then-hang" and b"torrent-add" not in body and b"torrents/add" not in handler.path.encode():
            mode = "pass"
        if mode == "empty" and b"torrent-get" not in body:
            mode = "pass"
        if mode == "hang":
            self.stopping.wait(120)
            return
        if mode == "reset":
            handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            handler.close_connection = True
            handler.connection.close()
            return
        if mode == "huge":
            self._huge(handler)
            return
        status, headers, answer = self._forward(handler, body)
        if mode == "add-then-hang":
            self.stopping.wait(120)
            return
        if mode == "empty" and status == 200:
            reply = json.loads(answer)
            reply.setdefault("arguments", {})["torrents"] = []
            answer = json.dumps(reply).encode()
        if mode in ("drip", "drip-head"):
            self._drip(handler, status, headers, answer, head_too=mode == "drip-head")
            return
        handler.send_response(status)
        for key, value in headers:
            handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(answer)))
        handler.end_headers()
        handler.wfile.write(answer)

    def _forward(self, handler: BaseHTTPRequestHandler, body: bytes) -> tuple[int, list, bytes]:
        upstream = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=30)
        headers = {k: v for k, v in handler.headers.items() if k.lower() not in NOT_FORWARDED}
        upstream.request(handler.command, handler.path, body=body or None, headers=headers)
        response = upstream.getresponse()
        answer = response.read()
        kept = [(k, v) for k, v in response.getheaders() if k.lower() not in HOP_HEADERS]
        upstream.close()
        return response.status, kept, answer

    def _drip(self, handler, status: int, headers: list, answer: bytes, *, head_too: bool = False) -> None:
        head = f"HTTP/1.1 {status} OK\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers)
        head += f"Content-Length: {len(answer)}\r\nConnection: close\r\n\r\n"
        handler.close_connection = True
        try:
            if not head_too:
                handler.wfile.write(head.encode())
                handler.wfile.flush()
            for byte in (head.encode() + answer) if head_too else answer:
                if self.stopping.is_set():
                    return
                handler.wfile.write(bytes([byte]))
                handler.wfile.flush()
                time.sleep(0.2)
        except OSError:
            pass  # the client gave up, as it should

    def _huge(self, handler) -> None:
        size = 2**30
        handler.close_connection = True
        try:
            handler.send_response(200)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(size))
            handler.end_headers()
            chunk = b" " * 65536
            for _ in range(size // len(chunk)):
                handler.wfile.write(chunk)
        except OSError:
            pass  # the client stopped reading, as it should
