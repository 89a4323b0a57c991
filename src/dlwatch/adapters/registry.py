"""Client adapters by type name, loaded from the `dlwatch.clients` entry-point group.

The built-in adapters are registered in pyproject.toml through this same group, so a third-party
package adds a client exactly as dlwatch adds its own.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from dlwatch.core.errors import UsageError

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

    from dlwatch.adapters.base import ClientAdapter

GROUP = "dlwatch.clients"


@cache
def _entry_points() -> dict[str, EntryPoint]:
    # Imported here: scanning the installed packages costs every command's start-up, and commands
    # that only read the database never need an adapter.
    from importlib.metadata import entry_points

    return {ep.name: ep for ep in entry_points(group=GROUP)}


def type_names() -> list[str]:
    """Registered type names, without importing any adapter."""
    return sorted(_entry_points())


def adapter_class(type_name: str) -> type[ClientAdapter]:
    ep = _entry_points().get(type_name)
    if ep is None:
        known = ", ".join(type_names()) or "none"
        raise UsageError(f"unknown client type {type_name!r} (known types: {known})")
    cls = ep.load()
    if getattr(cls, "type_name", None) != type_name:
        raise UsageError(f"the adapter registered as {type_name!r} names itself {getattr(cls, 'type_name', None)!r}")
    return cls


def all_adapter_classes() -> list[type[ClientAdapter]]:
    return [adapter_class(name) for name in type_names()]
