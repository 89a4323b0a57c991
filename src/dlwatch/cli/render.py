"""How attempts look in a terminal: the Rich table and plain text lines."""

from __future__ import annotations

from datetime import UTC, datetime

from dlwatch.core.attempt import seconds_since
from dlwatch.core.humane import human_bytes, human_duration
from dlwatch.core.models import DownloadStatus
from dlwatch.core.records import client_label
from dlwatch.core.safetext import shown
from dlwatch.store.db import Attempt
from dlwatch.tracking import seeding
from dlwatch.tracking.poll import ClientFailure

STATUS_STYLE = {
    DownloadStatus.COMPLETED: "green",
    DownloadStatus.FAILED: "red",
    DownloadStatus.MISSING: "red",
    DownloadStatus.DOWNLOADING: "cyan",
    DownloadStatus.PAUSED: "yellow",
    DownloadStatus.STALLED: "yellow",
    DownloadStatus.POSTPROCESSING: "magenta",
    DownloadStatus.SENDING: "dim",
    DownloadStatus.REMOVED: "dim",
}


def age(timestamp: str | None) -> str:
    if not timestamp:
        return "-"
    delta = datetime.now(UTC) - datetime.fromisoformat(timestamp)
    return human_duration(max(0, delta.total_seconds()))


def progress_bar(progress: float, width: int = 12) -> str:
    filled = round(progress * width)
    return "█" * filled + "░" * (width - filled) + f" {progress * 100:5.1f}%"


# Below these widths the size/age columns, then the progress bar, give their room to the title.
WIDE = 120
ROOMY = 100


def attempts_table(
    attempts: list[Attempt],
    client_names: dict[str, str],
    failures: list[ClientFailure] = (),
    width: int = 160,
    answered_ago: dict[str, float] | None = None,
):
    """The table `status` and `watch` show, laid out for `width` columns: the title keeps most of the
    room (never under 20 columns) and folds rather than being cut; the path or failure reason goes
    on its own line under it; client, status, progress, speed and ETA always stay."""
    # here, not at the top: start-up time (only this path needs it)
    from rich import box
    from rich.table import Table
    from rich.text import Text

    roomy, wide = width >= ROOMY, width >= WIDE
    table = Table(
        expand=True,
        caption=_caption(attempts, failures, answered_ago),
        caption_justify="left",
        box=box.SIMPLE_HEAD if not wide else box.HEAVY_HEAD,
        pad_edge=False,
        collapse_padding=not wide,
    )
    table.add_column("id", justify="right", no_wrap=True)
    table.add_column("title", ratio=1, min_width=20, overflow="fold")
    table.add_column("client", no_wrap=True, overflow="ellipsis", max_width=None if wide else 10)
    table.add_column("status", no_wrap=True)
    table.add_column("progress", no_wrap=True, justify="right" if not wide else "left")
    if roomy:
        table.add_column("size", justify="right", no_wrap=True)
    table.add_column("speed", justify="right", no_wrap=True)
    table.add_column("ETA", no_wrap=True)
    if roomy:
        table.add_column("age", no_wrap=True)
    for a in attempts:
        status = Text(str(a.status), style=STATUS_STYLE.get(a.status, ""))
        # A dead-download rule it has met poll after poll, once that has lasted a minute (a download
        # that has not found its first peer yet is no news).
        if a.strikes and not a.status.is_final and seconds_since(a.strike_since or "") >= 60:
            status.append(f"\n{a.strike_rule}:{a.strikes}", style="yellow")  # e.g. stalled:3
        if a.import_state and a.import_state != "none":  # what the *arr made of it, in a word
            status.append(f"\n{a.import_state}", style=IMPORT_STYLE.get(a.import_state, "dim"))
        if seed := seeding.label(a):  # a torrent as it seeds, in a word
            status.append(f"\n{seed}", style=SEED_STYLE.get(a.seed_state or "", "dim"))
        title = Text(shown(a.title))
        if wide and a.import_detail and a.import_state in IMPORT_STYLE:  # its reason, where there is room
            title.append(f"\n{shown(a.arr)}: {shown(a.import_detail)}", style=IMPORT_STYLE[a.import_state])
        if wide and (line := seeding.figures(a)):
            detail = f" ({shown(a.seed_detail)})" if a.seed_detail else ""
            title.append(f"\n{line}{detail}", style=SEED_STYLE.get(a.seed_state or "", "dim"))
        if a.raw_file_path and a.status is DownloadStatus.COMPLETED:
            title.append("\n" + shown(a.raw_file_path), style="dim")
        elif a.error:
            title.append("\n" + shown(a.error), style="dim red" if a.status.is_final else "dim")
        cells = [str(a.id), title, shown(client_label(a, client_names)), status]
        cells.append(progress_bar(a.progress) if wide else f"{a.progress * 100:.1f}%")
        if roomy:
            cells.append(human_bytes(a.size_bytes))
        cells += [_speed(a), human_duration(a.eta_seconds)]
        if roomy:
            cells.append(age(a.created_at))
        table.add_row(*cells)
    return table


