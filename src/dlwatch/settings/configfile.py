"""Writing config.toml: `config init`'s commented example, and the edits `client import` and
`notify add|remove` make. Each edit keeps every comment and key of the user's file (tables are
appended or cut out as text, never the file re-serialised), holds a lock so two commands at once
cannot drop each other's edit, and replaces the file in one step."""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path

from dlwatch.core.errors import ConfigError
from dlwatch.settings.config import NotifyTarget, PathMapping, parse_settings


def add_notify_target(path: Path, target: NotifyTarget) -> bool:
    """Append a [notify.NAME] table unless config.toml has one; True if it was added."""
    # here, not at the top: start-up time (only this path needs it)
    import tomli_w

    with _locked(path):
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        if any(t.name == target.name for t in parse_settings(tomllib.loads(text), path).hooks.notify):
            return False
        block = f"[notify.{target.name}]\n" + tomli_w.dumps({"on": list(target.on)})
        _append(path, text, block)
    return True


def remove_notify_target(path: Path, name: str) -> bool:
    """Take the [notify.NAME] table (to the next table) out of config.toml; True if there was one."""
    with _locked(path):
        if not path.exists():
            return False
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        header = re.compile(rf"^\s*\[\s*notify\s*\.\s*(?:{name}|\"{name}\"|'{name}')\s*\]\s*(#.*)?$")
        start = next((i for i, line in enumerate(lines) if header.match(line)), None)
        if start is None:
            return False
        end = next((i for i in range(start + 1, len(lines)) if lines[i].lstrip().startswith("[")), len(lines))
        kept = "".join(lines[:start] + lines[end:])
        parse_settings(tomllib.loads(kept), path)  # never leave a file that no longer parses
        write_private(path, kept)
    return True


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One writer of config.toml at a time, so two commands at once cannot drop each other's edit."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with open(path.with_name(f".{path.name}.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def example_text() -> str:
    """The fully commented config.toml shipped with dlwatch (every key at its default)."""
    # here, not at the top: start-up time (only this path needs it)
    from importlib.resources import files

    return files("dlwatch.settings").joinpath("config.example.toml").read_text(encoding="utf-8")


def init_config(path: Path, *, force: bool = False) -> Path:
    if path.exists() and not force:
        raise ConfigError(f"{path} already exists (use --force to overwrite it)")
    write_private(path, example_text())
    return path


def write_private(path: Path, text: str) -> None:
    """Replace the file in one step, owner-only (it names commands dlwatch runs for you): a reader
    never sees half a file, and a crash leaves the old one."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, path)


def add_path_mappings(
    path: Path, mappings: list[PathMapping], *, dry_run: bool = False
) -> tuple[list[PathMapping], list[PathMapping]]:
    """Append the mappings config.toml lacks as [[path_mappings]] tables, keeping every comment of
    the file; (added, or with `dry_run` would be; already present). A dry run writes nothing."""
    # here, not at the top: start-up time (only this path needs it)
    import tomli_w

    with contextlib.nullcontext() if dry_run else _locked(path):
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        present = set(parse_settings(tomllib.loads(text), path).path_mappings) if text else set()
        added = [m for m in dict.fromkeys(mappings) if m not in present]
        if added and not dry_run:
            # Written as [[path_mappings]] headers, never as `path_mappings = [...]`, which would land
            # inside whatever table ends the file.
            block = "\n".join(
                "[[path_mappings]]\n"
                + tomli_w.dumps({"remote": m.remote, "local": m.local, **({"client": m.client} if m.client else {})})
                for m in added
            )
            _append(path, text, block)
    return added, [m for m in mappings if m in present]


def _append(path: Path, text: str, block: str) -> None:
    """The file's text, then a blank line, then the new tables."""
    write_private(path, text + ("\n" if text and not text.endswith("\n") else "") + "\n" + block)
