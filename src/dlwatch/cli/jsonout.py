"""JSON on standard output, the one place its form is decided: indented for a person at a terminal,
compact (and faster) for a script reading a pipe. (No CLI framework here: quick.py uses it.)"""

from __future__ import annotations

import json
import sys
from typing import Any


def print_json(data: Any) -> None:
    """`data`, versioned (records.versioned)."""
    from ..records import versioned

    data = versioned(data)
    if sys.stdout.isatty():
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    else:
        sys.stdout.write(json.dumps(data, separators=(",", ":")) + "\n")


def print_json_array(text: str) -> None:
    """print_json for a JSON array already encoded (and versioned), e.g. by SQLite. Piped, it is
    written as it is, in UTF-8 whatever the locale (JSON is UTF-8)."""
    if sys.stdout.isatty():
        print_json(json.loads(text))
        return
    sys.stdout.flush()
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:
        sys.stdout.write(text + "\n")
        return
    rest = memoryview(text.encode() + b"\n")
    while rest:  # a write cut short by an error says so only when asked to write again
        rest = rest[buffer.write(rest) :]
    buffer.flush()


def json_line(record: dict[str, Any]) -> str:
    """One record of a JSON Lines feed (`watch --json`, `poll --json`)."""
    from ..records import versioned

    return json.dumps(versioned(record))
