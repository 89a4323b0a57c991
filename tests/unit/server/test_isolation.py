"""The server stays with the commands that start one: `status`, `poll` and `watch` never import
http.server, the page's modules or prometheus-client (a cron poll a minute must not pay for them)."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize("args", [["status", "--no-refresh"], ["poll", "--once"], ["history", "--json"]])
def test_other_commands_do_not_import_the_server(args, tmp_path):
    code = (
        "import sys, atexit\n"
        f"sys.argv = ['dlwatch', '--home', {str(tmp_path)!r}, *{args!r}]\n"
        "heavy = ('http.server', 'socketserver', 'prometheus_client', 'dlwatch.server', 'dlwatch.server.stream')\n"
        "atexit.register(lambda: print(sorted(m for m in heavy if m in sys.modules)))\n"
        "from dlwatch.cli.main import main\n"
        "main()\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout
    assert out.strip().splitlines()[-1] == "[]", out
