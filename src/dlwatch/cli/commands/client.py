"""`dlwatch client add|list|show|edit|remove|test|types`."""

from __future__ import annotations

import sys
from dataclasses import asdict

import typer

from dlwatch.adapters import registry
from dlwatch.cli.commands import import_cmd, push_cmd
from dlwatch.cli.completion import client_names
from dlwatch.cli.context import app_context, command_group, echo, print_rows, read_secret_from_stdin, waiting, warn
from dlwatch.cli.jsonout import print_json
from dlwatch.core.errors import Refused, UsageError
from dlwatch.core.humane import human_bytes
from dlwatch.core.models import ClientConfig, ClientVersion, Protocol, Secret, ShareLimits
from dlwatch.settings import secrets as keyring_secrets

app = command_group(help="Add, inspect, change, remove and test download clients.")

TYPES_HELP = "The client's type, e.g. qbittorrent or sabnzbd: `dlwatch client types` lists them all."


def _folders(ctx: typer.Context, client: ClientConfig) -> list:
    """The client's download folders and their free space, as the last poll measured them."""

    # here, not at the top: start-up time (`--help` and the other commands need none of it)
    from dlwatch.store.diskspace import last_readings

    return last_readings(app_context(ctx).store, client)


def _secret_options(
    type_name: str, api_key_stdin: bool, password_stdin: bool, username: str | None, *, prompt: bool
) -> Secret | None:
    """The secret from stdin (one line) or a hidden prompt; never from the command line."""
    cls = registry.adapter_class(type_name)
    kind = cls.secret_kind
    label = "API key" if kind == keyring_secrets.API_KEY else "password"
    wrong_flag = password_stdin if kind == keyring_secrets.API_KEY else api_key_stdin
    if wrong_flag:
        raise UsageError(f"{type_name} takes a {label}: use {keyring_secrets.stdin_option(kind)}")
    if api_key_stdin or password_stdin:
        return Secret(read_secret_from_stdin(label))
    # A password goes with a username, except where the client has a password and no users (Deluge).
    wants_secret = kind == keyring_secrets.API_KEY or bool(username) or not cls.uses_username
    if prompt and wants_secret and sys.stdin.isatty():
        value = typer.prompt(f"{label} (input hidden)", hide_input=True, default="", show_default=False)
        return Secret(value) if value else None
    return None


def _report_version(client: ClientConfig, version: ClientVersion | None, verb: str) -> None:
    if version is None:
        echo(f"{verb} {client.name} ({client.type}, not tested)")
    else:
        api = f", API {version.api_version}" if version.api_version else ""
        echo(f"{verb} {client.name}: {registry.adapter_class(client.type).display_name} {version.version}{api}")


def _warn_if_secretless(client: ClientConfig) -> None:
    """A client saved with no secret works only if the client asks for none: say how to add one."""
    # here, not at the top: start-up time (only this command needs it)
    # here, not at the top: start-up time (only this path needs it)
    from dlwatch.arr.importing import secret_hint
    from dlwatch.tracking import clients as core

    kind = core.secret_kind(client)
    if keyring_secrets.env_override_present(client.name, kind):
        return
    label = "API key" if kind == keyring_secrets.API_KEY else "password"
    warn(
        f"{client.name} was saved without a{'n' if label[0] == 'A' else ''} {label}; if it needs one, "
        f"add it with {secret_hint(client.name, kind)} or set {keyring_secrets.env_var(client.name, kind)}"
    )


def _tls_warning(insecure: bool) -> None:
    if insecure:
        warn("--insecure: TLS certificates of this client will not be verified")


