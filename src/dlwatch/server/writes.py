"""The page's writes: pause, resume, remove (its files too only when asked), retry and send, through
the same core functions as the CLI (tracking.actions, tracking.sending).

Every write needs the write token in `X-Dlwatch-Write-Token`; the read token is not enough, and a
server with no write token set takes no writes at all. A custom header cannot be sent across sites
without a CORS preflight, which this server never grants, and a request whose `Origin` (or
`Sec-Fetch-Site`) says it comes from another site is refused before the token is looked at: no
cookie carries any authority here. Refusals are one line of JSON `{"error": …}`: 401 (no token, or
a wrong one), 403 (writes off, another site), 409 (the download cannot take this action now), 413,
415, 502 (the client refused or did not answer).

    POST /api/v1/downloads/<id>/pause|resume|retry
    POST /api/v1/downloads/<id>/remove            {"delete_data": false}
    POST /api/v1/send?client=NAME                 {"magnet": "magnet:?..."} as JSON, or the bytes
                                                  of a .torrent/.nzb (X-Filename: its name)
"""

from __future__ import annotations

import hmac
import json
import re
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, unquote, urlsplit

from dlwatch.core.errors import ClientError, DlwatchError, Refused, UsageError
from dlwatch.core.models import Secret
from dlwatch.core.records import attempt_record
from dlwatch.server.receiver import JSON, Reply, json_body, read_body
from dlwatch.settings.config import Settings
from dlwatch.store.db import Store
from dlwatch.tracking import actions, sending, sources

TOKEN_HEADER = "X-Dlwatch-Write-Token"
ACTION = re.compile(r"^/api/v1/downloads/(\d{1,12})/(pause|resume|remove|retry)$")
MAX_JSON = 64 * 1024


def refusal(code: int, reason: str) -> Reply:
    return Reply(code, JSON, json_body({"error": reason}))


def handles(path: str) -> bool:
    return path == "/api/v1/send" or ACTION.match(path) is not None


def write(request: BaseHTTPRequestHandler, store: Store, settings: Settings, token: Secret | None) -> Reply:
    parts = urlsplit(request.path)
    if (why := _cross_site(request)) is not None:
        return refusal(403, why)
    if token is None:
        return refusal(403, "writes are off: start `dlwatch serve --write-token-stdin` to allow them")
    given = request.headers.get(TOKEN_HEADER, "")
    if not given:
        return refusal(401, f"a write needs the write token ({TOKEN_HEADER}); the read token is not enough")
    if not hmac.compare_digest(given.encode(), token.reveal().encode()):
        return refusal(401, "wrong write token")
    try:
        if parts.path == "/api/v1/send":
            return _send(request, store, settings, parse_qs(parts.query))
        match = ACTION.match(parts.path)
        assert match is not None  # handles() said so
        return _act(request, store, settings, int(match.group(1)), match.group(2))
    except ClientError as exc:
        return refusal(502, str(exc))
    except (Refused, UsageError) as exc:
        return refusal(409, str(exc))
    except DlwatchError as exc:
        return refusal(409, str(exc))


def _cross_site(request: BaseHTTPRequestHandler) -> str | None:
    """Why this request is from another site, or None. A request with no Origin is no browser's
    cross-site write (curl, a script): the token decides."""
    origin = request.headers.get("Origin")
    host = request.headers.get("Host", "")
    if origin is not None and origin not in (f"http://{host}", f"https://{host}"):
        return f"refused: a write from another site ({origin[:100]})"
    if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
        return "refused: a write from another site"
    return None


def _act(request: BaseHTTPRequestHandler, store: Store, settings: Settings, attempt_id: int, action: str) -> Reply:
    body = read_body(request, MAX_JSON, "a request")
    if isinstance(body, tuple):
        return refusal(*body)
    if action == "retry":
        result = sending.retry(store, settings, attempt_id)
        record = attempt_record(result.attempt, result.client.name, result.client.type)
        return Reply(200, JSON, json_body({"ok": True, "attempt": record}))
    options = _json_object(body)
    if isinstance(options, Reply):
        return options
    delete_data = options.get("delete_data") is True  # only an explicit true deletes files
    [result] = actions.act(store, settings, [attempt_id], action, delete_data=delete_data)  # type: ignore[arg-type]
    if not result.ok:
        return refusal(502 if result.client_name else 409, result.detail)  # asked the client, or refused first
    return Reply(200, JSON, json_body({"ok": True, "detail": result.detail}))


def _send(request: BaseHTTPRequestHandler, store: Store, settings: Settings, query: dict[str, list[str]]) -> Reply:
    body = read_body(request, settings.max_file_bytes, "a .torrent or .nzb")
    if isinstance(body, tuple):
        return refusal(*body)
    client = (query.get("client") or [""])[-1] or None
    kind = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if kind == JSON:
        options = _json_object(body)
        if isinstance(options, Reply):
            return options
        magnet = options.get("magnet")
        if not isinstance(magnet, str) or not magnet.startswith("magnet:"):
            return refusal(409, 'send takes {"magnet": "magnet:?…"}, or the bytes of a .torrent or .nzb')
        payload = sources.load_source(magnet)
    elif kind in ("application/x-bittorrent", "application/x-nzb", "application/octet-stream"):
        filename = unquote(request.headers.get("X-Filename", "")) or "upload"
        payload = sources.from_upload(body, filename[:200], kind)
    else:
        return refusal(415, "send takes application/json (a magnet) or a .torrent/.nzb file's bytes")
    result = sending.send(store, settings, payload, client_name=client)
    record = attempt_record(result.attempt, result.client.name, result.client.type)
    return Reply(200, JSON, json_body({"ok": True, "attempt": record}))


def _json_object(body: bytes) -> dict | Reply:
    if not body.strip():
        return {}
    try:
        value = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return refusal(409, "the body is not JSON")
    return value if isinstance(value, dict) else refusal(409, "the body must be a JSON object")
