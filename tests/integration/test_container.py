"""The Dockerfile, checked without a container engine (none runs here): the package builds from
exactly what the image copies (pyproject.toml, README.md, src/), with its package data; and the
image's CMD, run with the image's environment, answers the image's HEALTHCHECK, which fails once
the server is gone."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.integration.cli import ROOT
from tests.support import daemons
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration

DOCKERFILE = (ROOT / "Dockerfile").read_text()


def instructions(name: str) -> list[str]:
    """The arguments of each such instruction, continuation lines joined."""
    return re.findall(rf"^{name} (.+)$", re.sub(r"\\\n\s*", " ", DOCKERFILE), flags=re.MULTILINE)


def instruction(name: str) -> str:
    [found] = instructions(name)
    return found


def image_env() -> dict[str, str]:
    return dict(re.findall(r"(\w+)=(\S+)", " ".join(instructions("ENV"))))


def test_the_package_builds_from_what_the_image_copies(tmp_path):
    copied = re.findall(r"^COPY (.+) \S+$", DOCKERFILE, flags=re.MULTILINE)
    context = tmp_path / "context"
    context.mkdir()
    for line in copied:
        for name in line.split():
            source = ROOT / name
            if source.is_dir():
                shutil.copytree(source, context / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
            else:
                shutil.copy(source, context / name)
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path / "dist"), str(context)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    [wheel] = (tmp_path / "dist").glob("dlwatch-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "dlwatch/settings/config.example.toml" in names and "dlwatch/core/schemas/status.json" in names
    assert any(n.endswith("entry_points.txt") for n in names)


def test_the_images_command_answers_its_health_check(tmp_path):
    port = daemons.free_port()
    env = image_env()
    assert env["DLWATCH_HOME"] == "/data" and "keyrings.alt" in env["PYTHON_KEYRING_BACKEND"]
    # The image's environment with its paths in a temp dir, and the tests' keyring for the file one.
    env.update(
        DLWATCH_HOME=str(tmp_path / "data"),
        XDG_DATA_HOME=str(tmp_path / "data" / ".local" / "share"),
        PYTHON_KEYRING_BACKEND="tests.support.filekeyring.TestKeyring",
        DLWATCH_TEST_KEYRING=str(tmp_path / "keyring.json"),
        DLWATCH_SERVE_READ_TOKEN="a-read-token",
        PATH=str(Path(sys.executable).parent) + ":/usr/bin:/bin",
    )
    command = [part.replace("9797", str(port)) for part in json.loads(instruction("CMD"))]
    health = json.loads(instruction("HEALTHCHECK").split(" CMD ", 1)[1])
    health = [sys.executable if part == "python" else part.replace("9797", str(port)) for part in health]
    assert command[:2] == ["dlwatch", "serve"] and f"0.0.0.0:{port}" in command

    def healthy(extra: dict[str, str] | None = None) -> bool:
        return subprocess.run(health, env={**env, **(extra or {})}, capture_output=True, timeout=30).returncode == 0

    server = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for(healthy, timeout=20, every=0.2), server.stderr.read() if server.poll() is not None else ""
        assert healthy({"DLWATCH_SERVE_READ_TOKEN": ""})  # a token only the keyring has: 401, still answering
    finally:
        server.terminate()
        server.wait(10)
    assert not healthy()