def _speed(a: Attempt) -> str:
    if a.download_speed:
        return f"{human_bytes(a.download_speed)}/s"
    if a.upload_speed and a.seed_state in seeding.FOLLOWED:
        return f"↑{human_bytes(a.upload_speed)}/s"  # seeding: what it sends
    return "-"


# How a torrent's seeding state looks: going, held for an import, met, and ended without the goal.
SEED_STYLE = {"seeding": "cyan", "held": "yellow", "met": "green", "stopped": "dim", "gone": "dim"}


def _caption(attempts: list[Attempt], failures, answered_ago: dict[str, float] | None):
    """Under the table: totals, when each client last answered (in `watch`), and each client that
    did not, on a line of its own."""
    # here, not at the top: start-up time (only this path needs it)
    from rich.text import Text

    counts = {s: sum(1 for a in attempts if a.status is s) for s in (DownloadStatus.DOWNLOADING, DownloadStatus.QUEUED)}
    speed = sum(a.download_speed or 0 for a in attempts if not a.status.is_final)
    today = datetime.now(UTC).date().isoformat()
    done = sum(1 for a in attempts if a.status is DownloadStatus.COMPLETED and (a.completed_at or "").startswith(today))
    text = Text(
        f"{counts[DownloadStatus.DOWNLOADING]} downloading, {counts[DownloadStatus.QUEUED]} queued, "
        f"{human_bytes(speed)}/s, {done} done today",
        style="bold",
    )
    if answered_ago:
        ages = ", ".join(
            f"{shown(name)} {human_duration(seconds)} ago" for name, seconds in sorted(answered_ago.items())
        )
        text.append(f"\nupdated: {ages}", style="dim")
    for f in failures:
        text.append(f"\n{shown(f.client_name)}: {shown(f.error)} (last known state shown)", style="red")
    return text


# The *arr import states worth a colour (the word itself is always shown too).
IMPORT_STYLE = {"imported": "green", "blocked": "yellow", "failed": "red", "ignored": "yellow"}


def event_line(record: dict) -> str:
    """One line for a feed record (`records.feed_record`): what changed, and any hook that failed."""
    head = f"{record.get('id')} {shown(record.get('title', ''))}"
    client = shown(record.get("client") or "?")
    if record.get("what", "status") != "status":  # an import event: the status stays as it was
        line = f"{head}: {shown(record.get('message') or record.get('import_state') or '')} ({client})"
    elif record["from_status"] is None:
        line = f"{head}: tracking started on {client} ({record['to_status']})"
    else:
        line = f"{head}: {record['from_status']} -> {record['to_status']} ({client})" + _why(record)
    for hook in record.get("hooks") or []:
        if hook["ok"] is False:
            line += f" [hook {hook['name']} failed: {shown(hook['detail'])}]"
    return line


def _why(record: dict) -> str:
    """After a status change: where the files are, why it failed, or why dlwatch itself acted."""
    if record["to_status"] == DownloadStatus.COMPLETED and record.get("raw_file_path"):
        return f" at {shown(record['raw_file_path'])}"
    if record.get("error") and record["to_status"] in (DownloadStatus.FAILED, DownloadStatus.MISSING):
        return f": {shown(record['error'])}"
    if record.get("message") and record["to_status"] != DownloadStatus.COMPLETED:
        return f": {shown(record['message'])}"  # e.g. why dlwatch itself paused or resumed it
    return ""


def attempt_line(a: Attempt, client_name: str) -> str:
    """One attempt when piped: id, title, client, status, progress, ETA, the path or the reason, then
    what follows completion (the *arr import, the seeding and why), separated by tabs (escaped
    values, so nothing can shift a column)."""
    eta = human_duration(a.eta_seconds) if a.eta_seconds is not None else "-"
    detail = a.raw_file_path or a.error or "-"
    after = [f"import {a.import_state}" if a.import_state else "", seeding.label(a) or "", a.seed_detail or ""]
    fields = [str(a.id), a.title, client_name, str(a.status), f"{a.progress * 100:.1f}%", eta, detail]
    fields.append("; ".join(x for x in after if x) or "-")
    return "\t".join(shown(f) for f in fields)
