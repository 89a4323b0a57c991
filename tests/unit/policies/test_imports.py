"""Past `completed`: the import followed in the Sonarr that knows the download (answers built from
Sonarr's OpenAPI description: tests/fixtures/sonarr/README.md). Blocked with Sonarr's own reason,
then imported with when, each an event; late imports told of once; no *arr asked when nothing waits."""

from __future__ import annotations

import json
import re

import httpx

from tests.conftest import fixture_body
from tests.support import schemas
from tests.support.fakes import MAGNET, SONARR, fake_sonarr, fake_transmission


def asked_sonarr(httpx_mock) -> list[str]:
    return [r.url.path for r in httpx_mock.get_requests() if r.url.host == "sonarr.local"]


def record(cli, attempt_id: int) -> dict:
    [found] = schemas.check("status", json.loads(cli("status", str(attempt_id), "--json", "--no-refresh").stdout))
    return found


def test_blocked_then_imported_each_an_event_and_nothing_asked_once_it_ended(cli, tr_client, httpx_mock):
    cli("arr", "add", "sonarr", "--app", "sonarr", "--url", SONARR, "--api-key-stdin", "--no-test", input="k\n")
    fake_transmission(httpx_mock, [fixture_body("transmission/list_completed.json")] * 3)  # it seeds on
    sent = json.loads(cli("send", MAGNET, "--json").stdout)
    fake_sonarr(httpx_mock, "queue_import_blocked")
    polled = cli("poll", "--once")
    assert polled.exit_code == 0, polled.output
    blocked = record(cli, sent["id"])
    assert (blocked["status"], blocked["import_state"], blocked["arr"]) == ("completed", "blocked", "sonarr")
    assert "Series title mismatch; automatic import is not possible" in blocked["import_detail"]
    assert ": sonarr: blocked: dlw-qb2tr-50d955.bin: Import failed" in polled.stdout  # an event like any other
    assert asked_sonarr(httpx_mock) == ["/api/v3/queue"]  # one request: the queue had it

    fake_sonarr(httpx_mock, "queue_without_it")
    fake_sonarr(httpx_mock, "history_since_imported")
    assert cli("poll", "--once").exit_code == 0
    imported = record(cli, sent["id"])
    assert (imported["import_state"], imported["imported_at"]) == ("imported", "2026-06-01T10:42:17Z")
    assert asked_sonarr(httpx_mock)[1:] == ["/api/v3/queue", "/api/v3/history/since"]

    assert cli("poll", "--once").exit_code == 0
    assert len(asked_sonarr(httpx_mock)) == 3  # nothing waits on an import: Sonarr is not asked
    events = schemas.check("history", json.loads(cli("history", str(sent["id"]), "--json").stdout))
    assert [(e["what"], e["to_status"]) for e in events][-3:] == [
        ("status", "completed"),
        ("import", "completed"),
        ("import", "completed"),
    ]
    assert events[-1]["message"].startswith("sonarr: imported")


def test_a_late_import_is_told_of_once_with_the_arrs_reason(cli, tr_client, httpx_mock, dlwatch_home):
    (dlwatch_home / "config.toml").write_text("[import]\nwarn_after = 0.01\n")
    cli("arr", "add", "sonarr", "--app", "sonarr", "--url", SONARR, "--api-key-stdin", "--no-test", input="k\n")
    fake_transmission(httpx_mock, [fixture_body("transmission/list_completed.json")])
    sent = json.loads(cli("send", MAGNET, "--json").stdout)
    for _ in range(3):
        fake_sonarr(httpx_mock, "queue_import_blocked")
    first = cli("poll", "--once", "--json")
    second = cli("poll", "--once", "--json")
    third = cli("poll", "--once", "--json")
    lines = [json.loads(line) for line in (first.stdout + second.stdout + third.stdout).splitlines()]
    late = [r for r in lines if r.get("what") == "import_late"]
    assert len(late) == 1, lines  # once, not every poll
    assert re.match(
        r"completed \d+s ago, not imported by sonarr: dlw-qb2tr-50d955.bin: Import failed", late[0]["message"]
    )
    assert record(cli, sent["id"])["import_state"] == "blocked"


def test_no_arr_request_when_no_completed_download_waits(cli, tr_client, httpx_mock):
    cli("arr", "add", "sonarr", "--app", "sonarr", "--url", SONARR, "--api-key-stdin", "--no-test", input="k\n")
    fake_transmission(httpx_mock, [fixture_body("transmission/list_downloading.json")] * 2)
    cli("send", MAGNET)
    assert cli("poll", "--once").exit_code == 0
    assert cli("poll", "--once").exit_code == 0
    assert asked_sonarr(httpx_mock) == []


def test_an_arr_that_is_down_is_one_line_and_the_import_state_stays(cli, tr_client, httpx_mock):
    cli("arr", "add", "sonarr", "--app", "sonarr", "--url", SONARR, "--api-key-stdin", "--no-test", input="k\n")
    fake_transmission(httpx_mock, [fixture_body("transmission/list_completed.json")])
    sent = json.loads(cli("send", MAGNET, "--json").stdout)
    httpx_mock.add_exception(httpx.ConnectError("refused"), url=re.compile(re.escape(SONARR) + ".*"))
    polled = cli("poll", "--once")
    assert polled.exit_code == 1
    [line] = polled.stderr.strip().splitlines()
    assert line.startswith("error: sonarr: ")
    assert record(cli, sent["id"])["import_state"] is None
