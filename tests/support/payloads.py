"""Generated payloads: random data and a .torrent for it (single file, v1), for real transfers."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

PIECE_LENGTH = 256 * 1024


def bencode(value) -> bytes:
    if isinstance(value, int):
        return b"i%de" % value
    if isinstance(value, str):
        value = value.encode()
    if isinstance(value, bytes):
        return b"%d:%s" % (len(value), value)
    if isinstance(value, list):
        return b"l" + b"".join(bencode(v) for v in value) + b"e"
    if isinstance(value, dict):
        items = sorted((k.encode() if isinstance(k, str) else k, v) for k, v in value.items())
        return b"d" + b"".join(bencode(k) + bencode(v) for k, v in items) + b"e"
    raise TypeError(type(value))


def make_payload(folder: Path, name: str, size: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(os.urandom(size))
    return path


def make_torrent(data_file: Path, announce: str | None = None) -> bytes:
    data = data_file.read_bytes()
    pieces = b"".join(hashlib.sha1(data[i : i + PIECE_LENGTH]).digest() for i in range(0, len(data), PIECE_LENGTH))
    info = {"name": data_file.name, "length": len(data), "piece length": PIECE_LENGTH, "pieces": pieces, "private": 0}
    meta = {"info": info, "created by": "dlwatch tests"}
    if announce:
        meta["announce"] = announce
    return bencode(meta)
