"""Reading an HTTP answer as a stream, within a size limit and a deadline.

Every answer dlwatch reads from a client, an indexer or Prowlarr comes through here, so a peer that
sends a huge body (or a small compressed one that expands) or drips its answer byte by byte costs at
most the limit and the deadline, and the rest is never read.
"""

from __future__ import annotations

import time
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
    as it goes past either. The returned response is fully read."""
    with http.stream(method, url, **kwargs) as response:
        body = bytearray()
        for chunk in response.iter_bytes():  # decoded: a compressed flood counts as what it expands to
            body += chunk
            if len(body) > limit:
                raise AnswerTooLarge(limit)
            if deadline is not None and time.monotonic() > deadline:
                raise DeadlinePassed
    headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _BODY_HEADERS]
    return httpx.Response(response.status_code, headers=headers, content=bytes(body), request=response.request)
