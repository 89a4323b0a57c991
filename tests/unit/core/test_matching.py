"""Title normalisation: what may differ between two titles of the same download."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from dlwatch.core.matching import find_by_title, normalise_title
from dlwatch.core.models import DownloadItem, DownloadStatus

words = st.lists(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=8), min_size=1, max_size=6
)
separators = st.sampled_from([" ", ".", "_", "-", " - ", ".."])


@given(words, separators, separators)
def test_separators_do_not_matter(parts, sep_a, sep_b):
    assert normalise_title(sep_a.join(parts)) == normalise_title(sep_b.join(parts))


@given(words, st.sampled_from(["", ".nzb", ".torrent", ".mkv", ".NZB"]))
def test_case_extension_and_brackets_do_not_matter(parts, extension):
    title = ".".join(parts)
    assert normalise_title(f"[{title.upper()}]{extension}") == normalise_title(title)


@given(st.text(max_size=40))
def test_normalising_twice_changes_nothing(title):
    once = normalise_title(title)
    assert normalise_title(once) == once


def test_different_releases_stay_different():
    assert normalise_title("Show.S01E01.1080p") != normalise_title("Show.S01E02.1080p")


def item(title: str) -> DownloadItem:
    return DownloadItem(client_download_id=title, title=title, status=DownloadStatus.QUEUED, raw_state="x")


def test_find_by_title():
    items = [item("Some.Show.S01E01.720p"), item("Other")]
    assert [i.title for i in find_by_title("some show s01e01 720p.nzb", items)] == ["Some.Show.S01E01.720p"]
