"""qBittorrent adapter against responses recorded from qBittorrent 4.5.2 and 5.1.0 (plus 5.2 shapes
from the API changelog: 204 login, JSON add answer, QBT_SID_<port> cookie)."""

from __future__ import annotations

import httpx
import pytest

from dlwatch.adapters.qbittorrent import QbittorrentAdapter
from dlwatch.core.errors import AuthRejected, UnexpectedResponse
from dlwatch.core.models import AddRequest, Connection, DownloadStatus, Secret
from tests.conftest import recorded

BASE = "http://127.0.0.1:8080/api/v2"
HASH = "ed53c3c11edb5f5251c444e9870f44c769111050"


@pytest.fixture
def qbit() -> QbittorrentAdapter:
    return QbittorrentAdapter(Connection("127.0.0.1", 8080, username="dlw", secret=Secret("dlwpass")))


def login_ok(httpx_mock, fixture="qbittorrent/auth_login_ok.json"):
    httpx_mock.add_response(url=f"{BASE}/auth/login", method="POST", **recorded(fixture).response_kwargs())


def test_login_then_version_with_the_session_cookie(httpx_mock, qbit):
    login_ok(httpx_mock)
    httpx_mock.add_response(url=f"{BASE}/app/version", **recorded("qbittorrent/app_version.json").response_kwargs())
    httpx_mock.add_response(
        url=f"{BASE}/app/webapiVersion", **recorded("qbittorrent/app_webapi_version.json").response_kwargs()
    )
    version = qbit.version()
    assert (version.version, version.api_version) == ("v4.5.2", "2.8.19")
    login, first = httpx_mock.get_requests()[:2]
    assert login.content == b"username=dlw&password=dlwpass"
    assert first.headers["cookie"].startswith("SID=")


def test_login_fails_with_200_fails(httpx_mock, qbit):
    httpx_mock.add_response(
        url=f"{BASE}/auth/login", method="POST", **recorded("qbittorrent/auth_login_failure.json").response_kwargs()
    )
    with pytest.raises(AuthRejected, match="username or password"):
        qbit.version()


def test_login_on_52_is_204_and_the_cookie_is_per_port(httpx_mock, qbit):
    httpx_mock.add_response(
        url=f"{BASE}/auth/login", method="POST", status_code=204, headers={"set-cookie": "QBT_SID_8080=abc; path=/"}
    )
    httpx_mock.add_response(url=f"{BASE}/app/version", text="v5.2.0")
    httpx_mock.add_response(url=f"{BASE}/app/webapiVersion", text="2.15.1")
    assert qbit.version().version == "v5.2.0"
    assert httpx_mock.get_requests()[1].headers["cookie"] == "QBT_SID_8080=abc"


def test_login_on_52_rejects_with_401(httpx_mock, qbit):
    httpx_mock.add_response(url=f"{BASE}/auth/login", method="POST", status_code=401, text="Unauthorized")
    with pytest.raises(AuthRejected):
        qbit.version()


def test_expired_session_logs_in_again_once(httpx_mock, qbit):
    login_ok(httpx_mock)
    httpx_mock.add_response(
        url=f"{BASE}/torrents/info", **recorded("qbittorrent/auth_unauthenticated_403.json").response_kwargs()
    )
    login_ok(httpx_mock)
    httpx_mock.add_response(
        url=f"{BASE}/torrents/info", **recorded("qbittorrent/list_downloading.json").response_kwargs()
    )
    assert len(qbit.list_downloads()) >= 1
    assert [r.url.path for r in httpx_mock.get_requests()].count("/api/v2/auth/login") == 2


def test_still_forbidden_after_a_fresh_login_is_an_auth_error(httpx_mock, qbit):
    login_ok(httpx_mock)
    login_ok(httpx_mock)
    httpx_mock.add_response(url=f"{BASE}/torrents/info", status_code=403, text="Forbidden", is_reusable=True)
    with pytest.raises(AuthRejected):
        qbit.list_downloads()


