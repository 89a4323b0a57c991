"""`dlwatch config path|show|init`."""

from __future__ import annotations

from dataclasses import asdict

import typer

from dlwatch.cli.context import app_context, command_group, echo
from dlwatch.cli.jsonout import print_json
from dlwatch.core.humane import human_bytes, human_duration
from dlwatch.settings.config import DB_FILE
from dlwatch.settings.configfile import init_config

app = command_group(help="Where dlwatch keeps its files, and its settings.")


@app.command("path")
def path_cmd(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Print where dlwatch keeps its database and reads config.toml."""
    context = app_context(ctx)
    data = {
        "home": str(context.home),
        "config": str(context.config_file),
        "config_exists": context.config_file.exists(),
        "database": str(context.home / DB_FILE),
    }
    if as_json:
        print_json(data)
        return
    note = " (read in place where an older dlwatch wrote it)" if context.paths.legacy_config else ""
    missing = "" if data["config_exists"] else " (none yet: defaults apply; `dlwatch config init` writes one)"
    echo(f"home:     {data['home']}\nconfig:   {data['config']}{note}{missing}\ndatabase: {data['database']}")


@app.command("show")
def show_cmd(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Print the settings in effect (defaults filled in)."""
    settings = app_context(ctx).settings
    data = asdict(settings)
    if as_json:
        print_json(data)
        return
    echo(f"poll interval:   {settings.poll_interval:g} s")
    echo(f"request timeout: {settings.request_timeout:g} s")
    for key in ("on_complete", "on_failed", "on_change"):
        echo(f"hook {key + ':':<13}{getattr(settings.hooks, key) or '-'}")
    echo(f"hook timeout:    {settings.hooks.timeout:g} s")
    for target in settings.hooks.notify:
        echo(f"notify:          {target.name} on {', '.join(target.on)}")
    dead = settings.dead
    rules = [f"{r} {human_duration(dead.duration(r))}" for r in ("stalled", "metadata", "unavailable", "slow")]
    echo(f"dead rules:      {', '.join(r if not r.endswith(' 0s') else r.split()[0] + ' off' for r in rules)}")
    echo(f"dead action:     {dead.action} after {dead.strikes} strikes (max_retries {dead.max_retries})")
    for name, _ in settings.dead_by_client:
        echo(f"dead rules:      own [dead.clients.{name}] for {name}")
    guard = human_bytes(settings.guard_min_free) if settings.guard_min_free else "off"
    echo(f"disk guard:      {guard}")
    if not settings.path_mappings:
        echo("path mappings:   none")
    for m in settings.path_mappings:
        scope = f" (client {m.client})" if m.client else ""
        echo(f"path mapping:    {m.remote} -> {m.local}{scope}")


@app.command("init")
def init_cmd(
    ctx: typer.Context,
    force: bool = typer.Option(False, "--force", help="Overwrite an existing config.toml."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Write config.toml: every key at its default, each explained in a comment."""
    path = init_config(app_context(ctx).config_file, force=force)
    if as_json:
        print_json({"config": str(path), "written": True})
    else:
        echo(f"wrote {path}")
