"""What `serve` reads out: the downloads, the summary (counts, speeds, each client's health) and
/metrics, built from the database and the poller's state. Shared by the JSON API and the page."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from dlwatch.core.models import ClientConfig
from dlwatch.server.receiver import json_body
from dlwatch.store.db import Store
from dlwatch.store.diskspace import last_readings
from dlwatch.store.listing import attempt_records, attempt_records_json
from dlwatch.tracking.seeding import FOLLOWED


@dataclass
class ClientHealth:
    up: bool | None = None  # None until the first poll asked it
    last_answer_at: str | None = None
    last_answer_monotonic: float | None = None
    error: str | None = None
    version: str | None = None


@dataclass
class PollState:
    """What serve's own polling learned, shared with the request threads."""

    clients: dict[str, ClientHealth] = field(default_factory=dict)  # by client id
    poll_failures: int = 0  # client answers that failed, since serve started
    lock: threading.Lock = field(default_factory=threading.Lock)


class Views:
    """The read endpoints, built from the database and the poller's state."""

    def __init__(self, state: PollState) -> None:
        self.state = state

    def downloads_json(self, store: Store, query: dict[str, list[str]]) -> bytes:
        """`/api/v1/downloads`: encoded by SQLite when unfiltered (the page asks for 10,000 at once)."""
        if "status" in query or "client" in query:
            return json_body(self.downloads(store, query))
        return attempt_records_json(store, **_which(query)).encode()

    def downloads(self, store: Store, query: dict[str, list[str]]) -> list[dict]:
        records = attempt_records(store, store.list_attempts(**_which(query)))
        if wanted := _values(query, "status"):
            records = [r for r in records if r["status"] in wanted]
        if wanted := _values(query, "client"):
            records = [r for r in records if r["client"] in wanted]
        return records

    def summary(self, store: Store) -> dict:
        counts = {
            r["status"]: r["n"] for r in store.query("SELECT status, count(*) AS n FROM attempts GROUP BY status")
        }
        active = store.list_attempts(active_only=True)
        today = datetime.now(UTC).date().isoformat()
        done_today = store.query(
            "SELECT count(*) AS n FROM attempts WHERE status = 'completed' AND completed_at >= ?", [today]
        )[0]["n"]
        followed = ", ".join("?" * len(FOLLOWED))
        upload = store.query(
            f"SELECT coalesce(sum(upload_speed), 0) AS speed FROM attempts WHERE seed_state IN ({followed})", FOLLOWED
        )[0]["speed"]
        return {
            "counts": counts,
            "imports": _count_by(store, "import_state"),
            "seeding": _count_by(store, "seed_state"),
            "upload_speed": upload,
            "active": len(active),
            "download_speed": sum(a.download_speed or 0 for a in active),
            "done_today": done_today,
            "clients": [self._client(store, c) for c in store.list_clients()],
        }

    def _client(self, store: Store, client: ClientConfig) -> dict:
        readings = last_readings(store, client)
        with self.state.lock:
            health = self.state.clients.get(client.id, ClientHealth())
            return {
                "name": client.name,
                "type": client.type,
                "enabled": client.enabled,
                "up": health.up,
                "version": health.version,
                "last_answer_at": health.last_answer_at,
                "error": health.error,
                # its download folders as the disk guard last measured them; null before the first
                "free_space": [{"path": d.path, "free_bytes": d.free_bytes, "at": d.at} for d in readings] or None,
            }

    def metrics(self, store: Store) -> bytes:
        # here, not at the top: start-up time (only this path needs it)
        from prometheus_client import CollectorRegistry, generate_latest
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        views = self

        class Collector:
            def collect(self):
                clients = store.list_clients()
                up = GaugeMetricFamily(
                    "dlwatch_client_up", "1 if the client answered the last poll", labels=["client", "type"]
                )
                age = GaugeMetricFamily(
                    "dlwatch_client_last_success_age_seconds",
                    "Seconds since the client last answered a poll",
                    labels=["client", "type"],
                )
                speed = GaugeMetricFamily(
                    "dlwatch_client_download_speed_bytes",
                    "Download speed of the client's active downloads",
                    labels=["client", "type"],
                )
                items = GaugeMetricFamily(
                    "dlwatch_downloads", "Tracked downloads by status", labels=["client", "type", "status"]
                )
                rows = store.query(
                    "SELECT client_id, status, count(*) AS n, sum(coalesce(download_speed, 0)) AS speed "
                    "FROM attempts GROUP BY client_id, status"
                )
                seeding = GaugeMetricFamily(
                    "dlwatch_seeding", "Completed torrents by seeding state", labels=["client", "type", "state"]
                )
                upload = GaugeMetricFamily(
                    "dlwatch_client_upload_speed_bytes",
                    "Upload speed of the client's torrents followed as they seed",
                    labels=["client", "type"],
                )
                seeds = store.query(
                    "SELECT client_id, seed_state, count(*) AS n, sum(coalesce(upload_speed, 0)) AS speed "
                    "FROM attempts WHERE seed_state IS NOT NULL GROUP BY client_id, seed_state"
                )
                now = time.monotonic()
                for c in clients:
                    with views.state.lock:
                        health = views.state.clients.get(c.id, ClientHealth())
                    labels = [c.name, c.type]
                    if health.up is not None:  # not before serve's first poll asked it
                        up.add_metric(labels, 1.0 if health.up else 0.0)
                    if health.last_answer_monotonic is not None:
                        age.add_metric(labels, now - health.last_answer_monotonic)
                    mine = [r for r in rows if r["client_id"] == c.id]
                    speed.add_metric(labels, float(sum(r["speed"] for r in mine if r["status"] in _MOVING)))
                    for r in mine:
                        items.add_metric([*labels, r["status"]], float(r["n"]))
                    seeded = [r for r in seeds if r["client_id"] == c.id]
                    upload.add_metric(labels, float(sum(r["speed"] for r in seeded if r["seed_state"] in FOLLOWED)))
                    for r in seeded:
                        seeding.add_metric([*labels, r["seed_state"]], float(r["n"]))
                failures = CounterMetricFamily(
                    "dlwatch_poll_failures", "Client answers that failed since serve started"
                )
                failures.add_metric([], float(views.state.poll_failures))
                hooks = GaugeMetricFamily("dlwatch_hook_runs_failed", "Hook runs that failed for good")
                hooks.add_metric(
                    [], float(store.query("SELECT count(*) AS n FROM hook_runs WHERE state = 'failed'")[0]["n"])
                )
                imports = GaugeMetricFamily(
                    "dlwatch_imports",
                    "Completed downloads by the import state of the Sonarr or Radarr that knows them",
                    labels=["arr", "state"],
                )
                for r in store.query(
                    "SELECT coalesce(arr, '') AS arr, import_state, count(*) AS n FROM attempts "
                    "WHERE import_state IS NOT NULL GROUP BY arr, import_state"
                ):
                    imports.add_metric([r["arr"], r["import_state"]], float(r["n"]))
                yield from (up, age, speed, items, failures, hooks, imports, seeding, upload)

        registry_ = CollectorRegistry(auto_describe=False)
        registry_.register(Collector())
        return generate_latest(registry_)


_MOVING = {"downloading", "stalled", "queued", "checking", "postprocessing"}


def _values(query: dict[str, list[str]], name: str) -> set[str]:
    return {v for item in query.get(name, []) for v in item.split(",") if v}


def _which(query: dict[str, list[str]]) -> dict:
    """list_attempts' arguments for `?id=` and `?all=`: active ones unless ids or all are asked."""
    ids = {int(i) for i in _values(query, "id") if i.isdigit()}
    everything = query.get("all", ["0"])[-1] in ("1", "true", "yes")
    return {"ids": ids or None, "active_only": not (everything or ids)}


def _count_by(store: Store, column: str) -> dict[str, int]:
    """Attempts by a state column (`import_state`, `seed_state`), those with none left out."""
    rows = store.query(f"SELECT {column} AS k, count(*) AS n FROM attempts WHERE {column} NOT NULL GROUP BY k")
    return {r["k"]: r["n"] for r in rows}
