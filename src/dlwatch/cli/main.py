"""The `dlwatch` command's entry point: the forms quick.py answers without the CLI framework go
there, everything else to the full CLI (app.py)."""

from __future__ import annotations

import sys


def main() -> None:
    """The `dlwatch` command: the forms quick.py answers without the CLI framework, else the full CLI."""
    # here, not at the top: start-up time (only this path needs it)
    from dlwatch.cli.quick import answer

    code = answer(sys.argv[1:])
    if code is not None:
        sys.exit(code)
    # here, not at the top: start-up time (only this path needs it)
    from dlwatch.cli.app import main as run

    run()
