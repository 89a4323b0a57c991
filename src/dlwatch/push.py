"""`dlwatch client push`: have a client run `dlwatch report` when a download ends, through its
own API, and undo that exactly.

Three ways, chosen by the adapter's `push_kind`: a command line in the client's settings
(qBittorrent), a script file dlwatch writes into its home whose path goes into the client's
settings (Transmission, which passes only an environment), or a script dlwatch writes into the
client's own script folder when that folder is on this machine, then named in each job dlwatch
sends (NZBGet). A program of the user's that the client already runs is never overwritten
silently: dlwatch refuses, unless told to replace it, and then keeps it to put it back.
"""

from __future__ import annotations

import json
import shlex
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from . import registry
from .clients import open_adapter
from .config import Settings
from .errors import ActionUnsupported, UsageError
from .models import ClientConfig, PushSetting
from .reports import last_report
from .store import Store

STATE = "push:"  # + client id: what dlwatch set up, and what the client ran before


@dataclass
class PushStatus:
    client: str
    enabled: bool  # the client runs dlwatch's report program now
    program: str | None  # what the client runs (or, for a script folder, dlwatch's script there)
    last_report_at: str | None
    detail: str


def report_command(home: Path, client: ClientConfig) -> str:
    """The command that records a report from this client in this home, quoted for a shell."""
    return shlex.join([sys.executable, "-m", "dlwatch", "--home", str(home), "report", "--client", client.name])


def enable(store: Store, settings: Settings, home: Path, client: ClientConfig, *, replace: bool) -> PushStatus:
    cls = registry.adapter_class(client.type)
    if cls.push_kind is None:
        raise ActionUnsupported(f"dlwatch cannot set up push for {cls.display_name}; it is still polled")
    with open_adapter(client, settings.request_timeout) as adapter, adapter.work_within(settings.client_deadline):
        current = adapter.push_setting()
        if cls.push_kind == "script_dir":
            script = _write_script(Path(current.program or ""), home, client, cls.display_name, nzbget_header=True)
            adapter.push_script_written()
            _save(store, client, {"kind": cls.push_kind, "script": str(script)})
            return status(store, settings, client)
        if cls.push_kind == "script":
            (home / "push").mkdir(mode=0o700, exist_ok=True)
            program = str(_write_script(home / "push", home, client, cls.display_name, nzbget_header=False))
        else:
            program = cls.report_program(report_command(home, client))
        state = _state(store, client)
        ours = state.get("program") if state else None
        if current.enabled and current.program and current.program not in (program, ours) and not replace:
            raise UsageError(
                f"{client.name} already runs a program when a download ends ({current.program[:120]!r}): "
                "dlwatch keeps it. Pass --replace to put dlwatch's in its place (--disable puts yours back)"
            )
        previous = state["previous"] if state else {"enabled": current.enabled, "program": current.program}
        adapter.set_push_setting(PushSetting(True, program))
        _save(store, client, {"kind": cls.push_kind, "program": program, "previous": previous})
    return status(store, settings, client)


def disable(store: Store, settings: Settings, client: ClientConfig) -> PushStatus:
    state = _state(store, client)
    if state is None:
        return status(store, settings, client)
    if state["kind"] == "script_dir":
        Path(state["script"]).unlink(missing_ok=True)
    else:
        with open_adapter(client, settings.request_timeout) as adapter, adapter.work_within(settings.client_deadline):
            previous = state["previous"]
            adapter.set_push_setting(PushSetting(bool(previous["enabled"]), previous["program"]))
        if state["kind"] == "script":
            Path(state["program"]).unlink(missing_ok=True)
    store.set_meta(STATE + client.id, None)
    return status(store, settings, client)


def status(store: Store, settings: Settings, client: ClientConfig) -> PushStatus:
    state = _state(store, client)
    last = last_report(store, client)
    if state is None:
        return PushStatus(client.name, False, None, last, "push is off: dlwatch learns of an end at its next poll")
    if state["kind"] == "script_dir":
        there = Path(state["script"]).exists()
        detail = "each job dlwatch sends runs it" if there else "its script is gone from the client's folder"
        return PushStatus(client.name, there, state["script"], last, detail)
    with open_adapter(client, settings.request_timeout) as adapter, adapter.work_within(settings.client_deadline):
        current = adapter.push_setting()
    on = current.enabled and current.program == state["program"]
    detail = "the client runs dlwatch's report program" if on else "the client's setting was changed since"
    return PushStatus(client.name, on, current.program, last, detail)


def not_due(store: Store, settings: Settings, asked_at: dict[str, float]) -> frozenset[str]:
    """Clients with push on that this process asked less than [poll] interval_with_push ago."""
    now = time.monotonic()
    pushed = {row["key"].removeprefix(STATE) for row in store.query("SELECT key FROM meta WHERE key LIKE 'push:%'")}
    return frozenset(c for c in pushed if c in asked_at and now - asked_at[c] < settings.interval_with_push)


def script_for(store: Store, client: ClientConfig) -> str | None:
    """The script name to put in each job sent to this client, where push works that way."""
    state = _state(store, client)
    return Path(state["script"]).name if state and state["kind"] == "script_dir" else None


def _state(store: Store, client: ClientConfig) -> dict | None:
    value = store.meta(STATE + client.id)
    return json.loads(value) if value else None


def _save(store: Store, client: ClientConfig, state: dict) -> None:
    store.set_meta(STATE + client.id, json.dumps(state))


def _write_script(folder: Path, home: Path, client: ClientConfig, display: str, *, nzbget_header: bool) -> Path:
    if not folder.is_dir():
        raise ActionUnsupported(
            f"{display}'s script folder {str(folder)!r} is not on this machine: "
            "dlwatch can only put its script where it can write"
        )
    # Named after the client, so two dlwatch clients (or homes) on one script folder do not collide.
    path = folder / f"dlwatch-report-{client.id[:8]}.sh"
    header = (
        [
            "#",
            "### NZBGET POST-PROCESSING SCRIPT",
            "#",
            "# Tells dlwatch the job ended (dlwatch client push).",
            "#",
            "###",
        ]
        if nzbget_header
        else []
    )
    lines = [
        "#!/bin/sh",
        *header,
        f"# Written by `dlwatch client push {client.name} --enable`; `--disable` removes it. No secrets here.",
        f'exec {report_command(home, client)} "$@"',
        "",
    ]
    path.write_text("\n".join(lines))
    path.chmod(0o755)
    return path
