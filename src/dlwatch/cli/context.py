"""What every command shares: the dlwatch home, settings, the store, and how output is written."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from ..config import DB_FILE, HomePaths, Settings, load_settings

if TYPE_CHECKING:
    from ..models import Secret
    from ..store import Store


@dataclass
class AppContext:
    paths: HomePaths
    debug: bool = False
    _settings: Settings | None = field(default=None, repr=False)
    _store: Store | None = field(default=None, repr=False)

    @property
    def home(self) -> Path:
        return self.paths.home

    @property
    def config_file(self) -> Path:
        return self.paths.config

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.paths)
        return self._settings

    @property
    def store(self) -> Store:
        if self._store is None:
            _ = self.settings  # a broken config.toml is reported before any work, not halfway through
            from ..store import Store

            self._store = Store(self.home / DB_FILE)
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None


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


def print_json(data: Any) -> None:
    """Indented for a person at a terminal; compact (and faster) for a script reading a pipe."""
    from ..records import versioned

    data = versioned(data)
    if sys.stdout.isatty():
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    else:
        sys.stdout.write(json.dumps(data, separators=(",", ":")) + "\n")


def print_json_records(encoded: list[str]) -> None:
    """print_json for records already encoded (and versioned), e.g. by SQLite. Piped, they are
    written as they are, in UTF-8 whatever the locale (JSON is UTF-8)."""
    if sys.stdout.isatty():
        print_json([json.loads(r) for r in encoded])
        return
    text = "[" + ",".join(encoded) + "]\n"
    sys.stdout.flush()
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:
        sys.stdout.write(text)
    else:
        buffer.write(text.encode())
        buffer.flush()


def json_line(record: dict[str, Any]) -> str:
    """One record of a JSON Lines feed (`watch --json`, `poll --json`)."""
    from ..records import versioned

    return json.dumps(versioned(record))


def echo(message: str = "", *, err: bool = False) -> None:
    """Every line dlwatch prints as text goes through here: other people's data in it (titles,
    errors, paths) cannot drive the terminal."""
    from ..safetext import for_terminal

    typer.echo(for_terminal(message), err=err)


def warn(message: str) -> None:
    echo(f"warning: {message}", err=True)


def read_secret_from_stdin(what: str) -> str:
    value = sys.stdin.readline().rstrip("\r\n")
    if not value:
        from ..errors import UsageError

        raise UsageError(f"no {what} on standard input")
    return value


def secret_from_stdin_or_prompt(what: str, from_stdin: bool, option: str) -> Secret:
    """A secret from standard input (with `option`) or a hidden prompt on a terminal; never from
    the command line, where `ps` would show it."""
    from ..errors import UsageError
    from ..models import Secret

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
    from rich.console import Console

    with Console(stderr=True).status(f"waiting for {what}", spinner="dots"):
        yield


def print_rows(headers: list[str], rows: list[list[str]]) -> None:
    """A table on a terminal; piped, one line per row with the columns separated by tabs, no header
    and nothing cut (values are escaped, so a tab or newline in one cannot shift the columns)."""
    from ..safetext import shown

    if sys.stdout.isatty():
        from rich.table import Table

        table = Table(*headers)
        for row in rows:
            table.add_row(*(shown(v) for v in row))
        console().print(table)
    else:
        for row in rows:
            sys.stdout.write("\t".join(shown(v) for v in row) + "\n")


def console():
    from rich.console import Console

    return Console()
