"""JSON on standard output, the one place its form is decided: indented for a person at a terminal,
compact (and faster) for a script reading a pipe. (No CLI framework here: quick.py uses it.)"""

from __future__ import annotations

import json
import os
import sys
from typing import Any


def print_json(data: Any) -> None:
    """`data`, versioned (records.versioned)."""
    # here, not at the top: start-up time (only this path needs it)
    from dlwatch.core.records import versioned

    data = versioned(data)
    if sys.stdout.isatty():
        _write(json.dumps(data, indent=2))
    else:
        _write(json.dumps(data, separators=(",", ":")))


def print_json_array(text: str) -> None:
    """print_json for a JSON array already encoded (and versioned), e.g. by SQLite: written as it
    is when piped."""
    if sys.stdout.isatty():
        print_json(json.loads(text))
    else:
        _write(text)


def _write(text: str) -> None:
    """`text` and a newline on standard output, all of it, in UTF-8 whatever the locale (JSON is
    UTF-8). A write that a reader going away cut short returns what it got through, and says so
    only when asked to write again: so it is asked, and BrokenPipeError reaches the CLI."""
    sys.stdout.flush()
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:
        sys.stdout.write(text + "\n")
        return
    rest = memoryview(text.encode() + b"\n")
    while rest:
        rest = rest[buffer.write(rest) :]
    buffer.flush()


def json_line(record: dict[str, Any]) -> str:
    """One record of a JSON Lines feed (`watch --json`, `poll --json`)."""
    # here, not at the top: start-up time (only this path needs it)
    from dlwatch.core.records import versioned

    return json.dumps(versioned(record))


def reader_gone() -> int:
    """The exit code once whatever read our output has gone (`dlwatch status | head -1`): no more to
    say, and no error to report. Standard output then points at /dev/null, so that Python's own
    flush at exit cannot fail too; 141 is what a shell gives a program SIGPIPE ended, as `seq` is."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 141
