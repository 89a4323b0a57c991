"""`dlwatch serve`: the merged view over HTTP, for dashboards and Prometheus, and the one
long-running dlwatch process (e.g. in a container): it polls at the configured interval and takes
the clients' push reports in the same process.

- `GET /api/v1/downloads`: the records of `status --json` (`?status=`, `?client=`, `?id=`, each
  comma-separated; `?all=1` for finished ones too).
- `GET /api/v1/summary`: counts by status, total speed, done today, and each client's health.
- `GET /metrics`: Prometheus text format (prometheus-client), labelled by client name and type.
- `POST /report/<client>`: the push receiver of `dlwatch listen`, with its per-client token.

Reads need no token on loopback; on any other address a read token (keyring) is required as
`Authorization: Bearer <token>`, unless anonymous reads were allowed. No answer holds a secret.
Only `dlwatch serve` imports this module (prometheus-client and http.server cost start-up).
"""

from __future__ import annotations

import contextlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from dlwatch.core.attempt import now_iso
from dlwatch.core.errors import DlwatchError
from dlwatch.core.models import ClientConfig, Secret
from dlwatch.core.records import versioned
from dlwatch.cycle.polling import poll
from dlwatch.delivery import deliver
from dlwatch.server.receiver import ReportInbox, SmallServer
from dlwatch.settings.config import Settings
from dlwatch.store.db import Store
from dlwatch.store.listing import attempt_records
from dlwatch.tracking import push, reports
from dlwatch.tracking.poll import Sessions
from dlwatch.tracking.seeding import FOLLOWED

JSON = "application/json"


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


class Poller(threading.Thread):
    def __init__(self, db_path: Path, settings: Settings, state: PollState) -> None:
        super().__init__(daemon=True, name="dlwatch-poller")
        self.db_path, self.settings, self.state = db_path, settings, state
        self.stopped = threading.Event()

    def run(self) -> None:
        store = Store(self.db_path)
        asked_at: dict[str, float] = {}
        try:
            with Sessions(self.db_path.parent) as sessions:
                while not self.stopped.is_set():
                    try:
                        self.cycle(store, sessions, asked_at)
                    except Exception as exc:  # the database failed, or a bug: say so, poll again later
                        reports.log(self.db_path.parent, f"serve: a poll failed: {type(exc).__name__}: {exc}")
                    self.stopped.wait(self.settings.poll_interval)
        finally:
            store.close()

    def cycle(self, store: Store, sessions: Sessions, asked_at: dict[str, float]) -> None:
        skip = push.not_due(store, self.settings, asked_at)
        try:
            result = poll(store, self.settings, sessions=sessions, skip=skip)
            deliver.deliver_due(store, self.settings)
        except DlwatchError:
            return  # the database is busy or broken: the next cycle tries again
        clients = {c.name: c for c in store.list_clients()}
        answered: dict[str, str | None] = {name: None for name in result.answered if name in clients}
        failed = {f.client_name: f.error for f in result.failures if f.client_name in clients}
        # A client with nothing tracked was not asked by the poll: ask it its version, which is
        # what a dashboard's "up" means for it.
        for name, client in clients.items():
            if client.enabled and name not in answered and name not in failed and client.id not in skip:
                try:
                    answered[name] = self._probe(sessions, client)  # its version, known now
                except DlwatchError as exc:
                    failed[name] = str(exc).removeprefix(f"{name}: ")
        now, stamp = time.monotonic(), now_iso()
        with self.state.lock:
            for name, version in answered.items():
                health = self._health(clients[name], asked_at, now)
                health.up, health.error = True, None
                health.last_answer_at, health.last_answer_monotonic = stamp, now
                health.version = health.version or version
            for name, error in failed.items():
                health = self._health(clients[name], asked_at, now)
                health.up, health.error = False, error
            self.state.poll_failures += len(failed)
        for name in answered:
            health = self.state.clients[clients[name].id]
            if health.version is None:
                with contextlib.suppress(DlwatchError):  # known at a later cycle
                    health.version = self._probe(sessions, clients[name])

    def _health(self, client: ClientConfig, asked_at: dict[str, float], now: float) -> ClientHealth:
        asked_at[client.id] = now
        return self.state.clients.setdefault(client.id, ClientHealth())

    def _probe(self, sessions: Sessions, client: ClientConfig) -> str:
        adapter = sessions.get(client, self.settings)
        with adapter.work_within(self.settings.client_deadline):
            return adapter.version().version


