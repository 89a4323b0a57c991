"""`GET /`: the page, plain HTML, CSS and JavaScript shipped in dlwatch.server/web (no build step,
no CDN: it works on a LAN with no internet). Every answer of the page carries a strict
Content-Security-Policy: scripts and styles from this server only, no inline code, no frames, and
requests only back to this server; the script puts every text from a client in as text, never as
HTML."""

from __future__ import annotations

from functools import cache
from importlib import resources

from dlwatch.server.receiver import Reply

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
FILES = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/static/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/static/stream.js": ("stream.js", "text/javascript; charset=utf-8"),
    "/static/text.js": ("text.js", "text/javascript; charset=utf-8"),
    "/static/app.css": ("app.css", "text/css; charset=utf-8"),
    "/static/icon.svg": ("icon.svg", "image/svg+xml"),
}


def handles(path: str) -> bool:
    return path in FILES


@cache
def _read(name: str) -> bytes:
    return resources.files("dlwatch.server").joinpath("web", name).read_bytes()


def page(path: str) -> Reply:
    name, kind = FILES[path]
    # The page itself is always asked again (a new dlwatch may ship a new one); its files are small.
    headers = {"Content-Security-Policy": CSP, "Cache-Control": "no-cache"}
    return Reply(200, kind, _read(name), headers)
