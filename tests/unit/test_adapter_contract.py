"""What every registered adapter must do, built-in or plugin (one table-driven tester for all)."""

from __future__ import annotations

import json

import httpx
import pytest

from dlwatch import registry
from dlwatch.adapters.base import ClientAdapter
from dlwatch.errors import AuthRejected, CannotConnect, UnexpectedResponse
from dlwatch.models import Connection, DownloadStatus, Protocol, Secret
from tests.conftest import recorded

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
}

# A recorded listing per built-in type, to check every parsed item keeps the model's promises.
LISTINGS = {
    "sabnzbd": ["sabnzbd/queue_downloading.json"],
    "nzbget": ["nzbget/listgroups_downloading.json", "nzbget/status_downloading.json"],
    "qbittorrent": ["qbittorrent/auth_login_ok.json", "qbittorrent/list_all.json"],
    "transmission": ["transmission/session_id_409.json", "transmission/session_get.json", "transmission/list_all.json"],
}

ADAPTERS = registry.all_adapter_classes()


def make(cls: type[ClientAdapter]) -> ClientAdapter:
    return cls(
        Connection("127.0.0.1", 18999, url_base=cls.default_url_base, username="dlw", secret=Secret(SECRET), timeout=2)
    )


def test_the_four_built_ins_are_registered_through_entry_points():
    assert {"sabnzbd", "nzbget", "qbittorrent", "transmission"} <= set(registry.type_names())


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


@pytest.mark.parametrize("cls", ADAPTERS, ids=lambda c: c.type_name)
def test_listed_items_keep_the_model_promises(httpx_mock, cls):
    if cls.type_name not in LISTINGS:
        pytest.skip("no recorded listing for a plugin type")
    exchanges = [recorded(name) for name in LISTINGS[cls.type_name]]
    if cls.type_name == "nzbget":  # it asks two things at once: each answer goes to its own method
        by_method = {e.request["body"]["method"]: e for e in exchanges}

        def answer(request: httpx.Request) -> httpx.Response:
            return httpx.Response(**by_method[json.loads(request.content)["method"]].response_kwargs())

        httpx_mock.add_callback(answer, is_reusable=True)
    else:
        for exchange in exchanges:
            httpx_mock.add_response(**exchange.response_kwargs())
    items = make(cls).list_downloads()
    assert items
    for item in items:
        assert 0.0 <= item.progress <= 1.0
        assert item.status is not DownloadStatus.UNKNOWN
        assert item.raw_state in cls.STATES
        for size in (item.size_bytes, item.remaining_bytes, item.download_speed):
            assert size is None or (isinstance(size, int) and size >= 0)
        assert item.eta_seconds is None or item.eta_seconds >= 0
