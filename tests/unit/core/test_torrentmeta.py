"""Infohashes from .torrent files and magnet links."""

from __future__ import annotations

import base64
import hashlib

import pytest

from dlwatch.core.torrentmeta import TorrentError, parse_magnet, parse_torrent
from tests.support.payloads import bencode

INFO = {"name": "file.bin", "length": 3, "piece length": 16384, "pieces": b"\x00" * 20}


def test_v1_infohash_is_sha1_of_the_info_bytes():
    data = bencode({"announce": "http://127.0.0.1/a", "info": INFO})
    info = parse_torrent(data)
    assert info.infohash_v1 == hashlib.sha1(bencode(INFO)).hexdigest()
    assert info.infohash_v2 is None
    assert info.name == "file.bin"


def test_info_bytes_are_hashed_as_they_stand_not_re_encoded():
    # keys out of canonical order: a decode/re-encode round trip would change the hash
    raw_info = b"d6:lengthi3e4:name8:file.bin12:piece lengthi16384e6:pieces20:" + b"\x00" * 20 + b"e"
    raw_info = raw_info.replace(b"d6:lengthi3e4:name8:file.bin", b"d4:name8:file.bin6:lengthi3e")
    data = b"d4:info" + raw_info + b"e"
    assert parse_torrent(data).infohash_v1 == hashlib.sha1(raw_info).hexdigest()


def test_hybrid_torrent_has_both_hashes():
    info = {**INFO, "meta version": 2, "file tree": {}}
    parsed = parse_torrent(bencode({"info": info}))
    assert parsed.infohash_v1 == hashlib.sha1(bencode(info)).hexdigest()
    assert parsed.infohash_v2 == hashlib.sha256(bencode(info)).hexdigest()


def test_v2_only_torrent():
    info = {"name": "x", "meta version": 2, "file tree": {}, "piece length": 16384}
    parsed = parse_torrent(bencode({"info": info}))
    assert parsed.infohash_v1 is None and len(parsed.infohash_v2) == 64


@pytest.mark.parametrize("data", [b"", b"<html>", b"d4:infoi1e", b"d3:foo3:bare", b"d4:info5:abc"])
def test_garbage_is_refused(data):
    with pytest.raises(TorrentError):
        parse_torrent(data)


def test_magnet_hex_and_base32():
    digest = bytes(range(20))
    hex_link = f"magnet:?xt=urn:btih:{digest.hex().upper()}&dn=My%20Show"
    b32_link = f"magnet:?xt=urn:btih:{base64.b32encode(digest).decode()}"
    assert parse_magnet(hex_link).infohash_v1 == digest.hex()
    assert parse_magnet(hex_link).name == "My Show"
    assert parse_magnet(b32_link).infohash_v1 == digest.hex()


def test_magnet_v2():
    link = "magnet:?xt=urn:btmh:1220" + "ab" * 32
    assert parse_magnet(link).infohash_v2 == "ab" * 32


def test_magnet_without_hash():
    with pytest.raises(TorrentError):
        parse_magnet("magnet:?dn=nothing")
