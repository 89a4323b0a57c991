"""`dlwatch client ...` and `dlwatch config ...` through Typer's runner, with DLWATCH_HOME in a temp dir."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import httpx
import keyring
import pytest
from typer.testing import CliRunner

from dlwatch.cli.app import app
from tests.conftest import recorded
from tests.support import schemas

PASSWORD = "pa55-word-never-stored-in-files"
QB = "http://127.0.0.1:8080/api/v2"


@pytest.fixture
def cli():
    runner = CliRunner()

    def run(*args: str, input: str | None = None):
        return runner.invoke(app, list(args), input=input)

    return run


def qbit_ok(httpx_mock) -> None:
    httpx_mock.add_response(
        url=f"{QB}/auth/login", method="POST", **recorded("qbittorrent/auth_login_ok.json").response_kwargs()
    )
    httpx_mock.add_response(url=f"{QB}/app/version", text="v4.5.2")
    httpx_mock.add_response(url=f"{QB}/app/webapiVersion", text="2.8.19")


def add_qbit(cli, name="qb", *extra):
    return cli(
        "client",
        "add",
        name,
        "--type",
        "qbittorrent",
        "--host",
        "127.0.0.1",
        "-u",
        "dlw",
        "--password-stdin",
        *extra,
        input=PASSWORD + "\n",
    )


def test_add_tests_first_then_keeps_the_secret_only_in_the_keyring(cli, httpx_mock, memory_keyring, dlwatch_home):
    qbit_ok(httpx_mock)
    result = add_qbit(cli)
    assert result.exit_code == 0, result.output
    assert "added qb: qBittorrent v4.5.2, API 2.8.19" in result.output
    assert httpx_mock.get_requests()[0].content == f"username=dlw&password={PASSWORD}".encode()
    assert list(memory_keyring.store.values()) == [PASSWORD]
    for path in dlwatch_home.rglob("*"):
        if path.is_file():
            assert PASSWORD.encode() not in path.read_bytes(), path
    listed = cli("client", "list", "--json")
    assert PASSWORD not in listed.output
    [entry] = json.loads(listed.output)
    assert (entry["name"], entry["port"], entry["secret"]) == ("qb", 8080, "keyring")


def test_add_of_an_unreachable_client_saves_nothing(cli, httpx_mock, memory_keyring):
    httpx_mock.add_exception(httpx.ConnectError("[Errno 111] Connection refused"))
    result = add_qbit(cli)
    assert result.exit_code == 1
    assert result.output.strip().startswith("error: qb: cannot connect to http://127.0.0.1:8080")
    assert len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output
    assert memory_keyring.store == {}
    assert json.loads(cli("client", "list", "--json").output) == []


def test_rejected_credentials_name_the_fix(cli, httpx_mock):
    httpx_mock.add_response(url=f"{QB}/auth/login", method="POST", text="Fails.")
    result = add_qbit(cli)
    assert result.exit_code == 1
    assert "rejected the username or password" in result.output
    assert "nothing was saved: run `dlwatch client add` again with the right one (--password-stdin)" in result.output


def test_a_rejected_saved_client_names_itself_and_its_secret_option(cli, httpx_mock):
    from tests.conftest import recorded

    add = cli(
        "client",
        "add",
        "my sab",
        "--type",
        "sabnzbd",
        "--host",
        "127.0.0.1",
        "--no-test",
        "--api-key-stdin",
        input="k\n",
    )
    assert add.exit_code == 0, add.output
    httpx_mock.add_response(
        url=re.compile(r"http://127\.0\.0\.1:8080/api.*"),
        **recorded("sabnzbd/auth_failure_wrong_apikey.json").response_kwargs(),
    )
    result = cli("client", "test", "my sab")
    assert result.exit_code == 1 and result.stdout == ""
    assert "fix it with `dlwatch client edit 'my sab' --api-key-stdin`" in result.stderr


def test_no_test_saves_without_connecting(cli):
    result = add_qbit(cli, "qb", "--no-test", "--category", "tv", "--priority", "3")
    assert result.exit_code == 0
    assert "not tested" in result.output
    shown = json.loads(cli("client", "show", "qb", "--json").output)
    assert (shown["category"], shown["priority"], shown["enabled"]) == ("tv", 3, True)


def test_rtorrent_takes_a_unix_socket_and_shows_each_transport_as_it_is(cli, tmp_path):
    cli("client", "add", "sock", "--type", "rtorrent", "--host", str(tmp_path / "rpc.socket"), "--no-test")
    cli("client", "add", "tcp", "--type", "rtorrent", "--host", "127.0.0.1", "--no-test")
    cli("client", "add", "web", "--type", "rtorrent", "--host", "box", "--ssl", "--url-base", "RPC2", "--no-test")
    shown = {n: json.loads(cli("client", "show", n, "--json").output)["address"] for n in ("sock", "tcp", "web")}
    assert shown == {
        "sock": f"scgi://{tmp_path / 'rpc.socket'}",
        "tcp": "scgi://127.0.0.1:5000",
        "web": "https://box:5000/RPC2",
    }


def test_per_type_defaults(cli):
    cli("client", "add", "tr", "--type", "transmission", "--host", "nas", "--no-test")
    cli("client", "add", "sab", "--type", "sabnzbd", "--host", "nas", "--no-test")
    shown = {c["name"]: c for c in json.loads(cli("client", "list", "--json").output)}
    assert (shown["tr"]["port"], shown["tr"]["url_base"]) == (9091, "/transmission")
    assert (shown["sab"]["port"], shown["sab"]["url_base"]) == (8080, "")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["client", "add", "s", "--type", "sabnzbd", "--host", "h", "--password-stdin"], "use --api-key-stdin"),
        (["client", "add", "s", "--type", "utorrent", "--host", "h"], "unknown client type 'utorrent'"),
        (["client", "add", "s", "--type", "nzbget", "--host", "http://h/x"], "--url-base"),
        (["client", "add", "s", "--type", "nzbget", "--host", "h", "--port", "70000"], "--port"),
        (["client", "edit", "nope", "--port", "1"], "no client named 'nope'"),
        (["client", "add", "s", "--type", "qbittorrent", "--host", "/run/q.sock"], "not '/run/q.sock'"),
        (["client", "add", "s", "--type", "rtorrent", "--host", "h", "--ssl"], "SCGI has no TLS"),
        (["client", "add", "s", "--type", "rtorrent", "--host", "/run/rt.sock", "--url-base", "/RPC2"], "unix socket"),
    ],
)
def test_bad_input_is_one_line_and_non_zero(cli, args, words):
    result = cli(*args, input="x\n")
    assert result.exit_code != 0
    assert words in result.output
    assert "Traceback" not in result.output


def test_duplicate_name_is_refused(cli):
    add_qbit(cli, "qb", "--no-test")
    result = add_qbit(cli, "qb", "--no-test")
    assert result.exit_code == 1
    assert "exists already" in result.output


def test_edit_renames_and_keeps_the_secret_then_remove_deletes_it(cli, memory_keyring):
    add_qbit(cli, "qb", "--no-test")
    result = cli("client", "edit", "qb", "--name", "seedbox", "--port", "9090", "--no-test")
    assert result.exit_code == 0, result.output
    shown = json.loads(cli("client", "show", "seedbox", "--json").output)
    assert shown["port"] == 9090 and shown["secret"] == "keyring"
    assert cli("client", "remove", "seedbox").exit_code == 0
    assert memory_keyring.store == {}
    assert cli("client", "show", "seedbox").exit_code == 1


def test_edit_with_nothing_to_change(cli):
    add_qbit(cli, "qb", "--no-test")
    result = cli("client", "edit", "qb")
    assert result.exit_code == 2 and "nothing to change" in result.output


def test_client_test_reports_each_client_and_goes_on_after_a_failure(cli, httpx_mock):
    add_qbit(cli, "down", "--no-test", "--priority", "9")
    add_qbit(cli, "qb", "--no-test")
    cli("client", "edit", "down", "--port", "8081", "--no-test")
    httpx_mock.add_exception(httpx.ConnectError("refused"), url="http://127.0.0.1:8081/api/v2/auth/login")
    qbit_ok(httpx_mock)
    httpx_mock.add_response(
        url=f"{QB}/app/preferences", **recorded("qbittorrent/app_preferences.json").response_kwargs()
    )
    result = cli("client", "test", "--json")
    assert result.exit_code == 1
    report = {r["name"]: r for r in schemas.check("client-test", json.loads(result.output))}
    assert report["down"]["ok"] is False and "cannot connect" in report["down"]["error"]
    assert report["qb"]["ok"] is True and report["qb"]["version"] == "v4.5.2"
    assert report["qb"]["share_limits"] is None  # the daemon's defaults: none set


def test_client_test_and_show_warn_of_share_limits_that_remove_downloads(cli, httpx_mock):
    add_qbit(cli, "qb", "--no-test")
    assert "not known yet (`dlwatch client test qb` reads them)" in cli("client", "show", "qb").stdout
    qbit_ok(httpx_mock)  # client test: one login, the version, then the preferences
    prefs = recorded("qbittorrent/app_preferences_remove_with_files.json").response_kwargs()
    httpx_mock.add_response(url=f"{QB}/app/preferences", **prefs)
    tested = cli("client", "test")
    assert tested.exit_code == 0, tested.output
    warning = (
        "warning: qb at ratio 1.5 or 120 minutes of seeding it removes it and deletes its files "
        "(Options > BitTorrent > Seeding Limits): a download can go before Sonarr or Radarr imports it"
    )
    assert warning in tested.stderr
    shown = cli("client", "show", "qb")  # as client test read them: show asks the client nothing
    assert "seeding:     at ratio 1.5 or 120 minutes of seeding it removes it and deletes its files" in shown.stdout
    assert warning in shown.stderr


def test_without_a_keyring_the_error_names_the_fix(cli, monkeypatch):
    from keyring.backends.fail import Keyring as FailKeyring

    keyring.set_keyring(FailKeyring())
    result = add_qbit(cli, "my nas", "--no-test")
    assert result.exit_code == 1
    assert "no OS keyring" in result.output and "DLWATCH_MY_NAS_PASSWORD" in result.output
    assert json.loads(cli("client", "list", "--json").output) == []


def test_environment_override_replaces_the_keyring(cli, httpx_mock, monkeypatch):
    from keyring.backends.fail import Keyring as FailKeyring

    keyring.set_keyring(FailKeyring())
    monkeypatch.setenv("DLWATCH_QB_PASSWORD", PASSWORD)
    assert add_qbit(cli, "qb", "--no-test").exit_code == 0
    qbit_ok(httpx_mock)
    httpx_mock.add_response(
        url=f"{QB}/app/preferences", **recorded("qbittorrent/app_preferences.json").response_kwargs()
    )
    result = cli("client", "test", "qb")
    assert result.exit_code == 0, result.output
    assert httpx_mock.get_requests()[0].content == f"username=dlw&password={PASSWORD}".encode()
    assert "environment" in cli("client", "show", "qb").output


def test_types_lists_the_built_ins(cli):
    rows = {r["type"]: r for r in json.loads(cli("client", "types", "--json").output)}
    assert rows["sabnzbd"]["secret"] == "api_key" and rows["nzbget"]["default_port"] == 6789


def test_config_init_show_and_bad_toml(cli, dlwatch_home):
    assert cli("config", "init").exit_code == 0
    assert (dlwatch_home / "config.toml").exists()
    assert cli("config", "init").exit_code == 1
    shown = json.loads(cli("config", "show", "--json").output)
    assert shown["poll_interval"] == 30.0 and shown["request_timeout"] == 10.0
    (dlwatch_home / "config.toml").write_text("[poll\ninterval = ")
    result = cli("config", "show")
    assert result.exit_code == 1 and "not valid TOML" in result.output


def test_home_option_beats_the_environment(cli, tmp_path):
    result = cli("--home", str(tmp_path / "elsewhere"), "config", "path")
    assert str(tmp_path / "elsewhere" / "dlwatch.db") in result.output


def test_help_does_not_pay_for_httpx_rich_or_keyring():
    code = (
        "import sys; sys.argv = ['dlwatch', '--help']\n"
        "from dlwatch.cli.app import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('httpx', 'rich', 'keyring', 'sqlite_utils') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_clients_are_tested_at_once_not_one_after_another(cli, httpx_mock):
    import time

    import httpx

    for i in range(4):
        cli(
            "client",
            "add",
            f"slow{i}",
            "--type",
            "qbittorrent",
            "--host",
            "127.0.0.1",
            "--port",
            f"{9001 + i}",
            "--no-test",
        )

    def slow(request):
        time.sleep(1.0)
        raise httpx.ReadTimeout("timed out", request=request)

    httpx_mock.add_callback(slow, is_reusable=True)
    started = time.monotonic()
    result = cli("client", "test")
    assert result.exit_code == 1
    assert time.monotonic() - started < 3  # four clients of a second each: in parallel
    assert [line.split(":")[0] for line in result.output.strip().splitlines()] == [f"FAILED slow{i}" for i in range(4)]


def test_client_list_piped_is_one_tab_separated_line_per_client_uncut(cli):
    long_host = "a-very-long-host-name-that-would-not-fit-a-table.example.internal"
    cli("client", "add", "nas qbit", "--type", "qbittorrent", "--host", long_host, "--no-test")
    cli("client", "add", "tr", "--type", "transmission", "--host", "127.0.0.1", "--no-test", "--disabled")
    lines = cli("client", "list").output.splitlines()
    assert [line.split("\t") for line in lines] == [
        ["nas qbit", "qbittorrent", f"http://{long_host}:8080", "-", "0", "yes"],
        ["tr", "transmission", "http://127.0.0.1:9091/transmission", "-", "0", "no"],
    ]


def test_without_a_home_config_is_in_the_config_dir_and_an_old_one_is_read_in_place(cli, tmp_path, monkeypatch):
    monkeypatch.delenv("DLWATCH_HOME", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    old = tmp_path / "data" / "dlwatch" / "config.toml"
    old.parent.mkdir(parents=True)
    old.write_text("[poll]\ninterval = 77\n")
    paths = json.loads(cli("config", "path", "--json").stdout)
    assert paths["config"] == str(old) and paths["database"] == str(tmp_path / "data" / "dlwatch" / "dlwatch.db")
    assert "read in place" in cli("config", "path").stdout
    assert json.loads(cli("config", "show", "--json").stdout)["poll_interval"] == 77

    old.unlink()
    new = tmp_path / "cfg" / "dlwatch" / "config.toml"
    assert json.loads(cli("config", "path", "--json").stdout)["config"] == str(new)
    assert cli("config", "init").exit_code == 0
    from dlwatch.settings.configfile import example_text

    assert new.read_text() == example_text() and "# Seconds between polls" in new.read_text()
    assert oct(new.stat().st_mode & 0o777) == "0o600"
