"""rTorrent adapter against answers recorded from rTorrent 0.9.8 (tests/fixtures/rtorrent-0.9),
served by a stand-in over a real SCGI socket (TCP and unix) and over HTTP."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import xmlrpc.client

import httpx
import pytest

from dlwatch.adapters.rtorrent import RtorrentAdapter
from dlwatch.core.errors import AuthRejected, CannotConnect, NotDelivered, UnexpectedResponse
from dlwatch.core.models import AddRequest, Connection, DownloadStatus, Secret
from tests.support.fake_rtorrent import FakeRtorrent

FINISHED = "BEDBD6900A43A098BF2DA49656207F278667FFE9"
BROKEN = "63574832B36A9414DCDB2246DA33B9C1495BD539"
BLOCKED = "109A1493ACD5C9B0A4123D06C91931BC521650FA"
MAGNET = "E1C5589FED946C6751006A81C3ECDD166E487723"


@pytest.fixture
def fake() -> FakeRtorrent:
    return FakeRtorrent()


@pytest.fixture
def scgi(fake):
    port, _thread, server = fake.serve_scgi()
    yield RtorrentAdapter(Connection("127.0.0.1", port, timeout=2))
    server.close()


def test_version_over_scgi(scgi):
    version = scgi.version()
    assert (version.version, version.api_version) == ("0.9.8", "10")


def test_every_download_in_the_recorded_view(scgi):
    items = {i.client_download_id.upper(): i for i in scgi.list_downloads()}
    assert items[FINISHED].status is DownloadStatus.COMPLETED
    assert items[FINISHED].content_path == "/tmp/dlw-harness/rtorrent/downloads/dlwh-rtorrent-cap-34d11c.bin"
    assert items[FINISHED].category == "dlwh-other"
    assert (items[BROKEN].status, items[BROKEN].error) == (
        DownloadStatus.FAILED,
        "Download registered as completed, but hash check returned unfinished chunks.",
    )
    assert items[MAGNET].status is DownloadStatus.QUEUED  # fetching its metadata
    # rTorrent reports nothing for a folder it cannot create: it keeps "hashing" (see the README)
    assert items[BLOCKED].status is DownloadStatus.CHECKING


@pytest.mark.parametrize(
    ("fixture", "status"),
    [
        ("d_multicall2_downloading.json", DownloadStatus.DOWNLOADING),
        ("d_multicall2_paused.json", DownloadStatus.PAUSED),
        ("d_multicall2_stopped.json", DownloadStatus.PAUSED),
        ("d_multicall2_queued.json", DownloadStatus.PAUSED),  # loaded, never started
        ("d_multicall2_seeding_complete.json", DownloadStatus.COMPLETED),
        ("d_multicall2_after_check_hash.json", DownloadStatus.CHECKING),
    ],
)
def test_recorded_states(fixture, status):
    fake = FakeRtorrent(fixture)
    port, _, server = fake.serve_scgi()
    try:
        [item] = RtorrentAdapter(Connection("127.0.0.1", port, timeout=2)).list_downloads([FINISHED.lower()])
    finally:
        server.close()
    assert item.status is status
    assert item.client_download_id == FINISHED.lower()


def test_a_few_tracked_hashes_are_asked_for_one_by_one_and_unknown_ones_left_out(scgi, fake):
    items = scgi.list_downloads([FINISHED.lower(), "0" * 40])
    assert [i.client_download_id for i in items] == [FINISHED.lower()]
    [(method, params)] = fake.calls
    assert method == "system.multicall" and {c["params"][0] for c in params[0]} == {FINISHED, "0" * 40}


def test_many_tracked_hashes_are_one_listing_of_the_view(scgi, fake):
    wanted = [FINISHED.lower(), MAGNET.lower()] + [f"{n:040x}" for n in range(40)]
    items = scgi.list_downloads(wanted)
    assert sorted(i.client_download_id for i in items) == sorted([FINISHED.lower(), MAGNET.lower()])
    assert [m for m, _ in fake.calls] == ["d.multicall2"]


def test_add_checks_the_load_and_sets_the_label_as_a_value(scgi, fake):
    hostile = 'tv",d.erase=,"x'
    torrent_id = scgi.add(
        AddRequest(title="x", content=b"d8:announce...e", infohash_v1=FINISHED.lower(), category=hostile)
    )
    assert torrent_id == FINISHED.lower()
    methods = [m for m, _ in fake.calls]
    assert methods == ["load.raw_start", "d.hash", "d.custom1.set"]
    assert fake.calls[0][1] == ("", b"d8:announce...e")  # no command strings built from user text
    assert fake.downloads[FINISHED]["d.custom1"] == hostile


def test_a_load_rtorrent_dropped_is_an_error(scgi):
    with pytest.raises(UnexpectedResponse, match="without a tracker"):
        scgi.add(AddRequest(title="x", content=b"not a torrent", infohash_v1="1" * 40))


def test_paused_sends_are_loaded_without_starting(scgi, fake):
    scgi.add(AddRequest(title="x", content=b"t", infohash_v1=FINISHED, paused=True))
    assert fake.calls[0][0] == "load.raw"


def test_over_a_unix_socket(fake, tmp_path):
    path = str(tmp_path / "rpc.socket")
    server = socket.socket(socket.AF_UNIX)
    server.bind(path)
    server.listen()
    threading.Thread(target=fake._accept, args=(server,), daemon=True).start()
    try:
        adapter = RtorrentAdapter(Connection(path, 5000, timeout=2))
        assert adapter.version().version == "0.9.8"
        assert RtorrentAdapter.address(adapter.connection) == f"scgi://{path}"
    finally:
        server.close()


def test_nothing_listening_is_not_delivered(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(NotDelivered, match=f"cannot connect to scgi://127.0.0.1:{port}"):
        RtorrentAdapter(Connection("127.0.0.1", port, timeout=2)).version()
    with pytest.raises(NotDelivered, match="cannot connect to scgi:///"):
        RtorrentAdapter(Connection(str(tmp_path / "none.socket"), 5000, timeout=2)).version()


def _server(handle) -> tuple[int, socket.socket]:
    server = socket.create_server(("127.0.0.1", 0))

    def run() -> None:
        try:
            conn, _ = server.accept()
        except OSError:
            return
        with conn:
            conn.recv(65536)
            handle(conn)

    threading.Thread(target=run, daemon=True).start()
    return server.getsockname()[1], server


def test_a_dripping_answer_is_cut_off_at_the_deadline():
    def drip(conn: socket.socket) -> None:
        for _ in range(100):
            try:
                conn.sendall(b"S")
            except OSError:
                return
            time.sleep(0.05)

    port, server = _server(drip)
    adapter = RtorrentAdapter(Connection("127.0.0.1", port, timeout=1))
    started = time.monotonic()
    with pytest.raises(CannotConnect), adapter.work_within(0.5):
        adapter.version()
    assert time.monotonic() - started < 1.5
    server.close()


def test_a_flood_is_cut_off_at_the_size_limit():
    def flood(conn: socket.socket) -> None:
        with contextlib.suppress(OSError):  # the adapter hangs up once past its limit
            conn.sendall(b"Status: 200 OK\r\n\r\n" + b"x" * 300_000)

    port, server = _server(flood)
    with pytest.raises(UnexpectedResponse, match="stopped reading"):
        RtorrentAdapter(Connection("127.0.0.1", port, timeout=2, max_answer_bytes=100_000)).version()
    server.close()


def test_garbage_is_one_clear_error():
    port, server = _server(lambda conn: conn.sendall(b"Status: 200 OK\r\n\r\n<html>hello</html>"))
    with pytest.raises(UnexpectedResponse, match="did not answer XML-RPC"):
        RtorrentAdapter(Connection("127.0.0.1", port, timeout=2)).version()
    server.close()


# -- over HTTP, behind a web server ----------------------------------------------------------------


def test_over_http_with_basic_auth(httpx_mock, fake):
    def answer(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/RPC2"
        assert request.headers["authorization"].startswith("Basic ")
        return httpx.Response(200, content=fake.answer(request.content), headers={"Content-Type": "text/xml"})

    httpx_mock.add_callback(answer)
    adapter = RtorrentAdapter(
        Connection("seedbox.example", 443, use_ssl=True, url_base="/RPC2", username="me", secret=Secret("pw"))
    )
    assert adapter.version().version == "0.9.8"
    assert RtorrentAdapter.address(adapter.connection) == "https://seedbox.example:443/RPC2"


def test_over_http_a_wrong_password(httpx_mock):
    httpx_mock.add_response(status_code=401, text="")
    adapter = RtorrentAdapter(Connection("h", 80, url_base="/RPC2", username="me", secret=Secret("wrong")))
    with pytest.raises(AuthRejected, match="HTTP 401 at /RPC2"):
        adapter.version()


def test_faults_are_one_line():
    fault = xmlrpc.client.dumps(xmlrpc.client.Fault(-506, "Method 'x' not defined"), methodresponse=True).encode()
    port, server = _server(lambda conn: conn.sendall(b"Status: 200 OK\r\n\r\n" + fault))
    with pytest.raises(UnexpectedResponse, match=r"rTorrent refused d\.stop: Method 'x' not defined"):
        RtorrentAdapter(Connection("127.0.0.1", port, timeout=2)).pause(FINISHED)
    server.close()