class Views:
    """The read endpoints, built from the database and the poller's state."""

    def __init__(self, state: PollState) -> None:
        self.state = state

    def downloads(self, store: Store, query: dict[str, list[str]]) -> list[dict]:
        def values(name: str) -> set[str]:
            return {v for item in query.get(name, []) for v in item.split(",") if v}

        ids = {int(i) for i in values("id") if i.isdigit()}
        everything = query.get("all", ["0"])[-1] in ("1", "true", "yes")
        attempts = store.list_attempts(ids=ids or None, active_only=not (everything or ids))
        records = attempt_records(store, attempts)
        if wanted := values("status"):
            records = [r for r in records if r["status"] in wanted]
        if wanted := values("client"):
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
        imports = {
            r["import_state"]: r["n"]
            for r in store.query(
                "SELECT import_state, count(*) AS n FROM attempts WHERE import_state IS NOT NULL GROUP BY import_state"
            )
        }
        seeding = {
            r["seed_state"]: r["n"]
            for r in store.query(
                "SELECT seed_state, count(*) AS n FROM attempts WHERE seed_state IS NOT NULL GROUP BY seed_state"
            )
        }
        upload = store.query(
            "SELECT coalesce(sum(upload_speed), 0) AS speed FROM attempts WHERE seed_state IN ('seeding', 'held')"
        )[0]["speed"]
        return {
            "counts": counts,
            "imports": imports,
            "seeding": seeding,
            "upload_speed": upload,
            "active": len(active),
            "download_speed": sum(a.download_speed or 0 for a in active),
            "done_today": done_today,
            "clients": [self._client(c) for c in store.list_clients()],
        }

    def _client(self, client: ClientConfig) -> dict:
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
                "free_space": None,  # not measured yet: the disk-guard issue adds it
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


def make_server(
    home: Path,
    db_path: Path,
    settings: Settings,
    host: str,
    port: int,
    *,
    read_token: Secret | None,
    state: PollState,
) -> SmallServer:
    """The HTTP side of serve. `read_token` None means reads need no token (loopback, or allowed)."""
    views, inbox = Views(state), ReportInbox(home, settings, "serve")

    def route(request: BaseHTTPRequestHandler, store: Store) -> tuple[int, str, bytes]:
        parts = urlsplit(request.path)
        if request.command == "POST":
            return inbox.handle(request, store)
        if read_token is not None:
            given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
            if not hmac.compare_digest(given.encode(), read_token.reveal().encode()):
                return 401, JSON, _json({"error": "a read token is needed: Authorization: Bearer <token>"})
        if parts.path == "/api/v1/downloads":
            return 200, JSON, _json(views.downloads(store, parse_qs(parts.query)))
        if parts.path == "/api/v1/summary":
            return 200, JSON, _json(views.summary(store))
        if parts.path == "/metrics":
            return 200, "text/plain; version=0.0.4; charset=utf-8", views.metrics(store)
        return 404, JSON, _json({"error": "not found: /api/v1/downloads, /api/v1/summary, /metrics"})

    return SmallServer(home, db_path, host, port, route)


def _json(value) -> bytes:

    return json.dumps(versioned(value), separators=(",", ":")).encode()


def is_loopback(host: str) -> bool:
    return host in ("127.0.0.1", "::1", "localhost") or host.startswith("127.")
