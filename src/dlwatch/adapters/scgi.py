"""One SCGI exchange (the protocol rTorrent opens itself), within a size limit and a deadline.

A request is a netstring of NUL-separated CGI headers (`CONTENT_LENGTH` first, then `SCGI: 1`)
followed by the body; the answer is CGI header lines (`Status: 200 OK`, ...), a blank line and the
body, and the server closes the connection when it is done. The same bounds as `httpio` apply: a
peer that drips or floods its answer costs at most the limit and the deadline.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass


class ScgiError(Exception):
    """Nothing usable came back; `delivered` says whether the request may have reached the server."""

    def __init__(self, message: str, *, delivered: bool) -> None:
        super().__init__(message)
        self.delivered = delivered


class ScgiTooLarge(ScgiError):
    pass


@dataclass(frozen=True)
class ScgiAddress:
    """A TCP host and port, or the path of a unix socket."""

    host: str
    port: int

    @property
    def is_unix(self) -> bool:
        return self.host.startswith("/")

    def __str__(self) -> str:
        return f"scgi://{self.host}" if self.is_unix else f"scgi://{self.host}:{self.port}"


def exchange(
    address: ScgiAddress, body: bytes, *, timeout: float, deadline: float | None, limit: int
) -> tuple[int, bytes]:
    """Send `body`, return the answer's status code and body."""
    headers = b"".join(
        k + b"\0" + v + b"\0"
        for k, v in (
            (b"CONTENT_LENGTH", str(len(body)).encode()),
            (b"SCGI", b"1"),
            (b"REQUEST_METHOD", b"POST"),
            (b"REQUEST_URI", b"/RPC2"),
        )
    )
    request = str(len(headers)).encode() + b":" + headers + b"," + body
    sock = _connect(address, _left(deadline, timeout, delivered=False))
    try:
        try:
            sock.settimeout(_left(deadline, timeout, delivered=False))
            sock.sendall(request)
        except OSError as exc:
            raise ScgiError(f"could not send to {address}: {exc}", delivered=True) from exc
        answer = bytearray()
        while True:
            try:
                sock.settimeout(_left(deadline, timeout, delivered=True))
                chunk = sock.recv(65536)
            except TimeoutError as exc:
                raise ScgiError(f"{address} did not answer within {timeout:g}s", delivered=True) from exc
            except OSError as exc:
                raise ScgiError(f"{address} broke the connection: {exc}", delivered=True) from exc
            if not chunk:
                break
            answer += chunk
            if len(answer) > limit:
                raise ScgiTooLarge(f"more than {limit // 2**20} MiB", delivered=True)
    finally:
        sock.close()
    return _parse(bytes(answer), address)


def _left(deadline: float | None, timeout: float, *, delivered: bool) -> float:
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise ScgiError("the deadline passed", delivered=delivered)
    return min(timeout, left)


def _connect(address: ScgiAddress, timeout: float) -> socket.socket:
    try:
        if address.is_unix:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(timeout)
            try:
                sock.connect(address.host)
            except BaseException:
                sock.close()
                raise
            return sock
        return socket.create_connection((address.host, address.port), timeout=min(timeout, 10.0))
    except TimeoutError as exc:
        raise ScgiError(f"timed out connecting to {address}", delivered=False) from exc
    except OSError as exc:
        raise ScgiError(f"cannot connect to {address}: {exc.strerror or exc}", delivered=False) from exc


def _parse(answer: bytes, address: ScgiAddress) -> tuple[int, bytes]:
    head, sep, body = answer.partition(b"\r\n\r\n")
    if not sep:
        head, sep, body = answer.partition(b"\n\n")
    if not sep:
        raise ScgiError(f"{address} answered without SCGI headers ({len(answer)} bytes)", delivered=True)
    status = 200
    for line in head.decode("latin-1").splitlines():
        name, _, value = line.partition(":")
        if name.strip().lower() == "status":
            try:
                status = int(value.split()[0])
            except (ValueError, IndexError):
                raise ScgiError(f"{address} answered a bad status line {line[:60]!r}", delivered=True) from None
    return status, body
