"""Reading an HTTP answer as a stream, within a size limit and a deadline.

Every answer dlwatch reads from a client, an indexer or Prowlarr comes through here, so a peer that
sends a huge body (or a small compressed one that expands) or drips its answer byte by byte costs at
most the limit and the deadline, and the rest is never read.

The deadline is kept from outside the exchange: the exchange runs in a thread of its own and the
caller waits for it only until the deadline, then closes the client's connections and gives up.
A read timeout alone cannot do that: a peer that drips its status line and headers a byte at a time
answers every read in time, and the body's own deadline check is never reached.
"""

from __future__ import annotations

import threading
import time
import zlib
from typing import Any

import httpx

# The body has been decoded and read already: these would describe the wire, not what is returned.
_BODY_HEADERS = {"content-encoding", "content-length", "transfer-encoding"}


class AnswerTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"more than {limit // 2**20} MiB")
        self.limit = limit


class DeadlinePassed(Exception):
    pass


def timeout_until(deadline: float | None, full: float) -> httpx.Timeout:
    """The request's timeouts, cut to what is left before `deadline` (a time.monotonic())."""
    if deadline is None:
        return httpx.Timeout(full, connect=min(full, 10.0))
    left = deadline - time.monotonic()
    if left <= 0:
        raise DeadlinePassed
    return httpx.Timeout(min(full, left), connect=min(full, 10.0, left))


def read_bounded(
    http: httpx.Client, method: str, url: str, *, limit: int, deadline: float | None = None, **kwargs: Any
) -> httpx.Response:
    """Send the request and read the whole answer, or raise AnswerTooLarge / DeadlinePassed as soon
    as it goes past either. The returned response is fully read and decoded.

    With a deadline, whatever the peer drips (connect, status line, headers, body), this returns or
    raises by then: past it `http` is closed (its connections with it), and DeadlinePassed raised.
    The caller must not use that client again."""
    if deadline is None:
        return _exchange(http, method, url, limit=limit, deadline=None, **kwargs)
    outcome: list[Any] = []
    done = threading.Event()

    def work() -> None:
        try:
            outcome.append(_exchange(http, method, url, limit=limit, deadline=deadline, **kwargs))
        except BaseException as exc:  # handed to the caller, which re-raises it
            outcome.append(exc)
        finally:
            done.set()

    # A daemon thread: one left reading a dead connection never holds up the process's exit.
    threading.Thread(target=work, name="dlwatch-http", daemon=True).start()
    if not done.wait(max(0.0, deadline - time.monotonic())):
        http.close()  # the thread's next read fails at once; its outcome is nobody's any more
        raise DeadlinePassed
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return outcome[0]


def _exchange(
    http: httpx.Client, method: str, url: str, *, limit: int, deadline: float | None, **kwargs: Any
) -> httpx.Response:
    """The exchange itself. The deadline is also checked on every piece of the body read from the
    wire (a compressed answer dripped byte by byte yields no decoded text for a long time), and the
    size limit on the decoded text, so a small compressed answer cannot expand past it: dlwatch
    decodes gzip and deflate itself, with a bound."""
    headers = {**(kwargs.pop("headers", None) or {}), "Accept-Encoding": "gzip, deflate"}
    with http.stream(method, url, headers=headers, **kwargs) as response:
        decoder = _decoder(response.headers.get("content-encoding", ""))
        body = bytearray()
        try:
            for raw in response.iter_raw():
                if deadline is not None and time.monotonic() > deadline:
                    raise DeadlinePassed
                if decoder is None:
                    body += raw
                else:
                    body += decoder.decompress(raw, limit + 1 - len(body))
                    if decoder.unconsumed_tail:
                        raise AnswerTooLarge(limit)
                if len(body) > limit:
                    raise AnswerTooLarge(limit)
            if decoder is not None:
                body += decoder.flush()
        except zlib.error as exc:
            raise httpx.DecodingError(f"the answer's compression is broken: {exc}") from exc
    if len(body) > limit:
        raise AnswerTooLarge(limit)
    headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _BODY_HEADERS]
    return httpx.Response(response.status_code, headers=headers, content=bytes(body), request=response.request)


def _decoder(encoding: str):
    encoding = encoding.strip().lower()
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompressobj(zlib.MAX_WBITS | 16)
    if encoding == "deflate":
        return zlib.decompressobj(zlib.MAX_WBITS | 32)  # zlib-wrapped, as the standard says
    return None  # identity (we ask for nothing else)
