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
import secrets
import shlex
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from dlwatch.adapters import registry
from dlwatch.core.errors import ActionUnsupported, Refused, UsageError
from dlwatch.core.models import ClientConfig, PushSetting, Secret
from dlwatch.settings import secrets as keyring_secrets
from dlwatch.settings.config import Settings
from dlwatch.store.db import Store
from dlwatch.tracking.clients import open_adapter
from dlwatch.tracking.reports import PREFIXES, TOKEN_HEADER, TOKEN_KIND, last_report

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


def enable(
    store: Store, settings: Settings, home: Path, client: ClientConfig, *, replace: bool, url: str | None = None
) -> PushStatus:
    """With `url` (a `dlwatch listen` address), the client posts its reports there with `curl`
    and a token of its own, instead of running dlwatch: for a client in a container or on a NAS,
    or one that runs as a user who cannot write dlwatch's home."""
    cls = registry.adapter_class(client.type)
    if cls.push_kind is None:
        raise ActionUnsupported(f"dlwatch cannot set up push for {cls.display_name}; it is still polled")
    if url:
        _check_url(url)
    with open_adapter(client, settings.request_timeout) as adapter, adapter.work_within(settings.client_deadline):
        current = adapter.push_setting()
        # The token is made once the client answered; a refused enable keeps it for the next try.
        sender = Sender(home, client, cls.report_exit_code, _token(client) if url else None, url)
        if cls.push_kind == "script_dir":
            script = sender.write_script(Path(current.program or ""), cls.display_name, nzbget_header=True)
            adapter.push_script_written()
            _save(store, client, {"kind": cls.push_kind, "script": str(script)})
            return status(store, settings, client)
        if cls.push_kind == "script":
            program = str(sender.script_path(home / "push"))
        else:
            program = sender.program_line(cls.report_placeholders)
        state = _state(store, client)
        ours = state.get("program") if state else None
        if current.enabled and current.program and current.program not in (program, ours) and not replace:
            raise Refused(
                f"{client.name} already runs a program when a download ends ({current.program[:120]!r}): "
                "dlwatch keeps it. Pass --replace to put dlwatch's in its place (--disable puts yours back)"
            )
        previous = state["previous"] if state else {"enabled": current.enabled, "program": current.program}
        if cls.push_kind == "script":
            (home / "push").mkdir(mode=0o700, exist_ok=True)
            sender.write_script(home / "push", cls.display_name, nzbget_header=False)
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
    keyring_secrets.delete_secret(client.id, TOKEN_KIND)  # an old curl command stops working
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
    return PushStatus(client.name, on, _masked(client, current.program), last, detail)


def _masked(client: ClientConfig, program: str | None) -> str | None:
    """The program line as shown: a push token in it (a curl header) is a secret."""
    token = keyring_secrets.get_secret(client.id, client.name, TOKEN_KIND) if program else None
    return program.replace(token.reveal(), "<token>") if program and token else program


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


def _check_url(url: str) -> None:
    if not url.startswith(("http://", "https://")) or "/" in url.split("://", 1)[1].rstrip("/"):
        raise UsageError(
            f"--url takes the address `dlwatch listen` is reached at, e.g. http://192.168.1.5:9797, not {url!r}"
        )


def _token(client: ClientConfig) -> Secret:
    token = keyring_secrets.get_secret(client.id, client.name, TOKEN_KIND)
    if token is None:
        token = Secret(secrets.token_urlsafe(24))
        keyring_secrets.set_secret(client.id, client.name, TOKEN_KIND, token)
    return token


@dataclass
class Sender:
    """How a client's report reaches dlwatch: dlwatch run by the client, or curl to `listen`."""

    home: Path
    client: ClientConfig
    exit_code: int
    token: Secret | None
    url: str | None

    def program_line(self, placeholders: tuple[str, ...]) -> str:
        """A command line for a client that fills in placeholders and splits the line itself
        (no shell): each placeholder quoted, names and paths have spaces."""
        if self.token is None:
            return f"{report_command(self.home, self.client)} -- " + " ".join(f'"{p}"' for p in placeholders)
        fields = " ".join(f'--data-urlencode "arg={p}"' for p in placeholders)
        header = f"{TOKEN_HEADER}: {self.token.reveal()}"
        return f'curl -fsS -m 5 -o /dev/null -H "{header}" {fields} "{self._endpoint()}"'

    def _endpoint(self) -> str:
        return f"{(self.url or '').rstrip('/')}/report/{quote(self.client.name, safe='')}"

    def script_path(self, folder: Path) -> Path:
        # Named after the client, so two dlwatch clients (or homes) on one script folder do not collide.
        return folder / f"dlwatch-report-{self.client.id[:8]}.sh"

    def write_script(self, folder: Path, display: str, *, nzbget_header: bool) -> Path:
        if not folder.is_dir():
            raise ActionUnsupported(
                f"{display}'s script folder {str(folder)!r} is not on this machine: "
                "dlwatch can only put its script where it can write"
            )
        path = self.script_path(folder)
        header = ["#", "### NZBGET POST-PROCESSING SCRIPT", "#", "# Tells dlwatch the job ended.", "#", "###"]
        lines = [
            "#!/bin/sh",
            *(header if nzbget_header else []),
            f"# Written by `dlwatch client push {self.client.name} --enable`; `--disable` removes it.",
        ]
        if self.token is None:
            lines += ["# No secrets here.", f'exec {report_command(self.home, self.client)} "$@"']
        else:
            prefixes = "|".join(PREFIXES)
            lines += [
                "# Posts what the client passed to `dlwatch listen`; the token only lets it report ends.",
                # each argument becomes one form field, in order
                'n=$#; i=0; while [ "$i" -lt "$n" ]; do',
                '  a=$1; shift; set -- "$@" --data-urlencode "arg=$a"; i=$((i + 1))',
                "done",
                f"env | grep -E '^({prefixes})' | curl -fsS -m 5 -o /dev/null "
                f"-H {shlex.quote(f'{TOKEN_HEADER}: {self.token.reveal()}')} "
                f'--data-urlencode "env@-" "$@" {shlex.quote(self._endpoint())} || true',
                f"exit {self.exit_code}",
            ]
        path.write_text("\n".join(lines) + "\n")
        path.chmod(0o755)  # run by the client, which may be another user
        return path
