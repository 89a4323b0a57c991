"""`dlwatch client add` and `client test` against the real Debian daemons, as a new user runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import daemons

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.integration


def dlwatch(home, *args, stdin=None, env=None):
    return subprocess.run(
        [sys.executable, "-m", "dlwatch", "--home", str(home), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={**os.environ, "PYTHON_KEYRING_BACKEND": "tests.support.filekeyring.TestKeyring", **(env or {})},
    )


@pytest.mark.parametrize("kind", ["transmission", "qbittorrent", "nzbget"])
def test_add_and_test_a_real_client(all_daemons, kind, tmp_path):
    daemon = all_daemons[kind]
    home = tmp_path / "home"
    env = {"DLWATCH_TEST_KEYRING": str(tmp_path / "keyring.json")}
    added = dlwatch(
        home,
        "client",
        "add",
        kind,
        "--type",
        kind,
        "--host",
        "127.0.0.1",
        "--port",
        str(daemon.port),
        "-u",
        daemon.username,
        "--password-stdin",
        stdin=daemon.password + "\n",
        env=env,
    )
    assert added.returncode == 0, added.stderr
    assert added.stdout.startswith(f"added {kind}: ")
    tested = dlwatch(home, "client", "test", kind, env=env)
    assert tested.returncode == 0, tested.stderr
    assert tested.stdout.startswith(f"ok {kind}: ")
    for path in home.rglob("*"):
        if path.is_file():
            assert daemon.password.encode() not in path.read_bytes(), path


@pytest.mark.parametrize("kind", ["transmission", "qbittorrent", "nzbget"])
def test_wrong_password_is_a_clear_one_line_error(all_daemons, kind, tmp_path):
    daemon = all_daemons[kind]
    env = {"DLWATCH_TEST_KEYRING": str(tmp_path / "keyring.json")}
    result = dlwatch(
        tmp_path / "home",
        "client",
        "add",
        kind,
        "--type",
        kind,
        "--host",
        "127.0.0.1",
        "--port",
        str(daemon.port),
        "-u",
        daemon.username,
        "--password-stdin",
        stdin="wrong\n",
        env=env,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    [line] = result.stderr.strip().splitlines()
    assert "rejected the username or password" in line
    assert f"dlwatch client edit {kind} --password-stdin" in line


def test_a_stopped_client_is_reported_and_the_others_still_tested(all_daemons, tmp_path):
    home = tmp_path / "home"
    env = {"DLWATCH_TEST_KEYRING": str(tmp_path / "keyring.json")}
    tr = all_daemons["transmission"]
    dlwatch(
        home,
        "client",
        "add",
        "tr",
        "--type",
        "transmission",
        "--host",
        "127.0.0.1",
        "--port",
        str(tr.port),
        "-u",
        tr.username,
        "--password-stdin",
        stdin=tr.password + "\n",
        env=env,
    )
    dead_port = daemons.free_port()
    dlwatch(
        home,
        "client",
        "add",
        "gone",
        "--type",
        "qbittorrent",
        "--host",
        "127.0.0.1",
        "--port",
        str(dead_port),
        "--no-test",
        env=env,
    )
    result = dlwatch(home, "client", "test", env=env)
    assert result.returncode == 1
    assert "ok tr: Transmission" in result.stdout
    assert f"FAILED gone: cannot connect to http://127.0.0.1:{dead_port}" in result.stdout
