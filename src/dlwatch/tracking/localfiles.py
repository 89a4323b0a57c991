"""Deleting a download's files on this machine, for a client whose API cannot (rTorrent, aria2), as
the *arrs do for such clients: the files the client lists for that download, found where this
machine sees them (after path mappings), each only inside the client's folder for it and never
reached through a symbolic link, then the folders the download had, once empty.

Everything is checked before anything is touched: `plan` refuses (and nothing is removed, from the
client or the disk) when this machine cannot see the folder or a listed path would leave it."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from dlwatch.core.errors import Refused
from dlwatch.core.models import DownloadFiles
from dlwatch.core.safetext import shown
from dlwatch.settings.config import Settings


@dataclass(frozen=True)
class Doomed:
    """What `delete` will take: files that exist, each under `root`, reached without a link."""

    root: Path
    files: tuple[Path, ...]


def plan(listed: DownloadFiles, settings: Settings, client_name: str) -> Doomed:
    seen = settings.map_path(listed.root, client_name) or ""
    root = Path(seen)
    if not root.is_absolute() or not root.is_dir():
        raise Refused(
            f"this machine does not see the download's folder {shown(seen)} (a [[path_mappings]] entry "
            "in config.toml may be missing); nothing removed"
        )
    root = root.resolve()  # the folder itself may be a link (a mount point); nothing under it may
    chosen = []
    for name in listed.files:
        parts = PurePosixPath(name).parts
        if not parts or PurePosixPath(name).is_absolute() or any(p in ("", ".", "..") for p in parts):
            raise Refused(f"the client lists a file outside the download's folder ({shown(name)}); nothing removed")
        path = root
        for i, part in enumerate(parts):
            path = path / part
            if i < len(parts) - 1 and path.is_symlink():
                raise Refused(f"{shown(path)} is a symbolic link: dlwatch deletes nothing through one; nothing removed")
        if path.is_symlink() or path.is_file():  # a link itself goes, never what it points to
            chosen.append(path)
    return Doomed(root, tuple(chosen))


def delete(doomed: Doomed) -> str:
    """Delete the planned files, then each folder of theirs under the root that is left empty;
    what was done, as a phrase for the removal's message."""
    failed = []
    for path in doomed.files:
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            failed.append(f"{shown(path)}: {exc.strerror}")
    folders = {p for f in doomed.files for p in f.parents if doomed.root in p.parents}
    for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
        with contextlib.suppress(OSError):  # not empty (something else is in it): left as it is
            os.rmdir(folder)
    done = f"{len(doomed.files) - len(failed)} file(s) deleted by dlwatch"
    return done + (f"; not deleted: {'; '.join(failed)}" if failed else "")
