"""Waiting for what real daemons do in their own time, and names no other test run uses."""

from __future__ import annotations

import time
import uuid


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}.bin"


def wait_for(check, timeout: float = 60.0, every: float = 0.3):
    """`check()`'s first truthy value; an AssertionError naming the check (its docstring) if none
    comes within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:g}s waiting for {check.__doc__ or check}")
