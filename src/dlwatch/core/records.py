"""The documented JSON shapes (README, "--json schema"): one function per record, used by every
command, hook and feed that prints or passes one."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

# Every JSON object dlwatch prints carries this; it goes up when a field changes meaning or goes
# away (a new field does not change it). The shapes are JSON Schemas in src/dlwatch/schemas/.
SCHEMA_VERSION = 1

if TYPE_CHECKING:
    from dlwatch.arr.importing import ImportReport
    from dlwatch.core.models import ClientConfig
    from dlwatch.policies.diskguard import DirSpace
    from dlwatch.store.db import Attempt, Store
    from dlwatch.store.eventlog import Event
    from dlwatch.store.outbox import HookRun


def client_label(attempt: Attempt, names: dict[str, str]) -> str:
    """The `client` of a record: the client's name, or what stands for one that is not known."""
    return _label(attempt.client_id, names)


def _label(client_id: str | None, names: dict[str, str]) -> str:
    if not client_id:
        return "(finding)"  # sent through Prowlarr, not yet seen in a client
    return names.get(client_id, "(removed)")


def attempt_records(store: Store, attempts: list[Attempt]) -> list[dict[str, Any]]:
    """`status --json`'s records (and `serve`'s), each with its client's name and type, and the free
    space its client's download folders have (the fullest one), as last measured."""
    from dlwatch.policies.diskguard import lowest_free

    clients = store.list_clients()
    names, types = {c.id: c.name for c in clients}, {c.id: c.type for c in clients}
    free = {c.id: lowest_free(store, c) for c in clients}
    records = []
    for a in attempts:
        record = attempt_record(a, client_label(a, names), types.get(a.client_id))
        record["free_bytes"] = free.get(a.client_id)
        records.append(record)
    return records


def attempt_records_json(store: Store, **which: Any) -> str:
    """attempt_records of the attempts `store.list_attempts(**which)` returns, as one JSON array of
    versioned records encoded by SQLite: `status --json` prints thousands, and reading them into
    Attempts and encoding them here cost ~120 ms per 5,000 (SQLite takes a tenth of that)."""
    from dlwatch.policies.diskguard import lowest_free
    from dlwatch.store.db import attempt_filter

    where, params = attempt_filter(**which)
    client_ids = [r["client_id"] for r in store.query(f"SELECT DISTINCT client_id FROM attempts{where}", params)]
    if not client_ids:
        return "[]"
    clients = {c.id: c for c in store.list_clients()}
    names = {c.id: c.name for c in clients.values()}
    known: list[Any] = []
    for client_id in client_ids:
        client = clients.get(client_id)
        free = lowest_free(store, client) if client else None
        known += [client_id, _label(client_id, names), client.type if client else None, free]
    rows = ", ".join(["(?, ?, ?, ?)"] * len(client_ids))
    records = (
        f"SELECT json_object({_record_sql()}) AS record FROM attempts a LEFT JOIN k ON k.k_id IS a.client_id{where} "
        "ORDER BY a.id"
    )
    # group_concat keeps the order of the ordered subquery it reads (SQLite 3.40, Debian 12's, has
    # no ORDER BY inside an aggregate); coalesce, for attempts another process forgot meanwhile.
    sql = (
        f"WITH k(k_id, k_label, k_type, k_free) AS (VALUES {rows}) "
        f"SELECT '[' || coalesce(group_concat(record, ','), '') || ']' FROM ({records})"
    )
    return store.conn.execute(sql, [*known, *params]).fetchone()[0]


# What attempt_record computes rather than copies from the attempt's own column, as SQLite computes
# it from a row of `attempts` (a) and of the client it names (k).
_COMPUTED_SQL = {
    "client": "k.k_label",
    "client_type": "k.k_type",
    "progress": "round(coalesce(a.progress, 0.0), 4)",
    "free_bytes": "k.k_free",
}


def _record_sql() -> str:
    """json_object's arguments for an attempt record: attempt_record's keys, in its order."""
    from dlwatch.core.models import DownloadStatus, Protocol
    from dlwatch.store.db import Attempt

    template = Attempt(0, "", "", Protocol.TORRENT, DownloadStatus.QUEUED, "", "")
    pairs = [f"'schema_version', {SCHEMA_VERSION}"]
    pairs += [f"'{key}', {_COMPUTED_SQL.get(key, f'a.{key}')}" for key in attempt_record(template, "", None)]
    return ", ".join(pairs)


