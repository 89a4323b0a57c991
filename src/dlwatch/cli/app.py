"""The root `dlwatch` command, its global options, and the one place errors become exit codes."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path
from typing import Any

import typer
from typer.core import TyperGroup

from .. import __version__
from ..config import DB_FILE, resolve_home
from ..errors import DlwatchError
from .context import AppContext, echo


class DlwatchGroup(TyperGroup):
    """Turns dlwatch's own errors into one line on stderr and an exit code, never a traceback."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except DlwatchError as exc:
            obj = _traceback_if_debug(ctx)
            echo(f"error: {exc}", err=True)
            if isinstance(obj, AppContext) and obj.debug:
                from ..errors import cause_chain

                for line in cause_chain(exc):
                    echo(f"  {line}", err=True)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            echo("interrupted", err=True)
            raise typer.Exit(130) from None
        except sqlite3.Error as exc:  # the database itself failed (disk full, corrupt, read-only)
            obj = _traceback_if_debug(ctx)
            where = obj.home / DB_FILE if isinstance(obj, AppContext) else "the database"
            echo(f"error: {where}: {exc}", err=True)
            raise typer.Exit(1) from None
        except Exception as exc:  # a bug of ours: still one line, the traceback behind --debug
            if _is_usage_error(exc):  # one line too, naming where the help is
                where = getattr(getattr(exc, "ctx", None), "command_path", None) or "dlwatch"
                echo(f"error: {exc.format_message()} (see `{where} -h`)", err=True)
                raise typer.Exit(2) from None
            if _is_cli_control(exc):
                raise
            _traceback_if_debug(ctx)
            echo(
                f"error: unexpected {type(exc).__name__}: {exc} (this is a dlwatch bug; --debug shows where)", err=True
            )
            raise typer.Exit(1) from None


def _traceback_if_debug(ctx: Any) -> Any:
    """The root context's object, after printing the traceback if --debug asked for it."""
    obj = ctx.find_root().obj
    if isinstance(obj, AppContext) and obj.debug:
        import traceback

        traceback.print_exc()
    return obj


def _is_usage_error(exc: Exception) -> bool:
    return any(c.__name__ == "UsageError" and c.__module__.endswith("click.exceptions") for c in type(exc).__mro__)


def _is_cli_control(exc: Exception) -> bool:
    """Exit, Abort and usage errors are how the CLI framework ends a command: let them through.
    (Typer 0.12 raises click's classes, newer Typer its own copies of them.)"""
    return isinstance(exc, typer.Exit | typer.Abort) or any(c.__name__ == "ClickException" for c in type(exc).__mro__)


app = typer.Typer(
    cls=DlwatchGroup,
    name="dlwatch",
    help="Send downloads to SABnzbd, NZBGet, qBittorrent and Transmission, and track each one to the end.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        echo(f"dlwatch {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    home: Path | None = typer.Option(
        None,
        "--home",
        help=(
            "A dlwatch home holding both config.toml and dlwatch.db [default: $DLWATCH_HOME, else dlwatch.db "
            "in the user data dir and config.toml in the user config dir, $XDG_CONFIG_HOME/dlwatch]."
        ),
    ),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks and HTTP details on errors."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    context = AppContext(paths=resolve_home(home), debug=debug)
    ctx.obj = context
    ctx.call_on_close(context.close)


def _register() -> None:
    from . import (
        actions_cmd,
        arr_cmd,
        client,
        config_cmd,
        downloads,
        hooks_cmd,
        import_cmd,
        notify_cmd,
        prowlarr_cmd,
        push_cmd,
        serve_cmd,
        watch,
    )

    client.app.command("push")(push_cmd.push)
    client.app.command("import")(import_cmd.import_cmd)
    client.app.command("export")(import_cmd.export_cmd)

    app.add_typer(client.app, name="client")
    app.add_typer(hooks_cmd.app, name="hooks")
    app.add_typer(notify_cmd.app, name="notify")
    app.add_typer(arr_cmd.app, name="arr")
    app.add_typer(config_cmd.app, name="config")
    app.add_typer(prowlarr_cmd.app, name="prowlarr")
    app.command()(prowlarr_cmd.search)
    app.command()(prowlarr_cmd.grab)
    for command in (
        downloads.send,
        downloads.track,
        downloads.status,
        watch.watch,
        downloads.poll,
        downloads.history,
        actions_cmd.pause,
        actions_cmd.resume,
        actions_cmd.remove,
        actions_cmd.retry,
        actions_cmd.prune,
        downloads.forget,
        push_cmd.report,
        push_cmd.listen,
        serve_cmd.serve,
    ):
        app.command()(command)


_register()


def main() -> None:
    try:
        app()
    except DlwatchError as exc:  # raised before a command ran, e.g. while resolving the home
        echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
