from __future__ import annotations

import pytest
from typer.testing import CliRunner

from dlwatch.cli.app import app


@pytest.fixture
def cli():
    """`dlwatch` in this process, as a user would type it: cli("status", "--json")."""
    runner = CliRunner()
    return lambda *args, input=None: runner.invoke(app, list(args), input=input)
