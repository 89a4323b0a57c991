"""Seeding, then clean-up only when both are done: a torrent followed past `completed` as it seeds
(Transmission 3.00's recorded answer, its seeding figures raised), its [seeding] goal met once, and
its removal held until the Sonarr that knows it reports the import (answers built from Sonarr's
OpenAPI description: tests/fixtures/sonarr/README.md)."""

from __future__ import annotations

import copy
import json

import httpx
import pytest

from dlwatch.core.attempt import now_iso
from dlwatch.core.errors import ConfigError
from dlwatch.core.models import DownloadStatus
from dlwatch.policies.seeding import gate
from dlwatch.settings.config import parse_settings
from tests.conftest import fixture_body
from tests.support import schemas
from tests.support.attempts import tracked
from tests.support.fakes import MAGNET, SONARR, fake_sonarr, fake_transmission

REMOVED = {"arguments": {}, "result": "success"}  # Transmission's answer to torrent-remove


def seeded(ratio: float, seconds: int = 600, rate: int = 2048) -> dict:
    """Transmission's recorded answer for the completed torrent, as it would be after seeding a while."""
    body = copy.deepcopy(fixture_body("transmission/list_completed.json"))
    torrent = body["arguments"]["torrents"][0]
    torrent.update(uploadRatio=ratio, secondsSeeding=seconds, rateUpload=rate, uploadedEver=int(ratio * 52428800))
    return body


def record(cli, attempt_id: int) -> dict:
    [found] = schemas.check("status", json.loads(cli("status", str(attempt_id), "--json", "--no-refresh").stdout))
    return found


def transmission_calls(httpx_mock) -> list[str]:
    return [json.loads(r.content)["method"] for r in httpx_mock.get_requests() if r.url.port == 9091]


@pytest.fixture
def remove_at_ratio_one(dlwatch_home):
    dlwatch_home.mkdir(parents=True, exist_ok=True)
    (dlwatch_home / "config.toml").write_text('[seeding]\nratio = 1.0\naction = "remove"\n')


def test_the_whole_lifecycle_is_one_event_sequence_ending_in_removal_after_the_import(
    cli, tr_client, httpx_mock, remove_at_ratio_one
):
    cli("arr", "add", "sonarr", "--app", "sonarr", "--url", SONARR, "--api-key-stdin", "--no-test", input="k\n")
    fake_transmission(
        httpx_mock,
        [
            fixture_body("transmission/list_downloading.json"),
            fixture_body("transmission/list_completed.json"),
            seeded(0.5),
            seeded(1.25),
            REMOVED,
        ],
    )
    sent = json.loads(cli("send", MAGNET, "--json").stdout)
    fake_sonarr(httpx_mock, "queue_importing", "queue_without_it", "history_since_imported")
    for _ in range(4):
        polled = cli("poll", "--once")
        assert polled.exit_code == 0, polled.output

    events = schemas.check("history", json.loads(cli("history", str(sent["id"]), "--json").stdout))
    steps = [e["to_status"] if e["what"] == "status" else f"{e['what']}: {e['message']}" for e in events]
    assert steps[steps.index("completed") :] == [
        "completed",
        "import: sonarr: importing",
        "import: sonarr: imported",
        "seeding_goal: seeding goal met: ratio 1.25 ≥ 1",
        "removed",
    ]
    assert events[-1]["message"] == ("seeding goal met: ratio 1.25 ≥ 1 and imported by sonarr; removed with dlwatch")
    final = record(cli, sent["id"])
    assert (final["status"], final["seed_state"], final["ratio"], final["seed_seconds"]) == (
        "removed",
        "removed",
        1.25,
        600,
    )
    assert transmission_calls(httpx_mock)[-1] == "torrent-remove"
    assert cli("poll", "--once").exit_code == 0  # removed: Transmission is not asked again
    assert transmission_calls(httpx_mock)[-1] == "torrent-remove"


def test_never_imported_it_stays_the_goal_told_once_and_status_says_why(
    cli, tr_client, httpx_mock, remove_at_ratio_one
):
    cli("arr", "add", "sonarr", "--app", "sonarr", "--url", SONARR, "--api-key-stdin", "--no-test", input="k\n")
    fake_transmission(httpx_mock, [fixture_body("transmission/list_completed.json"), *[seeded(1.5)] * 3])
    sent = json.loads(cli("send", MAGNET, "--json").stdout)
    for _ in range(4):
        fake_sonarr(httpx_mock, "queue_import_blocked")
        assert cli("poll", "--once").exit_code == 0

    assert "torrent-remove" not in transmission_calls(httpx_mock)
    events = json.loads(cli("history", str(sent["id"]), "--json").stdout)
    assert [e["what"] for e in events].count("seeding_goal") == 1  # once, not every poll
    held = record(cli, sent["id"])
    assert (held["status"], held["seed_state"]) == ("completed", "held")
    assert held["seed_detail"] == (
        "goal met: ratio 1.50 ≥ 1; kept until imported: sonarr has not reported the import (blocked)"
    )
    # The default `status` still lists it (it waits on something), and says why.
    [line] = cli("status", "--no-refresh").stdout.splitlines()
    assert line.split("\t")[3:] == [
        "completed",
        "100.0%",
        "-",
        "/srv/dlw/transmission/downloads/dlw-qb2tr-50d955.bin",
        "import blocked; held; " + held["seed_detail"],
    ]


