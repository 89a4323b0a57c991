"""`dlwatch pause|resume|remove`: act on downloads through their clients, one line per download."""

from __future__ import annotations

import sys

import typer

from dlwatch.cli.completion import attempt_ids, client_names
from dlwatch.cli.context import MAX_ID, app_context, echo
from dlwatch.cli.jsonout import print_json
from dlwatch.core.errors import UsageError
from dlwatch.core.records import attempt_record
from dlwatch.core.safetext import shown

IDS = typer.Argument(..., min=1, max=MAX_ID, help="Attempt ids.", autocompletion=attempt_ids)
JSON = typer.Option(False, "--json", help="Print one JSON object per download.")


def _run(ctx: typer.Context, ids: list[int], action: str, as_json: bool, delete_data: bool = False) -> None:
    # here, not at the top: start-up time (only this path needs it)
    from dlwatch.tracking.actions import act

    context = app_context(ctx)
    results = act(context.store, context.settings, ids, action, delete_data=delete_data)  # type: ignore[arg-type]
    if as_json:
        print_json(
            [
                {
                    "id": r.attempt_id,
                    "action": r.action,
                    "ok": r.ok,
                    "detail": r.detail,
                    "status": str(r.attempt.status) if r.attempt else None,
                    "client": r.client_name,
                }
                for r in results
            ]
        )
    else:
        for r in results:
            title = f" {shown(r.attempt.title)}" if r.attempt else ""
            where = f" ({shown(r.client_name)})" if r.client_name else ""
            if r.ok:
                echo(f"{r.attempt_id}{title}: {r.detail}{where}")
            else:
                echo(f"{r.attempt_id}{title}: FAILED {r.detail}", err=True)
    if not all(r.ok for r in results):
        raise typer.Exit(1)


def pause(ctx: typer.Context, attempt_ids: list[int] = IDS, as_json: bool = JSON) -> None:
    """Pause downloads in their clients. Exit 1 if any could not be paused."""
    _run(ctx, attempt_ids, "pause", as_json)


def resume(ctx: typer.Context, attempt_ids: list[int] = IDS, as_json: bool = JSON) -> None:
    """Resume downloads in their clients (qBittorrent 5 calls it start). Exit 1 if any failed."""
    _run(ctx, attempt_ids, "resume", as_json)


def remove(
    ctx: typer.Context,
    attempt_ids: list[int] = IDS,
    delete_data: bool = typer.Option(False, "--delete-data", help="Delete the downloaded files too."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Delete data without asking."),
    as_json: bool = JSON,
) -> None:
    """Remove downloads from their clients; they end as 'removed'. Exit 1 if any could not be.

    With --delete-data the client deletes the downloaded files as well (rTorrent and aria2 cannot:
    dlwatch deletes the files they list, where this machine sees them). On a terminal dlwatch asks
    first; anywhere else --yes is needed, so a script never deletes data by accident."""
    if delete_data and not yes:
        if not sys.stdin.isatty():
            raise UsageError("--delete-data deletes files: add --yes to confirm when not at a terminal")
        if not typer.confirm(f"Delete the files of {len(attempt_ids)} download(s) as well?", default=False):
            raise typer.Exit(1)
    _run(ctx, attempt_ids, "remove", as_json, delete_data=delete_data)


def retry(
    ctx: typer.Context,
    attempt_id: int = typer.Argument(
        ..., min=1, max=MAX_ID, help="An ended attempt (failed, missing, removed).", autocompletion=attempt_ids
    ),
    client: str | None = typer.Option(
        None, "--client", "-c", help="Send it to this client [default: the same].", autocompletion=client_names
    ),
    as_json: bool = JSON,
) -> None:
    """Send an ended download again, the same .torrent, .nzb or magnet, as a new attempt linked to it."""
    # here, not at the top: start-up time (only this path needs it)
    from dlwatch.tracking.sending import retry as retry_attempt

    context = app_context(ctx)
    result = retry_attempt(context.store, context.settings, attempt_id, client_name=client)
    a = result.attempt
    if as_json:
        print_json(attempt_record(a, result.client.name, result.client.type))
    else:
        echo(f"{a.id}")
        echo(f"sent attempt {attempt_id}'s download again to {shown(result.client.name)} as {a.id}", err=True)


def prune(
    ctx: typer.Context,
    older_than: str = typer.Option("30d", "--older-than", help="Age since the last change: 30d, 12h, 90m, 2w."),
    status: str = typer.Option(
        "completed,failed,missing,removed", "--status", help="Comma-separated ended statuses to prune."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="List what would be pruned; change nothing."),
    as_json: bool = JSON,
) -> None:
    """Forget ended attempts older than --older-than (the downloads stay in the clients)."""
    # here, not at the top: start-up time (only this path needs it)
    from dlwatch.tracking.pruning import parse_age, parse_statuses
    from dlwatch.tracking.pruning import prune as prune_attempts

    age, statuses = parse_age(older_than), parse_statuses(status)  # checked before any work
    pruned = prune_attempts(app_context(ctx).store, age, statuses, dry_run=dry_run)
    verb = "would prune" if dry_run else "pruned"
    if as_json:
        print_json([{"id": a.id, "title": a.title, "status": str(a.status), "pruned": not dry_run} for a in pruned])
    else:
        for a in pruned:
            echo(f"{verb} {a.id} {shown(a.title)} ({a.status}, last changed {a.updated_at})")
        echo(f"{verb} {len(pruned)} attempt(s)", err=True)
