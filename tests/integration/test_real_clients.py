"""`dlwatch client add` and `client test` against the real Debian daemons, as a new user runs them."""

from __future__ import annotations

import pytest

from tests.integration.cli import Dlwatch
from tests.support import daemons

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("kind", ["transmission", "qbittorrent", "nzbget", "deluge", "rtorrent", "aria2"])
def test_add_and_test_a_real_client(all_daemons, kind, tmp_path):
    daemon = all_daemons[kind]
    cli = Dlwatch(tmp_path)
    added = cli.try_add_client(kind, daemon)
    assert added.returncode == 0, added.stderr
    assert added.stdout.startswith(f"added {kind}: ")
    tested = cli("client", "test", kind)
    assert tested.returncode == 0, tested.stderr
    assert tested.stdout.startswith(f"ok {kind}: ")
    for path in cli.home.rglob("*"):
        if path.is_file() and daemon.password:
            assert daemon.password.encode() not in path.read_bytes(), path


@pytest.mark.parametrize("kind", ["transmission", "qbittorrent", "nzbget"])
def test_wrong_password_is_a_clear_one_line_error(all_daemons, kind, tmp_path):
    daemon = all_daemons[kind]
    result = Dlwatch(tmp_path).try_add_client(kind, daemon, password="wrong")
    assert result.returncode == 1
    assert result.stdout == ""
    [line] = result.stderr.strip().splitlines()
    assert "rejected the username or password" in line
    assert "nothing was saved: run `dlwatch client add` again with the right one (--password-stdin)" in line


def test_a_stopped_client_is_reported_and_the_others_still_tested(all_daemons, tmp_path):
    cli = Dlwatch(tmp_path)
    cli.add_client("tr", all_daemons["transmission"])
    dead_port = daemons.free_port()
    cli.ok(
        "client", "add", "gone", "--type", "qbittorrent", "--host", "127.0.0.1", "--port", str(dead_port), "--no-test"
    )
    result = cli("client", "test")
    assert result.returncode == 1
    assert "ok tr: Transmission" in result.stdout
    assert f"FAILED gone: cannot connect to http://127.0.0.1:{dead_port}" in result.stderr
