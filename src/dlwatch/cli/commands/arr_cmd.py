"""`dlwatch arr add|list|remove`: the Sonarr and Radarr instances whose imports dlwatch follows and
to which it hands dead downloads back."""

from __future__ import annotations

import typer

from dlwatch.cli.context import app_context, command_group, echo, print_rows, secret_from_stdin_or_prompt
from dlwatch.cli.jsonout import print_json

app = command_group(
    help='Sonarr and Radarr instances: their imports of completed downloads followed, dead ones handed back ("retry").'
)


@app.command("add")
def add_cmd(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="A name of your choice, e.g. sonarr or radarr-4k."),
    app_name: str = typer.Option(..., "--app", help="sonarr or radarr."),
    url: str = typer.Option(..., "--url", help="Its address, e.g. http://localhost:8989."),
    api_key_stdin: bool = typer.Option(False, "--api-key-stdin", help="Read the API key from standard input."),
    no_test: bool = typer.Option(False, "--no-test", help="Save without connecting first."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Remember a Sonarr or Radarr (its API key in the OS keyring; Settings > General > API Key)."""
    # here, not at the top: start-up time (only this path needs it)
    from dlwatch.arr import instances as arrs

    context = app_context(ctx)
    arrs.check(name, app_name, url)
    key = secret_from_stdin_or_prompt(f"{app_name} API key", api_key_stdin, "--api-key-stdin")
    version = arrs.add(
        context.store, name, app_name, url, key, test=not no_test, timeout=context.settings.request_timeout
    )
    if as_json:
        print_json({"name": name, "app": app_name, "url": url.rstrip("/"), "version": version})
    else:
        echo(f"added {name}: {app_name} at {url}" + (f", version {version}" if version else " (not tested)"))


@app.command("list")
def list_cmd(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List the Sonarr and Radarr instances, and where each API key comes from."""
    # here, not at the top: start-up time (only this path needs it)
    from dlwatch.arr import instances as arrs

    store = app_context(ctx).store
    rows = [
        {"name": i.name, "app": i.app, "url": i.url, "api_key": arrs.key_source(store, i.name)}
        for i in arrs.instances(store)
    ]
    if as_json:
        print_json(rows)
    elif not rows:
        echo("none yet: add one with `dlwatch arr add sonarr --app sonarr --url URL --api-key-stdin`")
    else:
        print_rows(["name", "app", "url", "api key"], [[r["name"], r["app"], r["url"], r["api_key"]] for r in rows])


@app.command("remove")
def remove_cmd(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The instance's name (see `dlwatch arr list`)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Forget an instance and its API key."""
    # here, not at the top: start-up time (only this path needs it)
    from dlwatch.arr import instances as arrs

    arrs.remove(app_context(ctx).store, name)
    if as_json:
        print_json({"name": name, "removed": True})
    else:
        echo(f"removed {name}")