@app.command("add")
def add_cmd(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="A name of your choice, e.g. 'nas-qbit'."),
    type_name: str = typer.Option(..., "--type", "-t", help=TYPES_HELP),
    host: str = typer.Option(
        ..., "--host", help="Host name or IP address of the client (for rtorrent also a unix socket's path)."
    ),
    port: int | None = typer.Option(None, "--port", min=1, max=65535, help="Port [default: the type's usual port]."),
    ssl: bool = typer.Option(False, "--ssl", help="Connect with HTTPS (certificates are verified)."),
    url_base: str | None = typer.Option(
        None, "--url-base", help="Path prefix behind a reverse proxy [default: the type's own]."
    ),
    username: str | None = typer.Option(None, "--username", "-u", help="Login name, for clients that take one."),
    category: str | None = typer.Option(None, "--category", help="Category or label for downloads sent here."),
    priority: int = typer.Option(
        0, "--priority", min=-(10**6), max=10**6, help="Higher is preferred when choosing a client."
    ),
    disabled: bool = typer.Option(False, "--disabled", help="Store it, but do not send to or poll it."),
    no_test: bool = typer.Option(False, "--no-test", help="Save without connecting first."),
    api_key_stdin: bool = typer.Option(False, "--api-key-stdin", help="Read the API key from standard input."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from standard input."),
    ca_bundle: str | None = typer.Option(None, "--ca-bundle", help="CA certificate file for a self-signed client."),
    insecure: bool = typer.Option(False, "--insecure", help="Do not verify TLS certificates (not recommended)."),
    as_json: bool = typer.Option(False, "--json", help="Print the stored client as JSON."),
) -> None:
    """Add a download client. It is tested (connect, log in, read the version) before it is saved.

    The API key or password is read from a hidden prompt or, with --api-key-stdin/--password-stdin,
    from standard input, and kept in the OS keyring.
    """
    # here, not at the top: start-up time (only this command needs it)
    from dlwatch.tracking import clients as core

    context = app_context(ctx)
    client = core.new_client(
        name=name,
        type_name=type_name,
        host=host,
        port=port,
        use_ssl=ssl,
        url_base=url_base,
        username=username,
        category=category,
        priority=priority,
        enabled=not disabled,
        tls_verify=not insecure,
        ca_bundle=ca_bundle,
    )
    _tls_warning(insecure)
    secret = _secret_options(type_name, api_key_stdin, password_stdin, username, prompt=True)
    version = core.add_client(context.store, client, secret, test=not no_test, timeout=context.settings.request_timeout)
    if secret is None:
        _warn_if_secretless(client)
    if as_json:
        data = core.client_json(client, _folders(ctx, client))
        data["version"] = version.version if version else None
        print_json(data)
    else:
        _report_version(client, version, "added")


