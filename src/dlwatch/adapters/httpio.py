"""Reading an HTTP answer as a stream, within a size limit and a deadline.

Every answer dlwatch reads from a client, an indexer or Prowlarr comes through here, so a peer that
sends a huge body (or a small compressed one that expands) or drips its answer byte by byte costs at
most the limit and the deadline, and the rest is never read.
"""

from __future__ import annotations

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

    The deadline is checked on every piece read from the wire (a compressed answer dripped byte by
    byte yields no decoded text for a long time), and the size limit on the decoded text, so a small
    compressed answer cannot expand past it: dlwatch decodes gzip and deflate itself, with a bound."""
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
