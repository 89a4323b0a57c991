"""Run the real `dlwatch` command in a throwaway home, as a user would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from dlwatch.adapters import registry
from tests.support import payloads, schemas
from tests.support.daemons import Daemon
from tests.support.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]


def client_add_args(name: str, daemon: Daemon) -> list[str]:
    """What a user types to add a daemon (its password or API key then goes to standard input)."""
    args = ["client", "add", name, "--type", daemon.kind, "--host", "127.0.0.1", "--port", str(daemon.port)]
    if "socket" in daemon.extra:
        args[args.index("--host") + 1] = daemon.extra["socket"]
    if daemon.username:
        args += ["--username", daemon.username]
    if daemon.password:
        takes_key = registry.adapter_class(daemon.kind).secret_kind == "api_key"
        args.append("--api-key-stdin" if takes_key else "--password-stdin")
    return args


class Dlwatch:
    def __init__(self, tmp: Path) -> None:
        self.home = tmp / "home"
        self.env = {
            **os.environ,
            "DLWATCH_HOME": str(self.home),
            "PYTHON_KEYRING_BACKEND": "tests.support.filekeyring.TestKeyring",
            "DLWATCH_TEST_KEYRING": str(tmp / "keyring.json"),
        }

    def argv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "dlwatch", *args]

    def __call__(self, *args: str, stdin: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run(
            self.argv(*args), input=stdin, capture_output=True, text=True, timeout=timeout, env=self.env, cwd=ROOT
        )

    def ok(self, *args: str, stdin: str | None = None) -> str:
        result = self(*args, stdin=stdin)
        assert result.returncode == 0, f"dlwatch {' '.join(args)} exited {result.returncode}: {result.stderr}"
        return result.stdout

    def popen(self, *args: str, stdin: bool = False) -> subprocess.Popen:
        return subprocess.Popen(
            self.argv(*args),
            stdin=subprocess.PIPE if stdin else None,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.env,
            cwd=ROOT,
        )

    def try_add_client(self, name: str, daemon: Daemon, *extra: str, password: str | None = None):
        """`dlwatch client add` for a daemon, its password on stdin; the finished process, to inspect."""
        secret = daemon.password if password is None else password
        return self(*client_add_args(name, daemon), *extra, stdin=secret + "\n" if secret else None)

    def add_client(self, name: str, daemon: Daemon, *extra: str) -> None:
        result = self.try_add_client(name, daemon, *extra)
        assert result.returncode == 0, f"dlwatch client add {name} exited {result.returncode}: {result.stderr}"

    # Every record read here from the real daemons is checked against its JSON Schema on the way.
    def status(self, attempt_id: int) -> dict:
        result = self("status", str(attempt_id), "--json")
        return schemas.check("status", json.loads(result.stdout))[0]

    def status_no_refresh(self, attempt_id: int) -> dict:
        return schemas.check("status", json.loads(self.ok("status", str(attempt_id), "--json", "--no-refresh")))[0]

    def send(self, source: Path | str, *args: str) -> dict:
        return schemas.check("attempt", json.loads(self.ok("send", str(source), "--json", *args)))

    def seed(self, client: str, daemon: Daemon, name: str, size: int, announce: str, folder: Path) -> Seeded:
        """`size` random bytes named `name` in `daemon`'s download folder, their .torrent (announcing
        to `announce`) in `folder`, sent to `client` there and followed until it seeds: a torrent a
        leecher can then fetch."""
        data = payloads.make_payload(daemon.download_dir, name, size)
        torrent = folder / f"{name}.torrent"
        torrent.write_bytes(payloads.make_torrent(data, announce=announce))
        record = self.send(torrent, "--client", client)
        wait_for(lambda: self.status(record["id"])["status"] == "completed", timeout=30)
        return Seeded(torrent, data, record)


@dataclass
class Seeded:
    torrent: Path
    data: Path
    record: dict  # the seeding attempt, as `send --json` printed it
