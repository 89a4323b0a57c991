"""`dlwatch send|track|forget|poll|status|history` (and what `watch` shares with them)."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING

import typer

from dlwatch.cli.completion import attempt_ids, client_names
from dlwatch.cli.context import MAX_ID, app_context, console, echo, positive_seconds, waiting, warn
from dlwatch.cli.jsonout import json_line, print_json, print_json_array
from dlwatch.core.humane import human_bytes
from dlwatch.core.models import Protocol
from dlwatch.core.records import client_label, event_record, failure_record, feed_record, progress_record
from dlwatch.core.safetext import shown

if TYPE_CHECKING:
    from dlwatch.store.db import Attempt, Store


def _names(store: Store) -> tuple[dict[str, str], dict[str, str]]:
    clients = store.list_clients()
    return {c.id: c.name for c in clients}, {c.id: c.type for c in clients}


def shown_names(store: Store) -> dict[str, str]:
    """Client names as a person sees them: a disabled client says so (its downloads are not polled)."""
    return {c.id: c.name if c.enabled else f"{c.name} (disabled)" for c in store.list_clients()}


def _records(store: Store, attempts: list[Attempt]) -> list[dict]:
    # here, not at the top: start-up time (only this path needs it)
    from dlwatch.store.listing import attempt_records

    return attempt_records(store, attempts)


def report_failures(result, as_json: bool = False) -> None:
    """Each client that did not answer: a line on stderr, and with --json a record on stdout too."""
    for failure in result.failures:
        echo(f"error: {failure.client_name}: {failure.error}", err=True)
        if as_json:
            sys.stdout.write(json_line(failure_record(failure.client_name, failure.error)) + "\n")
    if as_json and result.failures:
        sys.stdout.flush()


def send(
    ctx: typer.Context,
    source: str = typer.Argument(
        ..., help="http(s) URL of an .nzb/.torrent, a local .nzb/.torrent file, or a magnet link."
    ),
    client: str | None = typer.Option(
        None,
        "--client",
        "-c",
        help="Send to this client [default: the enabled client of the right protocol with the highest priority].",
        autocompletion=client_names,
    ),
    protocol: Protocol | None = typer.Option(None, "--protocol", help="Override the detected protocol."),
    title: str | None = typer.Option(
        None, "--title", help="Title to record (and give the client, where it takes one)."
    ),
    category: str | None = typer.Option(None, "--category", help="Category or label [default: the client's]."),
    paused: bool = typer.Option(False, "--paused", help="Add it paused."),
    ref: str | None = typer.Option(
        None, "--ref", help="An opaque reference of yours, kept with the attempt (e.g. a media id)."
    ),
    force: bool = typer.Option(
        False, "--force", help="Send it even if the same torrent or file is already tracked and not finished."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the attempt as JSON."),
) -> None:
    """Send a download to a client and start tracking it. Prints the attempt id.

    The same torrent (by infohash) or the same file already tracked and not finished is not sent
    twice: its attempt is printed instead (exit 0), unless --force."""
    # here, not at the top: start-up time (only this path needs it)
    from dlwatch.tracking.sending import send as send_download
    from dlwatch.tracking.sources import load_source

    context = app_context(ctx)
    settings = context.settings
    if client:
        context.store.get_client(client)  # a mistyped name is the error, before any file is read or fetched
    with waiting("the download client", quiet=as_json):
        payload = load_source(
            source, protocol=protocol, timeout=settings.request_timeout * 3, max_bytes=settings.max_file_bytes
        )
        result = send_download(
            context.store,
            settings,
            payload,
            client_name=client,
            title=title,
            category=category,
            paused=paused,
            ref=ref,
            force=force,
        )
    _report_send(context, result, as_json)


def _report_send(context, result, as_json: bool) -> None:
    for name, why in result.skipped:
        warn(f"skipped {name}: {why}")
    a = result.attempt
    if result.already_tracked:
        warn(f"already tracked as attempt {a.id} on {result.client.name} ({a.status}); not sent again (see --force)")
    elif result.unconfirmed:
        warn(
            f"{result.unconfirmed}; it may have arrived, so it was not sent anywhere else: attempt {a.id} "
            f"stays 'sending' until a poll finds it in {result.client.name} or reports it never arrived"
        )
    if as_json:
        print_json(_records(context.store, [a])[0])
    else:
        echo(f"{a.id}")
        if not (result.already_tracked or result.unconfirmed):
            echo(f"sent {a.title!r} to {result.client.name} (id {a.client_download_id})", err=True)


def track(
    ctx: typer.Context,
    client: str = typer.Option(
        ..., "--client", "-c", help="The client that has the download.", autocompletion=client_names
    ),
    download_id: str | None = typer.Option(None, "--id", help="The client's id: infohash, nzo_id or NZBID."),
    title: str | None = typer.Option(None, "--title", help="Find it by title (case and separators ignored)."),
    ref: str | None = typer.Option(None, "--ref", help="An opaque reference of yours."),
    as_json: bool = typer.Option(False, "--json", help="Print the attempt as JSON."),
) -> None:
    """Adopt a download already in a client (sent by Prowlarr, another app or by hand)."""
    # here, not at the top: start-up time (only this path needs it)
    from dlwatch.tracking.sending import adopt

    context = app_context(ctx)
    attempt = adopt(context.store, context.settings, client, download_id=download_id, title=title, ref=ref)
    if as_json:
        print_json(_records(context.store, [attempt])[0])
    else:
        echo(f"{attempt.id}")
        echo(f"tracking {attempt.title!r} on {client}: {attempt.status}", err=True)


def forget(
    ctx: typer.Context,
    attempt_id: int = typer.Argument(..., min=1, max=MAX_ID, help="Attempt id.", autocompletion=attempt_ids),
    as_json: bool = typer.Option(False, "--json", help="Print the forgotten attempt as JSON."),
) -> None:
    """Stop tracking an attempt and delete its history (the download stays in the client)."""
    # here, not at the top: start-up time (only this path needs it)
    from dlwatch.tracking.sending import forget as forget_attempt

    store = app_context(ctx).store
    record = _records(store, [store.get_attempt(attempt_id)])[0] if as_json else None
    attempt = forget_attempt(store, attempt_id)
    if record is not None:
        print_json({**record, "forgotten": True})
    else:
        echo(f"forgot {attempt.id} {shown(attempt.title)}")


def poll(
    ctx: typer.Context,
    once: bool = typer.Option(False, "--once", help="Poll once and exit (for cron)."),
    interval: float | None = typer.Option(
        None, "--interval", callback=positive_seconds, help="Seconds between polls [default: config poll.interval]."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the recorded events as JSON Lines."),
) -> None:
    """Poll every client once (--once) or forever; run due hooks; print each status change.

    Prints every change recorded while it runs, by this or any other dlwatch process, each once.
    Exit 0 if every client answered, 1 if any did not (the others are still processed).
    """
    # here, not at the top: start-up time (only this path needs it)
    from dlwatch.cycle.polling import poll as poll_clients
    from dlwatch.delivery import deliver
    from dlwatch.store import eventlog
    from dlwatch.tracking import push
    from dlwatch.tracking.poll import Sessions

    context = app_context(ctx)
    store, settings = context.store, context.settings
    every = interval or settings.poll_interval
    cursor = eventlog.last_id(store)
    asked_at: dict[str, float] = {}  # client id -> when this process last asked it
    with Sessions(context.home) as sessions:
        while True:
            skip = push.not_due(store, settings, asked_at)
            result = poll_clients(store, settings, sessions=sessions, skip=skip)
            asked_at.update({c.id: time.monotonic() for c in store.list_clients() if c.id not in skip})
            deliver.deliver_due(store, settings)  # poll is the process that may wait on hooks
            if events := eventlog.after(store, cursor):
                cursor = events[-1].id
                print_events(store, events, as_json)
            report_failures(result, as_json)
            if once:
                raise typer.Exit(0 if result.ok else 1)
            time.sleep(every)


def print_events(store: Store, events: list, as_json: bool) -> None:
    """Print events from the log (`records.feed_record`), with the state of their hooks."""
    # here, not at the top: start-up time (only this path needs it)
    from dlwatch.cli.render import event_line
    from dlwatch.store import outbox

    runs = outbox.for_events(store, [e.id for e in events])
    for event in events:
        record = feed_record(event, runs[event.id])
        sys.stdout.write((json_line(record) if as_json else event_line(record)) + "\n")  # both escape controls
    sys.stdout.flush()


def print_progress(store: Store, attempts: list[Attempt]) -> None:
    """`watch --json --progress`: each active download as it is now (`records.progress_record`)."""
    names, types = _names(store)
    for a in attempts:
        sys.stdout.write(json_line(progress_record(a, client_label(a, names), types.get(a.client_id))) + "\n")
    sys.stdout.flush()


def status(
    ctx: typer.Context,
    attempt_ids: list[int] | None = typer.Argument(
        None, min=1, max=MAX_ID, help="Attempt ids [default: every active attempt].", autocompletion=attempt_ids
    ),
    show_all: bool = typer.Option(False, "--all", help="Include finished attempts."),
    no_refresh: bool = typer.Option(False, "--no-refresh", help="Show the stored state without asking the clients."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (fields: docs/json.md)."),
) -> None:
    """Refresh from the clients, then show the tracked downloads.

    Exit 1 if a client could not be asked (its downloads show their last known state)."""
    context = app_context(ctx)
    store = context.store
    ids = attempt_ids or None
    failures = []
    if not no_refresh:
        # here, not at the top: start-up time (only this path needs it)
        from dlwatch.cycle.polling import poll as poll_clients

        with waiting("the clients", quiet=as_json):
            result = poll_clients(store, context.settings, ids)
        failures = result.failures
        report_failures(result)
        deliver_hooks_in_background(store, context.home)
    if ids:
        for attempt_id in ids:
            store.get_attempt(attempt_id)  # a clear error for an unknown id
    which = {"ids": ids, "active_only": not (show_all or ids)}
    if as_json:
        # here, not at the top: start-up time (only this path needs it)
        from dlwatch.store.listing import attempt_records_json

        print_json_array(attempt_records_json(store, **which))
    else:
        _print_attempts(store, store.list_attempts(**which), failures, show_all)
    if failures:
        raise typer.Exit(1)


def _print_attempts(store: Store, attempts: list[Attempt], failures: list, show_all: bool) -> None:
    """`status` without --json: a table on a terminal, a line per attempt when piped."""
    if not attempts:
        echo("nothing tracked" + ("" if show_all else " is active (see --all)"))
    elif sys.stdout.isatty():
        # here, not at the top: start-up time (only this path needs it)
        from dlwatch.cli.render import attempts_table

        out = console()
        out.print(attempts_table(attempts, shown_names(store), failures, width=out.width))
        _print_free_space(store)
    else:
        # here, not at the top: start-up time (only this path needs it)
        from dlwatch.cli.render import attempt_line

        names = shown_names(store)
        for a in attempts:
            echo(attempt_line(a, client_label(a, names)))


def _print_free_space(store: Store) -> None:
    """Under the table on a terminal: each client's download folders and their free space."""
    # here, not at the top: start-up time (only this path needs it)
    from dlwatch.store.diskspace import last_readings

    for client in store.list_clients(enabled_only=True):
        for d in last_readings(store, client):
            if d.free_bytes is not None:
                echo(f"{client.name}: {human_bytes(d.free_bytes)} free in {d.path}")


