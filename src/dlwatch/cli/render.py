"""How attempts look in a terminal: the Rich table and plain text lines."""

from __future__ import annotations

from datetime import UTC, datetime

from ..models import DownloadStatus
from ..safetext import shown
from ..store import Attempt
from ..tracker import ClientFailure

STATUS_STYLE = {
    DownloadStatus.COMPLETED: "green",
    DownloadStatus.FAILED: "red",
    DownloadStatus.MISSING: "red",
    DownloadStatus.DOWNLOADING: "cyan",
    DownloadStatus.PAUSED: "yellow",
    DownloadStatus.STALLED: "yellow",
    DownloadStatus.POSTPROCESSING: "magenta",
    DownloadStatus.SENDING: "dim",
}


def client_label(attempt: Attempt, names: dict[str, str]) -> str:
    if not attempt.client_id:
        return "(finding)"  # sent through Prowlarr, not yet seen in a client
    return names.get(attempt.client_id, "(removed)")


def human_bytes(value: int | None) -> str:
    if value is None:
        return "-"
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"


def human_duration(seconds: int | float | None) -> str:
    if seconds is None:
        return "-"
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    if seconds < 86400:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 86400}d{seconds % 86400 // 3600:02d}h"


def age(timestamp: str | None) -> str:
    if not timestamp:
        return "-"
    delta = datetime.now(UTC) - datetime.fromisoformat(timestamp)
    return human_duration(max(0, delta.total_seconds()))


def progress_bar(progress: float, width: int = 12) -> str:
    filled = round(progress * width)
    return "█" * filled + "░" * (width - filled) + f" {progress * 100:5.1f}%"


def attempts_table(attempts: list[Attempt], client_names: dict[str, str], failures: list[ClientFailure] = ()):
    from rich.table import Table
    from rich.text import Text

    table = Table(expand=False, caption=_failure_caption(failures), caption_style="red")
    for column in ("id", "title", "client", "status", "progress", "size", "speed", "ETA", "age"):
        table.add_column(
            column, no_wrap=column != "title", justify="right" if column in ("id", "size", "speed") else "left"
        )
    for a in attempts:
        status = Text(str(a.status), style=STATUS_STYLE.get(a.status, ""))
        title = Text(shown(a.title))
        if a.raw_file_path and a.status is DownloadStatus.COMPLETED:
            title.append("\n" + shown(a.raw_file_path), style="dim")
        elif a.error:
            title.append("\n" + shown(a.error), style="dim red" if a.status.is_final else "dim")
        table.add_row(
            str(a.id),
            title,
            shown(client_label(a, client_names)),
            status,
            progress_bar(a.progress),
            human_bytes(a.size_bytes),
            f"{human_bytes(a.download_speed)}/s" if a.download_speed else "-",
            human_duration(a.eta_seconds),
            age(a.created_at),
        )
    return table


def _failure_caption(failures) -> str | None:
    if not failures:
        return None
    return "\n".join(f"{shown(f.client_name)}: {shown(f.error)} (last known state shown)" for f in failures)


def event_line(record: dict) -> str:
    """One line for a feed record (`records.feed_record`): what changed, and any hook that failed."""
    head = f"{record.get('id')} {shown(record.get('title', ''))}"
    client = shown(record.get("client") or "?")
    if record["from_status"] is None:
        line = f"{head}: tracking started on {client} ({record['to_status']})"
    else:
        line = f"{head}: {record['from_status']} -> {record['to_status']} ({client})"
    if record["to_status"] == DownloadStatus.COMPLETED and record.get("raw_file_path"):
        line += f" at {shown(record['raw_file_path'])}"
    elif record.get("error") and record["to_status"] in (DownloadStatus.FAILED, DownloadStatus.MISSING):
        line += f": {shown(record['error'])}"
    for hook in record.get("hooks") or []:
        if hook["ok"] is False:
            line += f" [hook {hook['name']} failed: {shown(hook['detail'])}]"
    return line


def attempt_line(a: Attempt, client_name: str) -> str:
    parts = [f"{a.id}", shown(a.title), shown(client_name), str(a.status), f"{a.progress * 100:.1f}%"]
    if a.eta_seconds is not None:
        parts.append(f"ETA {human_duration(a.eta_seconds)}")
    if a.raw_file_path:
        parts.append(shown(a.raw_file_path))
    if a.error:
        parts.append(shown(a.error))
    return "  ".join(parts)
