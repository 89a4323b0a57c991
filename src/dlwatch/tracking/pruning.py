"""`dlwatch prune`: forget ended attempts older than a given age (their events, hook runs and the
payloads only they sent go with them). Attempt ids are never given out again."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

from dlwatch.core.errors import UsageError
from dlwatch.core.models import DownloadStatus
from dlwatch.store.db import Attempt, Store, iso_ago

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_age(text: str) -> float:
    """'30d', '12h', '90m', '3600s', '2w' as seconds."""
    match = re.fullmatch(r"\s*(\d{1,6})\s*([smhdw])\s*", text.lower())
    if not match:
        raise UsageError(f"--older-than takes a number and a unit (s, m, h, d, w), like 30d, not {text!r}")
    return int(match.group(1)) * _UNITS[match.group(2)]


def parse_statuses(text: str) -> set[DownloadStatus]:
    chosen = set()
    for name in (part.strip() for part in text.split(",") if part.strip()):
        try:
            status = DownloadStatus(name)
        except ValueError:
            status = None
        if status is None or not status.is_final:
            finals = ", ".join(sorted(str(s) for s in DownloadStatus if s.is_final))
            raise UsageError(f"--status takes ended statuses ({finals}), not {name!r}")
        chosen.add(status)
    if not chosen:
        raise UsageError("--status needs at least one status")
    return chosen


def prunable(store: Store, older_than: float, statuses: Iterable[DownloadStatus]) -> list[Attempt]:
    """Ended attempts in `statuses` whose last change is `older_than` seconds old or more. Changes are
    stamped to the second, so both sides compare at the second: one that ended in this very second
    is 0 s old (`--older-than 0s` takes everything ended up to now), never missed as younger."""
    wanted = {str(s) for s in statuses}
    cutoff = _to_second(iso_ago(older_than))
    return [a for a in store.list_attempts() if str(a.status) in wanted and _to_second(a.updated_at) <= cutoff]


def _to_second(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp).replace(microsecond=0)


def prune(store: Store, older_than: float, statuses: Iterable[DownloadStatus], *, dry_run: bool) -> list[Attempt]:
    chosen = prunable(store, older_than, statuses)
    if chosen and not dry_run:
        store.prune(a.id for a in chosen)
    return chosen
