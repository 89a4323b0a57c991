"""Finding a download in a client by its title, when its id is not known (adopted or sent elsewhere)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from dlwatch.core.models import DownloadItem

_EXTENSIONS = re.compile(r"\.(nzb|torrent|mkv|mp4|avi|bin|iso|zip|rar|7z|epub|mp3|flac)$", re.IGNORECASE)
_BRACKETS = re.compile(r"^[\[\(\{]+|[\]\)\}]+$")
_SEPARATORS = re.compile(r"[\s._\-]+")


def normalise_title(title: str) -> str:
    """Case, separators (`. _ - ` and spaces), a trailing file extension and surrounding brackets do
    not make two titles different."""
    # Brackets and extensions are peeled in turn until none is left: "[Show.S01.nzb].nzb" is
    # "Show.S01.nzb", which is "Show S01".
    text, before = title.strip(), None
    while text != before:
        before = text
        text = _EXTENSIONS.sub("", _BRACKETS.sub("", text).strip()).strip()
    text = _SEPARATORS.sub(" ", text).strip()
    text = _BRACKETS.sub("", text).strip()
    return text.casefold()


def find_by_title(title: str, items: Iterable[DownloadItem]) -> list[DownloadItem]:
    wanted = normalise_title(title)
    return [item for item in items if normalise_title(item.title) == wanted]
