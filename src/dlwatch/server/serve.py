"""`dlwatch serve`: the merged view over HTTP, for dashboards and Prometheus, and the one
long-running dlwatch process (e.g. in a container): it polls at the configured interval and takes
the clients' push reports in the same process.

- `GET /`: the page (page.py), and `GET /api/v1/events`, the event log as Server-Sent Events
  (stream.py); `POST /api/v1/downloads/<id>/<action>` and `POST /api/v1/send`: its writes, behind
  the write token (writes.py).
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
import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from dlwatch.core.attempt import now_iso
from dlwatch.core.errors import DlwatchError
from dlwatch.core.models import ClientConfig, Secret
from dlwatch.cycle.polling import poll
from dlwatch.delivery import deliver
from dlwatch.server import page, writes
from dlwatch.server.receiver import JSON, Reply, ReportInbox, SmallServer, json_body
from dlwatch.server.stream import EventHub, streamer
from dlwatch.server.views import ClientHealth, PollState, Views
from dlwatch.settings.config import Settings
from dlwatch.store import eventlog
from dlwatch.store.db import Store
from dlwatch.tracking import push, reports
from dlwatch.tracking.poll import Sessions


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


def make_server(
    home: Path,
    db_path: Path,
    settings: Settings,
    host: str,
    port: int,
    *,
    read_token: Secret | None,
    state: PollState,
    write_token: Secret | None = None,
    hub: EventHub | None = None,
) -> SmallServer:
    """The HTTP side of serve. `read_token` None means reads need no token (loopback, or allowed);
    `write_token` None means the page's writes are off. The page's own files need no token: they
    hold no data, and the page asks for the token when a read is refused."""
    views, inbox = Views(state), ReportInbox(home, settings, "serve")

    def route(request: BaseHTTPRequestHandler, store: Store) -> tuple[int, str, bytes] | Reply:
        parts = urlsplit(request.path)
        if request.command == "POST":
            if writes.handles(parts.path):
                return writes.write(request, store, settings, write_token)
            return inbox.handle(request, store)
        if page.handles(parts.path):
            return page.page(parts.path)
        if read_token is not None:
            given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
            if not hmac.compare_digest(given.encode(), read_token.reveal().encode()):
                return 401, JSON, json_body({"error": "a read token is needed: Authorization: Bearer <token>"})
        if parts.path == "/api/v1/downloads":
            # The event the list is as of: a stream opened with it as Last-Event-ID misses nothing.
            cursor = str(eventlog.last_id(store))
            body = views.downloads_json(store, parse_qs(parts.query))
            return Reply(200, JSON, body, {"X-Last-Event-Id": cursor, "Cache-Control": "no-store"})
        if parts.path == "/api/v1/summary":
            return Reply(200, JSON, json_body(views.summary(store)), {"Cache-Control": "no-store"})
        if parts.path == "/api/v1/events" and hub is not None:
            last = request.headers.get("Last-Event-ID") or (parse_qs(parts.query).get("after") or [None])[-1]
            headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
            return Reply(200, "text/event-stream; charset=utf-8", headers=headers, stream=streamer(hub, store, last))
        if parts.path == "/metrics":
            return 200, "text/plain; version=0.0.4; charset=utf-8", views.metrics(store)
        known = "/, /api/v1/downloads, /api/v1/summary, /api/v1/events, /metrics"
        return 404, JSON, json_body({"error": f"not found: {known}"})

    return SmallServer(home, db_path, host, port, route)


def is_loopback(host: str) -> bool:
    return host in ("127.0.0.1", "::1", "localhost") or host.startswith("127.")