def test_with_no_arr_added_the_removal_comes_at_the_goal(cli, tr_client, httpx_mock, remove_at_ratio_one):
    fake_transmission(httpx_mock, [fixture_body("transmission/list_completed.json"), seeded(1.0), REMOVED])
    sent = json.loads(cli("send", MAGNET, "--json").stdout)
    assert cli("poll", "--once").exit_code == 0
    assert cli("poll", "--once").exit_code == 0
    final = record(cli, sent["id"])
    assert (final["status"], final["seed_state"]) == ("removed", "removed")
    assert (
        final["error"] == "seeding goal met: ratio 1.00 ≥ 1; no Sonarr or Radarr added to dlwatch; removed with dlwatch"
    )


def test_report_keeps_it_and_a_stopped_torrent_is_no_longer_asked_about(cli, tr_client, httpx_mock, dlwatch_home):
    stopped = copy.deepcopy(fixture_body("transmission/list_completed.json"))
    stopped["arguments"]["torrents"][0]["status"] = 0  # stopped by hand before any goal
    fake_transmission(httpx_mock, [fixture_body("transmission/list_completed.json"), stopped])
    sent = json.loads(cli("send", MAGNET, "--json").stdout)
    for _ in range(3):
        assert cli("poll", "--once").exit_code == 0
    assert transmission_calls(httpx_mock).count("torrent-get") == 2  # the third poll asks nothing
    final = record(cli, sent["id"])
    assert (final["status"], final["seed_state"], final["seed_detail"]) == (
        "completed",
        "stopped",
        "the client stopped seeding it (0)",
    )


@pytest.mark.parametrize(
    ("import_state", "arrs", "allowed", "why"),
    [
        ("imported", True, True, "seeding goal met and imported by sonarr"),
        ("none", True, True, "seeding goal met; no Sonarr or Radarr lists it"),
        (None, False, True, "seeding goal met; no Sonarr or Radarr added to dlwatch"),
        ("failed", True, False, "goal met; kept: sonarr reports the import failed, so it is not removed"),
        ("pending", True, False, "goal met; kept until imported: sonarr has not reported the import (pending)"),
        (None, True, False, "goal met; kept until imported: Sonarr/Radarr has not reported the import (not asked yet)"),
    ],
)
def test_the_import_gate(import_state, arrs, allowed, why):
    from dlwatch.store.db import Store

    attempt = tracked(Store(":memory:"), DownloadStatus.COMPLETED)
    attempt.import_state, attempt.arr = import_state, "sonarr" if import_state else None
    attempt.seed_detail, attempt.goal_met_at = "goal met", now_iso()
    assert gate(attempt, arrs) == (allowed, why)


def test_goals_by_client_and_category_and_a_typo_is_refused():
    settings = parse_settings(
        {
            "seeding": {
                "ratio": 2,
                "clients": {"box": {"seed_time": 3600, "action": "remove"}},
                "categories": {"tv": {"ratio": 1.5}},
            }
        }
    )
    goal = settings.seeding.goal("box", "tv")
    assert (goal.ratio, goal.seed_time, goal.action) == (1.5, 3600, "remove")
    assert settings.seeding.goal("other", None).describe() == "ratio 2, then report"
    assert goal.met_by(1.0, 3600) == "seeded 1h ≥ 1h"
    with pytest.raises(ConfigError, match=r"\[seeding\] has unknown keys: ratoi"):
        parse_settings({"seeding": {"ratoi": 1}})
    with pytest.raises(ConfigError, match="action must be one of report, remove, remove_with_data"):
        parse_settings({"seeding": {"action": "delete"}})


def test_a_request_error_on_removal_is_one_line_and_the_torrent_stays_held(
    cli, tr_client, httpx_mock, remove_at_ratio_one
):
    refused = httpx.Response(200, json={"arguments": {}, "result": "permission denied"})
    fake_transmission(httpx_mock, [fixture_body("transmission/list_completed.json"), seeded(1.0), refused])
    sent = json.loads(cli("send", MAGNET, "--json").stdout)
    assert cli("poll", "--once").exit_code == 0
    second = cli("poll", "--once")
    assert second.exit_code == 1
    assert "permission denied" in second.stderr and "Traceback" not in second.stderr
    assert record(cli, sent["id"])["seed_state"] == "held"