def attempt_record(attempt: Attempt, client_name: str, client_type: str | None) -> dict[str, Any]:
    """An attempt (`status --json`, `send --json`, an event's snapshot)."""
    return {
        "id": attempt.id,
        "title": attempt.title,
        "client": client_name,
        "client_type": client_type,
        "protocol": str(attempt.protocol),
        "client_download_id": attempt.client_download_id,
        "status": str(attempt.status),
        "progress": round(attempt.progress, 4),
        "size_bytes": attempt.size_bytes,
        "remaining_bytes": attempt.remaining_bytes,
        "download_speed": attempt.download_speed,
        "eta_seconds": attempt.eta_seconds,
        "raw_file_path": attempt.raw_file_path,
        "error": attempt.error,
        "ref": attempt.ref,
        "category": attempt.category,
        "raw_state": attempt.raw_state,
        "created_at": attempt.created_at,
        "updated_at": attempt.updated_at,
        "completed_at": attempt.completed_at,
        "retry_of": attempt.retry_of,
        # a dead-download rule met on successive polls (see [dead] in config.toml)
        "strike_rule": attempt.strike_rule,
        "strikes": attempt.strikes,
        "strike_since": attempt.strike_since,
        "free_bytes": None,  # filled where the store is at hand (attempt_records)
    }


def event_record(event: Event) -> dict[str, Any]:
    """One entry of the event log (`history --json`, and part of every feed record)."""
    return {
        "event_id": event.id,
        "attempt_id": event.attempt_id,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "at": event.at,
        "message": event.message,
        "progress": event.progress,
    }


def feed_record(event: Event, hook_runs: list[HookRun] | None = None) -> dict[str, Any]:
    """What `watch --json` and `poll --json` print per event, and what a hook reads on stdin: the
    attempt as it was at that event, then the event itself."""
    record = dict(event.snapshot or {"id": event.attempt_id})
    record["kind"] = "event"
    record["previous_status"] = event.from_status
    record.update(event_record(event))
    if hook_runs is not None:
        record["hooks"] = [hook_run_record(run) for run in hook_runs]
    return record


def progress_record(attempt: Attempt, client_name: str, client_type: str | None) -> dict[str, Any]:
    """`watch --json --progress`: an active download as it is now, between its events."""
    from dlwatch.store.db import now_iso

    return {**attempt_record(attempt, client_name, client_type), "kind": "progress", "at": now_iso()}


def hook_run_record(run: HookRun) -> dict[str, Any]:
    """A delivery in the hook outbox (`dlwatch hooks --json`, `hooks` in feed records)."""
    return {
        "run_id": run.id,
        "event_id": run.event_id,
        "name": run.hook,
        "state": run.state,
        # False as soon as a try failed, even while a retry is pending; None before the first try ends.
        "ok": True if run.state == "done" else (False if run.state == "failed" or run.detail else None),
        "tries": run.tries,
        "exit_code": run.exit_code,
        "duration_seconds": None if run.duration is None else round(run.duration, 3),
        "detail": run.detail or "",
        "output_tail": run.output,
        "next_try_at": run.next_try_iso if run.state == "pending" else None,
        "finished_at": run.finished_at,
    }


def client_record(client: ClientConfig, dirs: list[DirSpace] | None = None) -> dict[str, Any]:
    """A configured client (`client list|show|add|edit --json`, import reports): its settings, how
    dlwatch reaches it, where its secret comes from (never the secret), and the free space of its
    download folders as last measured."""
    from dataclasses import asdict

    from dlwatch.settings import secrets as keyring_secrets
    from dlwatch.tracking import clients as core

    data = asdict(client)
    data["address"] = client_address(client)
    data["secret"] = keyring_secrets.secret_source(client.id, client.name, core.secret_kind(client))
    data["download_dirs"] = [{"path": d.path, "free_bytes": d.free_bytes, "at": d.at} for d in dirs or []]
    return data


def client_address(client: ClientConfig) -> str:
    """How dlwatch reaches the client: http(s)://…, or scgi://… and a socket path for rTorrent."""
    from dlwatch.adapters import registry
    from dlwatch.tracking import clients as core

    return registry.adapter_class(client.type).address(core.connection_for(client, None, timeout=1.0))


def import_report_record(report: ImportReport) -> dict[str, Any]:
    """`client import --json`: what was (or, with --dry-run, would be) written."""
    created = set(report.created)
    return {
        "source": report.source,
        "dry_run": report.dry_run,
        "created": report.created,
        "updated": report.updated,
        "clients": [{"action": "add" if c.name in created else "update", **client_record(c)} for c in report.clients],
        "path_mappings": [
            {"action": action, "remote": m.remote, "local": m.local, "client": m.client}
            for action, mappings in (("add", report.path_mappings), ("present", report.path_mappings_present))
            for m in mappings
        ],
        "unsupported": [{"name": name, "why": why} for name, why in report.unsupported],
        "needs_secret": report.needs_secret,
    }


def versioned(data: Any) -> Any:
    """The one place `schema_version` is added: to an object, or to each object of a list."""
    if isinstance(data, dict):
        return {"schema_version": SCHEMA_VERSION, **data}
    if isinstance(data, list):
        return [versioned(item) if isinstance(item, dict) else item for item in data]
    return data


def failure_record(client_name: str, error: str) -> dict[str, Any]:
    """`poll --json` and `watch --json`: a client that did not answer this cycle."""
    from dlwatch.store.db import now_iso

    return {"kind": "failure", "client": client_name, "error": error, "at": now_iso()}
