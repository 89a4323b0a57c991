"""Client sessions kept in the home between processes, so a `poll --once` from cron does not log in
and handshake again every minute: Transmission's session id and API dialect, qBittorrent's session
cookie. These are session tokens, not secrets the user gave: they are kept owner-only (0600), bound
to the client's settings as they were, and dropped when the client turns them away."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

CACHE_FILE = "sessions.json"


def load(home: Path) -> dict[str, Any]:
    try:
        data = json.loads((home / CACHE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # none yet, or unreadable: log in as if none
    return data if isinstance(data, dict) else {}


def save(home: Path, entries: dict[str, Any]) -> None:
    """Merge `entries` into the file, written whole and renamed into place (never half a file)."""
    if not entries or not home.is_dir():
        return
    data = {**load(home), **entries}
    with contextlib.suppress(OSError):  # a read-only home only costs a login next time
        descriptor, temporary = tempfile.mkstemp(dir=home, prefix=".sessions-", suffix=".json")
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as out:
                json.dump(data, out)
            os.replace(temporary, home / CACHE_FILE)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
