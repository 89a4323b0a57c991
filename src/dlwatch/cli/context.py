"""What the commands share beyond their home (appcontext.py) and JSON (jsonout.py): options checked
alike, how text is written, secrets read, and waits shown."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer

from dlwatch.core.errors import UsageError
from dlwatch.core.models import Secret
from dlwatch.core.safetext import for_terminal, shown

if TYPE_CHECKING:
    from dlwatch.cli.appcontext import AppContext
    from dlwatch.core.models import Secret


MAX_ID = 2**63 - 1  # SQLite's largest integer: a larger id can name nothing


def positive_seconds(value: float | None) -> float | None:
    """A number of seconds given on the command line: positive and finite, checked before any work."""
    if value is not None and not 0 < value < 10**9:
        raise typer.BadParameter(f"must be a positive number of seconds, not {value}")
    return value


def command_group(help: str | None, *, no_args_is_help: bool = True) -> typer.Typer:
    """A group of subcommands (`dlwatch client …`), or one command. Each is built on its own, when it
    is the one run (app.COMMANDS), so it carries the root's settings itself: plain help text, and the
    completion options on the root only."""
    return typer.Typer(help=help, no_args_is_help=no_args_is_help, add_completion=False, rich_markup_mode=None)


def app_context(ctx: typer.Context) -> AppContext:
    return ctx.find_root().obj


def echo(message: str = "", *, err: bool = False) -> None:
    """Every line dlwatch prints as text goes through here: other people's data in it (titles,
    errors, paths) cannot drive the terminal."""
    typer.echo(for_terminal(message), err=err)


def warn(message: str) -> None:
    echo(f"warning: {message}", err=True)


def read_secret_from_stdin(what: str) -> str:
    value = sys.stdin.readline().rstrip("\r\n")
    if not value:
        raise UsageError(f"no {what} on standard input")
    return value


def secret_from_stdin_or_prompt(what: str, from_stdin: bool, option: str) -> Secret:
    """A secret from standard input (with `option`) or a hidden prompt on a terminal; never from
    the command line, where `ps` would show it."""
    if from_stdin:
        return Secret(read_secret_from_stdin(what))
    if sys.stdin.isatty():
        return Secret(typer.prompt(f"{what} (input hidden)", hide_input=True))
    raise UsageError(f"give the {what} with {option} (it is a secret: never on the command line)")


@contextmanager
def waiting(what: str, *, quiet: bool = False) -> Iterator[None]:
    """A spinner on stderr naming what is being waited on, on a terminal only: never when piped or
    with --json, so scripts see nothing of it."""
    if quiet or not sys.stderr.isatty():
        yield
        return
    # here, not at the top: start-up time (only this path needs it)
    from rich.console import Console

    with Console(stderr=True).status(f"waiting for {what}", spinner="dots"):
        yield


def print_rows(headers: list[str], rows: list[list[str]]) -> None:
    """A table on a terminal; piped, one line per row with the columns separated by tabs, no header
    and nothing cut (values are escaped, so a tab or newline in one cannot shift the columns)."""
    if sys.stdout.isatty():
        # here, not at the top: start-up time (only this path needs it)
        from rich.table import Table

        table = Table(*headers)
        for row in rows:
            table.add_row(*(shown(v) for v in row))
        console().print(table)
    else:
        for row in rows:
            sys.stdout.write("\t".join(shown(v) for v in row) + "\n")


def console():
    # here, not at the top: start-up time (only this path needs it)
    from rich.console import Console

    return Console()
