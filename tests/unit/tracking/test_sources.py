"""What `send` accepts: files, URLs (fetched by dlwatch) and magnet links."""

from __future__ import annotations

import hashlib

import pytest

from dlwatch.core.errors import DlwatchError, Refused, UsageError
from dlwatch.core.models import Protocol
from dlwatch.tracking.sources import load_source
from tests.support.payloads import bencode

INFO = {"name": "file.bin", "length": 3, "piece length": 16384, "pieces": b"\x00" * 20}
TORRENT = bencode({"info": INFO})
NZB = b'<?xml version="1.0"?>\n<nzb xmlns="http://www.newzbin.com/DTD/2003/nzb"><file/></nzb>'


def test_local_torrent(tmp_path):
    path = tmp_path / "My.Release.torrent"
    path.write_bytes(TORRENT)
    payload = load_source(str(path))
    assert payload.protocol is Protocol.TORRENT
    assert payload.infohash_v1 == hashlib.sha1(bencode(INFO)).hexdigest()
    assert payload.title == "file.bin"


def test_local_nzb_title_from_file_name(tmp_path):
    path = tmp_path / "Some.Show.S01E01.nzb"
    path.write_bytes(NZB)
    payload = load_source(str(path))
    assert (payload.protocol, payload.title, payload.filename) == (
        Protocol.USENET,
        "Some.Show.S01E01",
        "Some.Show.S01E01.nzb",
    )


def test_url_detected_by_content_with_the_key_kept_out_of_errors(httpx_mock):
    httpx_mock.add_response(
        url="https://indexer.example/get?id=1&apikey=SECRET",
        content=NZB,
        headers={"content-disposition": 'attachment; filename="Rel.Name.nzb"'},
    )
    payload = load_source("https://indexer.example/get?id=1&apikey=SECRET")
    assert payload.protocol is Protocol.USENET and payload.title == "Rel.Name"
    httpx_mock.add_response(url="https://indexer.example/get?id=2&apikey=SECRET", status_code=404)
    with pytest.raises(DlwatchError) as error:
        load_source("https://indexer.example/get?id=2&apikey=SECRET")
    assert "SECRET" not in str(error.value) and "HTTP 404" in str(error.value)


def test_url_redirecting_to_a_magnet(httpx_mock):
    magnet = "magnet:?xt=urn:btih:" + "c" * 40 + "&dn=Redirected"
    httpx_mock.add_response(url="https://indexer.example/dl", status_code=302, headers={"location": magnet})
    payload = load_source("https://indexer.example/dl")
    assert payload.magnet == magnet and payload.infohash_v1 == "c" * 40 and payload.title == "Redirected"


def test_unknown_content_needs_protocol(tmp_path):
    path = tmp_path / "mystery"
    path.write_bytes(b"hello")
    with pytest.raises(Refused, match="--protocol"):
        load_source(str(path))


def test_missing_file_and_bad_magnet():
    with pytest.raises(UsageError, match="no such file"):
        load_source("/nonexistent/x.torrent")
    with pytest.raises(Refused, match="infohash"):
        load_source("magnet:?dn=x")
    with pytest.raises(Refused, match="torrent"):
        load_source("magnet:?xt=urn:btih:" + "a" * 40, protocol=Protocol.USENET)
