"""A client that drips its whole answer, status line and headers included, one byte at a time:
every read arrives well within the read timeout, so only a deadline kept from outside the exchange
ends it. Every HTTP adapter, against a real socket on loopback (rTorrent's SCGI keeps its own
deadline on each read: tests/unit/adapters/test_rtorrent.py)."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from dlwatch.adapters import registry
from dlwatch.core.errors import CannotConnect
from dlwatch.core.models import Connection, Secret

ANSWER = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}" * 50


class Dripper:
    """Answers every connection with ANSWER, one byte every `pause` seconds, until stopped."""

    def __init__(self, pause: float = 0.05) -> None:
        self.pause = pause
        self.stopping = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    def _drip(self, conn: socket.socket) -> None:
        with conn:
            conn.recv(65536)  # the request: its content does not matter
            for byte in ANSWER:
                if self.stopping.is_set():
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return  # dlwatch gave up on it, as it should
                time.sleep(self.pause)

    def stop(self) -> None:
        self.stopping.set()
        self.listener.close()


@pytest.fixture
def dripper():
    server = Dripper()
    yield server
    server.stop()


HTTP_TYPES = [name for name in registry.type_names() if name != "rtorrent"]


@pytest.mark.parametrize("type_name", HTTP_TYPES)
def test_a_dripped_status_line_and_headers_end_at_the_deadline(dripper, type_name):
    cls = registry.adapter_class(type_name)
    connection = Connection(host="127.0.0.1", port=dripper.port, username="u", secret=Secret("s"), timeout=1.0)
    adapter = cls(connection)
    started = time.monotonic()
    with pytest.raises(CannotConnect, match="deadline"), adapter.work_within(0.5):
        adapter.version()
    took = time.monotonic() - started
    # Dripped to the end, the answer would take over 10 s; at the deadline, a little past 0.5 s.
    assert took < 0.5 + 1.0, f"{type_name}: {took:.2f}s"
    adapter.close()