def history(
    ctx: typer.Context,
    attempt_id: int = typer.Argument(..., min=1, max=MAX_ID, help="Attempt id.", autocompletion=attempt_ids),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List an attempt's status changes."""
    # here, not at the top: start-up time (only this path needs it)
    from dlwatch.store import eventlog

    store = app_context(ctx).store
    attempt = store.get_attempt(attempt_id)
    events = eventlog.of_attempt(store, attempt.id)
    if as_json:
        print_json([event_record(e) for e in events])
        return
    echo(f"{attempt.id} {shown(attempt.title)}")
    for e in events:
        progress = f" {e.progress * 100:.1f}%" if e.progress is not None else ""
        message = f"  {shown(e.message)}" if e.message else ""
        echo(f"{e.at}  {e.from_status or '-':>14} -> {e.to_status:<14}{progress}{message}")


def deliver_hooks_in_background(store: Store, home) -> None:
    """Hand due hook runs to a detached `dlwatch hooks run`, so this command never waits on a hook
    (and Ctrl-C here does not stop one)."""
    # here, not at the top: start-up time (only this path needs it)
    import subprocess

    # here, not at the top: start-up time (only this path needs it)
    from dlwatch.store import outbox

    if not outbox.due_count(store):
        return
    subprocess.Popen(
        [sys.executable, "-m", "dlwatch", "--home", str(home), "hooks", "run"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        close_fds=True,
    )
