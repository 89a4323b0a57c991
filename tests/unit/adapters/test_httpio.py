"""Reading answers within a size limit and a deadline, against a real socket on 127.0.0.1."""

from __future__ import annotations

import gzip
import socket
import threading
import time

import httpx
import pytest

from dlwatch.adapters.httpio import AnswerTooLarge, DeadlinePassed, read_bounded, timeout_until


def serve_once(body: bytes, *, gzipped: bool, drip: float = 0.0) -> int:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()

    def answer() -> None:
        conn, _ = server.accept()
        conn.recv(65536)
        encoding = b"Content-Encoding: gzip\r\n" if gzipped else b""
        conn.sendall(b"HTTP/1.1 200 OK\r\n" + encoding + b"Content-Length: %d\r\n\r\n" % len(body))
        try:
            if drip:
                for byte in body:
                    conn.sendall(bytes([byte]))
                    time.sleep(drip)
            else:
                conn.sendall(body)
        except OSError:
            pass  # the reader gave up, as it should
        conn.close()
        server.close()

    threading.Thread(target=answer, daemon=True).start()
    return server.getsockname()[1]


def read(port: int, *, limit: int = 10**6, deadline: float | None = None) -> httpx.Response:
    with httpx.Client() as http:
        timeout = timeout_until(deadline, 2.0)
        return read_bounded(http, "GET", f"http://127.0.0.1:{port}/", limit=limit, deadline=deadline, timeout=timeout)


def test_a_compressed_answer_is_decoded():
    assert read(serve_once(gzip.compress(b'{"ok": true}'), gzipped=True)).json() == {"ok": True}


def test_a_small_compressed_answer_that_expands_past_the_limit_is_refused_unread():
    bomb = gzip.compress(b" " * 50_000_000)  # 50 MB of spaces in about 50 KB
    with pytest.raises(AnswerTooLarge):
        read(serve_once(bomb, gzipped=True), limit=1_000_000)


@pytest.mark.parametrize("gzipped", [False, True])
def test_an_answer_dripped_byte_by_byte_is_cut_off_at_the_deadline(gzipped):
    body = b'{"torrents": [' + b"1, " * 300 + b"1]}"
    started = time.monotonic()
    with pytest.raises(DeadlinePassed):
        read(serve_once(gzip.compress(body) if gzipped else body, gzipped=gzipped, drip=0.05), deadline=started + 1.0)
    assert time.monotonic() - started < 1.6


def test_send_of_a_url_with_a_huge_body_stops_at_the_limit_without_reading_it(tmp_path):
    from dlwatch.core.errors import DlwatchError
    from dlwatch.tracking.sources import load_source

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    sent = []

    def answer() -> None:
        conn, _ = server.accept()
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/x-bittorrent\r\nContent-Length: 1073741824\r\n\r\n")
        chunk = b"0" * 65536
        try:
            for _ in range(16384):  # 1 GiB, made as it is read
                conn.sendall(chunk)
                sent.append(len(chunk))
        except OSError:
            pass  # the reader stopped, as it should
        conn.close()
        server.close()

    threading.Thread(target=answer, daemon=True).start()
    url = f"http://127.0.0.1:{server.getsockname()[1]}/x.torrent"
    with pytest.raises(DlwatchError, match="over 1 MiB: too large"):
        load_source(url, timeout=5, max_bytes=2**20)
    time.sleep(0.2)
    assert sum(sent) < 64 * 2**20  # it stopped reading long before the gigabyte
