"""Reports from clients on another machine (a container, a NAS), which cannot run dlwatch itself:
the handling of `POST /report/<client name>`, and `dlwatch listen`'s server around it.

A report carries the client's push token in `X-Dlwatch-Token` and a form body (`arg=` for each
argument the client passes, `env=` with its `NAME=value` lines); it is recorded as `dlwatch
report` would. Anything else is refused: no token or a wrong one (401), an unknown path or client
(404), a body past MAX_BODY (413) or without a length (411). Each request has REQUEST_TIMEOUT
seconds. Only `dlwatch listen` and `dlwatch serve` import this module.
"""

from __future__ import annotations

import gzip
import hmac
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote

from dlwatch.core.errors import DlwatchError
from dlwatch.core.records import versioned
from dlwatch.settings import secrets as keyring_secrets
from dlwatch.settings.config import Settings
from dlwatch.store.db import Store
from dlwatch.tracking import reports
from dlwatch.tracking.reports import PREFIXES, TOKEN_HEADER, TOKEN_KIND

MAX_BODY = 64 * 1024
REQUEST_TIMEOUT = 10.0
# More connections at once than this are closed at once: each holds a thread (an open event stream
# holds one for as long as it is open), and a flood of idle ones must not exhaust the machine.
MAX_CONNECTIONS = 256
GZIP_OVER = 1400  # bytes: smaller answers fit one packet as they are


@dataclass
class Reply:
    """An answer with more than a status, a type and a body: its own headers, or a stream that
    writes to the connection until it ends (Server-Sent Events)."""

    code: int
    kind: str
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    stream: Callable[[BaseHTTPRequestHandler], None] | None = None


# (handler, store) -> (HTTP status, content type, body) or a Reply: what a server answers one request with.
Route = Callable[[BaseHTTPRequestHandler, Store], tuple[int, str, bytes] | Reply]


class ReportInbox:
    """What `POST /report/<client>` does, for `listen` and `serve` alike."""

    def __init__(self, home: Path, settings: Settings, via: str) -> None:
        self.home, self.settings, self.via = home, settings, via

    def handle(self, request: BaseHTTPRequestHandler, store: Store) -> tuple[int, str, bytes]:
        code, text = self._handle(request, store)
        return code, "text/plain; charset=utf-8", (text + "\n").encode()

    def _handle(self, request: BaseHTTPRequestHandler, store: Store) -> tuple[int, str]:
        path = request.path.split("?", 1)[0]
        if not path.startswith("/report/") or len(path) <= len("/report/"):
            return 404, "not found: reports go to /report/<client name>"
        name = unquote(path[len("/report/") :])
        body = read_body(request, MAX_BODY, "a report")
        if isinstance(body, tuple):
            return body
        try:
            client = store.find_client(name)
            expected = keyring_secrets.get_secret(client.id, client.name, TOKEN_KIND) if client else None
        except DlwatchError as exc:
            return 503, f"cannot check the token: {exc}"
        given = request.headers.get(TOKEN_HEADER, "")
        # Compared in constant time, and the same answer whether the client or the token is wrong.
        if client is None or expected is None or not hmac.compare_digest(given.encode(), expected.reveal().encode()):
            return 401, "unknown client or wrong token"
        form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        env = {}
        for block in form.get("env", []):
            for line in block.splitlines():
                key, sep, value = line.partition("=")
                if sep and key.startswith(PREFIXES):
                    env[key] = value
        outcome = reports.receive(store, self.settings, client, env, form.get("arg", []))
        reports.log(self.home, f"{outcome.line} (via {self.via})")
        return 200, outcome.line


JSON = "application/json"


def json_body(value: object) -> bytes:
    """The one encoding of a JSON answer of serve's: versioned (core.records), compact."""
    return json.dumps(versioned(value), separators=(",", ":")).encode()


# Sent with every answer: nothing here is to be sniffed as another type, framed, or given a referrer.
SAFE_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"}


def read_body(request: BaseHTTPRequestHandler, limit: int, what: str) -> bytes | tuple[int, str]:
    """The request's body, or the refusal (HTTP status, one line) to answer instead: no length
    (411), or `what` past `limit` bytes (413), which is then not read."""
    length = request.headers.get("Content-Length")
    if length is None or not length.isdigit():
        return 411, "a Content-Length is required"
    if int(length) > limit:
        return 413, f"{what} is at most {limit // 1024} KiB"
    return request.rfile.read(int(length))


class SmallServer:
    """A threaded HTTP server that answers GET and POST through `route`, each request with its own
    SQLite connection and REQUEST_TIMEOUT seconds; an error in a route is one line, not a crash."""

    def __init__(self, home: Path, db_path: Path, host: str, port: int, route: Route) -> None:
        class Handler(BaseHTTPRequestHandler):
            timeout = REQUEST_TIMEOUT  # per connection: a client that drips its request is dropped
            server_version = "dlwatch"
            sys_version = ""

            def log_message(self, *args: object) -> None:
                pass  # report outcomes go to report.log; reads are not logged

            def _answer(self) -> None:
                store = Store(db_path)
                try:
                    answer = route(self, store)
                    reply = answer if isinstance(answer, Reply) else Reply(*answer)
                except Exception as exc:  # one line back, and the server goes on
                    body = f"dlwatch failed on this request: {type(exc).__name__}\n".encode()
                    reply = Reply(500, "text/plain; charset=utf-8", body)
                    reports.log(home, f"server: {type(exc).__name__}: {exc}")
                finally:
                    store.close()  # a stream reads through the server's one reader, not this store
                body, headers = reply.body, {**SAFE_HEADERS, **reply.headers}
                if reply.stream is None and len(body) > GZIP_OVER and "gzip" in self.headers.get("Accept-Encoding", ""):
                    # A page's list of 1,000 downloads is ~800 KB of JSON and ~60 KB gzipped; level 1
                    # costs ~15 ms for 10,000 records, where the next level buys little.
                    body = gzip.compress(body, compresslevel=1, mtime=0)
                    headers.update({"Content-Encoding": "gzip", "Vary": "Accept-Encoding"})
                self.send_response(reply.code)
                self.send_header("Content-Type", reply.kind)
                for name, value in headers.items():
                    self.send_header(name, value)
                if reply.stream is None:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if reply.stream is not None:
                    reply.stream(self)
                else:
                    self.wfile.write(body)

            do_GET = _answer
            do_POST = _answer

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            slots = threading.BoundedSemaphore(MAX_CONNECTIONS)

            def process_request(self, request, client_address) -> None:
                if not self.slots.acquire(blocking=False):
                    self.shutdown_request(request)  # full: closed at once, the others go on
                    return
                super().process_request(request, client_address)

            def process_request_thread(self, request, client_address) -> None:
                try:
                    super().process_request_thread(request, client_address)
                finally:
                    self.slots.release()

        self.server = Server((host, port), Handler)

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.server.server_address[:2]
        return str(host), int(port)

    def serve_forever(self) -> None:
        self.server.serve_forever()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def listen_server(home: Path, db_path: Path, settings: Settings, host: str, port: int) -> SmallServer:
    inbox = ReportInbox(home, settings, "listen")

    def route(request: BaseHTTPRequestHandler, store: Store) -> tuple[int, str, bytes]:
        if request.command != "POST":
            return 405, "text/plain; charset=utf-8", b"reports are POSTed to /report/<client name>\n"
        return inbox.handle(request, store)

    return SmallServer(home, db_path, host, port, route)
