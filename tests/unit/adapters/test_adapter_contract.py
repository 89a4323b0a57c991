"""What every registered adapter must do, built-in or plugin (one table-driven tester for all)."""

from __future__ import annotations

import json

import httpx
import pytest

from dlwatch.adapters import registry
from dlwatch.adapters.base import ClientAdapter
from dlwatch.core.errors import AuthRejected, CannotConnect, UnexpectedResponse
from dlwatch.core.models import Connection, DownloadStatus, Protocol, Secret
from tests.conftest import recorded
from tests.support.fake_rtorrent import FakeRtorrent

SECRET = "s3cret-value-never-shown"

# Every raw state shared/docs/client-apis.md documents, per client. The adapter's table must map
# each one to a real status: this list is the spec, the adapter's STATES the implementation.
DOCUMENTED_STATES = {
    "sabnzbd": [
        f"queue:{s}" for s in ("Downloading", "Queued", "Paused", "Propagating", "Fetching", "Grabbing", "Checking")
    ]
    + [
        f"history:{s}"
        for s in (
            "Completed",
            "Failed",
            "Queued",
            "QuickCheck",
            "Verifying",
            "Repairing",
            "Extracting",
            "Moving",
            "Running",
        )
    ],
    "nzbget": [
        f"queue:{s}"
        for s in (
            "QUEUED",
            "PAUSED",
            "DOWNLOADING",
            "FETCHING",
            "PP_QUEUED",
            "LOADING_PARS",
            "VERIFYING_SOURCES",
            "REPAIRING",
            "VERIFYING_REPAIRED",
            "RENAMING",
            "UNPACKING",
            "MOVING",
            "POST_UNPACK_RENAMING",
            "EXECUTING_SCRIPT",
            "PP_FINISHED",
            "QS_QUEUED",
            "QS_EXECUTING",
        )
    ]
    + [
        f"history:{s}"
        for s in (
            "SUCCESS/ALL",
            "SUCCESS/UNPACK",
            "SUCCESS/PAR",
            "SUCCESS/HEALTH",
            "SUCCESS/GOOD",
            "SUCCESS/MARK",
            "WARNING/SCRIPT",
            "WARNING/SPACE",
            "WARNING/PASSWORD",
            "WARNING/DAMAGED",
            "WARNING/REPAIRABLE",
            "WARNING/HEALTH",
            "WARNING/SKIPPED",
            "FAILURE/PAR",
            "FAILURE/UNPACK",
            "FAILURE/MOVE",
            "FAILURE/SCAN",
            "FAILURE/BAD",
            "FAILURE/HEALTH",
            "FAILURE/FETCH",
            "FAILURE/INTERNAL_ERROR",
            "DELETED/MANUAL",
            "DELETED/DUPE",
            "DELETED/COPY",
            "DELETED/GOOD",
            "SUCCESS/HIDDEN",
            "FAILURE/HIDDEN",
        )
    ],
    "qbittorrent": [
        "error",
        "missingFiles",
        "uploading",
        "pausedUP",
        "stoppedUP",
        "queuedUP",
        "stalledUP",
        "checkingUP",
        "forcedUP",
        "allocating",
        "downloading",
        "metaDL",
        "forcedMetaDL",
        "pausedDL",
        "stoppedDL",
        "queuedDL",
        "stalledDL",
        "checkingDL",
        "forcedDL",
        "queuedForChecking",
        "checkingResumeData",
        "moving",
    ],
    "transmission": ["0", "1", "2", "3", "4", "5", "6"],
    "deluge": ["Queued", "Checking", "Downloading", "Seeding", "Paused", "Error", "Moving", "Allocating"],
    "aria2": ["active", "waiting", "paused", "error", "complete", "removed"],
    # rTorrent has no state of its own: these are the readings of its flags the adapter documents.
    "rtorrent": ["metadata", "hashing", "downloading", "stalled", "paused", "stopped", "complete", "error"],
}

# A recorded listing per built-in type, to check every parsed item keeps the model's promises.
LISTINGS = {
    "sabnzbd": ["sabnzbd/queue_downloading.json"],
    "nzbget": ["nzbget/listgroups_downloading.json", "nzbget/status_downloading.json"],
    "qbittorrent": ["qbittorrent/auth_login_ok.json", "qbittorrent/list_all.json"],
    "transmission": ["transmission/session_id_409.json", "transmission/session_get.json", "transmission/list_all.json"],
}

ADAPTERS = registry.all_adapter_classes()
# rTorrent's own transport is SCGI; these HTTP-level checks reach it through a web server's /RPC2
# (test_rtorrent.py covers SCGI).
URL_BASES = {"rtorrent": "/RPC2"}


def make(cls: type[ClientAdapter]) -> ClientAdapter:
    url_base = URL_BASES.get(cls.type_name, cls.default_url_base)
    return cls(Connection("127.0.0.1", 18999, url_base=url_base, username="dlw", secret=Secret(SECRET), timeout=2))


def test_the_built_ins_are_registered_through_entry_points():
    builtin = {"sabnzbd", "nzbget", "qbittorrent", "transmission", "deluge", "rtorrent", "aria2"}
    assert builtin <= set(registry.type_names())


