"""Bad input, as users and broken files produce it: one line on stderr, the documented exit code
(1 runtime, 2 usage), no traceback, and the database exactly as it was."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

BIG = str(2**63)


@pytest.fixture
def home(cli, dlwatch_home):
    add = ["client", "add", "tr", "--type", "transmission", "--host", "127.0.0.1", "--port", "1", "-u", "u"]
    assert cli(*add, "--no-test", "--password-stdin", input="pw\n").exit_code == 0
    return dlwatch_home


def dump(home) -> list[str] | None:
    path = home / "dlwatch.db"
    if not path.is_file():
        return None
    with sqlite3.connect(path) as conn:
        return list(conn.iterdump())


def torrent_file(tmp_path, body: bytes):
    path = tmp_path / "bad.torrent"
    path.write_bytes(body)
    return str(path)


CASES = {
    "info is an integer": (lambda t: ["send", torrent_file(t, b"d4:infoi1ee")], 1, "info is not a dictionary"),
    "info is a string": (lambda t: ["send", torrent_file(t, b"d4:info3:abce")], 1, "info is not a dictionary"),
    "info nested 200k deep": (
        lambda t: ["send", torrent_file(t, b"d4:info" + b"l" * 200_000 + b"e" * 200_000 + b"e")],
        1,
        "info is not a dictionary",
    ),
    "priority too large": (lambda t: ["client", "edit", "tr", "--priority", BIG], 2, "--priority"),
    "attempt id too large": (lambda t: ["status", BIG, "--no-refresh"], 2, "attempt_ids"),
    "history id too large": (lambda t: ["history", BIG], 2, "attempt_id"),
    "forget id too large": (lambda t: ["forget", BIG], 2, "attempt_id"),
    "hook run id too large": (lambda t: ["hooks", "retry", BIG], 2, "run_id"),
    "poll interval negative": (lambda t: ["poll", "--interval", "-1"], 2, "--interval"),
    "poll interval nan": (lambda t: ["poll", "--interval", "nan"], 2, "--interval"),
    "poll interval inf": (lambda t: ["poll", "--interval", "inf"], 2, "--interval"),
    "poll interval zero": (lambda t: ["poll", "--interval", "0"], 2, "--interval"),
    "watch interval nan": (lambda t: ["watch", "--interval", "nan"], 2, "--interval"),
    "title of 100k characters": (
        lambda t: ["send", "magnet:?xt=urn:btih:" + "a" * 40, "--title", "x" * 100_000],
        2,
        "--title takes 1 to 1000",
    ),
    "host with user info": (lambda t: ["client", "edit", "tr", "--host", "nas@other.example"], 2, "--host"),
    "host with a port": (lambda t: ["client", "edit", "tr", "--host", "nas:9091"], 2, "--host"),
    "a client named prowlarr": (
        lambda t: ["client", "add", "Prowlarr", "--type", "qbittorrent", "--host", "h", "--no-test"],
        2,
        "DLWATCH_PROWLARR_API_KEY",
    ),
    "names that share a variable": (
        lambda t: ["client", "add", "t-r", "--type", "qbittorrent", "--host", "h", "--no-test"],
        2,
        "would share the environment variable DLWATCH_T_R_PASSWORD",
    ),
    "a client name with a newline": (
        lambda t: ["client", "add", "a\nb", "--type", "qbittorrent", "--host", "h", "--no-test"],
        2,
        "a client name cannot hold a control character: a\\x0ab has \\x0a at character 2",
    ),
    "a client name with a colour": (
        lambda t: ["client", "add", "\x1b[31mred", "--type", "qbittorrent", "--host", "h", "--no-test"],
        2,
        "has \\x1b at character 1",
    ),
    "a rename to a name with a newline": (lambda t: ["client", "edit", "tr", "--name", "x\ny"], 2, "\\x0a"),
    "an arr instance name with a newline": (
        lambda t: ["arr", "add", "son\narr", "--app", "sonarr", "--url", "http://s:8989", "--api-key-stdin"],
        2,
        "an *arr instance's name cannot hold a control character",
    ),
    "a notify target name with an escape": (
        lambda t: ["notify", "add", "ph\x1bone", "--url-stdin"],
        2,
        "a notification target's name cannot hold a control character",
    ),
    "an empty home": (lambda t: ["--home", "", "config", "path"], 2, "--home"),
    "ca bundle that is no certificate": (
        lambda t: ["client", "edit", "tr", "--no-test", "--ca-bundle", torrent_file(t, b"not a certificate")],
        2,
        "not a readable PEM certificate",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_command_line_input(cli, home, tmp_path, case):
    make_args, code, words = CASES[case]
    args = make_args(tmp_path)
    if case == "names that share a variable":
        cli("client", "add", "t r", "--type", "qbittorrent", "--host", "h", "--no-test")
    before = dump(home)
    result = cli(*args)
    assert result.exit_code == code, result.output
    assert ("Traceback" not in result.output and result.exception is None) or isinstance(result.exception, SystemExit)
    assert words in result.stderr, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: ")
    assert dump(home) == before


CONFIGS = {
    "timeout nan": "[http]\ntimeout = nan\n",
    "timeout inf": "[http]\ntimeout = inf\n",
    "interval nan": "[poll]\ninterval = nan\n",
    "poll is a number": "poll = 5\n",
    "hooks is a string": "hooks = 'x'\n",
    "path_mappings is a number": "path_mappings = 5\n",
    "a mapping's client is a number": "[[path_mappings]]\nremote = '/a'\nlocal = '/b'\nclient = 5\n",
    "retries is negative": "[hooks]\nretries = -1\n",
    "not TOML": "[poll\ninterval = ",
}


@pytest.mark.parametrize("case", sorted(CONFIGS))
def test_a_bad_config_file_is_one_line_exit_1(cli, home, case):
    (home / "config.toml").write_text(CONFIGS[case])
    before = dump(home)
    result = cli("status", "--no-refresh")
    assert result.exit_code == 1, result.output
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: ") and "config.toml" in line
    assert dump(home) == before


def test_a_mistyped_client_is_the_error_even_for_a_download_tracked_already(cli, home, httpx_mock):
    from tests.support.fakes import MAGNET, fake_transmission

    fake_transmission(httpx_mock, [], url="http://127.0.0.1:1/transmission/rpc")  # the home's client
    assert cli("send", MAGNET).exit_code == 0
    before = dump(home)
    result = cli("send", MAGNET, "--client", "nosuch")
    assert result.exit_code == 1, result.output
    assert result.stderr.strip() == "error: no client named 'nosuch' (see `dlwatch client list`)"
    assert dump(home) == before


def test_unknown_keys_in_the_config_file_are_named_with_the_closest_known_one_at_every_command(cli, home):
    (home / "config.toml").write_text("[poll]\nintervall = 5\n[htp]\ntimeout = 3\n")
    expected = [
        f"warning: {home / 'config.toml'}: [poll] intervall: unknown key (did you mean interval?)",
        f"warning: {home / 'config.toml'}: [htp]: unknown section (did you mean http?)",
    ]
    for command in (["status", "--no-refresh"], ["config", "path"], ["client", "list"], ["hooks"]):
        result = cli(*command)
        assert result.exit_code == 0, result.output
        assert result.stderr.strip().splitlines() == expected, command


def test_a_config_file_that_is_a_folder(cli, home):
    (home / "config.toml").mkdir()
    result = cli("status", "--no-refresh")
    assert (result.exit_code, result.stderr.strip()) == (1, f"error: {home / 'config.toml'} is a folder, not a file")


def test_a_home_that_is_a_file(cli, tmp_path):
    home = tmp_path / "home-file"
    home.write_text("")
    result = cli("--home", str(home), "status", "--no-refresh")
    assert result.exit_code == 1 and result.stderr.strip().endswith(
        "is a file, not a folder (see --home and $DLWATCH_HOME)"
    )


def test_a_database_from_a_newer_dlwatch(cli, home):
    with sqlite3.connect(home / "dlwatch.db") as conn:
        conn.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('dlwatch', 'm999', 't')")
    before = dump(home)
    result = cli("status", "--no-refresh")
    [line] = result.stderr.strip().splitlines()
    assert result.exit_code == 1 and "made by a newer dlwatch" in line
    assert dump(home) == before


def test_an_attempt_with_a_status_this_dlwatch_does_not_know(cli, home):
    with sqlite3.connect(home / "dlwatch.db") as conn:
        client_id = conn.execute("SELECT id FROM clients").fetchone()[0]
        conn.execute(
            "INSERT INTO attempts (client_id, title, protocol, status, created_at, updated_at) "
            "VALUES (?, 't', 'torrent', 'teleported', 'x', 'x')",
            [client_id],
        )
    result = cli("status", "--no-refresh")
    [line] = result.stderr.strip().splitlines()
    assert result.exit_code == 1 and "written by a newer dlwatch" in line


def test_ca_bundle_given_relative_is_stored_as_an_absolute_path(cli, home, tmp_path, monkeypatch):
    import certifi

    bundle = tmp_path / "ca.pem"
    bundle.write_bytes(Path(certifi.where()).read_bytes())
    monkeypatch.chdir(tmp_path)
    assert cli("client", "edit", "tr", "--no-test", "--ca-bundle", "ca.pem").exit_code == 0
    assert json.loads(cli("client", "show", "tr", "--json").stdout)["ca_bundle"] == str(bundle)
