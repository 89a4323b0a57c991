"""An rTorrent stand-in built from a recorded `d.multicall2` answer (tests/fixtures/rtorrent-0.9):
it answers the XML-RPC calls the adapter makes with the recorded values, over SCGI (a real socket)
or as the body of an HTTP answer. Faults are the recorded ones: -501 for an unknown hash."""

from __future__ import annotations

import json
import socket
import threading
import xmlrpc.client
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "rtorrent-0.9"
UNKNOWN_HASH = xmlrpc.client.Fault(-501, "Could not find info-hash.")


class FakeRtorrent:
    def __init__(self, fixture: str = "d_multicall2_all.json") -> None:
        data = json.loads((FIXTURES / fixture).read_text())
        (_, _, *commands), _ = xmlrpc.client.loads(data["request"]["body"])
        fields = [c.removesuffix("=") for c in commands]
        self.downloads = {row[0]: dict(zip(fields, row, strict=True)) for row in data["response_decoded"]}
        self.calls: list[tuple[str, tuple]] = []
        self.loaded: list[bytes] = []

    # -- XML-RPC ---------------------------------------------------------------------------------

    def answer(self, request_body: bytes) -> bytes:
        params, method = xmlrpc.client.loads(request_body, use_builtin_types=True)
        self.calls.append((method, params))
        try:
            result = self.call(method, params)
        except xmlrpc.client.Fault as fault:
            return xmlrpc.client.dumps(fault, methodresponse=True).encode()
        return xmlrpc.client.dumps((result,), methodresponse=True).encode()

    def call(self, method: str, params: tuple):
        if method == "system.multicall":
            out = []
            for call in params[0]:
                try:
                    out.append([self.call(call["methodName"], tuple(call["params"]))])
                except xmlrpc.client.Fault as fault:
                    out.append({"faultCode": fault.faultCode, "faultString": fault.faultString})
            return out
        if method == "system.client_version":
            return "0.9.8"
        if method == "system.api_version":
            return 10
        if method == "d.multicall2":
            _, _, *commands = params
            return [[d[c.removesuffix("=")] for c in commands] for d in self.downloads.values()]
        if method in ("load.raw", "load.raw_start"):
            self.loaded.append(params[1])
            return 0
        if method.startswith("d."):
            download = self.downloads.get(str(params[0]).upper())
            if download is None:
                raise UNKNOWN_HASH
            if method.endswith(".set"):
                download[method.removesuffix(".set")] = params[1]
                return 0
            if method in ("d.stop", "d.start", "d.resume", "d.erase"):
                return 0
            return download[method]
        raise xmlrpc.client.Fault(-506, f"Method '{method}' not defined")

    # -- SCGI ------------------------------------------------------------------------------------

    def serve_scgi(self) -> tuple[int, threading.Thread, socket.socket]:
        """Listen on a free port; each connection is one SCGI exchange. Returns (port, thread, socket)."""
        server = socket.create_server(("127.0.0.1", 0))
        thread = threading.Thread(target=self._accept, args=(server,), daemon=True)
        thread.start()
        return server.getsockname()[1], thread, server

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                data = b""
                while b":" not in data:
                    data += conn.recv(4096)
                size, rest = data.split(b":", 1)
                while len(rest) < int(size) + 1:
                    rest += conn.recv(65536)
                headers, rest = rest[: int(size)], rest[int(size) + 1 :]
                fields = headers.split(b"\0")
                length = int(fields[fields.index(b"CONTENT_LENGTH") + 1])
                while len(rest) < length:
                    rest += conn.recv(65536)
                body = self.answer(rest[:length])
                conn.sendall(
                    b"Status: 200 OK\r\nContent-Type: text/xml\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
                )
