"""The command line: parse, call the core, render. The only place that imports Typer and Rich."""

from __future__ import annotations

import os
import sys


def main() -> None:
    """The `dlwatch` command: the forms quick.py answers without the CLI framework, else the full CLI."""
    from .quick import answer

    code = answer(sys.argv[1:])
    if code is not None:
        sys.exit(code)
    from .app import main as run

    run()


def reader_gone() -> int:
    """The exit code once whatever read our output has gone (`dlwatch status | head -1`): no more to
    say, and no error to report. Standard output then points at /dev/null, so that Python's own
    flush at exit cannot fail too; 141 is what a shell gives a program SIGPIPE ended, as `seq` is."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 141
