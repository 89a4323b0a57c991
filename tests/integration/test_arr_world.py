"""The *arr world on real daemons: clients imported from a Sonarr-shaped answer (built from Sonarr's
OpenAPI description, served over real HTTP) work against the real daemons they point at."""

from __future__ import annotations

import copy
import json
import time

import pytest

from tests.conftest import fixture_body
from tests.integration.cli import Dlwatch
from tests.support.jsonserver import JsonServer
from tests.support.waiting import unique, wait_for

pytestmark = pytest.mark.integration


def _pointed_at(resource: dict, port: int, username: str) -> dict:
    resource = copy.deepcopy(resource)
    for field in resource["fields"]:
        field["value"] = {"host": "127.0.0.1", "port": port, "username": username}.get(field["name"], field["value"])
    return resource


def test_clients_imported_from_sonarr_work_against_the_real_daemons(tmp_path, qbittorrent, transmission):
    listed = {c["name"]: c for c in fixture_body("sonarr/downloadclient.json")}
    answer = [
        _pointed_at(listed["qBittorrent"], qbittorrent.port, qbittorrent.username),
        _pointed_at(listed["Transmission"], transmission.port, transmission.username) | {"enable": True},
    ]
    # Transmission here has a password, which Sonarr would mask
    next(f for f in answer[1]["fields"] if f["name"] == "password")["value"] = "********"
    mappings = [{"id": 1, "host": "127.0.0.1", "remotePath": "/downloads/", "localPath": str(tmp_path / "seen")}]
    routes = {
        "/api/v3/system/status": (200, fixture_body("sonarr/system_status.json")),
        "/api/v3/downloadclient": (200, answer),
        "/api/v3/remotepathmapping": (200, mappings),
    }
    dlwatch = Dlwatch(tmp_path)
    with JsonServer(routes) as sonarr:
        secrets = f"sonarr-key\nqBittorrent={qbittorrent.password}\nTransmission={transmission.password}\n"
        out = dlwatch.ok(
            "client", "import", "--from-sonarr", sonarr.url, "--api-key-stdin", "--secrets-stdin", stdin=secrets
        )
    assert sonarr.received[0].headers["X-Api-Key"] == "sonarr-key"
    assert f"add qBittorrent (qbittorrent at http://127.0.0.1:{qbittorrent.port})" in out
    tested = json.loads(dlwatch.ok("client", "test", "--json"))
    assert {r["name"]: r["ok"] for r in tested} == {"qBittorrent": True, "Transmission": True}
    assert {r["name"]: r["version"].split()[0].lstrip("v")[:3] for r in tested}["qBittorrent"] == "4.5"
    settings = json.loads(dlwatch.ok("config", "show", "--json"))
    assert sorted(m["client"] for m in settings["path_mappings"]) == ["Transmission", "qBittorrent"]


def test_an_apprise_target_gets_one_notification_per_completion_with_several_pollers(tmp_path, transmission, tracker):
    dlwatch = Dlwatch(tmp_path)
    dlwatch.add_client("tr", transmission)
    with JsonServer() as receiver:
        url = f"json://127.0.0.1:{receiver.url.rsplit(':', 1)[1]}/dlwatch-hook"
        out = dlwatch.ok("notify", "add", "phone", "--url-stdin", stdin=url + "\n")
        assert "added phone: told of completed, failed (test notification sent)" in out
        [test_note] = receiver.received
        assert test_note.path == "/dlwatch-hook" and test_note.json()["title"].startswith("dlwatch: dlwatch test")
        receiver.received.clear()

        pollers = [dlwatch.popen("poll", "--interval", "0.3") for _ in range(3)]
        try:
            names = [unique("note") for _ in range(2)]
            for name in names:
                dlwatch.seed("tr", transmission, name, 256 * 1024, tracker.announce_url, tmp_path)
            wait_for(lambda: len(receiver.received) >= 2, timeout=30)
            time.sleep(3)  # every poller's later cycles, and any retry, would have come by now
        finally:
            for poller in pollers:
                poller.terminate()
            for poller in pollers:
                poller.wait(10)
    notes = [r.json() for r in receiver.received]
    assert len(notes) == 2, notes
    assert sorted(n["title"] for n in notes) == sorted(f"dlwatch: {name} completed" for name in names)
    assert {n["type"] for n in notes} == {"success"}
    assert all("on tr" in n["message"] for n in notes)
    runs = json.loads(dlwatch.ok("hooks", "--json"))
    assert sorted((r["name"], r["state"]) for r in runs) == [("notify:phone", "done")] * 2
    listed = json.loads(dlwatch.ok("notify", "list", "--json"))
    assert listed == [{"schema_version": 1, "name": "phone", "on": ["completed", "failed"], "url": "keyring"}]
    assert url not in (dlwatch.home / "dlwatch.db").read_bytes().decode("latin-1")
