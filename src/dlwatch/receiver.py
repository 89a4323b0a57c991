"""`dlwatch listen`: a small HTTP receiver for reports from clients on another machine (a
container, a NAS), which cannot run dlwatch itself.

`POST /report/<client name>` with the client's push token in `X-Dlwatch-Token` and a form body
(`arg=` for each argument the client passes, `env=` with its `NAME=value` lines) is recorded as
`dlwatch report` would. Anything else is refused: no token or a wrong one (401), an unknown path
or client (404), a body past MAX_BODY (413) or without a length (411). Each request has
REQUEST_TIMEOUT seconds. Only `dlwatch listen` imports this module.
"""

from __future__ import annotations

import hmac
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote

from . import reports
from . import secrets as keyring_secrets
from .config import Settings
from .errors import DlwatchError
from .reports import PREFIXES, TOKEN_HEADER, TOKEN_KIND
from .store import Store

MAX_BODY = 64 * 1024
REQUEST_TIMEOUT = 10.0


def token_of(client_id: str, client_name: str):
    return keyring_secrets.get_secret(client_id, client_name, TOKEN_KIND)


class Receiver:
    def __init__(self, home: Path, db_path: Path, settings: Settings, host: str, port: int) -> None:
        self.home, self.db_path, self.settings = home, db_path, settings
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            timeout = REQUEST_TIMEOUT  # per connection: a client that drips its request is dropped
            server_version = "dlwatch"
            sys_version = ""

            def log_message(self, *args: object) -> None:
                pass  # outcomes go to report.log

            def do_POST(self) -> None:
                try:
                    code, text = receiver.handle(self)
                except Exception as exc:  # one line back, and the receiver goes on
                    code, text = 500, f"dlwatch failed on this report: {type(exc).__name__}"
                    reports.log(receiver.home, f"listen: {text}: {exc}")
                body = (text + "\n").encode()
                self.send_response(code)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                self.send_error(405, "reports are POSTed to /report/<client name>")

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.server.server_address[:2]
        return str(host), int(port)

    def handle(self, request: BaseHTTPRequestHandler) -> tuple[int, str]:
        store = Store(self.db_path)  # each request on its own thread: its own SQLite connection
        try:
            return self._handle(request, store)
        finally:
            store.close()

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
            expected = token_of(client.id, client.name) if client else None
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
        reports.log(self.home, f"{outcome.line} (via listen)")
        return 200, outcome.line

    def serve_forever(self) -> None:
        self.server.serve_forever()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
