"""Clients as a file: what `dlwatch client export` writes and `client import --from-file` reads.

TOML, one [[clients]] table per client, never a secret: `needs_secret = true` marks a client that
had one, which the import then takes from standard input, the keyring (the same client id on the
same machine) or DLWATCH_<NAME>_PASSWORD / _API_KEY."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from dlwatch.arr.importing import Proposal
from dlwatch.core.errors import ConfigError, UsageError
from dlwatch.core.models import ClientConfig
from dlwatch.tracking import clients as client_core

FORMAT_VERSION = 1
# The settings a file carries, in the order they are written; `id` last, as it is bookkeeping.
KEYS = (
    "name",
    "type",
    "host",
    "port",
    "use_ssl",
    "url_base",
    "username",
    "category",
    "priority",
    "enabled",
    "tls_verify",
    "ca_bundle",
    "needs_secret",
    "id",
)
HEADER = """\
# dlwatch clients, written by `dlwatch client export`. No secrets are in this file: a client with
# needs_secret = true gets its secret at import from --secrets-stdin (NAME=SECRET lines), the
# keyring, or DLWATCH_<NAME>_PASSWORD / DLWATCH_<NAME>_API_KEY.
# Read it back with `dlwatch client import --from-file FILE`.
"""


def export_text(clients: list[ClientConfig], has_secret: Callable[[ClientConfig], bool]) -> str:
    # here, not at the top: start-up time (only this path needs it)
    import tomli_w

    tables = []
    for client in clients:
        data = asdict(client) | {"needs_secret": has_secret(client)}
        tables.append({key: data[key] for key in KEYS if data.get(key) is not None})
    return HEADER + "\n" + tomli_w.dumps({"format_version": FORMAT_VERSION, "clients": tables})


def read_proposals(path: Path) -> tuple[list[Proposal], list[tuple[str, str]]]:
    """The clients of a file, and the ones that cannot be imported with why."""
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    if doc.get("format_version", FORMAT_VERSION) != FORMAT_VERSION:
        raise ConfigError(f"{path}: format_version {doc['format_version']!r} is not one this dlwatch reads (1)")
    entries = doc.get("clients", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ConfigError(f"{path}: clients must be a list of [[clients]] tables")
    proposals, refused = [], []
    for i, entry in enumerate(entries):
        label = str(entry.get("name") or f"clients[{i}]")
        unknown = sorted(set(entry) - set(KEYS))
        if unknown:
            raise ConfigError(f"{path}: clients[{i}] ({label}) has unknown keys: {', '.join(unknown)}")
        try:
            config = _config(entry)
        except (UsageError, TypeError, ValueError) as exc:
            refused.append((label, str(exc)))
            continue
        proposals.append(Proposal(config, needs_secret=bool(entry.get("needs_secret")), keeps_local_tls=False))
    return proposals, refused


def _config(entry: dict) -> ClientConfig:
    for key in ("name", "type", "host"):
        if not isinstance(entry.get(key), str):
            raise ValueError(f"{key} must be a string")
    config = client_core.new_client(
        name=entry["name"],
        type_name=entry["type"],
        host=entry["host"],
        port=entry.get("port"),
        use_ssl=bool(entry.get("use_ssl", False)),
        url_base=entry.get("url_base"),
        username=entry.get("username"),
        category=entry.get("category"),
        priority=int(entry.get("priority", 0)),
        enabled=bool(entry.get("enabled", True)),
        tls_verify=bool(entry.get("tls_verify", True)),
        ca_bundle=entry.get("ca_bundle"),
    )
    if isinstance(entry.get("id"), str):
        config.id = entry["id"]  # the same id finds this machine's keyring entry again
    return config
