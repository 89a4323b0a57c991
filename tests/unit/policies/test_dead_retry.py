"""retry of a dead download that Sonarr sent: found in Sonarr's queue by its infohash, handed back
with removeFromClient and blocklist (answers built from Sonarr's OpenAPI description:
tests/fixtures/sonarr/README.md); one nobody can replace is reported, not dropped."""

from __future__ import annotations

import json

from tests.conftest import fixture_body
from tests.support import schemas
from tests.support.fakes import MAGNET, SONARR, fake_sonarr, fake_transmission

DEAD_FAST = '[dead]\nstalled_after = 0.001\nunavailable_after = 0\nstrikes = 2\naction = "retry"\n'


def test_a_dead_download_sonarr_sent_is_handed_back_to_it(cli, tr_client, httpx_mock, dlwatch_home):
    (dlwatch_home / "config.toml").write_text(DEAD_FAST)
    fake_sonarr(httpx_mock, "system_status")
    added = schemas.check(
        "arr-add",
        json.loads(
            cli(
                "arr", "add", "sonarr", "--app", "sonarr", "--url", SONARR, "--api-key-stdin", "--json", input="k\n"
            ).stdout
        ),
    )
    assert added["version"] == "4.0.15.2941"
    schemas.check("arr-list", json.loads(cli("arr", "list", "--json").stdout))
    fake_transmission(httpx_mock, [fixture_body("transmission/list_downloading.json")] * 3)
    sent = json.loads(cli("send", MAGNET, "--json").stdout)
    cli("poll", "--once")  # it starts: progress, no strike
    cli("poll", "--once")  # no progress since: the first strike
    fake_sonarr(httpx_mock, "queue", "delete_queue_item")
    out = cli("poll", "--once").stdout
    assert "downloading -> failed (tr): dead (rule stalled): no progress for" in out
    assert "failed -> removed (tr)" in out and "handed back to sonarr" in out
    [delete] = [r for r in httpx_mock.get_requests() if r.method == "DELETE"]
    assert dict(delete.url.params) == {"removeFromClient": "true", "blocklist": "true", "skipRedownload": "false"}
    assert delete.url.path == "/api/v3/queue/1187" and delete.headers["x-api-key"] == "k"
    [record] = json.loads(cli("status", str(sent["id"]), "--json", "--no-refresh").stdout)
    assert record["status"] == "removed" and record["error"].startswith("dead (rule stalled)")
    schemas.check("arr-remove", json.loads(cli("arr", "remove", "sonarr", "--json").stdout))


def test_a_dead_download_nothing_can_replace_is_reported(cli, tr_client, httpx_mock, dlwatch_home):
    (dlwatch_home / "config.toml").write_text(DEAD_FAST)
    fake_transmission(httpx_mock, [fixture_body("transmission/list_downloading.json")] * 3)
    sent = json.loads(cli("send", MAGNET, "--json").stdout)
    cli("poll", "--once")
    cli("poll", "--once")
    result = cli("poll", "--once")
    assert result.exit_code == 1
    assert f"attempt {sent['id']}: not grabbed from a dlwatch search: nothing to search again" in result.stderr
    [record] = json.loads(cli("status", str(sent["id"]), "--json", "--no-refresh").stdout)
    assert record["status"] == "failed"  # still there, with its reason
