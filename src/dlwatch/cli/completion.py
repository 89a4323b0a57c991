"""Shell completion of what lives in the home: client names and the ids of active attempts.

Completion runs before any command does (the root callback has not set the home up), so the home
is resolved from the command line as typed, and the database read-only: completing must never
create or migrate a home, nor fail loudly in the middle of a shell prompt."""

from __future__ import annotations

import sqlite3
from contextlib import closing

import typer

from dlwatch.settings.config import DB_FILE, resolve_home


def _query(ctx: typer.Context, sql: str) -> list[tuple]:
    try:
        home = resolve_home(ctx.find_root().params.get("home")).home
        path = home / DB_FILE
        if not path.is_file():
            return []
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1)) as conn:
            return conn.execute(sql).fetchall()
    except (sqlite3.Error, OSError, ValueError):
        return []


def client_names(ctx: typer.Context, incomplete: str) -> list[str]:
    rows = _query(ctx, "SELECT name FROM clients ORDER BY priority DESC, name")
    return [name for (name,) in rows if name.startswith(incomplete)]


def attempt_ids(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    """The newest attempts first, each with its title as the shell's description."""
    rows = _query(ctx, "SELECT id, title FROM attempts ORDER BY id DESC LIMIT 200")
    return [(str(i), title or "") for i, title in rows if str(i).startswith(incomplete)]
