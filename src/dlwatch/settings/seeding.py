"""[seeding] in config.toml: how long a finished torrent should seed, and what dlwatch does once it
has. [seeding.clients.NAME] sets one client's goal, [seeding.categories.NAME] one category's (over
its client's); tracking/seeding.py measures a torrent against its goal, policies/seeding.py acts."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path

from dlwatch.core.errors import ConfigError

# What happens once the goal is met: nothing but the event, or the torrent taken out of its client
# (its files kept, or deleted too), never before the *arr that knows it has imported it.
ACTIONS = ("report", "remove", "remove_with_data")
KEYS = ("ratio", "seed_time", "action")


@dataclass(frozen=True)
class SeedGoal:
    """A share ratio, a seeding time (seconds), either or both (0: not a goal); met at whichever
    comes first, as private trackers' rules and the clients' own limits count it."""

    ratio: float = 0.0
    seed_time: float = 0.0
    action: str = "report"

    @property
    def is_set(self) -> bool:
        return bool(self.ratio or self.seed_time)

    @property
    def removes(self) -> bool:
        return self.is_set and self.action != "report"

    def met_by(self, ratio: float | None, seed_seconds: int | None) -> str | None:
        """Why the goal is met by these figures (for the event's message), or None."""
        if self.ratio and ratio is not None and ratio >= self.ratio:
            return f"ratio {ratio:.2f} ≥ {self.ratio:g}"
        if self.seed_time and seed_seconds is not None and seed_seconds >= self.seed_time:
            return f"seeded {_hours(seed_seconds)} ≥ {_hours(self.seed_time)}"
        return None

    @property
    def targets(self) -> str:
        """`ratio 1.5 or 72h seeded`; `none` without a goal."""
        ratio = f"ratio {self.ratio:g}" if self.ratio else ""
        seeded = f"{_hours(self.seed_time)} seeded" if self.seed_time else ""
        return " or ".join(g for g in (ratio, seeded) if g) or "none"

    def describe(self) -> str:
        return self.targets if not self.is_set else f"{self.targets}, then {self.action.replace('_', ' ')}"


def _hours(seconds: float) -> str:
    if seconds < 3600:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h".replace(".0h", "h")


@dataclass(frozen=True)
class Seeding:
    """Every [seeding] table: the default goal, each client's, and each category's own keys."""

    default: SeedGoal = SeedGoal()
    by_client: tuple[tuple[str, SeedGoal], ...] = ()
    by_category: tuple[tuple[str, dict], ...] = ()

    def goal(self, client_name: str, category: str | None) -> SeedGoal:
        """A category's keys over its client's goal, a client's over [seeding]."""
        base = next((g for name, g in self.by_client if name == client_name), self.default)
        keys = next((k for name, k in self.by_category if category and name == category), None)
        return replace(base, **keys) if keys else base


def parse(section: object, path: Path | str) -> Seeding:
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: [seeding] must be a table of keys")
    default = replace(SeedGoal(), **_keys(section, path, "[seeding]"))
    clients = _tables(section.get("clients", {}), path, "clients")
    categories = _tables(section.get("categories", {}), path, "categories")
    return Seeding(
        default,
        tuple((name, replace(default, **_keys(t, path, f"[seeding.clients.{name}]"))) for name, t in clients),
        tuple((name, _keys(t, path, f"[seeding.categories.{name}]")) for name, t in categories),
    )


def _tables(section: object, path: Path | str, kind: str) -> list[tuple[str, dict]]:
    if not isinstance(section, dict) or not all(isinstance(t, dict) for t in section.values()):
        raise ConfigError(f"{path}: [seeding.{kind}.NAME] must be tables")
    return list(section.items())


def _keys(table: dict, path: Path | str, where: str) -> dict:
    """A table's goal keys, each checked. Unknown keys are refused: a typo here changes what gets
    removed."""
    unknown = set(table) - set(KEYS) - ({"clients", "categories"} if where == "[seeding]" else set())
    if unknown:
        raise ConfigError(f"{path}: {where} has unknown keys: {', '.join(sorted(unknown))} (known: {', '.join(KEYS)})")
    values: dict = {}
    for key in ("ratio", "seed_time"):
        if key in table:
            value = table[key]
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < math.inf:
                what = "a share ratio" if key == "ratio" else "a number of seconds"
                raise ConfigError(f"{path}: {where} {key} must be {what} (0: no goal), not {value!r}")
            values[key] = float(value)
    if "action" in table:
        if table["action"] not in ACTIONS:
            raise ConfigError(f"{path}: {where} action must be one of {', '.join(ACTIONS)}, not {table['action']!r}")
        values["action"] = table["action"]
    return values
