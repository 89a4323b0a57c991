"""The store's tables for releases: Prowlarr's address, the last search's results, what each
grabbed release was searched with, and dlwatch's blocklist. A part of `Store`, kept apart because
it is the one part only Prowlarr and the dead-download retry use."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from dlwatch.core.attempt import now_iso
from dlwatch.core.errors import NotFoundError

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Callable
    from contextlib import AbstractContextManager


class ReleaseTables:
    """Mixed into Store, which gives it `conn`, `write()` and `query()`."""

    conn: sqlite3.Connection
    write: Callable[[], AbstractContextManager[sqlite3.Connection]]
    query: Callable[..., list[dict[str, Any]]]

    def prowlarr_url(self) -> str | None:
        rows = self.query("SELECT url FROM prowlarr WHERE key = 'default'")
        return rows[0]["url"] if rows else None

    def set_prowlarr_url(self, url: str) -> None:
        with self.write():
            self.conn.execute(
                "INSERT INTO prowlarr (key, url, updated_at) VALUES ('default', ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET url = excluded.url, updated_at = excluded.updated_at",
                [url, now_iso()],
            )

    def save_search(self, releases: list[dict[str, Any]]) -> None:
        stamp = now_iso()
        with self.write():
            self.conn.execute("DELETE FROM search_results")
            self.conn.executemany(
                "INSERT INTO search_results (position, release, searched_at) VALUES (?, ?, ?)",
                [(i, json.dumps(r), stamp) for i, r in enumerate(releases, 1)],
            )

    def record_grab(self, attempt_id: int, release: dict[str, Any], searched: dict[str, Any]) -> None:
        """What a release sent from a search was, and the search, for a dead download's `retry`."""
        with self.write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO grabs (attempt_id, release, search) VALUES (?, ?, ?)",
                [attempt_id, json.dumps(release), json.dumps(searched)],
            )

    def grab_of(self, attempt_id: int) -> tuple[dict[str, Any], dict[str, Any]] | None:
        rows = self.query("SELECT release, search FROM grabs WHERE attempt_id = ?", [attempt_id])
        return (json.loads(rows[0]["release"]), json.loads(rows[0]["search"])) if rows else None

    def block(self, keys: list[str], title: str, reason: str, attempt_id: int) -> None:
        with self.write() as conn:
            conn.executemany(
                "INSERT OR IGNORE INTO blocklist (key, title, reason, attempt_id, created_at) VALUES (?, ?, ?, ?, ?)",
                [(k, title, reason, attempt_id, now_iso()) for k in keys],
            )

    def blocked(self, keys: list[str]) -> bool:
        if not keys:
            return False
        marks = ", ".join("?" * len(keys))
        return bool(self.query(f"SELECT 1 FROM blocklist WHERE key IN ({marks}) LIMIT 1", keys))

    def blocklist(self) -> list[dict[str, Any]]:
        return list(self.query("SELECT * FROM blocklist ORDER BY created_at DESC"))

    def search_result(self, position: int) -> dict[str, Any]:
        rows = self.query("SELECT * FROM search_results WHERE position = ?", [position])
        if not rows:
            raise NotFoundError(f"no search result {position} (run `dlwatch search QUERY` first)")
        return json.loads(rows[0]["release"])
