"""`dlwatch client import` (from Prowlarr, Sonarr, Radarr or a file) and `dlwatch client export`."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from dlwatch.cli.context import app_context, echo, waiting, warn
from dlwatch.cli.jsonout import print_json
from dlwatch.core.errors import UsageError
from dlwatch.core.models import Secret


def import_cmd(
    ctx: typer.Context,
    from_prowlarr: bool = typer.Option(
        False, "--from-prowlarr", help="Import the download clients set up in Prowlarr (see `dlwatch prowlarr set`)."
    ),
    from_sonarr: str | None = typer.Option(
        None, "--from-sonarr", metavar="URL", help="Import Sonarr's download clients and remote path mappings."
    ),
    from_radarr: str | None = typer.Option(
        None, "--from-radarr", metavar="URL", help="Import Radarr's download clients and remote path mappings."
    ),
    from_file: Path | None = typer.Option(
        None, "--from-file", metavar="FILE", help="Import the clients of a file written by `dlwatch client export`."
    ),
    api_key_stdin: bool = typer.Option(
        False, "--api-key-stdin", help="Sonarr/Radarr: read its API key from the first line of standard input."
    ),
    secrets_stdin: bool = typer.Option(
        False, "--secrets-stdin", help="Read the clients' secrets from standard input, one `NAME=SECRET` line each."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would be written; change nothing."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Import download clients. Running it again updates them (matched by name) instead of adding twice.

    Prowlarr, Sonarr and Radarr never reveal passwords or API keys: dlwatch asks for each at a hidden
    prompt, reads them with --secrets-stdin, or imports without and names the clients that still need
    one. From Sonarr or Radarr the remote path mappings come too, as [[path_mappings]] in config.toml
    for every imported client on that host. With --api-key-stdin and --secrets-stdin both, the API key
    is the first line."""
    # here, not at the top: start-up time (only this path needs it)
    from dlwatch.arr import importing

    sources = [s for s in (from_prowlarr, from_sonarr, from_radarr, from_file) if s]
    if len(sources) != 1:
        raise UsageError(
            "say where to import from: one of --from-prowlarr, --from-sonarr URL, --from-radarr URL, --from-file FILE"
        )
    arr = "sonarr" if from_sonarr else "radarr" if from_radarr else None
    if api_key_stdin and not arr:
        raise UsageError("--api-key-stdin goes with --from-sonarr or --from-radarr")
    context = app_context(ctx)
    lines = sys.stdin.read().splitlines() if (api_key_stdin or secrets_stdin) else []
    api_key = None
    if arr:
        api_key = _arr_key(arr, lines, api_key_stdin)
    given = dict(_secret_lines(lines))
    interactive = sys.stdin.isatty() and not secrets_stdin and not as_json

    def ask_secret(name: str, kind: str) -> Secret | None:
        if name in given:
            return Secret(given[name])
        if interactive:
            label = "API key" if kind == "api_key" else "password"
            value = typer.prompt(
                f"{label} for {name} (hidden; empty to skip)", hide_input=True, default="", show_default=False
            )
            return Secret(value) if value else None
        return None

    remote_mappings = []
    if from_file:
        # here, not at the top: start-up time (only this path needs it)
        from dlwatch.arr.clientfile import read_proposals

        proposals, refused = read_proposals(from_file)
        source = str(from_file)
    elif arr:
        # here, not at the top: start-up time (only this path needs it)
        from dlwatch.arr.sonarr_radarr import ArrApp

        url = from_sonarr or from_radarr or ""
        if not url.startswith(("http://", "https://")):
            raise UsageError(f"--from-{arr} needs http:// or https://, not {url!r}")
        with (
            waiting(arr.capitalize(), quiet=as_json),
            ArrApp(arr, url, api_key, context.settings.request_timeout) as app,
        ):
            app.check()  # a wrong address or key stops here, before anything is read or written
            remote, remote_mappings = app.download_clients(), app.path_mappings()
        proposals, refused = importing.from_remote(remote)
        source = arr
    else:
        # here, not at the top: start-up time (only this path needs it)
        from dlwatch.arr.releases import open_prowlarr

        with waiting("Prowlarr", quiet=as_json), open_prowlarr(context.store, context.settings) as prowlarr:
            remote = prowlarr.download_clients()
        proposals, refused = importing.from_remote(remote)
        source = "prowlarr"
    report = importing.import_clients(context.store, source, proposals, ask_secret, dry_run=dry_run)
    report.unsupported[:0] = refused
    if remote_mappings:
        _merge_mappings(context, report, importing.mappings_for(report.clients, remote_mappings))
    _show(report, as_json)


def _arr_key(arr: str, lines: list[str], from_stdin: bool) -> Secret:
    if from_stdin:
        if not lines or not lines[0]:
            raise UsageError(f"no {arr.capitalize()} API key on standard input")
        return Secret(lines.pop(0))
    if not sys.stdin.isatty():
        raise UsageError(f"give {arr.capitalize()}'s API key with --api-key-stdin (Settings > General > API Key)")
    value = typer.prompt(f"{arr.capitalize()} API key (input hidden)", hide_input=True)
    return Secret(value)


def _secret_lines(lines: list[str]) -> list[tuple[str, str]]:
    pairs = []
    for line in lines:
        name, sep, value = line.partition("=")
        if sep and value:
            pairs.append((name.strip(), value))
    return pairs


def _merge_mappings(context, report, mappings) -> None:
    # here, not at the top: start-up time (only this path needs it)
    from dlwatch.settings.configfile import add_path_mappings

    report.path_mappings, report.path_mappings_present = add_path_mappings(
        context.config_file, mappings, dry_run=report.dry_run
    )


def _show(report, as_json: bool) -> None:
    # here, not at the top: start-up time (only this path needs it)
    from dlwatch.arr.importing import import_report_record, needs_secret_hint
    from dlwatch.tracking.clients import address, client_json

    if as_json:
        print_json(import_report_record(report, [client_json(c) for c in report.clients]))
        return
    verb = "would " if report.dry_run else ""
    created = set(report.created)
    for client in report.clients:
        action = "add" if client.name in created else "update"
        echo(f"{verb}{action} {client.name} ({client.type} at {address(client)})")
    for m in report.path_mappings:
        echo(f"{verb}map {m.remote} -> {m.local} for {m.client}")
    for m in report.path_mappings_present:
        echo(f"already mapped {m.remote} -> {m.local} for {m.client}")
    for name, why in report.unsupported:
        warn(f"skipped {name}: {why}")
    if report.needs_secret:
        warn(f"still without a secret ({report.source} never reveals them): {needs_secret_hint(report)}")
    if not report.dry_run and report.clients:
        echo("now run `dlwatch client test` to check them", err=True)


def export_cmd(
    ctx: typer.Context,
    output: Path | None = typer.Option(
        None, "--output", "-o", metavar="FILE", help="Write to this file [default: standard output]."
    ),
) -> None:
    """Write every client's settings as TOML, never a secret: a backup, or a setup to copy elsewhere
    with `dlwatch client import --from-file FILE`."""
    # here, not at the top: start-up time (only this path needs it)
    from dlwatch.arr.clientfile import export_text
    from dlwatch.arr.importing import has_secret
    from dlwatch.settings.configfile import write_private

    text = export_text(app_context(ctx).store.list_clients(), has_secret)
    if output is None:
        sys.stdout.write(text)
    else:
        write_private(output, text)
        echo(f"wrote {output}", err=True)
