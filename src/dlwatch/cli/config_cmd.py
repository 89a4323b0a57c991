"""`dlwatch config path|show|init`."""

from __future__ import annotations

from dataclasses import asdict

import typer

from ..config import CONFIG_FILE, DB_FILE, init_config
from .context import app_context, echo, print_json

app = typer.Typer(help="Where dlwatch keeps its files, and its settings.", no_args_is_help=True)


@app.command("path")
def path_cmd(ctx: typer.Context) -> None:
    """Print the dlwatch home, config file and database paths."""
    home = app_context(ctx).home
    echo(f"home:     {home}\nconfig:   {home / CONFIG_FILE}\ndatabase: {home / DB_FILE}")


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
    if not settings.path_mappings:
        echo("path mappings:   none")
    for m in settings.path_mappings:
        scope = f" (client {m.client})" if m.client else ""
        echo(f"path mapping:    {m.remote} -> {m.local}{scope}")


@app.command("init")
def init_cmd(
    ctx: typer.Context,
    force: bool = typer.Option(False, "--force", help="Overwrite an existing config.toml."),
) -> None:
    """Write config.toml with every key at its default."""
    path = init_config(app_context(ctx).home, force=force)
    echo(f"wrote {path}")
