"""`dlwatch hooks`: the hook outbox, listed, delivered now, or one run retried."""

from __future__ import annotations

import typer

from dlwatch.cli.context import MAX_ID, app_context, command_group, echo
from dlwatch.cli.jsonout import print_json
from dlwatch.core.records import hook_run_record
from dlwatch.core.safetext import shown

app = command_group(
    help="Hook deliveries: one per status change and hook, run at least once (see docs/hooks-and-notifications.md).",
    no_args_is_help=False,
)


def _line(run) -> str:

    title = shown((run.record or {}).get("title", ""))
    what = f"{run.state:<8} {run.hook:<12} attempt {run.attempt_id} event {run.event_id}"
    tail = f"  {shown(run.detail)}" if run.detail else ""
    return f"{run.id:>5} {what}  tries {run.tries}  {title}{tail}"


@app.callback(invoke_without_command=True)
def listing(
    ctx: typer.Context,
    failed: bool = typer.Option(False, "--failed", help="Only runs that failed for good (retries used up)."),
    limit: int = typer.Option(50, "--limit", min=1, max=100000, help="How many runs, newest first."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List hook runs, newest first: pending, running, done or failed, with exit code and output."""
    if ctx.invoked_subcommand:
        return
    # here, not at the top: start-up time (only this path needs it)
    from dlwatch.store import outbox

    runs = outbox.listing(app_context(ctx).store, failed_only=failed, limit=limit)
    if as_json:
        print_json([hook_run_record(r) for r in runs])
    elif not runs:
        echo("no failed hook runs" if failed else "no hook runs yet")
    else:
        for run in runs:
            echo(_line(run))


@app.command("retry")
def retry(
    ctx: typer.Context,
    run_id: int = typer.Argument(..., min=1, max=MAX_ID, help="The hook run's id (from `dlwatch hooks`)."),
    as_json: bool = typer.Option(False, "--json", help="Print the run as JSON."),
) -> None:
    """Run a hook again now, with the command config.toml names today. Exit 1 if it fails again."""
    # here, not at the top: start-up time (only this path needs it)
    from dlwatch.delivery import deliver

    context = app_context(ctx)
    run = deliver.retry(context.store, context.settings, run_id)
    if as_json:
        print_json(hook_run_record(run))
    else:
        echo(_line(run))
    if run.state != "done":
        raise typer.Exit(1)


@app.command("run")
def run_due(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print the runs as JSON."),
) -> None:
    """Deliver every due hook run now (`status` and `watch` start this in the background)."""
    # here, not at the top: start-up time (only this path needs it)
    from dlwatch.delivery import deliver

    context = app_context(ctx)
    runs = deliver.deliver_due(context.store, context.settings)
    if as_json:
        print_json([hook_run_record(r) for r in runs])
    else:
        for run in runs:
            echo(_line(run))
