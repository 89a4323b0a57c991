"""What `dlwatch send SOURCE` was given: an http(s) URL, a local .nzb/.torrent file or a magnet link.

dlwatch fetches URLs itself and uploads the content, so it always knows the exact id: the infohash
of a torrent, or the id the Usenet client returns for the uploaded NZB.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from dlwatch.core.errors import DlwatchError, Refused, UsageError

if TYPE_CHECKING:
    import httpx
from dlwatch.core.models import Protocol
from dlwatch.core.torrentmeta import TorrentError, parse_magnet, parse_torrent

MAX_DOWNLOAD_BYTES = 50 * 1024 * 1024  # no .nzb or .torrent is this large


@dataclass(frozen=True)
class Payload:
    protocol: Protocol
    title: str
    content: bytes | None = None
    filename: str | None = None
    magnet: str | None = None
    infohash_v1: str | None = None
    infohash_v2: str | None = None


def detect_protocol(content: bytes, *, filename: str = "", content_type: str = "") -> Protocol | None:
    lowered = filename.lower()
    if lowered.endswith(".torrent") or "bittorrent" in content_type:
        return Protocol.TORRENT
    if lowered.endswith(".nzb") or "nzb" in content_type:
        return Protocol.USENET
    head = content[:4096].lstrip()
    if head.startswith(b"d") and b"4:info" in content:
        return Protocol.TORRENT
    if b"<nzb" in head or b"<!DOCTYPE nzb" in head:
        return Protocol.USENET
    return None


def load_source(
    source: str, *, protocol: Protocol | None = None, timeout: float = 30.0, max_bytes: int = MAX_DOWNLOAD_BYTES
) -> Payload:
    if source.startswith("magnet:"):
        try:
            info = parse_magnet(source)
        except TorrentError as exc:
            raise Refused(str(exc)) from exc
        if protocol is Protocol.USENET:
            raise Refused("a magnet link is a torrent; it cannot go to a Usenet client")
        title = info.name or info.infohash_v1 or info.infohash_v2 or "magnet"
        return Payload(
            Protocol.TORRENT, title, magnet=source, infohash_v1=info.infohash_v1, infohash_v2=info.infohash_v2
        )
    if re.match(r"^https?://", source, re.IGNORECASE):
        content, filename, content_type = _fetch(source, timeout, max_bytes)
        if content is None:  # the URL redirected to a magnet link
            return load_source(filename, protocol=protocol)
        return _from_content(content, filename, content_type, protocol, origin=source)
    path = Path(source).expanduser()
    if not path.is_file():
        raise UsageError(f"{source}: no such file, and not an http(s) URL or magnet link")
    try:
        if path.stat().st_size > max_bytes:
            raise Refused(f"{source} is {path.stat().st_size} bytes: too large for a .torrent or .nzb")
        content = path.read_bytes()
    except OSError as exc:
        raise Refused(f"cannot read {source}: {exc.strerror}") from exc
    return _from_content(content, path.name, "", protocol, origin=source)


def from_upload(content: bytes, filename: str, content_type: str = "") -> Payload:
    """A .torrent or .nzb handed over as bytes (the page's upload), checked as a file would be."""
    return _from_content(content, filename, content_type, None, origin=filename)


def _from_content(
    content: bytes, filename: str, content_type: str, protocol: Protocol | None, *, origin: str
) -> Payload:
    detected = detect_protocol(content, filename=filename, content_type=content_type)
    chosen = protocol or detected
    if chosen is None:
        raise Refused(f"{origin}: neither a .torrent nor an .nzb; say which with --protocol")
    stem = re.sub(r"\.(nzb|torrent)$", "", filename, flags=re.IGNORECASE) or "download"
    if chosen is Protocol.TORRENT:
        try:
            info = parse_torrent(content)
        except TorrentError as exc:
            raise Refused(f"{origin}: {exc}") from exc
        return Payload(
            Protocol.TORRENT,
            info.name or stem,
            content=content,
            filename=filename if filename.endswith(".torrent") else f"{stem}.torrent",
            infohash_v1=info.infohash_v1,
            infohash_v2=info.infohash_v2,
        )
    if b"<nzb" not in content[:65536]:
        raise Refused(f"{origin}: not an NZB file (no <nzb> element)")
    return Payload(
        Protocol.USENET, stem, content=content, filename=filename if filename.endswith(".nzb") else f"{stem}.nzb"
    )


def _fetch(url: str, timeout: float, max_bytes: int) -> tuple[bytes | None, str, str]:
    """Download a .torrent/.nzb, redirects and all within twice `timeout` and `max_bytes`; a
    redirect to a magnet link returns (None, magnet, "")."""
    # here, not at the top: start-up time (only this path needs it)
    import httpx

    # here, not at the top: start-up time (only this path needs it)
    from dlwatch.adapters.httpio import AnswerTooLarge, DeadlinePassed, read_bounded, timeout_until

    deadline = time.monotonic() + 2 * timeout
    try:
        with httpx.Client(follow_redirects=False) as http:
            for _ in range(10):
                response = read_bounded(
                    http, "GET", url, limit=max_bytes, deadline=deadline, timeout=timeout_until(deadline, timeout)
                )
                location = response.headers.get("location")
                if response.is_redirect and location:
                    if location.startswith("magnet:"):
                        return None, location, ""
                    url = str(response.url.join(location))
                    continue
                break
            if response.status_code != 200:
                raise DlwatchError(f"fetching {_safe(url)} failed: HTTP {response.status_code}")
            content = response.content
    except AnswerTooLarge:
        raise DlwatchError(f"{_safe(url)} is over {max_bytes // 2**20} MiB: too large for a .torrent or .nzb") from None
    except DeadlinePassed:
        raise DlwatchError(f"fetching {_safe(url)} took longer than {2 * timeout:g}s; stopped") from None
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise DlwatchError(f"fetching {_safe(url)} failed: {exc}") from exc
    return content, _filename(response, url), response.headers.get("content-type", "")


def _filename(response: httpx.Response, url: str) -> str:
    disposition = response.headers.get("content-disposition", "")
    if match := re.search(r"filename\*?=(?:UTF-8'')?\"?([^\";]+)\"?", disposition, re.IGNORECASE):
        return Path(unquote(match.group(1))).name
    return Path(unquote(urlsplit(url).path)).name or "download"


def _safe(url: str) -> str:
    """The URL without its query string, which often carries an indexer's API key."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}" + ("?…" if parts.query else "")
