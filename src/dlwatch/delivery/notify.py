"""Notifications through apprise (Discord, Telegram, ntfy, Pushover, e-mail, …): a target's URL in
the keyring, the statuses it hears about in config.toml, each delivery a row of the hook outbox (so
once per status change across processes, with the hooks' retries)."""

from __future__ import annotations

import re
import time
from typing import Any

from dlwatch.core import safetext
from dlwatch.core.errors import DlwatchError, UsageError
from dlwatch.core.events import HookOutcome
from dlwatch.core.models import Secret
from dlwatch.settings import secrets as keyring_secrets
from dlwatch.settings.config import NOTIFY_NAME, NotifyTarget
from dlwatch.settings.configfile import add_notify_target

URL_KIND = "apprise_url"


def _owner(name: str) -> str:
    return f"notify-{name}"


def check_name(name: str) -> str:
    safetext.check_name("a notification target's name", name)
    if not NOTIFY_NAME.fullmatch(name):
        raise UsageError(f"a notification target's name is 1 to 40 letters, digits, - or _, not {name!r}")
    return name


def url_of(name: str) -> Secret | None:
    return keyring_secrets.get_secret(_owner(name), name, URL_KIND)


def url_source(name: str) -> str:
    return keyring_secrets.secret_source(_owner(name), name, URL_KIND)


def check_url(url: Secret) -> None:
    """Refuse what apprise cannot use, before it is stored."""
    apprise = _apprise()
    if not apprise.Apprise().add(url.reveal()):
        raise UsageError("apprise does not know this URL (see https://github.com/caronc/apprise/wiki for the forms)")


def store_url(name: str, url: Secret) -> None:
    keyring_secrets.set_secret(_owner(name), name, URL_KIND, url)


def forget_url(name: str) -> None:
    keyring_secrets.delete_secret(_owner(name), URL_KIND)


def message(record: dict[str, Any]) -> tuple[str, str, str]:
    """(title, body, apprise notify type) for an event's record."""
    status = str(record.get("status") or "")
    title = f"dlwatch: {record.get('title') or record.get('id')} {status}"
    lines = [f"{record.get('title')}", f"{status} on {record.get('client')}"]
    if record.get("raw_file_path") and status == "completed":
        lines.append(f"files: {record['raw_file_path']}")
    if record.get("error"):
        lines.append(f"reason: {record['error']}")
    kind = {"completed": "success", "failed": "failure", "missing": "warning"}.get(status, "info")
    return title, "\n".join(lines), kind


TEST_RECORD = {"title": "dlwatch test notification", "status": "completed", "client": "dlwatch", "id": 0}


def deliver(name: str, record: dict[str, Any]) -> HookOutcome:
    """Send one event's notification to the target `name` (an outbox run)."""
    try:
        url = url_of(name)
    except DlwatchError as exc:  # no keyring on this machine: this delivery fails, the others go on
        return HookOutcome(False, None, 0.0, "", f"no URL for {name}: {exc}")
    if url is None:
        return HookOutcome(False, None, 0.0, "", f"no URL stored for {name} (`dlwatch notify add {name}`)")
    return _send(url, name, *message(record))


def deliver_now(url: Secret, name: str) -> HookOutcome:
    """A test notification (`notify add`, `notify test`)."""
    return _send(url, name, *message(TEST_RECORD))


def _send(url: Secret, name: str, title: str, body: str, kind: str) -> HookOutcome:
    """The outcome as for a hook, with any reason free of the URL's tokens."""
    started = time.monotonic()
    apprise = _apprise()
    sender = apprise.Apprise()
    if not sender.add(url.reveal()):
        return HookOutcome(False, None, time.monotonic() - started, "", f"apprise does not know {name}'s URL")
    with apprise.LogCapture(level=apprise.logging.WARNING) as log:
        ok = sender.notify(title=title, body=body, notify_type=kind)
        captured = log.getvalue()
    duration = time.monotonic() - started
    if ok:
        return HookOutcome(True, 0, duration, "")
    reason = _without(captured.strip().splitlines()[-1:] or ["apprise reported a failure"], url)
    return HookOutcome(False, None, duration, "", f"not delivered to {name}: {reason}")


def _without(lines: list[str], url: Secret) -> str:
    """apprise's own log line, with every part of the URL that could be a token masked."""
    text = lines[0][:300]
    for part in sorted(set(re.split(r"[/:@?&=#]+", url.reveal())), key=len, reverse=True):
        if len(part) >= 6:
            text = text.replace(part, "********")
    return text


def _apprise():
    # Imported only to deliver or check: it costs ~150 ms, which no other command should pay.
    import apprise

    return apprise


def add_target(config_path, name: str, url: Secret, on: tuple[str, ...]) -> bool:
    """Store the URL and add the target to config.toml; False if config.toml had it already."""
    store_url(name, url)
    return add_notify_target(config_path, NotifyTarget(name, on))
