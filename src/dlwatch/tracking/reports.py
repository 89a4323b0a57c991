"""`dlwatch report`: what a client's finish program tells dlwatch, recorded like a poll's answer.

The client runs it when a download ends (see push.py for the setting up). It must never hold up or
fail the client's job: it reads what the client passed, asks that client about that one download
when the report does not say it all, records the transition through the event log (so a poll
recording the same change at the same time makes it once), and logs one line to `report.log`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from dlwatch.adapters import registry
from dlwatch.core.attempt import Attempt, now_iso
from dlwatch.core.errors import DlwatchError
from dlwatch.core.models import ClientConfig, DownloadItem, PushReport
from dlwatch.settings.config import Settings
from dlwatch.settings.secrets import PUSH_TOKEN
from dlwatch.store import eventlog
from dlwatch.store.db import Store
from dlwatch.tracking.changes import changes_for
from dlwatch.tracking.poll import Sessions, lookup

LOG_NAME = "report.log"
LOG_LIMIT = 256 * 1024  # the log keeps its newest half past this
ASK_WITHIN = 2.0  # seconds for the one question to the client; a poll catches what this misses
LAST_REPORT = "push.last_report:"  # + client id: when its last report arrived
# Reports through `dlwatch listen`: the header with the client's token, the keyring kind that
# keeps it, and the only environment variables a report reads (so a script sends nothing else).
TOKEN_HEADER = "X-Dlwatch-Token"
TOKEN_KIND = PUSH_TOKEN
PREFIXES = ("TR_", "NZBPP_", "NZBPR_", "SAB_")


@dataclass
class ReportOutcome:
    line: str  # what happened, for the log
    exit_code: int  # what the client wants to see (NZBGet: "nothing done")


def receive(
    store: Store, settings: Settings, client: ClientConfig, env: Mapping[str, str], args: Sequence[str]
) -> ReportOutcome:
    """Record one report; never raises a DlwatchError (it becomes the outcome's line)."""
    cls = registry.adapter_class(client.type)
    try:
        report = cls.read_report(env, args)
        store.set_meta(LAST_REPORT + client.id, now_iso(precise=True))
        line = _record(store, settings, client, report)
    except DlwatchError as exc:
        line = f"not recorded: {exc}"
    return ReportOutcome(f"{client.name}: {line}", cls.report_exit_code)


def _record(store: Store, settings: Settings, client: ClientConfig, report: PushReport) -> str:
    attempt = store.find_active(report.ids, None)
    if attempt is None or attempt.client_id not in (client.id, None):
        return f"{report.ids[0]} is not a download dlwatch tracks here (or it has ended already)"
    item: DownloadItem | None = None
    if not report.complete:
        item = _ask(store, settings, client, attempt)
    if item is None or not item.status.is_final:
        # Still settling in the client (qBittorrent moves to seeding a moment later) or not
        # reachable from here: the report itself says the download ended.
        item = report.item
    if item is None:
        return f"{report.ids[0]}: the client did not list it; the next poll will look again"
    changes = changes_for(client, [attempt], {attempt.id: item}, settings)
    events = eventlog.record(store, changes, settings.hooks)
    if not events:
        return f"attempt {attempt.id} was {attempt.status} already (recorded by another dlwatch)"
    return "; ".join(f"attempt {e.attempt_id}: {e.from_status} -> {e.to_status}" for e in events)


def _ask(store: Store, settings: Settings, client: ClientConfig, attempt: Attempt) -> DownloadItem | None:
    home = store.path.parent if store.path.name != ":memory:" else None
    try:
        with Sessions(home) as sessions:
            adapter = sessions.get(client, settings)
            with adapter.work_within(min(ASK_WITHIN, settings.client_deadline)):
                return lookup(adapter, [attempt]).get(attempt.id)
    except DlwatchError:
        return None  # no secret here, or the client is slow: the report is enough


def log(home: Path, line: str) -> None:
    path = home / LOG_NAME
    try:
        if path.exists() and path.stat().st_size > LOG_LIMIT:
            kept = path.read_bytes()[-LOG_LIMIT // 2 :]
            path.write_bytes(kept[kept.find(b"\n") + 1 :])
        with open(path, "a", encoding="utf-8") as out:
            out.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S%z')} {json.dumps(line)[1:-1]}\n")
        path.chmod(0o600)
    except OSError:
        pass  # a report must never fail the client's job over its own log


def read_log(home: Path) -> str:
    path = home / LOG_NAME
    return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""


def last_report(store: Store, client: ClientConfig) -> str | None:
    return store.meta(LAST_REPORT + client.id)
