"""Importing download clients and remote path mappings from Sonarr and Radarr (answers built from
Sonarr's OpenAPI description: tests/fixtures/sonarr/README.md), and clients as a file."""

from __future__ import annotations

import json
import tomllib

import pytest

from tests.conftest import recorded

SONARR = "http://sonarr.local:8989"
RADARR = "http://radarr.local:7878"
KEY = "sonarr-api-key-0123456789abcdef"


def serve(httpx_mock, url: str, app: str, *names: str) -> None:
    for name in names:
        fixture = recorded(f"{app}/{name}.json")
        httpx_mock.add_response(
            url=f"{url}{fixture.request['path']}", method="GET", is_reusable=True, **fixture.response_kwargs()
        )


def test_sonarr_dry_run_shows_every_setting_and_mapping_it_would_write(cli, httpx_mock, dlwatch_home):
    serve(httpx_mock, SONARR, "sonarr", "system_status", "downloadclient", "remotepathmapping")
    result = cli("client", "import", "--from-sonarr", SONARR, "--api-key-stdin", "--dry-run", "--json", input=KEY)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert httpx_mock.get_requests()[0].headers["x-api-key"] == KEY
    clients = {c["name"]: c for c in report["clients"]}
    assert set(clients) == {"SABnzbd", "qBittorrent", "Transmission", "seedbox", "aria2"}
    assert {c["action"] for c in clients.values()} == {"add"}
    seedbox = clients["seedbox"]
    assert (seedbox["type"], seedbox["address"], seedbox["username"], seedbox["category"]) == (
        "rtorrent",
        "https://seedbox.example.net:443/RPC2",
        "me",
        "sonarr",
    )
    assert clients["qBittorrent"]["category"] == "tv-sonarr" and clients["SABnzbd"]["category"] == "tv"
    assert clients["aria2"]["address"] == "http://127.0.0.1:6800" and clients["Transmission"]["enabled"] is False
    assert report["unsupported"] == [{"name": "old uTorrent", "why": "UTorrent is not supported"}]
    # one dlwatch mapping per client on the mapping's host
    assert sorted((m["client"], m["remote"], m["local"], m["action"]) for m in report["path_mappings"]) == [
        ("Transmission", "/downloads/", "/mnt/nas/downloads/", "add"),
        ("qBittorrent", "/downloads/", "/mnt/nas/downloads/", "add"),
        ("seedbox", "/home/me/files/", "/mnt/seedbox/", "add"),
    ]
    listed = cli("client", "list", "--json")
    assert listed.stdout.strip() == "[]", (listed.output, listed.exception)
    assert not (dlwatch_home / "config.toml").exists()


def test_sonarr_import_writes_clients_secrets_and_mappings_and_a_second_run_adds_nothing(
    cli, httpx_mock, dlwatch_home, memory_keyring
):
    serve(httpx_mock, SONARR, "sonarr", "system_status", "downloadclient", "remotepathmapping")
    dlwatch_home.mkdir(parents=True, exist_ok=True)
    (dlwatch_home / "config.toml").write_text("# my own notes\n[poll]\ninterval = 60\n")
    secrets = f"{KEY}\nqBittorrent=qb-pass\nseedbox=sb-pass\n"
    result = cli("client", "import", "--from-sonarr", SONARR, "--api-key-stdin", "--secrets-stdin", input=secrets)
    assert result.exit_code == 0, result.output
    assert "add seedbox (rtorrent at https://seedbox.example.net:443/RPC2)" in result.stdout
    assert "skipped old uTorrent: UTorrent is not supported" in result.stderr
    assert "SABnzbd (`dlwatch client edit SABnzbd --api-key-stdin`)" in result.stderr
    assert "aria2 (`dlwatch client edit aria2 --api-key-stdin`)" in result.stderr
    assert sorted(memory_keyring.store.values()) == ["qb-pass", "sb-pass"]

    text = (dlwatch_home / "config.toml").read_text()
    assert text.startswith("# my own notes\n")  # the user's comments stay
    doc = tomllib.loads(text)
    assert doc["poll"] == {"interval": 60}
    assert len(doc["path_mappings"]) == 3
    shown = cli("config", "show").stdout
    assert "path mapping:    /home/me/files/ -> /mnt/seedbox/ (client seedbox)" in shown

    again = cli("client", "import", "--from-sonarr", SONARR, "--api-key-stdin", "--json", input=KEY)
    report = json.loads(again.stdout)
    assert report["created"] == [] and len(report["updated"]) == 5
    assert {m["action"] for m in report["path_mappings"]} == {"present"}
    assert (dlwatch_home / "config.toml").read_text() == text
    assert len(json.loads(cli("client", "list", "--json").stdout)) == 5


