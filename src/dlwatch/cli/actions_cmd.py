"""`dlwatch pause|resume|remove`: act on downloads through their clients, one line per download."""

from __future__ import annotations

import sys

import typer

from ..errors import UsageError
from ..safetext import shown
from .context import MAX_ID, app_context, echo, print_json

IDS = typer.Argument(..., min=1, max=MAX_ID, help="Attempt ids.")
JSON = typer.Option(False, "--json", help="Print one JSON object per download.")


def _run(ctx: typer.Context, ids: list[int], action: str, as_json: bool, delete_data: bool = False) -> None:
    from ..actions import act

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
            echo(f"{r.attempt_id}{title}: {r.detail}{where}" if r.ok else f"{r.attempt_id}{title}: FAILED {r.detail}")
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

    With --delete-data the client deletes the downloaded files as well. On a terminal dlwatch asks
    first; anywhere else --yes is needed, so a script never deletes data by accident."""
    if delete_data and not yes:
        if not sys.stdin.isatty():
            raise UsageError("--delete-data deletes files: add --yes to confirm when not at a terminal")
        if not typer.confirm(f"Delete the files of {len(attempt_ids)} download(s) as well?", default=False):
            raise typer.Exit(1)
    _run(ctx, attempt_ids, "remove", as_json, delete_data=delete_data)
