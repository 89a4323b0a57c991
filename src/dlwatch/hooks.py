"""Run the user's hook commands on status changes, never letting one block or break polling."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from typing import Any

from .config import Hooks
from .models import DownloadStatus


@dataclass(frozen=True)
class HookOutcome:
    name: str
    command: str
    ok: bool
    detail: str = ""


def hooks_for(hooks: Hooks, status: DownloadStatus) -> list[tuple[str, str]]:
    chosen = []
    if status is DownloadStatus.COMPLETED and hooks.on_complete:
        chosen.append(("on_complete", hooks.on_complete))
    if status in (DownloadStatus.FAILED, DownloadStatus.MISSING) and hooks.on_failed:
        chosen.append(("on_failed", hooks.on_failed))
    if hooks.on_change:
        chosen.append(("on_change", hooks.on_change))
    return chosen


def hook_environment(record: dict[str, Any]) -> dict[str, str]:
    env = dict(os.environ)
    for key, value in record.items():
        env[f"DLWATCH_{key.upper()}"] = "" if value is None else str(value)
    return env


def run_hook(name: str, command: str, record: dict[str, Any], timeout: float) -> HookOutcome:
    try:
        result = subprocess.run(
            command,
            shell=True,
            input=json.dumps(record),
            env=hook_environment(record),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return HookOutcome(name, command, False, f"stopped after {timeout:g}s")
    except OSError as exc:
        return HookOutcome(name, command, False, str(exc))
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()
        return HookOutcome(name, command, False, f"exit {result.returncode}" + (f": {tail[-1]}" if tail else ""))
    return HookOutcome(name, command, True)