@pytest.mark.parametrize("cls", ADAPTERS, ids=lambda c: c.type_name)
def test_declares_what_the_cli_needs(cls):
    assert isinstance(cls.protocol, Protocol)
    assert 0 < cls.default_port < 65536
    assert cls.secret_kind in ("api_key", "password")
    assert cls.display_name


@pytest.mark.parametrize("cls", ADAPTERS, ids=lambda c: c.type_name)
def test_every_documented_state_is_mapped(cls):
    documented = DOCUMENTED_STATES.get(cls.type_name)
    if documented is None:
        pytest.skip(f"no documented state list for plugin type {cls.type_name}")
    unmapped = [s for s in documented if cls.STATES.get(s, DownloadStatus.UNKNOWN) is DownloadStatus.UNKNOWN]
    assert unmapped == []
    assert DownloadStatus.MISSING not in cls.STATES.values()  # only the tracker decides "missing"


@pytest.mark.parametrize("cls", ADAPTERS, ids=lambda c: c.type_name)
def test_secret_is_masked_in_repr(cls):
    adapter = make(cls)
    assert SECRET not in repr(adapter)
    assert SECRET not in repr(adapter.connection)
    assert SECRET not in str(adapter.connection.secret)


FAILURES = [
    (httpx.ConnectError("[Errno 111] Connection refused"), CannotConnect, "cannot connect"),
    (httpx.ConnectTimeout("timed out"), CannotConnect, "timed out"),
    (httpx.ReadTimeout("timed out"), CannotConnect, "did not answer"),
    (httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"), CannotConnect, "--ca-bundle"),
    (httpx.RemoteProtocolError("illegal status line"), UnexpectedResponse, "https"),
]


@pytest.mark.parametrize("cls", ADAPTERS, ids=lambda c: c.type_name)
@pytest.mark.parametrize(
    ("exc", "kind", "words"), FAILURES, ids=lambda v: type(v).__name__ if isinstance(v, Exception) else None
)
def test_transport_failures_are_mapped(httpx_mock, cls, exc, kind, words):
    httpx_mock.add_exception(exc)
    with pytest.raises(kind, match=words):
        make(cls).version()


@pytest.mark.parametrize("cls", ADAPTERS, ids=lambda c: c.type_name)
@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [
        (401, "Unauthorized", AuthRejected),
        (500, "Internal Server Error", UnexpectedResponse),
        (200, "<html><body>a login page</body></html>", UnexpectedResponse),
    ],
)
def test_bad_answers_are_mapped(httpx_mock, cls, status, body, kind):
    httpx_mock.add_response(status_code=status, text=body, is_reusable=True)
    with pytest.raises(kind):
        make(cls).version()


# JSON-RPC clients asked several things: each recorded answer goes to its method.
BY_METHOD = {
    "deluge": {
        "auth.login": "deluge-2.0/auth_login_ok.json",
        "web.connected": "deluge-2.0/web_connected.json",
        "core.get_torrents_status": "deluge-2.0/get_torrents_status_all.json",
    },
    "aria2": {
        "aria2.tellActive": "aria2-1.36/tellActive.json",
        "aria2.tellWaiting": "aria2-1.36/tellWaiting.json",
        "aria2.tellStopped": "aria2-1.36/tellStopped.json",
        "aria2.tellStatus": "aria2-1.36/tellStatus_complete.json",
    },
}


def _answer_by_method(table: dict[str, str]):
    def answer(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if body["method"] == "system.multicall":  # aria2: each call answered as if made alone
            results = [[recorded(table[c["methodName"]]).body["result"]] for c in body["params"][0]]
            return httpx.Response(200, json={"id": body["id"], "jsonrpc": "2.0", "result": results})
        return httpx.Response(**recorded(table[body["method"]]).response_kwargs())

    return answer


@pytest.mark.parametrize("cls", ADAPTERS, ids=lambda c: c.type_name)
def test_listed_items_keep_the_model_promises(httpx_mock, cls):
    if cls.type_name not in LISTINGS and cls.type_name not in BY_METHOD and cls.type_name != "rtorrent":
        pytest.skip("no recorded listing for a plugin type")
    if cls.type_name in BY_METHOD:
        httpx_mock.add_callback(_answer_by_method(BY_METHOD[cls.type_name]), is_reusable=True)
    elif cls.type_name == "rtorrent":
        fake = FakeRtorrent()
        httpx_mock.add_callback(lambda r: httpx.Response(200, content=fake.answer(r.content)), is_reusable=True)
    elif cls.type_name == "nzbget":  # it asks two things at once: each answer goes to its own method
        exchanges = [recorded(name) for name in LISTINGS[cls.type_name]]
        by_method = {e.request["body"]["method"]: e for e in exchanges}

        def answer(request: httpx.Request) -> httpx.Response:
            return httpx.Response(**by_method[json.loads(request.content)["method"]].response_kwargs())

        httpx_mock.add_callback(answer, is_reusable=True)
    else:
        for name in LISTINGS[cls.type_name]:
            httpx_mock.add_response(**recorded(name).response_kwargs())
    items = make(cls).list_downloads()
    assert items
    for item in items:
        assert 0.0 <= item.progress <= 1.0
        assert item.status is not DownloadStatus.UNKNOWN
        assert item.raw_state in cls.STATES
        for size in (item.size_bytes, item.remaining_bytes, item.download_speed):
            assert size is None or (isinstance(size, int) and size >= 0)
        assert item.eta_seconds is None or item.eta_seconds >= 0
