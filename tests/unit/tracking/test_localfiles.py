"""dlwatch deletes a download's files itself only for clients that cannot (rTorrent, aria2): only
what the client lists, only under the folder it names (as this machine sees it), never through a
symbolic link, and nothing at all when any of that does not hold."""

from __future__ import annotations

import pytest

from dlwatch.core.errors import Refused
from dlwatch.core.models import DownloadFiles
from dlwatch.settings.config import PathMapping, Settings
from dlwatch.tracking import localfiles


def tree(root, *names: str) -> None:
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(name)


def test_a_downloads_files_and_its_emptied_folders_go_and_nothing_else(tmp_path):
    tree(tmp_path, "Show/a.mkv", "Show/Subs/a.srt", "Show/mine.txt", "Other/b.mkv", "single.bin", "keep.bin")
    doomed = localfiles.plan(DownloadFiles(str(tmp_path), ("Show/a.mkv", "Show/Subs/a.srt")), Settings(), "rt")
    assert localfiles.delete(doomed) == "2 file(s) deleted by dlwatch"
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == [
        "Other",
        "Other/b.mkv",
        "Show",  # it still holds a file the download did not list
        "Show/mine.txt",
        "keep.bin",
        "single.bin",
    ]
    localfiles.delete(localfiles.plan(DownloadFiles(str(tmp_path), ("single.bin", "gone.aria2")), Settings(), "rt"))
    assert not (tmp_path / "single.bin").exists() and tmp_path.is_dir()


def test_the_folder_is_found_through_the_path_mappings(tmp_path):
    tree(tmp_path, "data/x.bin")
    mapped = Settings(path_mappings=(PathMapping("/downloads", str(tmp_path / "data"), "rt"),))
    localfiles.delete(localfiles.plan(DownloadFiles("/downloads", ("x.bin",)), mapped, "rt"))
    assert not (tmp_path / "data" / "x.bin").exists()


@pytest.mark.parametrize(
    ("root", "names", "words"),
    [
        ("/nowhere/on/this/machine", ("x.bin",), "does not see the download's folder /nowhere/on/this/machine"),
        (None, ("../outside.bin",), "outside the download's folder"),
        (None, ("/etc/passwd",), "outside the download's folder"),
        (None, ("link/secret.bin",), "is a symbolic link"),
    ],
)
def test_nothing_is_deleted_when_any_path_cannot_be_trusted(tmp_path, root, names, words):
    downloads, elsewhere = tmp_path / "downloads", tmp_path / "elsewhere"
    tree(downloads, "x.bin")
    tree(elsewhere, "secret.bin")
    tree(tmp_path, "outside.bin")
    (downloads / "link").symlink_to(elsewhere)
    with pytest.raises(Refused, match=words):
        localfiles.plan(DownloadFiles(root or str(downloads), (*names, "x.bin")), Settings(), "rt")
    assert (
        (downloads / "x.bin").exists() and (elsewhere / "secret.bin").exists() and (tmp_path / "outside.bin").exists()
    )


def test_a_listed_file_that_is_a_link_goes_but_not_what_it_points_to(tmp_path):
    tree(tmp_path, "target.bin")
    (tmp_path / "downloads").mkdir()
    (tmp_path / "downloads" / "x.bin").symlink_to(tmp_path / "target.bin")
    localfiles.delete(localfiles.plan(DownloadFiles(str(tmp_path / "downloads"), ("x.bin",)), Settings(), "rt"))
    assert not (tmp_path / "downloads" / "x.bin").is_symlink() and (tmp_path / "target.bin").exists()
