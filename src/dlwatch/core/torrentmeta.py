"""Infohashes from .torrent files and magnet links, so dlwatch knows a torrent's id before the client does.

The v1 infohash is the SHA-1 of the `info` dictionary exactly as it stands in the file. Decoding and
re-encoding would change it for a torrent whose keys are not in canonical order, so this module only
finds where `info` starts and ends; that small scanner is all the bencode it needs.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit


class TorrentError(ValueError):
    pass


@dataclass(frozen=True)
class TorrentInfo:
    name: str | None
    infohash_v1: str | None  # 40 hex; None for a v2-only torrent
    infohash_v2: str | None  # 64 hex; None for a v1-only torrent


_INTEGER = re.compile(rb"i(0|-?[1-9][0-9]*)e")
_LENGTH = re.compile(rb"(0|[1-9][0-9]{0,15}):")


def _skip(data: bytes, i: int) -> int:
    """Index just past the bencoded value starting at i. Iterative, so no nesting depth a file
    chooses can exhaust the stack; every length is checked against the data."""
    depth = 0
    while True:
        c = data[i : i + 1]
        if not c:
            raise TorrentError("truncated torrent file")
        if c == b"i":
            match = _INTEGER.match(data, i)
            if not match:
                raise TorrentError(f"a malformed integer at byte {i}")
            i = match.end()
        elif c in (b"l", b"d"):
            depth += 1
            i += 1
        elif c == b"e" and depth:
            depth -= 1
            i += 1
        elif c.isdigit():
            i = _string_end(data, i)
        else:
            raise TorrentError(f"not bencoded data at byte {i}")
        if depth == 0:
            return i


def _string_end(data: bytes, i: int) -> int:
    match = _LENGTH.match(data, i)
    if not match:
        raise TorrentError(f"a malformed string length at byte {i}")
    end = match.end() + int(match.group(1))
    if end > len(data):
        raise TorrentError("truncated torrent file")
    return end


def _read_string(data: bytes, i: int) -> tuple[bytes, int]:
    if not data[i : i + 1].isdigit():
        raise TorrentError(f"expected a string at byte {i}")
    end = _string_end(data, i)
    return data[data.index(b":", i) + 1 : end], end


def parse_torrent(data: bytes) -> TorrentInfo:
    if not data.startswith(b"d"):
        raise TorrentError("not a .torrent file (it does not start with a bencoded dictionary)")
    i = 1
    info_span = None
    while data[i : i + 1] != b"e":
        key, i = _read_string(data, i)
        end = _skip(data, i)
        if key == b"info":
            info_span = (i, end)
        i = end
    if info_span is None:
        raise TorrentError("the .torrent file has no info dictionary")
    info = data[info_span[0] : info_span[1]]
    if not info.startswith(b"d"):
        raise TorrentError("the .torrent file's info is not a dictionary")
    keys = _top_level(info)
    version = keys.get(b"meta version")
    has_v1 = b"pieces" in keys
    has_v2 = version is not None and version == b"i2e"
    name = keys.get(b"name")
    if name is not None and not name[:1].isdigit():
        raise TorrentError("the .torrent file's name is not a string")
    return TorrentInfo(
        name=_decode_string(name) if name else None,
        infohash_v1=hashlib.sha1(info).hexdigest() if has_v1 or not has_v2 else None,
        infohash_v2=hashlib.sha256(info).hexdigest() if has_v2 else None,
    )


def _top_level(info: bytes) -> dict[bytes, bytes]:
    """The info dictionary's keys, each with its raw bencoded value."""
    out, i = {}, 1
    while info[i : i + 1] != b"e":
        key, i = _read_string(info, i)
        end = _skip(info, i)
        out[key] = info[i:end]
        i = end
    return out


def _decode_string(raw: bytes) -> str:
    value, _ = _read_string(raw, 0)
    return value.decode("utf-8", errors="replace")


_HEX40 = re.compile(r"^[0-9a-fA-F]{40}$")
_BASE32 = re.compile(r"^[A-Za-z2-7]{32}$")


def parse_magnet(uri: str) -> TorrentInfo:
    """`xt=urn:btih:` (40 hex or 32 base32) and/or `xt=urn:btmh:1220<64 hex>` (v2)."""
    parts = urlsplit(uri)
    if parts.scheme != "magnet":
        raise TorrentError("not a magnet link")
    query = parse_qs(parts.query)
    v1 = v2 = None
    for xt in query.get("xt", []):
        if xt.lower().startswith("urn:btih:"):
            value = xt[9:]
            if _HEX40.match(value):
                v1 = value.lower()
            elif _BASE32.match(value):
                v1 = base64.b32decode(value.upper()).hex()
            else:
                raise TorrentError(f"the magnet link's btih {value!r} is neither 40 hex nor 32 base32 characters")
        elif xt.lower().startswith("urn:btmh:1220") and len(xt) == 13 + 64:
            v2 = xt[13:].lower()
    if not v1 and not v2:
        raise TorrentError("the magnet link has no xt=urn:btih: or urn:btmh: infohash")
    name = query.get("dn", [None])[0]
    return TorrentInfo(name=unquote(name) if name else None, infohash_v1=v1, infohash_v2=v2)
