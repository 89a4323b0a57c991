from __future__ import annotations

import pytest
from typer.testing import CliRunner

from dlwatch.cli.app import app


@pytest.fixture
def cli():
    """`dlwatch` in this process, as a user would type it: cli("status", "--json")."""
    runner = CliRunner()
    return lambda *args, input=None: runner.invoke(app, list(args), input=input)


@pytest.fixture
def tr_client(cli):
    """A Transmission client `tr` at 127.0.0.1:9091, saved untested (the tests fake its answers)."""
    args = ["client", "add", "tr", "--type", "transmission", "--host", "127.0.0.1", "-u", "dlw", "--password-stdin"]
    assert cli(*args, "--no-test", input="pw\n").exit_code == 0
