"""`dlwatch prowlarr set|show|test`, `dlwatch search`, `dlwatch grab`, and importing Prowlarr's clients."""

from __future__ import annotations

import sys

import typer

from dlwatch.cli.context import (
    MAX_ID,
    app_context,
    command_group,
    echo,
    print_rows,
    read_secret_from_stdin,
    waiting,
    warn,
)
from dlwatch.cli.jsonout import print_json
from dlwatch.core.errors import UsageError
from dlwatch.core.humane import human_bytes, human_duration
from dlwatch.core.models import Secret

app = command_group(help="Connect dlwatch to Prowlarr (search, grab, import its download clients).")


@app.command("set")
def set_cmd(
    ctx: typer.Context,
    url: str = typer.Option(..., "--url", help="Prowlarr's address, e.g. http://localhost:9696."),
    api_key_stdin: bool = typer.Option(False, "--api-key-stdin", help="Read the API key from standard input."),
    no_test: bool = typer.Option(False, "--no-test", help="Save without connecting first."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Save Prowlarr's address, and its API key in the OS keyring (Settings > General > API Key)."""
    # here, not at the top: start-up time (only this path needs it)
    from dlwatch.arr.releases import set_prowlarr

    context = app_context(ctx)
    key = None
    if api_key_stdin:
        key = Secret(read_secret_from_stdin("API key"))
    elif sys.stdin.isatty():
        value = typer.prompt(
            "Prowlarr API key (input hidden, empty keeps the stored one)",
            hide_input=True,
            default="",
            show_default=False,
        )
        key = Secret(value) if value else None
    version = set_prowlarr(context.store, url, key, test=not no_test, timeout=context.settings.request_timeout)
    if as_json:
        print_json({"url": url.rstrip("/"), "version": version, "tested": not no_test})
        return
    echo(f"saved Prowlarr at {url}" + (f": Prowlarr {version}" if version else " (not tested)"))


@app.command("show")
def show_cmd(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Show the Prowlarr address and where its API key comes from (never the key)."""
    # here, not at the top: start-up time (only this path needs it)
    from dlwatch.arr.releases import prowlarr_key_source

    store = app_context(ctx).store
    url = store.prowlarr_url()
    source = prowlarr_key_source(store)
    if as_json:
        print_json({"url": url, "api_key": source})
    else:
        echo(f"url:     {url or '- (run `dlwatch prowlarr set --url URL`)'}\napi key: {source}")


@app.command("test")
def test_cmd(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Connect to Prowlarr and report its version. Exit 1 if it did not answer."""
    # here, not at the top: start-up time (only this path needs it)
    from dlwatch.arr.releases import open_prowlarr

    context = app_context(ctx)
    with open_prowlarr(context.store, context.settings) as prowlarr:
        version = prowlarr.version()
    if as_json:
        print_json({"url": prowlarr.url, "ok": True, "version": version})
    else:
        echo(f"ok Prowlarr {version} at {prowlarr.url}")


def search(
    ctx: typer.Context,
    query: str = typer.Argument(..., help="What to look for (Prowlarr tokens such as {ImdbId:tt0133093} work too)."),
    search_type: str = typer.Option("search", "--type", help="search, tvsearch, movie, music or book."),
    indexer: list[int] | None = typer.Option(
        None, "--indexer", help="Prowlarr indexer id (repeatable); -1 all Usenet, -2 all torrent."
    ),
    category: list[int] | None = typer.Option(None, "--category", help="Newznab category id (repeatable)."),
    limit: int | None = typer.Option(None, "--limit", min=1, max=10000, help="At most this many results."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Search through Prowlarr. Send a result with `dlwatch grab N`."""
    # here, not at the top: start-up time (only this path needs it)
    from dlwatch.arr.releases import open_prowlarr
    from dlwatch.arr.releases import search as run_search

    context = app_context(ctx)
    with open_prowlarr(context.store, context.settings) as prowlarr:
        releases = run_search(
            context.store,
            prowlarr,
            query,
            search_type=search_type,
            indexer_ids=indexer,
            categories=category,
            limit=limit,
        )
    if as_json:
        print_json([{"index": i, **r.to_json()} for i, r in enumerate(releases, 1)])
        return
    if not releases:
        echo("no results")
        return

    rows = []
    for i, r in enumerate(releases, 1):
        popularity = f"{r.seeders} seeders" if r.protocol == "torrent" else f"{r.grabs or 0} grabs"
        age = human_duration(r.age_hours * 3600) if r.age_hours is not None else "-"
        rows.append([str(i), r.title, r.indexer, str(r.protocol), human_bytes(r.size), age, popularity])
    print_rows(["#", "title", "indexer", "protocol", "size", "age", "seeders/grabs"], rows)


def grab(
    ctx: typer.Context,
    index: int = typer.Argument(..., min=1, max=MAX_ID, help="The number of a result of the last `dlwatch search`."),
    via_prowlarr: bool = typer.Option(
        False, "--via-prowlarr", help="Let Prowlarr send it to its own client; dlwatch then finds it by title."
    ),
    client: str | None = typer.Option(
        None, "--client", "-c", help="dlwatch client to send to (not with --via-prowlarr)."
    ),
    download_client_id: int | None = typer.Option(
        None, "--download-client-id", help="With --via-prowlarr: Prowlarr's client id."
    ),
    category: str | None = typer.Option(None, "--category", help="Category or label [default: the client's]."),
    paused: bool = typer.Option(False, "--paused", help="Add it paused."),
    ref: str | None = typer.Option(None, "--ref", help="An opaque reference of yours."),
    as_json: bool = typer.Option(False, "--json", help="Print the attempt as JSON."),
) -> None:
    """Send a search result. By default dlwatch fetches it through Prowlarr and sends it to its own
    client, so the exact id is recorded; --via-prowlarr asks Prowlarr to grab it instead."""
    # here, not at the top: start-up time (only this path needs it)
    from dlwatch.arr.releases import grab_via_prowlarr, send_release
    from dlwatch.cli.commands.downloads import _records

    context = app_context(ctx)
    if via_prowlarr:
        if client or category or paused:
            raise UsageError("--client, --category and --paused do not go with --via-prowlarr (Prowlarr decides)")
        with waiting("Prowlarr", quiet=as_json):
            attempt = grab_via_prowlarr(
                context.store, context.settings, index, download_client_id=download_client_id, ref=ref
            )
        message = f"Prowlarr grabbed {attempt.title!r}; dlwatch will find it in your clients by title"
    else:
        if download_client_id is not None:
            raise UsageError("--download-client-id goes with --via-prowlarr")
        with waiting("Prowlarr and the download client", quiet=as_json):
            result = send_release(
                context.store, context.settings, index, client_name=client, category=category, paused=paused, ref=ref
            )
        for name, why in result.skipped:
            warn(f"skipped {name}: {why}")
        attempt = result.attempt
        message = f"sent {attempt.title!r} to {result.client.name} (id {attempt.client_download_id})"
    if as_json:
        print_json(_records(context.store, [attempt])[0])
    else:
        echo(f"{attempt.id}")
        echo(message, err=True)