@pytest.mark.parametrize(
    ("fixture", "status"),
    [
        ("qbittorrent/list_completed.json", DownloadStatus.COMPLETED),
        ("qbittorrent/list_seeding.json", DownloadStatus.COMPLETED),
        ("qbittorrent/list_paused.json", DownloadStatus.PAUSED),
        ("qbittorrent/list_error.json", DownloadStatus.FAILED),
        ("qbittorrent/list_missing_files.json", DownloadStatus.FAILED),
        ("qbittorrent/list_magnet_metadl.json", DownloadStatus.QUEUED),
        ("qbittorrent/list_after_recheck_missing.json", DownloadStatus.STALLED),
        ("qbittorrent-5.1/torrents-info-stoppedDL.json", DownloadStatus.PAUSED),
        ("qbittorrent-5.1/torrents-info-stoppedUP.json", DownloadStatus.COMPLETED),
        ("qbittorrent-5.1/torrents-info-completed.json", DownloadStatus.COMPLETED),
        ("qbittorrent-5.1/torrents-info-error.json", DownloadStatus.FAILED),
        ("qbittorrent-5.1/torrents-info-missingFiles.json", DownloadStatus.FAILED),
        ("qbittorrent-5.1/torrents-info-metaDL.json", DownloadStatus.QUEUED),
    ],
)
def test_states_across_versions(httpx_mock, qbit, fixture, status):
    login_ok(httpx_mock)
    httpx_mock.add_response(url=httpx.URL(f"{BASE}/torrents/info"), **recorded(fixture).response_kwargs())
    [item] = qbit.list_downloads()
    assert item.status is status
    if status is DownloadStatus.FAILED:
        assert item.error
    if status is DownloadStatus.COMPLETED:
        assert item.progress == 1.0 and item.remaining_bytes == 0 and item.eta_seconds is None
        assert item.content_path


def test_magnet_without_metadata_is_not_complete_despite_amount_left_zero(httpx_mock, qbit):
    login_ok(httpx_mock)
    httpx_mock.add_response(
        url=f"{BASE}/torrents/info", **recorded("qbittorrent/list_magnet_metadl.json").response_kwargs()
    )
    [item] = qbit.list_downloads()
    assert item.progress == 0.0 and item.size_bytes is None and item.eta_seconds is None


def test_downloading_fields_and_hash_filter(httpx_mock, qbit):
    login_ok(httpx_mock)
    httpx_mock.add_response(
        url=httpx.URL(f"{BASE}/torrents/info", params={"hashes": f"{HASH}|abc"}),
        **recorded("qbittorrent/list_downloading.json").response_kwargs(),
    )
    items = {i.client_download_id: i for i in qbit.list_downloads([HASH.upper(), "ABC"])}
    item = items[HASH]
    assert item.status is DownloadStatus.DOWNLOADING
    assert item.progress == pytest.approx(0.15125)
    assert item.remaining_bytes == 44498944
    assert item.download_speed == 950397
    assert item.eta_seconds == 190
    other = next(i for i in items.values() if i.client_download_id != HASH)
    assert other.eta_seconds is None  # 8640000 means "infinite"


def test_hybrid_torrent_answers_to_v1_and_v2(httpx_mock, qbit):
    v1, v2 = "a" * 40, "b" * 64
    login_ok(httpx_mock)
    httpx_mock.add_response(
        url=f"{BASE}/torrents/info",
        json=[
            {
                "hash": v2[:40],
                "infohash_v1": v1,
                "infohash_v2": v2,
                "name": "hybrid",
                "state": "downloading",
                "progress": 0.5,
                "size": 10,
                "amount_left": 5,
                "dlspeed": 1,
                "eta": 5,
            }
        ],
    )
    [item] = qbit.list_downloads()
    assert item.answers_to(v1) and item.answers_to(v2) and item.answers_to(v2[:40].upper())


def test_add_file_returns_the_computed_infohash(httpx_mock, qbit):
    login_ok(httpx_mock)
    httpx_mock.add_response(
        url=f"{BASE}/torrents/add", method="POST", **recorded("qbittorrent/add_torrent.json").response_kwargs()
    )
    torrent_id = qbit.add(
        AddRequest(
            title="t",
            content=b"d4:infod...ee",
            filename="t.torrent",
            infohash_v1=HASH.upper(),
            paused=True,
            category="tv",
        )
    )
    assert torrent_id == HASH
    body = httpx_mock.get_requests()[-1].content
    for part in (
        b'name="paused"\r\n\r\ntrue',
        b'name="stopped"\r\n\r\ntrue',
        b'name="category"\r\n\r\ntv',
        b'name="torrents"; filename="t.torrent"',
    ):
        assert part in body


