"""The documented JSON shapes (docs/json.md): one function per record, used by every
command, hook and feed that prints or passes one."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from dlwatch.core.attempt import now_iso

# Every JSON object dlwatch prints carries this; it goes up when a field changes meaning or goes
# away (a new field does not change it). The shapes are JSON Schemas in src/dlwatch/core/schemas/.
SCHEMA_VERSION = 1

if TYPE_CHECKING:
    from dlwatch.core.attempt import Attempt
    from dlwatch.core.events import Event, HookRun
    from dlwatch.core.models import ClientConfig, DirSpace


def client_label(attempt: Attempt, names: dict[str, str]) -> str:
    """The `client` of a record: the client's name, or what stands for one that is not known."""
    return label_of(attempt.client_id, names)


def label_of(client_id: str | None, names: dict[str, str]) -> str:
    if not client_id:
        return "(finding)"  # sent through Prowlarr, not yet seen in a client
    return names.get(client_id, "(removed)")


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
        # after completed: the import by the Sonarr or Radarr that knows the download (its own view)
        "import_state": attempt.import_state,
        "import_detail": attempt.import_detail,
        "imported_at": attempt.imported_at,
        "arr": attempt.arr,
        # a torrent as it seeds, and where it stands against its [seeding] goal
        "ratio": attempt.ratio,
        "seed_seconds": attempt.seed_seconds,
        "uploaded_bytes": attempt.uploaded_bytes,
        "upload_speed": attempt.upload_speed,
        "seeders": attempt.seeders,
        "seed_state": attempt.seed_state,
        "seed_detail": attempt.seed_detail,
        "goal_met_at": attempt.goal_met_at,
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
        "what": event.what,
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


def client_record(
    client: ClientConfig, address: str, secret: str, dirs: list[DirSpace] | None = None
) -> dict[str, Any]:
    """A configured client (`client list|show|add|edit --json`, import reports): its settings, how
    dlwatch reaches it (`address`), where its secret comes from (`secret`: keyring, env or none;
    never the secret), and the free space of its download folders as last measured."""
    data = asdict(client)
    data["address"] = address
    data["secret"] = secret
    data["download_dirs"] = [{"path": d.path, "free_bytes": d.free_bytes, "at": d.at} for d in dirs or []]
    return data


def versioned(data: Any) -> Any:
    """The one place `schema_version` is added: to an object, or to each object of a list."""
    if isinstance(data, dict):
        return {"schema_version": SCHEMA_VERSION, **data}
    if isinstance(data, list):
        return [versioned(item) if isinstance(item, dict) else item for item in data]
    return data


def failure_record(client_name: str, error: str) -> dict[str, Any]:
    """`poll --json` and `watch --json`: a client that did not answer this cycle."""
    return {"kind": "failure", "client": client_name, "error": error, "at": now_iso()}
