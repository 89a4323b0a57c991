"""`dlwatch watch`: the live view, following the event log while it polls."""

from __future__ import annotations

import sys
import time

import typer

from dlwatch.cli.commands.downloads import (
    deliver_hooks_in_background,
    print_events,
    print_progress,
    report_failures,
    shown_names,
)
from dlwatch.cli.context import MAX_ID, app_context, console, echo, positive_seconds, warn
from dlwatch.core.models import DownloadStatus


def watch(
    ctx: typer.Context,
    attempt_ids: list[int] | None = typer.Argument(
        None,
        min=1,
        max=MAX_ID,
        help="Attempt ids [default: every active attempt, and every one started while watching].",
    ),
    interval: float | None = typer.Option(
        None,
        "--interval",
        callback=positive_seconds,
        help="Seconds between polls [default: config poll.interval]; it redraws every second.",
    ),
    until_done: bool = typer.Option(
        False, "--until-done", help="Exit when every watched attempt is final: 0 if all completed, 1 otherwise."
    ),
    as_json: bool = typer.Option(False, "--json", help="Stream one JSON object per recorded event (JSON Lines)."),
    progress: float | None = typer.Option(
        None,
        "--progress",
        callback=positive_seconds,
        help='With --json: also a record ("kind": "progress") per active download, at most every SECONDS.',
    ),
) -> None:
    """Follow downloads live: a table in a terminal, a line per change otherwise. Ctrl-C stops.

    Shows every change recorded by any dlwatch process (a cron poll included), each once; hooks are
    delivered in the background, never waited on.
    """
    # here, not at the top: start-up time (only this path needs it)
    from dlwatch.cycle.polling import poll as poll_clients
    from dlwatch.store import eventlog
    from dlwatch.tracking.poll import Sessions

    context = app_context(ctx)
    store, settings = context.store, context.settings
    every = interval or settings.poll_interval
    fixed = list(attempt_ids) if attempt_ids else None
    for attempt_id in fixed or []:
        store.get_attempt(attempt_id)
    cursor = eventlog.last_id(store)
    watched = set(fixed) if fixed else {a.id for a in store.list_attempts(active_only=True)}
    if until_done and not watched:
        echo("nothing to watch: no active attempts", err=True)
        return
    live_table = sys.stdout.isatty() and not as_json
    live = None
    sessions = Sessions(context.home)
    next_poll = 0.0
    failures: list = []
    answered_at: dict[str, float] = {}  # client name -> when it last answered one of this watch's polls
    progress_due = 0.0
    try:
        if live_table:
            # here, not at the top: start-up time (only this path needs it)
            from rich.live import Live

            live = Live(console=console(), auto_refresh=False)
            live.start()
        while True:
            if time.monotonic() >= next_poll:
                result = poll_clients(store, settings, fixed, sessions)
                next_poll = time.monotonic() + every
                failures = result.failures
                answered_at.update(dict.fromkeys(result.answered, time.monotonic()))
                if live is None:
                    report_failures(result, as_json)
                deliver_hooks_in_background(store, context.home)
            if events := eventlog.after(store, cursor, fixed):
                cursor = events[-1].id
                watched |= {e.attempt_id for e in events}  # without ids, attempts started elsewhere join
                if live is None:
                    print_events(store, events, as_json)
            attempts = store.list_attempts(ids=sorted(watched))
            if as_json and progress and time.monotonic() >= progress_due:
                progress_due = time.monotonic() + progress
                print_progress(store, [a for a in attempts if not a.status.is_final])
            if live is not None:
                # here, not at the top: start-up time (only this path needs it)
                from dlwatch.cli.render import attempts_table

                ages = {name: time.monotonic() - at for name, at in answered_at.items()}
                table = attempts_table(
                    attempts, shown_names(store), failures, width=live.console.width, answered_ago=ages
                )
                live.update(table, refresh=True)
            if until_done:
                # A disabled client is not polled: its downloads cannot end, so they are not waited for.
                disabled = {c.id for c in store.list_clients() if not c.enabled}
                waiting = [a for a in attempts if not a.status.is_final and a.client_id not in disabled]
                if not waiting:
                    skipped = [a for a in attempts if not a.status.is_final]
                    if skipped:
                        warn(f"not waiting for {len(skipped)} download(s) of disabled clients")
                    ok = all(a.status is DownloadStatus.COMPLETED for a in attempts)
                    raise typer.Exit(0 if ok else 1)
            time.sleep(max(0.0, min(1.0, next_poll - time.monotonic())))
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    finally:
        sessions.close()
        if live is not None:
            live.stop()
