"""The *arr world on real daemons: clients imported from a Sonarr-shaped answer (built from Sonarr's
OpenAPI description, served over real HTTP) work against the real daemons they point at."""

from __future__ import annotations

import copy
import json

import pytest

from tests.conftest import fixture_body
from tests.integration.cli import Dlwatch
from tests.support.jsonserver import JsonServer

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
