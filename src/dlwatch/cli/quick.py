"""`dlwatch [--home H] status --json --no-refresh [--all]` answered without the CLI framework.

Scripts and status bars run it every few seconds. Importing Typer and building the command was over
a quarter of its time (about 70 ms of 260 ms, measured at 10,000 attempts), for a command whose
whole work is one SQLite query. Only that exact form is answered here, and only when it succeeds:
any other word or option, and any error, goes to the full CLI, which parses it, runs it again if
need be, and reports what went wrong in its one place (app.py).
"""

from __future__ import annotations

import sys

_STATUS_FLAGS = frozenset({"--json", "--no-refresh", "--all"})
_REQUIRED = frozenset({"--json", "--no-refresh"})


def parse(argv: list[str]) -> tuple[str | None, bool] | None:
    """(the --home given, --all given) when argv is a form answered here; None for anything else."""
    home = None
    if argv[:1] == ["--home"] and len(argv) > 1:
        home, argv = argv[1], argv[2:]
    elif argv[:1] and argv[0].startswith("--home="):
        home, argv = argv[0].removeprefix("--home="), argv[1:]
    if home == "" or argv[:1] != ["status"]:
        return None
    flags = argv[1:]
    if len(set(flags)) != len(flags) or not _REQUIRED <= set(flags) <= _STATUS_FLAGS:
        return None
    return home, "--all" in flags


def answer(argv: list[str]) -> int | None:
    """The exit code, once the answer is written; None when the full CLI is to run instead."""
    parsed = parse(argv)
    if parsed is None:
        return None
    home, show_all = parsed
    # here, not at the top: start-up time (only this path needs it)
    from dlwatch.cli.appcontext import AppContext
    from dlwatch.cli.jsonout import print_json_array
    from dlwatch.settings.config import load_settings, resolve_home
    from dlwatch.store.listing import attempt_records_json

    try:
        paths = resolve_home(home)
        settings = load_settings(paths)  # read once: the context below uses it, not a second read
        if settings.warnings:
            return None  # the full CLI says what is wrong with config.toml, then answers
        context = AppContext(paths=paths, _settings=settings)
        try:
            text = attempt_records_json(context.store, ids=None, active_only=not show_all)
        finally:
            context.close()
    except Exception:  # the full CLI meets it again, and reports it
        return None
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    try:
        print_json_array(text)
    except BrokenPipeError:
        # here, not at the top: start-up time (only this path needs it)
        from dlwatch.cli.jsonout import reader_gone

        return reader_gone()
    return 0
