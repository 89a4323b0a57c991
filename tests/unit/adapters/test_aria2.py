"""aria2 adapter against answers recorded from aria2 1.36.0 (tests/fixtures/aria2-1.36)."""

from __future__ import annotations

import json

import httpx
import pytest

from dlwatch.adapters.aria2 import Aria2Adapter
from dlwatch.core.errors import ActionUnsupported, AuthRejected, DownloadNotFound
from dlwatch.core.models import AddRequest, Connection, DownloadStatus, Secret
from tests.conftest import recorded

STATUS_FIXTURES = [
    "tellStatus_active_downloading",
    "tellStatus_active_seeding",
    "tellStatus_complete",
    "tellStatus_error",
    "tellStatus_magnet_followedBy",
    "tellStatus_magnet_following",
    "tellStatus_magnet_no_metadata",
    "tellStatus_paused",
    "tellStatus_removed",
    "tellStatus_waiting",
]


def result(name: str):
    return recorded(f"aria2-1.36/{name}.json").body["result"]


class Aria2:
    """Answers tellStatus by gid from the recorded statuses (the last recording of a gid wins, as
    `only` picks), and any other method from a table; checks the token on every call."""

    def __init__(self, httpx_mock, *, only: list[str] | None = None, table: dict | None = None) -> None:
        self.by_gid = {result(n)["gid"]: result(n) for n in (only or STATUS_FIXTURES)}
        self.table = table or {}
        self.sent: list[dict] = []
        httpx_mock.add_callback(self, is_reusable=True)

    def one(self, method: str, params: list):
        assert params[0] == "token:s3cret", params
        if method == "aria2.tellStatus":
            status = self.by_gid.get(params[1])
            if status is None:
                return {"code": 1, "message": f"GID {params[1]} is not found"}, True
            keys = params[2] if len(params) > 2 else list(status)
            return {k: v for k, v in status.items() if k in keys}, False
        return self.table[method], False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        call = json.loads(request.content)
        self.sent.append(call)
        if call["method"] == "system.multicall":
            out = []
            for c in call["params"][0]:
                value, failed = self.one(c["methodName"], c["params"])
                out.append(value if failed else [value])
            return httpx.Response(200, json={"id": call["id"], "jsonrpc": "2.0", "result": out})
        value, failed = self.one(call["method"], call["params"])
        key = "error" if failed else "result"
        return httpx.Response(400 if failed else 200, json={"id": call["id"], "jsonrpc": "2.0", key: value})


@pytest.fixture
def aria2() -> Aria2Adapter:
    return Aria2Adapter(Connection("127.0.0.1", 6800, secret=Secret("s3cret")))


@pytest.mark.parametrize(
    ("fixture", "status"),
    [
        ("tellStatus_active_downloading", DownloadStatus.DOWNLOADING),
        ("tellStatus_active_seeding", DownloadStatus.COMPLETED),
        ("tellStatus_complete", DownloadStatus.COMPLETED),
        ("tellStatus_error", DownloadStatus.FAILED),
        ("tellStatus_magnet_no_metadata", DownloadStatus.QUEUED),
        ("tellStatus_paused", DownloadStatus.PAUSED),
        ("tellStatus_removed", DownloadStatus.FAILED),
        ("tellStatus_waiting", DownloadStatus.QUEUED),
    ],
)
def test_recorded_states(httpx_mock, aria2, fixture, status):
    Aria2(httpx_mock, only=[fixture])
    [item] = aria2.list_downloads([result(fixture)["gid"]])
    assert item.status is status
    assert 0.0 <= item.progress <= 1.0


def test_a_finished_download_has_its_file_as_path(httpx_mock, aria2):
    Aria2(httpx_mock, only=["tellStatus_complete"])
    [item] = aria2.list_downloads(["75f75b85d9ce48eb"])
    assert item.content_path == "/tmp/dlw-harness/aria2/downloads/dlwh-aria2-complete-494a4c.bin"
    assert (item.progress, item.remaining_bytes, item.eta_seconds) == (1.0, 0, None)
    assert item.alt_ids == ("80ffc5dcc9b250b9d651dec6168bddef2c6ccd4b",)  # the infohash


