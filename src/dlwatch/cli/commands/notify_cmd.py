"""`dlwatch notify add|list|remove|test`: notification targets through apprise."""

from __future__ import annotations

import typer

from dlwatch.cli.context import app_context, command_group, echo, print_rows, secret_from_stdin_or_prompt, warn
from dlwatch.cli.jsonout import print_json
from dlwatch.core.errors import DlwatchError, NotFoundError, UsageError
from dlwatch.settings.config import NOTIFY_STATUSES, NotifyTarget, load_settings

app = command_group(help="Be told when downloads end, through apprise (Discord, Telegram, ntfy, Pushover, e-mail, …).")


@app.command("add")
def add_cmd(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="A name of your choice: letters, digits, - or _ (e.g. phone)."),
    on: list[str] | None = typer.Option(
        None,
        "--on",
        metavar="STATUS",
        help="A status it hears about (repeatable; 'any' for every change) [default: completed, failed].",
    ),
    url_stdin: bool = typer.Option(False, "--url-stdin", help="Read the apprise URL from standard input."),
    no_test: bool = typer.Option(False, "--no-test", help="Save without sending a test notification."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Add an apprise target, e.g. ntfy://ntfy.sh/my-topic or tgram://BOT_TOKEN/CHAT_ID.

    The URL holds tokens, so it is read from standard input or a hidden prompt and kept in the OS
    keyring; which statuses go to it is the [notify.NAME] table in config.toml."""
    # here, not at the top: start-up time (only this path needs it)
    from dlwatch.delivery import notify

    context = app_context(ctx)
    statuses = tuple(on or NotifyTarget.on)
    if unknown := [s for s in statuses if s not in NOTIFY_STATUSES]:
        raise UsageError(f"--on {unknown[0]}: not a status (one of {', '.join(sorted(NOTIFY_STATUSES))})")
    notify.check_name(name)
    url = secret_from_stdin_or_prompt("apprise URL", url_stdin, "--url-stdin")
    notify.check_url(url)
    if not no_test:
        outcome = notify.deliver_now(url, name)
        if not outcome.ok:
            raise DlwatchError(f"{outcome.detail}; nothing saved (--no-test saves anyway)")
    added = notify.add_target(context.config_file, name, url, statuses)
    targets = {t.name: t for t in _targets(ctx)}
    shown = targets[name].on if name in targets else statuses
    if not added:
        warn(f"config.toml has [notify.{name}] already: its `on` list ({', '.join(shown)}) stays as it is")
    if as_json:
        print_json({"name": name, "on": list(shown), "url": notify.url_source(name), "tested": not no_test})
    else:
        echo(f"added {name}: told of {', '.join(shown)}" + ("" if no_test else " (test notification sent)"))


def _targets(ctx: typer.Context):

    context = app_context(ctx)
    return load_settings(context.paths).hooks.notify


@app.command("list")
def list_cmd(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List the notification targets, what each hears about, and where its URL comes from."""
    # here, not at the top: start-up time (only this path needs it)
    from dlwatch.delivery import notify

    rows = [{"name": t.name, "on": list(t.on), "url": notify.url_source(t.name)} for t in _targets(ctx)]
    if as_json:
        print_json(rows)
        return
    if not rows:
        echo("no notification targets yet: add one with `dlwatch notify add NAME`")
        return
    print_rows(["name", "on", "url"], [[r["name"], ", ".join(r["on"]), r["url"]] for r in rows])


@app.command("remove")
def remove_cmd(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The target's name (see `dlwatch notify list`)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Remove a target: its table in config.toml and its URL in the keyring."""
    # here, not at the top: start-up time (only this path needs it)
    from dlwatch.delivery import notify

    notify.check_name(name)
    had_url = notify.url_source(name) == "keyring"
    # here, not at the top: start-up time (only this command needs it)
    from dlwatch.settings.configfile import remove_notify_target

    removed = remove_notify_target(app_context(ctx).config_file, name)
    notify.forget_url(name)
    if not removed and not had_url:
        raise NotFoundError(f"no notification target {name!r} (see `dlwatch notify list`)")
    if as_json:
        print_json({"name": name, "removed": True})
    else:
        echo(f"removed {name}")


@app.command("test")
def test_cmd(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The target's name (see `dlwatch notify list`)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Send a test notification now (not through the outbox). Exit 1 if it was not delivered."""
    # here, not at the top: start-up time (only this path needs it)
    from dlwatch.delivery import notify

    notify.check_name(name)
    url = notify.url_of(name)
    if url is None:
        raise UsageError(f"no URL stored for {name}: add it with `dlwatch notify add {name} --url-stdin`")
    outcome = notify.deliver_now(url, name)
    if as_json:
        print_json({"name": name, "ok": outcome.ok, "detail": outcome.detail or None})
    elif outcome.ok:
        echo(f"ok {name}: test notification delivered")
    if not outcome.ok:
        if not as_json:
            echo(f"FAILED {outcome.detail}", err=True)
        raise typer.Exit(1)