def test_add_hybrid_returns_the_truncated_v2_id(httpx_mock, qbit):
    login_ok(httpx_mock)
    httpx_mock.add_response(url=f"{BASE}/torrents/add", method="POST", text="Ok.")
    assert qbit.add(AddRequest(title="t", content=b"x", infohash_v1="a" * 40, infohash_v2="B" * 64)) == "b" * 40


def test_add_on_52_reads_the_json_answer(httpx_mock, qbit):
    login_ok(httpx_mock)
    httpx_mock.add_response(
        url=f"{BASE}/torrents/add",
        method="POST",
        json={"success_count": 1, "failure_count": 0, "pending_count": 0, "added_torrent_ids": [HASH]},
    )
    assert qbit.add(AddRequest(title="t", magnet=f"magnet:?xt=urn:btih:{HASH}")) == HASH


def test_add_duplicate_adopts_the_torrent_already_there(httpx_mock, qbit):
    login_ok(httpx_mock)
    httpx_mock.add_response(
        url=f"{BASE}/torrents/add",
        method="POST",
        **recorded("qbittorrent/add_torrent_duplicate.json").response_kwargs(),
    )
    httpx_mock.add_response(
        url=httpx.URL(f"{BASE}/torrents/info", params={"hashes": HASH}),
        **recorded("qbittorrent/list_completed.json").response_kwargs(),
    )
    assert qbit.add(AddRequest(title="t", content=b"x", infohash_v1=HASH)) == HASH


def test_add_invalid_torrent_file(httpx_mock, qbit):
    login_ok(httpx_mock, "qbittorrent-5.1/auth-login-success.json")
    httpx_mock.add_response(
        url=f"{BASE}/torrents/add",
        method="POST",
        **recorded("qbittorrent-5.1/torrents-add-invalid.json").response_kwargs(),
    )
    with pytest.raises(UnexpectedResponse, match="not a valid torrent"):
        qbit.add(AddRequest(title="t", content=b"garbage", infohash_v1=HASH))


HASH = "ed53c3c11edb5f5251c444e9870f44c769111050"


def test_pause_and_resume_are_stop_and_start_on_5x(httpx_mock, qbit):
    login_ok(httpx_mock)
    httpx_mock.add_response(url=f"{BASE}/torrents/stop", method="POST", text="")
    httpx_mock.add_response(url=f"{BASE}/torrents/start", method="POST", text="")
    qbit.pause(HASH)
    qbit.resume(HASH)
    assert [r.url.path for r in httpx_mock.get_requests()][1:] == ["/api/v2/torrents/stop", "/api/v2/torrents/start"]


def test_pause_and_resume_fall_back_to_the_4x_names(httpx_mock, qbit):
    login_ok(httpx_mock)
    for new, old in (("stop", "pause"), ("start", "resume")):
        httpx_mock.add_response(url=f"{BASE}/torrents/{new}", method="POST", status_code=404, text="Not Found")
        httpx_mock.add_response(url=f"{BASE}/torrents/{old}", method="POST", text="")
    qbit.pause(HASH)
    qbit.resume(HASH)
    paths = [r.url.path.rsplit("/", 1)[1] for r in httpx_mock.get_requests()][1:]
    assert paths == ["stop", "pause", "start", "resume"]
    assert httpx_mock.get_requests()[-1].content == f"hashes={HASH}".encode()


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("app_preferences", None),
        ("app_preferences_remove_with_files", ("remove_with_data", 1.5, 7200.0, True)),
    ],
)
def test_share_limits_as_the_preferences_set_them(httpx_mock, qbit, fixture, expected):
    login_ok(httpx_mock)
    httpx_mock.add_response(url=f"{BASE}/app/preferences", **recorded(f"qbittorrent/{fixture}.json").response_kwargs())
    limits = qbit.share_limits()
    got = None if limits is None else (limits.action, limits.ratio, limits.seed_seconds, limits.removes)
    assert got == expected
