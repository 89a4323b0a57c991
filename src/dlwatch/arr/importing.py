"""Importing download clients: from Prowlarr, Sonarr or Radarr (their settings, secrets masked) and
from a file written by `dlwatch client export`. A client is matched by name, so importing again
updates it instead of adding it twice; nothing of an existing client is lost that the source does
not know (its TLS settings, for an *arr source)."""

from __future__ import annotations

import shlex
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dlwatch.arr.servarr import RemoteClient, RemotePathMapping
from dlwatch.core.errors import KeyringUnavailable, UsageError
from dlwatch.core.models import ClientConfig, Secret
from dlwatch.settings import secrets as keyring_secrets
from dlwatch.settings.config import PathMapping
from dlwatch.store.db import Store
from dlwatch.tracking import clients as client_core

# Called as ask_secret(client name, secret kind) for a client that needs a secret dlwatch lacks.
AskSecret = Callable[[str, str], Secret | None]


@dataclass(frozen=True)
class Proposal:
    """A client as the source describes it, before it is compared with what dlwatch has."""

    config: ClientConfig
    needs_secret: bool  # the source has (or had) a secret for it, which it cannot hand over
    keeps_local_tls: bool = True  # the source knows nothing of TLS verification: keep ours


@dataclass
class ImportReport:
    source: str
    dry_run: bool
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    clients: list[ClientConfig] = field(default_factory=list)  # as written (or as they would be)
    unsupported: list[tuple[str, str]] = field(default_factory=list)  # (name, why)
    needs_secret: list[str] = field(default_factory=list)
    path_mappings: list[PathMapping] = field(default_factory=list)  # new ones
    path_mappings_present: list[PathMapping] = field(default_factory=list)  # already in config.toml


def from_remote(remote: list[RemoteClient]) -> tuple[list[Proposal], list[tuple[str, str]]]:
    """The *arr clients dlwatch can talk to, and the others with why not."""
    proposals, unsupported = [], []
    for r in remote:
        if r.type_name is None:
            unsupported.append((r.name, f"{r.implementation} is not supported"))
            continue
        try:
            config = client_core.new_client(
                name=r.name,
                type_name=r.type_name,
                host=r.host,
                port=r.port,
                use_ssl=r.use_ssl,
                url_base=r.url_base,
                username=r.username,
                category=r.category,
                priority=r.priority,
                enabled=r.enabled,
            )
        except UsageError as exc:  # one odd client must not stop the others
            unsupported.append((r.name, str(exc)))
            continue
        proposals.append(Proposal(config, needs_secret=r.secret_masked))
    return proposals, unsupported


def import_clients(
    store: Store, source: str, proposals: list[Proposal], ask_secret: AskSecret, *, dry_run: bool = False
) -> ImportReport:
    """Create or update a dlwatch client for each proposal; `ask_secret` supplies missing secrets."""
    report = ImportReport(source=source, dry_run=dry_run)
    taken_ids = {c.id for c in store.list_clients()}
    for proposal in proposals:
        config = proposal.config
        existing = store.find_client(config.name)
        if existing and existing.type != config.type:
            report.unsupported.append((config.name, f"a {config.type}, but dlwatch has it as {existing.type}"))
            continue
        if existing:
            config.id, config.created_at = existing.id, existing.created_at
            if proposal.keeps_local_tls:
                config.tls_verify, config.ca_bundle = existing.tls_verify, existing.ca_bundle
        elif config.id in taken_ids or not config.id:
            config.id = str(uuid.uuid4())
        kind = client_core.secret_kind(config)
        secret = None
        if proposal.needs_secret and not has_secret(config, kind) and not dry_run:
            secret = ask_secret(config.name, kind)
        if not dry_run:
            if secret:
                keyring_secrets.set_secret(config.id, config.name, kind, secret)
            if existing:
                store.update_client(config)
            else:
                store.insert_client(config)
                taken_ids.add(config.id)
        (report.updated if existing else report.created).append(config.name)
        report.clients.append(config)
        if proposal.needs_secret and not secret and not has_secret(config, kind):
            report.needs_secret.append(config.name)
    return report


def mappings_for(clients: list[ClientConfig], remote: list[RemotePathMapping]) -> list[PathMapping]:
    """An *arr mapping belongs to every client on its host: one dlwatch mapping per such client."""
    found = []
    for mapping in remote:
        for client in clients:
            if client.host.lower() == mapping.host.lower():
                found.append(PathMapping(mapping.remote_path, mapping.local_path, client.name))
    return found


def secret_hint(name: str, kind: str) -> str:
    """How to give one client its secret, with the right option for its kind."""
    return f"`dlwatch client edit {shlex.quote(name)} {keyring_secrets.stdin_option(kind)}`"


def has_secret(client: ClientConfig, kind: str | None = None) -> bool:
    """Whether dlwatch can find the client's secret (environment or keyring) on this machine."""
    try:
        kind = kind or client_core.secret_kind(client)
        return keyring_secrets.get_secret(client.id, client.name, kind) is not None
    except KeyringUnavailable:
        return False


def needs_secret_hint(report: ImportReport) -> str:
    """Each client still without a secret, with the command that sets it."""
    kinds = {c.name: client_core.secret_kind(c) for c in report.clients}
    return "; ".join(f"{name} ({secret_hint(name, kinds[name])})" for name in report.needs_secret)


def import_report_record(report: ImportReport, clients: list[dict[str, Any]]) -> dict[str, Any]:
    """`client import --json`: what was (or, with --dry-run, would be) written; `clients` are the
    client records (core.records.client_record) of `report.clients`, in its order."""
    created = set(report.created)
    return {
        "source": report.source,
        "dry_run": report.dry_run,
        "created": report.created,
        "updated": report.updated,
        "clients": [
            {"action": "add" if c.name in created else "update", **record}
            for c, record in zip(report.clients, clients, strict=True)
        ],
        "path_mappings": [
            {"action": action, "remote": m.remote, "local": m.local, "client": m.client}
            for action, mappings in (("add", report.path_mappings), ("present", report.path_mappings_present))
            for m in mappings
        ],
        "unsupported": [{"name": name, "why": why} for name, why in report.unsupported],
        "needs_secret": report.needs_secret,
    }
