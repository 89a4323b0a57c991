"""Other people's data (titles, names, errors, paths) never drives the terminal, never crashes a
poll or a hook, and never sends dlwatch outside a client's download folder."""

from __future__ import annotations

import copy
import json

import pytest

from dlwatch.core.safetext import for_terminal, shown
from dlwatch.cycle.polling import poll
from dlwatch.delivery import deliver
from dlwatch.settings.config import Hooks, Settings
from dlwatch.store.db import Store
from tests.conftest import fixture_body
from tests.support.fakes import fake_transmission

TR_HASH = "2900b0c216d661243837ca0330d3479281db1002"
HOSTILE = "\x1b[2J\x1b]0;PWNED\x07Nice.Show\u202eS01\nforged line"


@pytest.fixture
def tr(cli):
    args = ["client", "add", "tr", "--type", "transmission", "--host", "127.0.0.1", "-u", "dlw", "--no-test"]
    assert cli(*args, "--password-stdin", input="pw\n").exit_code == 0


def completed(name: str, first_file: str | None = None) -> dict:
    body = copy.deepcopy(fixture_body("transmission/list_completed.json"))
    torrent = body["arguments"]["torrents"][0]
    torrent["name"] = name
    torrent["files"][0]["name"] = first_file or name
    return body


def test_escapes_in_a_title_are_shown_escaped_and_kept_raw_in_json(cli, tr, httpx_mock):
    fake_transmission(httpx_mock, [completed(HOSTILE)])
    assert cli("track", "--client", "tr", "--id", TR_HASH).exit_code == 0
    plain = cli("status", "--all", "--no-refresh")
    assert "\x1b" not in plain.stdout and "\u202e" not in plain.stdout
    assert "\\x1b[2J\\x1b]0;PWNED\\x07Nice.Show\\u202eS01\\x0aforged line" in plain.stdout
    assert len(plain.stdout.strip().splitlines()) == 1  # the newline forged no line
    history = cli("history", "1")
    assert "\x1b" not in history.stdout and "\\x1b[2J" in history.stdout
    assert json.loads(cli("status", "--all", "--no-refresh", "--json").stdout)[0]["title"] == HOSTILE


def test_the_table_shows_escapes_escaped():
    from rich.console import Console

    from dlwatch.cli.render import attempts_table
    from dlwatch.core.models import DownloadStatus, Protocol
    from dlwatch.store.db import Attempt

    bad = Attempt(
        1, "c", HOSTILE, Protocol.TORRENT, DownloadStatus.FAILED, "2026-01-01T00:00:00+00:00", "", error=HOSTILE
    )
    console = Console(width=160, record=True, force_terminal=False)
    console.print(attempts_table([bad], {"c": "\x1b[31mnas"}))
    text = console.export_text()
    assert "\x1b" not in text and "\x07" not in text and "\\x1b[2J" in text


def test_a_path_outside_the_download_folder_is_not_used(cli, tr, httpx_mock):
    fake_transmission(httpx_mock, [completed("../../..", first_file="../../../etc/passwd")])
    result = cli("track", "--client", "tr", "--id", TR_HASH)
    assert result.exit_code == 0, result.output
    [record] = json.loads(cli("status", "--all", "--no-refresh", "--json").stdout)
    assert record["raw_file_path"] == "/srv/dlw/transmission/downloads"  # the download folder itself
    assert "outside its download folder" in record["error"]


def test_the_path_comes_from_the_file_list_not_the_name(cli, tr, httpx_mock):
    fake_transmission(httpx_mock, [completed("Pretty Name", first_file="Real.Folder/part1.bin")])
    cli("track", "--client", "tr", "--id", TR_HASH)
    [record] = json.loads(cli("status", "--all", "--no-refresh", "--json").stdout)
    assert record["raw_file_path"] == "/srv/dlw/transmission/downloads/Real.Folder"


def test_a_nul_in_a_name_crashes_neither_the_poll_nor_the_hook(httpx_mock, dlwatch_home, tmp_path):
    from dlwatch.core.models import Secret
    from dlwatch.tracking import clients as core
    from dlwatch.tracking.sending import adopt

    store = Store(dlwatch_home / "dlwatch.db")
    core.add_client(
        store,
        core.new_client(name="tr", type_name="transmission", host="127.0.0.1", port=9091, username="u"),
        Secret("pw"),
        test=False,
        timeout=5,
    )
    downloading = copy.deepcopy(fixture_body("transmission/list_downloading.json"))
    for torrent in downloading["arguments"]["torrents"]:
        torrent["name"] = "bad\x00name"
    fake_transmission(httpx_mock, [downloading, completed("bad\x00name")])
    adopt(store, Settings(), "tr", download_id=TR_HASH)
    log = tmp_path / "title.txt"
    settings = Settings(hooks=Hooks(on_change=f'printf %s "$DLWATCH_TITLE" > {log}'))
    [event] = poll(store, settings).events
    [run] = deliver.deliver_due(store, settings)
    assert run.state == "done" and log.read_text() == "badname"
    assert event.snapshot["title"] == "bad\x00name"  # recorded as the client said it


@pytest.mark.parametrize("text", ["\x00", "\x1b[0m", "\x9b", "\u2066x\u2069", "\r\n", "ok"])
def test_shown_text_holds_no_control_character(text):
    for rendered in (shown(text), for_terminal(text)):
        assert not any((ord(c) < 32 and c != "\n") or 0x7F <= ord(c) <= 0x9F for c in rendered.replace("\n", ""))
    assert "\n" not in shown(text)
