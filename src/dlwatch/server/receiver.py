"""Reports from clients on another machine (a container, a NAS), which cannot run dlwatch itself:
the handling of `POST /report/<client name>`, and `dlwatch listen`'s server around it.

A report carries the client's push token in `X-Dlwatch-Token` and a form body (`arg=` for each
argument the client passes, `env=` with its `NAME=value` lines); it is recorded as `dlwatch
report` would. Anything else is refused: no token or a wrong one (401), an unknown path or client
(404), a body past MAX_BODY (413) or without a length (411). Each request has REQUEST_TIMEOUT
seconds. Only `dlwatch listen` and `dlwatch serve` import this module.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote

from dlwatch.core.errors import DlwatchError
from dlwatch.settings import secrets as keyring_secrets
from dlwatch.settings.config import Settings
from dlwatch.store.db import Store
from dlwatch.tracking import reports
from dlwatch.tracking.reports import PREFIXES, TOKEN_HEADER, TOKEN_KIND

MAX_BODY = 64 * 1024
REQUEST_TIMEOUT = 10.0
# (handler, store) -> (HTTP status, content type, body): what a server answers one request with.
Route = Callable[[BaseHTTPRequestHandler, Store], tuple[int, str, bytes]]


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
        length = request.headers.get("Content-Length")
        if length is None or not length.isdigit():
            return 411, "a Content-Length is required"
        if int(length) > MAX_BODY:
            return 413, f"a report is at most {MAX_BODY // 1024} KiB"
        try:
            client = store.find_client(name)
            expected = keyring_secrets.get_secret(client.id, client.name, TOKEN_KIND) if client else None
        except DlwatchError as exc:
            return 503, f"cannot check the token: {exc}"
        given = request.headers.get(TOKEN_HEADER, "")
        # Compared in constant time, and the same answer whether the client or the token is wrong.
        if client is None or expected is None or not hmac.compare_digest(given.encode(), expected.reveal().encode()):
            return 401, "unknown client or wrong token"
        form = parse_qs(request.rfile.read(int(length)).decode("utf-8", "replace"), keep_blank_values=True)
        env = {}
        for block in form.get("env", []):
            for line in block.splitlines():
                key, sep, value = line.partition("=")
                if sep and key.startswith(PREFIXES):
                    env[key] = value
        outcome = reports.receive(store, self.settings, client, env, form.get("arg", []))
        reports.log(self.home, f"{outcome.line} (via {self.via})")
        return 200, outcome.line


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
                    code, kind, body = route(self, store)
                except Exception as exc:  # one line back, and the server goes on
                    code, kind = 500, "text/plain; charset=utf-8"
                    body = f"dlwatch failed on this request: {type(exc).__name__}\n".encode()
                    reports.log(home, f"server: {type(exc).__name__}: {exc}")
                finally:
                    store.close()
                self.send_response(code)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = _answer
            do_POST = _answer

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True

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
