"""`dlwatch serve`: dashboards, Prometheus and push reports over HTTP, polling as it runs."""

from __future__ import annotations

import typer

from dlwatch.cli.context import app_context, echo, read_secret_from_stdin, warn
from dlwatch.core.errors import UsageError
from dlwatch.core.models import Secret

READ_TOKEN = ("serve", "read_token")  # its keyring entry (owner, kind); DLWATCH_SERVE_READ_TOKEN overrides
WRITE_TOKEN = ("serve", "write_token")  # the page's writes; DLWATCH_SERVE_WRITE_TOKEN overrides


def serve(
    ctx: typer.Context,
    bind: str = typer.Option("127.0.0.1:9797", "--bind", help="ADDR:PORT to serve on [loopback by default]."),
    allow_anonymous_read: bool = typer.Option(
        False, "--allow-anonymous-read", help="Off loopback, serve reads without the read token."
    ),
    read_token_stdin: bool = typer.Option(
        False, "--read-token-stdin", help="Store the read token (one line on stdin) in the keyring, then serve."
    ),
    write_token_stdin: bool = typer.Option(
        False,
        "--write-token-stdin",
        help="Store the write token (a line on stdin, after the read token's) in the keyring, then serve.",
    ),
) -> None:
    """Serve the page at /, /api/v1/downloads, /api/v1/summary, /api/v1/events and /metrics, take
    POST /report/<client>, and poll.

    The one long-running dlwatch process, e.g. in a container: it polls at [poll] interval (push
    clients at interval_with_push) and runs due hooks. Off loopback, reads need the read token as
    `Authorization: Bearer <token>`; the page's writes (pause, resume, remove, retry, send) always
    need the write token, and are off until one is set; reports need their client's push token."""
    # here, not at the top: start-up time (only this path needs it)
    from dlwatch.server.serve import Poller, PollState, is_loopback, make_server
    from dlwatch.server.stream import EventHub
    from dlwatch.settings import secrets as keyring_secrets

    host, _, port_text = bind.rpartition(":")
    host = host.strip("[]")
    if not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise UsageError(f"--bind takes ADDR:PORT, e.g. 127.0.0.1:9797, not {bind!r}")
    context = app_context(ctx)
    store = context.store  # made and migrated before the first request
    owner, kind = READ_TOKEN
    if read_token_stdin:
        keyring_secrets.set_secret(owner, owner, kind, Secret(read_secret_from_stdin("read token")))
    writer, write_kind = WRITE_TOKEN
    if write_token_stdin:
        keyring_secrets.set_secret(writer, writer, write_kind, Secret(read_secret_from_stdin("write token")))
    try:
        write_token = keyring_secrets.get_secret(writer, writer, write_kind)
    except Exception as exc:  # no keyring here: serve still reads, and the page is read-only
        write_token = None
        warn(f"the write token cannot be read ({type(exc).__name__}: {exc}): the page's writes are off")
    token = None
    if not is_loopback(host) and not allow_anonymous_read:
        token = keyring_secrets.get_secret(owner, owner, kind)
        if token is None:
            raise UsageError(
                f"serving on {host} needs a read token: pass --read-token-stdin (it goes to the keyring), "
                "or --allow-anonymous-read"
            )
    state, hub = PollState(), EventHub(store.path)
    try:
        server = make_server(
            context.home,
            store.path,
            context.settings,
            host,
            int(port_text),
            read_token=token,
            state=state,
            write_token=write_token,
            hub=hub,
        )
    except OSError as exc:
        raise UsageError(f"cannot serve on {bind}: {exc.strerror or exc}") from None
    poller = Poller(store.path, context.settings, state)
    poller.start()
    hub.start()
    address, port = server.address
    writes = "on" if write_token else "off (--write-token-stdin)"
    echo(f"serving on http://{address}:{port}/ (the page; writes {writes}), /api/v1/... and /metrics; Ctrl-C to stop")
    try:
        server.serve_forever()
    finally:
        poller.stopped.set()
        hub.stopped.set()
        server.close()
