"""`dlwatch report` (what a client runs when a download ends) and `dlwatch client push` (setting
that up in the client)."""

from __future__ import annotations

import contextlib
import os
import sys

import typer

from dlwatch.adapters import registry
from dlwatch.cli.completion import client_names
from dlwatch.cli.context import app_context, echo
from dlwatch.cli.jsonout import print_json
from dlwatch.core.errors import UsageError


def report(
    ctx: typer.Context,
    client_name: str | None = typer.Option(
        None, "--client", "-c", help="The dlwatch client that runs this.", autocompletion=client_names
    ),
    show_log: bool = typer.Option(False, "--log", help="Print the report log instead, oldest first."),
    args: list[str] | None = typer.Argument(None, help="What the client passes (qBittorrent: %I %J %F)."),
) -> None:
    """Record that a client finished a download: run BY the client (see `dlwatch client push`).

    Reads what the client passes (arguments, or Transmission's TR_* and NZBGet's NZBPP_* variables),
    records the end as a poll would, and logs one line to report.log in the home. It never fails the
    client's job: it exits 0 (NZBGet: 95, "nothing done") whatever happened, unless called wrongly."""
    # here, not at the top: start-up time (only this path needs it)
    from dlwatch.tracking import reports

    context = app_context(ctx)
    if show_log:
        sys.stdout.write(reports.read_log(context.home))
        return
    if not client_name:
        raise UsageError("report needs --client NAME (the client that runs it)")
    try:
        client = context.store.get_client(client_name)
        outcome = reports.receive(context.store, context.settings, client, os.environ, args or [])
    except Exception as exc:  # the client's job must not fail over dlwatch: log it and go
        reports.log(context.home, f"{client_name}: not recorded: {type(exc).__name__}: {exc}")
        code = 0  # what every client accepts, when even the client's type cannot be read
        with contextlib.suppress(Exception):
            code = registry.adapter_class(context.store.get_client(client_name).type).report_exit_code
        raise typer.Exit(code) from None
    reports.log(context.home, outcome.line)
    # here, not at the top: start-up time (only this path needs it)
    from dlwatch.cli.commands.downloads import deliver_hooks_in_background

    deliver_hooks_in_background(context.store, context.home)
    raise typer.Exit(outcome.exit_code)


def push(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Client name.", autocompletion=client_names),
    enable: bool = typer.Option(False, "--enable", help="Have the client run `dlwatch report` when a download ends."),
    disable: bool = typer.Option(False, "--disable", help="Put the client's previous setting back."),
    replace: bool = typer.Option(
        False, "--replace", help="With --enable: replace a program the client already runs (--disable restores it)."
    ),
    url: str | None = typer.Option(
        None,
        "--url",
        help="With --enable: the client posts its reports with curl to `dlwatch listen` at this address "
        "(a client in a container, on a NAS, or running as another user).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Push: the client tells dlwatch the moment a download ends, instead of the next poll.

    Without --enable or --disable, says whether push is on and when the last report arrived.
    Polling goes on as the safety net, less often for such a client ([poll] interval_with_push)."""
    # here, not at the top: start-up time (only this path needs it)
    from dlwatch.tracking import push as core

    if enable and disable:
        raise UsageError("--enable or --disable, not both")
    if (replace or url) and not enable:
        raise UsageError("--replace and --url go with --enable")
    context = app_context(ctx)
    client = context.store.get_client(name)
    if enable:
        result = core.enable(context.store, context.settings, context.home, client, replace=replace, url=url)
    elif disable:
        result = core.disable(context.store, context.settings, client)
    else:
        result = core.status(context.store, context.settings, client)
    if as_json:
        print_json(
            {
                "client": result.client,
                "enabled": result.enabled,
                "program": result.program,
                "last_report_at": result.last_report_at,
                "detail": result.detail,
            }
        )
        return
    state = "on" if result.enabled else "off"
    last = f"; last report {result.last_report_at}" if result.last_report_at else "; no report yet"
    echo(f"push {state} for {result.client}: {result.detail}{last}")
    if result.program:
        echo(f"  runs: {result.program}")


def listen(
    ctx: typer.Context,
    bind: str = typer.Option(
        "127.0.0.1:9797", "--bind", help="ADDR:PORT to listen on; 0.0.0.0:9797 for other machines (tokens needed)."
    ),
) -> None:
    """Receive reports from clients on other machines: `POST /report/<client>` with its token.

    Set a client up with `dlwatch client push NAME --enable --url http://THIS-MACHINE:9797`, which
    makes its token (kept in the keyring) and its curl command. Runs until stopped (Ctrl-C)."""
    # here, not at the top: start-up time (only this path needs it)
    from dlwatch.server.receiver import listen_server

    host, _, port_text = bind.rpartition(":")
    if not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise UsageError(f"--bind takes ADDR:PORT, e.g. 127.0.0.1:9797, not {bind!r}")
    context = app_context(ctx)
    _ = context.store  # the database is made and migrated before the first report
    try:
        receiver = listen_server(context.home, context.store.path, context.settings, host.strip("[]"), int(port_text))
    except OSError as exc:
        raise UsageError(f"cannot listen on {bind}: {exc.strerror or exc}") from None
    address, port = receiver.address
    echo(f"listening on http://{address}:{port} (POST /report/<client name>); Ctrl-C to stop")
    try:
        receiver.serve_forever()
    finally:
        receiver.close()
