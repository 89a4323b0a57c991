"""The free space of each client's download folders as last measured (the disk guard measures it,
policies/diskguard.py): kept in the store's meta table, rewritten only when a reading moved, so a
poll on a quiet disk writes nothing."""

from __future__ import annotations

import json
from dataclasses import asdict

from dlwatch.core.models import ClientConfig, DirSpace
from dlwatch.store.db import Store

_KEY = "free_space:"  # meta key prefix, then the client id


def last_readings(store: Store, client: ClientConfig) -> list[DirSpace]:
    raw = store.meta(_KEY + client.id)
    return [DirSpace(**d) for d in json.loads(raw)] if raw else []


def lowest_free(store: Store, client: ClientConfig) -> int | None:
    """The least free space among the client's download folders, as last measured."""
    known = [d.free_bytes for d in last_readings(store, client) if d.free_bytes is not None]
    return min(known) if known else None


def keep(store: Store, client: ClientConfig, readings: list[DirSpace]) -> None:
    old = {d.path: d.free_bytes for d in last_readings(store, client)}
    new = {d.path: d.free_bytes for d in readings}

    def moved(path: str) -> bool:
        before, now = old.get(path), new[path]
        if before is None or now is None:
            return before != now
        return abs(now - before) > max(before // 100, 64 * 2**20)

    if set(old) != set(new) or any(moved(p) for p in new):
        store.set_meta(_KEY + client.id, json.dumps([asdict(d) for d in readings]))