@app.command("list")
def list_cmd(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List the configured clients, preferred first."""
    # here, not at the top: start-up time (only this command needs it)
    from dlwatch.tracking import clients as core

    clients = app_context(ctx).store.list_clients()
    if as_json:
        print_json([core.client_json(c, _folders(ctx, c)) for c in clients])
        return
    if not clients:
        echo("no clients yet: add one with `dlwatch client add NAME --type TYPE --host HOST`")
        return
    print_rows(
        ["name", "type", "address", "category", "priority", "enabled"],
        [
            [c.name, c.type, core.address(c), c.category or "-", str(c.priority), "yes" if c.enabled else "no"]
            for c in clients
        ],
    )


@app.command("show")
def show_cmd(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Client name.", autocompletion=client_names),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show one client's settings and where its secret comes from (never the secret itself)."""
    # here, not at the top: start-up time (only this command needs it)
    from dlwatch.tracking import clients as core

    client = app_context(ctx).store.get_client(name)
    data = core.client_json(client, _folders(ctx, client))
    if as_json:
        print_json(data)
        return
    for key in (
        "name",
        "type",
        "address",
        "username",
        "category",
        "priority",
        "enabled",
        "tls_verify",
        "ca_bundle",
        "secret",
        "id",
        "created_at",
        "updated_at",
    ):
        value = data.get(key)
        echo(f"{key + ':':<12} {'-' if value in (None, '') else value}")

    for d in data["download_dirs"]:
        free = "not visible from here" if d["free_bytes"] is None else f"{human_bytes(d['free_bytes'])} free"
        echo(f"{'folder:':<12} {d['path']}: {free} (at {d['at']})")
    context = app_context(ctx)
    # dlwatch's seeding goal, then the client's own share limits beside it
    if registry.adapter_class(client.type).protocol is Protocol.TORRENT:
        goal = context.settings.seeding.goal(client.name, None)
        echo(f"{'seed goal:':<12} {goal.describe()} ([seeding] in config.toml; a category's table may change it)")
    known = core.known_share_limits(context.store, client)
    if known is None:
        echo(f"{'seeding:':<12} its share limits are not known yet (`dlwatch client test {client.name}` reads them)")
    else:
        limits, at = known
        echo(f"{'seeding:':<12} {limits.describe() if limits else 'no share limits of its own'} (read {at})")
        _warn_if_it_removes(client, limits)


def _warn_if_it_removes(client: ClientConfig, limits: ShareLimits | None) -> None:
    """The failure that hurts most: the client removing a download before an *arr imported it."""
    if limits is not None and limits.removes:
        warn(
            f"{client.name} {limits.describe()}: a download can go before Sonarr or Radarr imports it; "
            "have it stop seeding there instead"
        )


@app.command("edit")
def edit_cmd(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Client name.", autocompletion=client_names),
    new_name: str | None = typer.Option(None, "--name", help="Rename the client."),
    host: str | None = typer.Option(None, "--host", help="A new host name, IP address (or rTorrent socket path)."),
    port: int | None = typer.Option(None, "--port", min=1, max=65535, help="A new port."),
    ssl: bool | None = typer.Option(None, "--ssl/--no-ssl", help="Connect with HTTPS, or back to plain HTTP."),
    url_base: str | None = typer.Option(None, "--url-base", help="A new path prefix ('' for none)."),
    username: str | None = typer.Option(None, "--username", "-u", help="A new login name."),
    category: str | None = typer.Option(None, "--category", help="A new category or label for downloads sent here."),
    priority: int | None = typer.Option(None, "--priority", min=-(10**6), max=10**6, help="A new priority."),
    enabled: bool | None = typer.Option(
        None, "--enabled/--disabled", help="Poll and send to it again, or keep it stored but unused."
    ),
    no_test: bool = typer.Option(False, "--no-test", help="Save without connecting first."),
    api_key_stdin: bool = typer.Option(False, "--api-key-stdin", help="Read a new API key from standard input."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read a new password from standard input."),
    ca_bundle: str | None = typer.Option(None, "--ca-bundle", help="CA certificate file for a self-signed client."),
    insecure: bool | None = typer.Option(None, "--insecure/--verify-tls", help="Turn TLS verification off or on."),
    as_json: bool = typer.Option(False, "--json", help="Print the stored client as JSON."),
) -> None:
    """Change a client's settings or secret; it is tested again before saving unless --no-test."""
    # here, not at the top: start-up time (only this command needs it)
    from dlwatch.tracking import clients as core

    context = app_context(ctx)
    current = context.store.get_client(name)
    candidates = {
        "name": new_name,
        "host": host,
        "port": port,
        "use_ssl": ssl,
        "url_base": url_base,
        "username": username,
        "category": category,
        "priority": priority,
        "enabled": enabled,
        "ca_bundle": ca_bundle,
        "tls_verify": None if insecure is None else not insecure,
    }
    changes = {k: v for k, v in candidates.items() if v is not None}
    secret = _secret_options(current.type, api_key_stdin, password_stdin, None, prompt=False)
    if not changes and secret is None:
        raise UsageError("nothing to change: give at least one option (see `dlwatch client edit --help`)")
    _tls_warning(bool(insecure))
    updated, version = core.edit_client(
        context.store, name, changes, secret, test=not no_test, timeout=context.settings.request_timeout
    )
    if as_json:
        print_json(core.client_json(updated, _folders(ctx, updated)))
    else:
        _report_version(updated, version, "updated")


@app.command("remove")
def remove_cmd(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Client name.", autocompletion=client_names),
    as_json: bool = typer.Option(False, "--json", help="Print the removed client as JSON."),
) -> None:
    """Remove a client and its stored secret. Its download history stays in the database."""
    # here, not at the top: start-up time (only this command needs it)
    from dlwatch.tracking import clients as core

    client = core.remove_client(app_context(ctx).store, name)
    if as_json:
        print_json({**asdict(client), "removed": True})
    else:
        echo(f"removed {client.name}")


@app.command("test")
def test_cmd(
    ctx: typer.Context,
    name: str | None = typer.Argument(
        None, help="Client name [default: every enabled client].", autocompletion=client_names
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Connect to one client (or every enabled one) and report its version. Exit 1 if any failed."""
    # here, not at the top: start-up time (only this command needs it)
    from dlwatch.tracking import clients as core

    context = app_context(ctx)
    store = context.store
    targets = [store.get_client(name)] if name else store.list_clients(enabled_only=True)
    if not targets:
        raise Refused("no enabled clients to test (see `dlwatch client list`)")

    def show(result) -> None:
        if as_json:
            return
        if result.ok:
            _report_version(result.client, result.version, "ok")
            _warn_if_it_removes(result.client, result.share_limits)
        else:
            echo(f"FAILED {result.error}", err=True)

    with waiting(", ".join(t.name for t in targets), quiet=as_json):
        results = core.check_clients(targets, context.settings.request_timeout, on_result=show)
    for result in results:
        if result.ok:
            core.remember_share_limits(store, result.client, result.share_limits)
    if as_json:
        print_json(
            [
                {
                    "name": r.client.name,
                    "type": r.client.type,
                    "ok": r.ok,
                    "version": r.version.version if r.version else None,
                    "api_version": r.version.api_version if r.version else None,
                    "error": str(r.error) if r.error else None,
                    "share_limits": asdict(r.share_limits) if r.share_limits else None,
                }
                for r in results
            ]
        )
    if not all(r.ok for r in results):
        raise typer.Exit(1)


@app.command("types")
def types_cmd(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List the client types dlwatch can talk to (built-in and plugins)."""
    rows = [
        {
            "type": cls.type_name,
            "name": cls.display_name,
            "protocol": str(cls.protocol),
            "default_port": cls.default_port,
            "default_url_base": cls.default_url_base,
            "secret": cls.secret_kind,
        }
        for cls in registry.all_adapter_classes()
    ]
    if as_json:
        print_json(rows)
        return
    for r in rows:
        echo(
            f"{r['type']:<14} {r['protocol']:<8} port {r['default_port']:<6} "
            f"url base {r['default_url_base'] or '/':<14} {r['secret']}"
        )


# In modules of their own, for what they share with `report` (push) and with Prowlarr's import.
app.command("push")(push_cmd.push)
app.command("import")(import_cmd.import_cmd)
app.command("export")(import_cmd.export_cmd)
