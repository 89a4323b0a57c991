"""`status --json` has SQLite write its records (thousands of them, fast): they must be the very
records the rest of dlwatch builds from an Attempt, for every kind of attempt and hostile title,
and reach a script as UTF-8 JSON whatever the locale."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace

import pytest

from dlwatch.core.models import DirSpace, DownloadStatus, Protocol
from dlwatch.core.records import versioned
from dlwatch.store import diskspace, eventlog
from dlwatch.store.db import Attempt, Store, now_iso
from dlwatch.store.listing import attempt_records, attempt_records_json
from tests.support.attempts import client

TITLES = [
    "Plain.Title.2024.1080p",
    'quote " backslash \\ slash / tab \t newline \n nul \x00 escape \x1b[31m',
    "Ünïcödé \u2013 日本語 \u2013 emoji 🎬 \u2013 RTL \u202e override \u2013 line sep \u2028 \u2013 BOM \ufeff",
    "",
]


def _attempt(store: Store, client_id: str, title: str, status: DownloadStatus, **fields) -> Attempt:
    stamp = now_iso()
    attempt = Attempt(0, client_id, title, Protocol.TORRENT, status, stamp, stamp, **fields)
    return eventlog.start_tracking(store, attempt, "c", "qbittorrent")


@pytest.fixture
def store(tmp_path) -> Store:
    store = Store(tmp_path / "dlwatch.db")
    seedbox, nas = store.insert_client(client("seedbox")), store.insert_client(client("nas", priority=5))
    diskspace.keep(store, nas, [DirSpace("/srv/a", 7 * 2**30, now_iso())])
    for i, title in enumerate(TITLES):
        _attempt(
            store,
            (seedbox, nas)[i % 2].id,
            title,
            DownloadStatus.DOWNLOADING,
            client_download_id=f"{i:040x}",
            progress=[0.0, 1 / 3, 0.99995, 1.0][i],
            size_bytes=2**40 + i,
            remaining_bytes=i,
            download_speed=123456,
            eta_seconds=60,
            raw_state="downloading",
            category="tv",
            ref=title,
            error=title or None,
            raw_file_path="/srv/a/" + title,
            strike_rule="stalled",
            strikes=2,
            strike_since=now_iso(),
        )
    done = _attempt(store, nas.id, "Finished", DownloadStatus.COMPLETED, completed_at=now_iso())
    _attempt(store, nas.id, "Retried", DownloadStatus.QUEUED, retry_of=done.id)
    _attempt(store, "", "Grabbed.By.Prowlarr", DownloadStatus.QUEUED)  # (finding)
    gone = store.insert_client(client("gone"))
    _attempt(store, gone.id, "Of.A.Removed.Client", DownloadStatus.PAUSED)
    store.conn.execute("DELETE FROM clients WHERE id = ?", [gone.id])
    return store


@pytest.mark.parametrize(
    "which",
    [{"active_only": True}, {"active_only": False}, {"ids": [1, 2, 7, 8]}, {"ids": []}],
    ids=["active", "all", "some ids", "no ids"],
)
def test_sqlite_writes_the_same_records_as_an_attempt_gives(store, which):
    from_python = versioned(attempt_records(store, store.list_attempts(**which)))
    from_sqlite = json.loads(attempt_records_json(store, **which))
    assert from_sqlite == from_python
    assert [list(r) for r in from_sqlite] == [list(r) for r in from_python]  # the keys in the same order
    if which.get("ids") != []:
        assert {r["client"] for r in from_sqlite} == {"seedbox", "nas", "(finding)", "(removed)"}
        assert {r["free_bytes"] for r in from_sqlite} == {None, 7 * 2**30}
    else:
        assert from_sqlite == []


def test_a_progress_is_rounded_alike(store):
    [attempt] = store.list_attempts(ids=[2])
    store.conn.execute("UPDATE attempts SET progress = ? WHERE id = 2", [0.123456789])
    attempt = replace(attempt, progress=0.123456789)
    [record] = json.loads(attempt_records_json(store, ids=[2]))
    assert record["progress"] == attempt_records(store, [attempt])[0]["progress"] == 0.1235


def test_status_json_reaches_a_script_as_utf8_under_any_locale(store, tmp_path):
    store.close()
    env = {**os.environ, "DLWATCH_HOME": str(tmp_path), "PYTHONIOENCODING": "latin-1", "LC_ALL": "C"}
    result = subprocess.run(
        [sys.executable, "-m", "dlwatch", "status", "--all", "--json", "--no-refresh"],
        capture_output=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    records = json.loads(result.stdout.decode("utf-8"))
    assert [r["title"] for r in records][: len(TITLES)] == TITLES


def _dlwatch(home, *args: str, full_cli: bool = False, stdout=subprocess.PIPE) -> subprocess.CompletedProcess:
    """The `dlwatch` command in a new process; full_cli=True skips quick.py, as any form it does not
    answer would. Says on stderr, last, whether Typer was imported."""
    entry = "from dlwatch.cli.app import main" if full_cli else "from dlwatch.cli.main import main"
    code = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('typer imported' if 'typer' in sys.modules else 'no typer', file=sys.stderr))\n"
        f"{entry}\nsys.argv[0] = 'dlwatch'\nmain()\n"
    )
    env = {**os.environ, "DLWATCH_HOME": str(home)}
    argv = [sys.executable, "-c", code, *args]
    return subprocess.run(argv, env=env, stdout=stdout, stderr=subprocess.PIPE, timeout=60)


@pytest.mark.parametrize(
    "args",
    [
        ["status", "--json", "--no-refresh"],
        ["status", "--no-refresh", "--all", "--json"],
        ["--home", "{home}", "status", "--json", "--no-refresh"],
        ["--home={home}", "status", "--all", "--json", "--no-refresh"],
    ],
)
def test_a_script_s_status_json_is_answered_without_the_cli_framework_and_alike(store, tmp_path, args):
    store.close()
    args = [a.format(home=tmp_path) for a in args]
    quick, full = _dlwatch(tmp_path, *args), _dlwatch(tmp_path, *args, full_cli=True)
    assert (quick.returncode, quick.stderr.decode().splitlines()) == (0, ["no typer"])
    assert (full.returncode, full.stderr.decode().splitlines()) == (0, ["typer imported"])
    assert quick.stdout == full.stdout
    shown = {r["status"] for r in json.loads(quick.stdout)}
    assert ("completed" in shown) == ("--all" in args)


@pytest.mark.parametrize(
    "args",
    [
        ["status", "--json"],  # asks the clients
        ["status", "--json", "--no-refresh", "3"],
        ["status", "--json", "--no-refresh", "--json"],
        ["status", "--json", "--no-refresh", "-h"],
        ["--debug", "status", "--json", "--no-refresh"],
        ["--home", "", "status", "--json", "--no-refresh"],
        ["history", "--json"],
        [],
    ],
)
def test_any_other_form_is_left_to_the_full_cli(args):
    from dlwatch.cli.quick import parse

    assert parse(args) is None


def test_an_error_is_reported_by_the_full_cli_in_its_one_line(store, tmp_path):
    store.close()
    (tmp_path / "config.toml").write_text("[poll\n")
    result = _dlwatch(tmp_path, "status", "--json", "--no-refresh")
    assert result.returncode == 1 and result.stdout == b""
    error, framework = result.stderr.decode().splitlines()
    assert error.startswith(f"error: {tmp_path / 'config.toml'} is not valid TOML") and framework == "typer imported"


@pytest.mark.parametrize("args", [["status", "--no-refresh"], ["status", "--json", "--no-refresh"]])
def test_a_reader_that_went_away_ends_dlwatch_quietly(store, tmp_path, args):
    """`dlwatch status | head -1`: the exit code a shell gives for SIGPIPE, and no error."""
    store.close()
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = _dlwatch(tmp_path, *args, stdout=write_end)
    finally:
        os.close(write_end)
    assert result.returncode == 141
    assert result.stderr.decode().splitlines()[:-1] == []


def test_a_reader_that_read_a_little_then_went_away_ends_dlwatch_quietly_too(store, tmp_path):
    """`dlwatch status --json --no-refresh | head -c 10`, with more JSON than a pipe holds: the write
    cut short is noticed, not taken for the whole answer."""
    for i in range(100):
        _attempt(store, "", f"{i}-" + "x" * 2000, DownloadStatus.QUEUED)
    store.close()
    env = {**os.environ, "DLWATCH_HOME": str(tmp_path)}
    argv = [sys.executable, "-m", "dlwatch", "status", "--json", "--no-refresh"]
    with subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as child:
        assert child.stdout.read(10) == b'[{"schema_'
        child.stdout.close()
        assert child.wait(timeout=60) == 141
        assert child.stderr.read() == b""


class _Trickling:
    """A piped standard output whose every write gets only part of what it is given through."""

    def __init__(self) -> None:
        self.got = bytearray()
        self.buffer = self

    def isatty(self) -> bool:
        return False

    def write(self, data) -> int:
        part = bytes(data[:1000])
        self.got += part
        return len(part)

    def flush(self) -> None:
        pass


@pytest.mark.parametrize("how", ["print_json", "print_json_array"])
def test_json_is_written_whole_when_each_write_gets_only_part_through(monkeypatch, how):
    from dlwatch.cli import jsonout

    records = [{"id": i, "title": "x" * 300} for i in range(100)]
    out = _Trickling()
    monkeypatch.setattr(sys, "stdout", out)
    if how == "print_json":
        jsonout.print_json(records)
    else:
        jsonout.print_json_array(json.dumps(versioned(records)))
    assert json.loads(out.got) == versioned(records)
