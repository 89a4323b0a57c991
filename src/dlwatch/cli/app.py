"""The root `dlwatch` command, its global options, and the one place errors become exit codes."""

from __future__ import annotations

import contextlib
import importlib
import sqlite3
import sys
from typing import Any

import typer
from typer.core import TyperGroup

from dlwatch import __version__
from dlwatch.cli.appcontext import AppContext
from dlwatch.cli.context import command_group, echo
from dlwatch.core.errors import DlwatchError, cause_chain
from dlwatch.settings.config import DB_FILE, resolve_home


class DlwatchGroup(TyperGroup):
    """Turns dlwatch's own errors into one line on stderr and an exit code, never a traceback, and
    builds each command only when it is asked for (COMMANDS)."""

    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            self.commands[cmd_name] = _build(cmd_name)
        return self.commands.get(cmd_name)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except DlwatchError as exc:
            obj = _traceback_if_debug(ctx)
            echo(f"error: {exc}", err=True)
            if isinstance(obj, AppContext) and obj.debug:
                for line in cause_chain(exc):
                    echo(f"  {line}", err=True)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            echo("interrupted", err=True)
            raise typer.Exit(130) from None
        except BrokenPipeError:
            # here, not at the top: start-up time (only this path needs it)
            from dlwatch.cli.jsonout import reader_gone

            raise typer.Exit(reader_gone()) from None
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
        # here, not at the top: start-up time (only this path needs it)
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
    help=(
        "Send downloads to SABnzbd, NZBGet, qBittorrent, Transmission, Deluge, rTorrent and aria2, "
        "and track each one to the end."
    ),
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
    home: str | None = typer.Option(
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
    if home is not None and not home.strip():
        # An empty path is the current directory to Path(): a home made wherever the command ran.
        raise typer.BadParameter("needs a folder, not an empty path", param_hint="'--home'")
    context = AppContext(paths=resolve_home(home), debug=debug)
    ctx.obj = context
    with contextlib.suppress(DlwatchError):  # a broken config.toml is the error of the command that reads it
        _ = context.settings  # its warnings (unknown keys) show at every command
    ctx.call_on_close(context.close)


# Every command by name, as "module:attribute" (a command function or a group's Typer app), in the
# order --help lists them. A command is built (its module imported, its signature read) only when it
# is the one run, or when --help or completion lists them all: building all of them cost ~50 ms of
# every start, and cron starts one a minute.
COMMANDS: dict[str, str] = {
    "search": "prowlarr_cmd:search",
    "grab": "prowlarr_cmd:grab",
    "send": "downloads:send",
    "track": "downloads:track",
    "status": "downloads:status",
    "watch": "watch:watch",
    "poll": "downloads:poll",
    "history": "downloads:history",
    "pause": "actions_cmd:pause",
    "resume": "actions_cmd:resume",
    "remove": "actions_cmd:remove",
    "retry": "actions_cmd:retry",
    "prune": "actions_cmd:prune",
    "forget": "downloads:forget",
    "report": "push_cmd:report",
    "listen": "push_cmd:listen",
    "serve": "serve_cmd:serve",
    "client": "client:app",
    "hooks": "hooks_cmd:app",
    "notify": "notify_cmd:app",
    "arr": "arr_cmd:app",
    "config": "config_cmd:app",
    "prowlarr": "prowlarr_cmd:app",
}


def _build(name: str) -> Any:
    """The click command for COMMANDS[name]."""
    module_name, attribute = COMMANDS[name].split(":")
    target = getattr(importlib.import_module(f"dlwatch.cli.commands.{module_name}"), attribute)
    if not isinstance(target, typer.Typer):
        target, function = command_group(help=None), target
        target.command(name)(function)
    command = typer.main.get_command(target)
    command.name = name
    return command


def main() -> None:
    try:
        app()
    except DlwatchError as exc:  # raised before a command ran, e.g. while resolving the home
        echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
