"""dlwatch: send downloads to the clients you run at home, and track each one to the end."""

import sys

__version__ = "0.1.0"

# httpx imports its own command line (httpx._main) when click and rich are installed, as they are
# here: ~100 ms of every dlwatch process that talks HTTP, for a program dlwatch never runs. With the
# module marked absent, httpx defines its stub `main` instead (its documented fallback).
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
