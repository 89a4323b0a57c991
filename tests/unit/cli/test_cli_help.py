"""Every command, option and argument says what it is in --help; names complete from the home."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import typer

from dlwatch.cli.app import app
from dlwatch.store.db import Store
from tests.support.attempts import tracked


def _commands(command, path):
    """Every command under `command`, through the same lookup a command line takes (commands are
    built only when asked for)."""
    if hasattr(command, "list_commands"):
        for name in command.list_commands(None):
            yield from _commands(command.get_command(None, name), [*path, name])
    else:
        yield " ".join(path), command


def test_every_command_option_and_argument_has_help():
    missing = []
    for path, command in _commands(typer.main.get_command(app), ["dlwatch"]):
        if not command.help:
            missing.append(path)
        for param in command.params:
            if param.name != "help" and not getattr(param, "help", None):
                missing.append(f"{path} {param.opts[0]}")
    assert missing == []


def test_every_command_is_reached_by_its_name():
    paths = [path for path, _ in _commands(typer.main.get_command(app), ["dlwatch"])]
    assert len(paths) >= 40
    for expected in ("dlwatch status", "dlwatch client push", "dlwatch client import", "dlwatch hooks retry"):
        assert expected in paths


def _complete(words: str) -> list[str]:
    """What bash gets from dlwatch's own completion (`dlwatch --install-completion` sets it up)."""
    env = {
        **os.environ,
        "_DLWATCH_COMPLETE": "complete_bash",
        "COMP_WORDS": words,
        "COMP_CWORD": str(len(words.split(" ")) - 1),
    }
    program = str(Path(sys.executable).parent / "dlwatch")  # the completion variable is named after it
    result = subprocess.run([program], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_client_names_and_attempt_ids_complete_from_the_home(cli, dlwatch_home):
    for name in ("nas-qbit", "nas-sab", "seedbox"):
        kind = "sabnzbd" if "sab" in name else "qbittorrent"
        assert cli("client", "add", name, "--type", kind, "--host", "10.0.0.1", "--no-test").exit_code == 0
    assert _complete("dlwatch client show nas") == ["nas-qbit", "nas-sab"]
    assert _complete("dlwatch send x --client s") == ["seedbox"]
    assert _complete("dlwatch status ") == []  # nothing tracked yet, and no error
    store = Store(dlwatch_home / "dlwatch.db")
    first, second = tracked(store), tracked(store)
    assert _complete("dlwatch pause ") == [str(second.id), str(first.id)]  # newest first
    assert _complete(f"dlwatch --home {dlwatch_home.parent / 'nowhere'} client show ") == []
    assert not (dlwatch_home.parent / "nowhere").exists()  # completing never makes a home
