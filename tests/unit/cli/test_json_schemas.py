"""Every command's --json output, as it really comes out, matches its JSON Schema in
src/dlwatch/schemas/, carries schema_version, and is the only thing on stdout."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from tests.conftest import fixture_body, recorded
from tests.support import schemas
from tests.support.fakes import MAGNET, fake_transmission
from tests.support.jsonserver import JsonServer

PROWLARR = "http://prowlarr.local:9696"
SONARR = "http://sonarr.local:8989"


def out(cli, *args, input=None, code=0):
    result = cli(*args, input=input)
    assert result.exit_code == code, result.output
    return result.stdout


def one(cli, name, *args, input=None, code=0):
    """Run a command; its stdout must be exactly one JSON document matching schema `name`."""
    return schemas.check(name, json.loads(out(cli, *args, input=input, code=code)))


def test_downloads_history_feed_actions_and_prune(cli, tr_client, httpx_mock):
    fake_transmission(
        httpx_mock,
        [fixture_body("transmission/list_paused.json"), fixture_body("transmission/list_completed.json")]
        + [fixture_body("transmission/list_completed.json")] * 3,
    )
    sent = one(cli, "attempt", "send", MAGNET, "--json")
    assert sent["schema_version"] == 1
    feed = schemas.check_lines("feed", out(cli, "watch", "--until-done", "--json", "--interval", "0.01"))
    assert [r["kind"] for r in feed] == ["event", "event"]
    [status] = one(cli, "status", "status", "--all", "--json", "--no-refresh")
    assert status["status"] == "completed"
    events = one(cli, "history", "history", str(sent["id"]), "--json")
    assert events[-1]["to_status"] == "completed"
    time.sleep(2.1)  # ended more than the --older-than below ago (timestamps are whole seconds)
    [prune] = one(cli, "prune", "prune", "--older-than", "1s", "--dry-run", "--json")
    assert prune["pruned"] is False
    forgotten = one(cli, "forget", "forget", str(sent["id"]), "--json")
    assert forgotten["forgotten"] is True and forgotten["id"] == sent["id"]
    assert json.loads(out(cli, "status", "--all", "--json", "--no-refresh")) == []


def test_actions_and_failure_records(cli, tr_client, httpx_mock):
    fake_transmission(httpx_mock, [fixture_body("transmission/list_downloading.json")] * 4)
    sent = one(cli, "attempt", "send", MAGNET, "--json")
    [paused] = one(cli, "actions", "pause", str(sent["id"]), "--json")
    assert paused["action"] == "pause"
    httpx_mock.reset()
    httpx_mock.add_exception(httpx.ConnectError("[Errno 111] Connection refused"), is_reusable=True)
    result = cli("poll", "--once", "--json")
    assert result.exit_code == 1
    [failure] = schemas.check_lines("feed", result.stdout)
    assert (failure["kind"], failure["client"]) == ("failure", "tr")
    assert "cannot connect" in failure["error"] and "error: tr:" in result.stderr


def test_clients(cli, httpx_mock, memory_keyring):
    add = one(
        cli, "client-add", "client", "add", "qb", "--type", "qbittorrent", "--host", "10.0.0.2", "--no-test", "--json"
    )
    assert add["version"] is None and add["secret"] == "none"
    one(cli, "client-list", "client", "list", "--json")
    one(cli, "client", "client", "show", "qb", "--json")
    one(cli, "client", "client", "edit", "qb", "--priority", "3", "--no-test", "--json")
    one(cli, "client-types", "client", "types", "--json")
    httpx_mock.add_exception(httpx.ConnectError("[Errno 111] Connection refused"))
    [tested] = one(cli, "client-test", "client", "test", "--json", code=1)
    assert tested["ok"] is False
    one(cli, "client-remove", "client", "remove", "qb", "--json")


def test_imports(cli, httpx_mock, memory_keyring):
    for name in ("system_status", "downloadclient", "remotepathmapping"):
        fixture = recorded(f"sonarr/{name}.json")
        httpx_mock.add_response(url=f"{SONARR}{fixture.request['path']}", is_reusable=True, **fixture.response_kwargs())
    dry = one(
        cli,
        "client-import",
        "client",
        "import",
        "--from-sonarr",
        SONARR,
        "--api-key-stdin",
        "--dry-run",
        "--json",
        input="k\n",
    )
    assert dry["dry_run"] is True and dry["clients"]
    done = one(
        cli, "client-import", "client", "import", "--from-sonarr", SONARR, "--api-key-stdin", "--json", input="k\n"
    )
    assert done["dry_run"] is False


def test_config_and_prowlarr(cli, httpx_mock, memory_keyring):
    one(cli, "config-init", "config", "init", "--json")
    paths = one(cli, "config-path", "config", "path", "--json")
    assert paths["config_exists"] is True
    one(cli, "config-show", "config", "show", "--json")
    status = recorded("prowlarr/system_status.json")
    httpx_mock.add_response(url=f"{PROWLARR}/api/v1/system/status", is_reusable=True, **status.response_kwargs())
    one(cli, "prowlarr-set", "prowlarr", "set", "--url", PROWLARR, "--api-key-stdin", "--json", input="key\n")
    one(cli, "prowlarr-show", "prowlarr", "show", "--json")
    one(cli, "prowlarr-test", "prowlarr", "test", "--json")
    search = recorded("prowlarr/search.json")
    httpx_mock.add_response(url=f"{PROWLARR}/api/v1/search?query=open+movie&type=search", **search.response_kwargs())
    results = one(cli, "search", "search", "open movie", "--json")
    assert [r["index"] for r in results] == [1, 2]


def test_notify_and_hooks(cli, tr_client, httpx_mock, memory_keyring, dlwatch_home):
    with JsonServer() as receiver:
        url = f"json://127.0.0.1:{receiver.url.rsplit(':', 1)[1]}/"
        one(cli, "notify-add", "notify", "add", "phone", "--url-stdin", "--json", input=url + "\n")
        one(cli, "notify-list", "notify", "list", "--json")
        one(cli, "notify-test", "notify", "test", "phone", "--json")
        (dlwatch_home / "config.toml").write_text(
            (dlwatch_home / "config.toml").read_text() + "\n[hooks]\non_complete = 'true'\n"
        )
        fake_transmission(httpx_mock, [fixture_body("transmission/list_completed.json")] * 3)
        cli("send", MAGNET)
        feed = schemas.check_lines("feed", out(cli, "poll", "--once", "--json"))
        assert {h["name"] for h in feed[-1]["hooks"]} == {"on_complete", "notify:phone"}
        runs = one(cli, "hooks", "hooks", "--json")
        one(cli, "hook-run", "hooks", "retry", str(runs[0]["run_id"]), "--json")
        one(cli, "hooks", "hooks", "run", "--json")
    one(cli, "notify-remove", "notify", "remove", "phone", "--json")


def test_arr_instances(cli, httpx_mock, memory_keyring):
    status = recorded("sonarr/system_status.json")
    httpx_mock.add_response(url=f"{SONARR}/api/v3/system/status", **status.response_kwargs())
    one(
        cli,
        "arr-add",
        "arr",
        "add",
        "sonarr",
        "--app",
        "sonarr",
        "--url",
        SONARR,
        "--api-key-stdin",
        "--json",
        input="k\n",
    )
    [listed] = one(cli, "arr-list", "arr", "list", "--json")
    assert listed["api_key"] == "keyring"
    one(cli, "arr-remove", "arr", "remove", "sonarr", "--json")


def test_every_schema_was_checked_against_a_real_output():
    # client push is checked against the real daemons in tests/integration/test_push.py
    assert schemas.names() - schemas.CHECKED - {"client-push"} == set()


def test_a_record_that_drifted_from_its_schema_is_refused():
    from jsonschema import ValidationError

    good = {"schema_version": 1, "name": "phone", "ok": True, "detail": None}
    schemas.check("notify-test", good)
    for drifted in ({**good, "extra": 1}, {k: v for k, v in good.items() if k != "ok"}, {**good, "schema_version": 2}):
        with pytest.raises(ValidationError):
            schemas.check("notify-test", drifted)
