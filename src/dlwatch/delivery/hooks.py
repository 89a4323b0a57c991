"""Running one of the user's hook commands: the environment a hook gets, and a run bounded by its
timeout. Which hooks a status triggers, and when and how often one runs, is the outbox's job."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import tempfile
import time
from typing import Any

from dlwatch.core.events import HookOutcome
from dlwatch.core.records import versioned

OUTPUT_TAIL = 2000  # characters of a hook's output kept with its run


def hook_environment(record: dict[str, Any], home: str) -> dict[str, str]:
    """The caller's environment without any DLWATCH_* variable (they can hold client secrets),
    then the event's fields as DLWATCH_*. NUL cannot be passed in an environment: it is dropped."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DLWATCH_")}
    for key, value in record.items():
        if isinstance(value, list | dict):
            continue
        env[f"DLWATCH_{key.upper()}"] = ("" if value is None else str(value)).replace("\0", "")
    env["DLWATCH_HOME"] = home
    return env


def run_command(command: str, record: dict[str, Any], home: str, timeout: float) -> HookOutcome:
    """Run `command` through the shell in a process group of its own; past `timeout` the whole group
    is killed, so nothing it started lives on. Output goes to a file, not a pipe, so a background
    child that keeps the pipe open cannot make a finished hook look hung."""
    started = time.monotonic()
    with tempfile.TemporaryFile() as stdin, tempfile.TemporaryFile() as output:
        stdin.write(json.dumps(versioned(record)).encode())
        stdin.seek(0)
        try:
            process = subprocess.Popen(
                command,
                shell=True,
                stdin=stdin,
                stdout=output,
                stderr=subprocess.STDOUT,
                env=hook_environment(record, home),
                start_new_session=True,
            )
        except (OSError, ValueError) as exc:
            return HookOutcome(False, None, time.monotonic() - started, "", f"could not start: {exc}")
        try:
            code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            return HookOutcome(False, None, time.monotonic() - started, _tail(output), f"killed after {timeout:g}s")
        duration = time.monotonic() - started
        text = _tail(output)
    if code != 0:
        last = text.strip().splitlines()[-1:] or [""]
        return HookOutcome(False, code, duration, text, f"exit {code}" + (f": {last[0]}" if last[0] else ""))
    return HookOutcome(True, 0, duration, text)


def _kill_group(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _tail(output) -> str:
    output.seek(0, os.SEEK_END)
    size = output.tell()
    output.seek(max(0, size - OUTPUT_TAIL * 4))
    return output.read().decode("utf-8", "replace")[-OUTPUT_TAIL:]