def test_errors_and_removals_say_why(httpx_mock, aria2):
    Aria2(httpx_mock, only=["tellStatus_error", "tellStatus_removed"])
    failed, removed = aria2.list_downloads(["44f2517f0ad2562b", "e2a6aa7dad4b7be2"])
    assert failed.error.endswith("cause: Not a directory")
    assert removed.error == "removed in aria2 before it finished"


def test_unknown_gids_and_infohashes_are_not_asked_for_or_listed(httpx_mock, aria2):
    fake = Aria2(httpx_mock, only=["tellStatus_paused"])
    items = aria2.list_downloads(["ff1a4f197236a9ed", "0123456789abcdef", "a8c231b3bef6d45ac106420555461cfa458fec93"])
    assert [i.client_download_id for i in items] == ["ff1a4f197236a9ed"]
    [call] = fake.sent
    assert [c["params"][1] for c in call["params"][0]] == ["ff1a4f197236a9ed", "0123456789abcdef"]


def test_a_magnet_is_followed_to_the_download_that_took_over(httpx_mock, aria2):
    Aria2(httpx_mock, only=["tellStatus_magnet_followedBy", "tellStatus_magnet_following"])
    [item] = aria2.list_downloads(["acb53d3df2dbe39f"])  # the gid dlwatch got when it sent the magnet
    assert item.client_download_id == "2de291e10ee81f9f"
    assert item.alt_ids[0] == "acb53d3df2dbe39f"
    assert (item.status, item.title) == (DownloadStatus.COMPLETED, "dlwh-aria2-magnet-048fae.bin")
    assert item.content_path == "/tmp/dlw-harness/aria2/downloads/dlwh-aria2-magnet-048fae.bin"


def test_wrong_secret(httpx_mock, aria2):
    httpx_mock.add_response(**recorded("aria2-1.36/auth_wrong_secret.json").response_kwargs())
    with pytest.raises(AuthRejected, match="rejected the RPC secret"):
        aria2.version()


def test_adding_a_torrent_aria2_has_gives_its_gid_not_a_failing_new_one(httpx_mock, aria2):
    fake = Aria2(
        httpx_mock,
        table={"aria2.tellActive": result("tellActive"), "aria2.tellWaiting": [], "aria2.addTorrent": "9" * 16},
    )
    gid = aria2.add(AddRequest(title="x", content=b"...", infohash_v1="A8C231B3BEF6D45AC106420555461CFA458FEC93"))
    assert gid == "ff1a4f197236a9ed"
    assert "aria2.addTorrent" not in [c["method"] for c in fake.sent]


def test_adding_a_new_torrent(httpx_mock, aria2):
    fake = Aria2(
        httpx_mock, table={"aria2.tellActive": [], "aria2.tellWaiting": [], "aria2.addTorrent": "56a44aaeb77e08b2"}
    )
    assert aria2.add(AddRequest(title="x", content=b"abc", infohash_v1="1" * 40, paused=True)) == "56a44aaeb77e08b2"
    assert fake.sent[-1]["params"][1:] == ["YWJj", [], {"pause": "true"}]


def test_remove_with_data_is_refused_plainly(aria2):
    with pytest.raises(ActionUnsupported, match="cannot delete files through its API"):
        aria2.remove("ff1a4f197236a9ed", delete_data=True)


def test_pausing_an_unknown_gid(httpx_mock, aria2):
    httpx_mock.add_response(
        status_code=400, json={"id": "dlw1", "jsonrpc": "2.0", "error": {"code": 1, "message": "GID 1 is not found"}}
    )
    with pytest.raises(DownloadNotFound):
        aria2.pause("0123456789abcdef")
