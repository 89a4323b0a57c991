"""Text that came from a client, an indexer or a file, made safe to show.

Titles, names, errors and paths are other people's data: a title can carry terminal escape
sequences (clear the screen, set the window title), bidirectional overrides that reorder what is
shown, or a newline that forges a line of output. On a terminal and in plain output these are shown
escaped (`\\x1b`, `\\u202e`); `--json` keeps the real text, JSON-escaped.
"""

from __future__ import annotations

import re

from dlwatch.core.errors import UsageError

# C0 and C1 controls, DEL, and the Unicode bidi controls.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_UNSAFE_KEEP_LINES = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def shown(value: object) -> str:
    """One value on one line: every control character escaped, newlines and tabs included."""
    return _UNSAFE.sub(_escape, "" if value is None else str(value))


def for_terminal(text: str) -> str:
    """A whole message: escapes everything unsafe but keeps its own line breaks and tabs."""
    return _UNSAFE_KEEP_LINES.sub(_escape, text)


def check_name(what: str, name: str) -> str:
    """A name the user gives (a client, a notification target, an *arr instance) shows in every line
    that names it, in environment variable names and in config.toml: a control character in it would
    break or colour each of those, so it is refused, naming the character."""
    if bad := _UNSAFE.search(name):
        where = f"character {bad.start() + 1}"
        raise UsageError(f"{what} cannot hold a control character: {shown(name)} has {shown(bad.group())} at {where}")
    return name