def test_radarr_category_fields_are_read(cli, httpx_mock):
    serve(httpx_mock, RADARR, "radarr", "system_status", "downloadclient", "remotepathmapping")
    result = cli("client", "import", "--from-radarr", RADARR, "--api-key-stdin", "--dry-run", "--json", input=KEY)
    report = json.loads(result.stdout)
    assert {c["name"]: c["category"] for c in report["clients"]} == {"qBittorrent": "radarr", "NZBGet": "movies"}
    assert sorted(m["client"] for m in report["path_mappings"]) == ["NZBGet", "qBittorrent"]


def test_the_wrong_app_at_the_address_is_named(cli, httpx_mock):
    serve(httpx_mock, SONARR, "sonarr", "system_status")
    result = cli("client", "import", "--from-radarr", SONARR, "--api-key-stdin", input=KEY)
    assert result.exit_code == 1
    assert "is Sonarr, not Radarr: use --from-sonarr" in result.stderr


@pytest.mark.parametrize("app", ["sonarr", "radarr"])
def test_a_wrong_key_is_one_line_and_nothing_is_written(cli, httpx_mock, dlwatch_home, app):
    url = SONARR if app == "sonarr" else RADARR
    serve(httpx_mock, url, app, "unauthorized_401")
    result = cli("client", "import", f"--from-{app}", url, "--api-key-stdin", input="wrong\n")
    assert result.exit_code == 1
    [line] = result.stderr.strip().splitlines()
    assert f"{app.capitalize()} rejected the API key (HTTP 401)" in line and "Settings > General > API Key" in line
    assert json.loads(cli("client", "list", "--json").stdout) == []


def test_export_then_import_into_a_fresh_home_reproduces_the_clients(cli, tmp_path, memory_keyring, monkeypatch):
    for args in (
        ["qb", "--type", "qbittorrent", "--host", "10.0.0.2", "--username", "admin", "--category", "tv"],
        ["sab", "--type", "sabnzbd", "--host", "10.0.0.3", "--url-base", "/sabnzbd", "--priority", "5"],
        ["tr", "--type", "transmission", "--host", "10.0.0.4", "--disabled", "--insecure", "--ssl"],
    ):
        secret = ["--api-key-stdin"] if "sabnzbd" in args else ["--password-stdin"] if "qb" in args else []
        assert cli("client", "add", *args, "--no-test", *secret, input="s3cret\n").exit_code == 0
    before = json.loads(cli("client", "list", "--json").stdout)
    exported = tmp_path / "clients.toml"
    assert cli("client", "export", "--output", str(exported)).exit_code == 0
    assert "s3cret" not in exported.read_text()
    assert oct(exported.stat().st_mode & 0o777) == "0o600"

    monkeypatch.setenv("DLWATCH_HOME", str(tmp_path / "fresh"))
    dry = json.loads(cli("client", "import", "--from-file", str(exported), "--dry-run", "--json").stdout)
    assert sorted(c["name"] for c in dry["clients"]) == ["qb", "sab", "tr"]
    assert json.loads(cli("client", "list", "--json").stdout) == []
    result = cli("client", "import", "--from-file", str(exported), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["needs_secret"] == []  # same machine: the keyring has them by id
    after = json.loads(cli("client", "list", "--json").stdout)
    drop = {"created_at", "updated_at"}
    assert [{k: v for k, v in c.items() if k not in drop} for c in after] == [
        {k: v for k, v in c.items() if k not in drop} for c in before
    ]


def test_import_from_file_takes_secrets_from_stdin_and_refuses_unknown_keys(cli, tmp_path, memory_keyring):
    path = tmp_path / "clients.toml"
    path.write_text(
        '[[clients]]\nname = "nas"\ntype = "nzbget"\nhost = "10.0.0.9"\nneeds_secret = true\n'
        '[[clients]]\nname = "odd"\ntype = "utorrent"\nhost = "10.0.0.8"\n'
    )
    result = cli("client", "import", "--from-file", str(path), "--secrets-stdin", input="nas=pw\n")
    assert result.exit_code == 0, result.output
    assert "skipped odd: unknown client type 'utorrent'" in result.stderr
    assert list(memory_keyring.store.values()) == ["pw"]
    [nas] = json.loads(cli("client", "list", "--json").stdout)
    assert (nas["name"], nas["port"], nas["secret"]) == ("nas", 6789, "keyring")

    path.write_text('[[clients]]\nname = "nas"\ntype = "nzbget"\nhost = "10.0.0.9"\npasword = "x"\n')
    bad = cli("client", "import", "--from-file", str(path))
    assert bad.exit_code == 1 and "unknown keys: pasword" in bad.stderr
