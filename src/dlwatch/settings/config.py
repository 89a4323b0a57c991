"""The dlwatch home (config.toml, dlwatch.db) and the settings read from config.toml."""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from dlwatch.core.errors import ConfigError
from dlwatch.core.models import DownloadStatus
from dlwatch.settings.seeding import SeedGoal, Seeding
from dlwatch.settings.seeding import parse as parse_seeding

HOME_ENV = "DLWATCH_HOME"
CONFIG_FILE = "config.toml"
DB_FILE = "dlwatch.db"


@dataclass(frozen=True)
class HomePaths:
    """Where dlwatch keeps its files: the database (and push report log) in `home`, config.toml at
    `config`. A home given with --home or $DLWATCH_HOME holds both; otherwise the database is in the
    platform's data dir and config.toml in its config dir ($XDG_CONFIG_HOME on Linux)."""

    home: Path
    config: Path
    legacy_config: bool = False  # read in place from the data dir, where older versions wrote it


def resolve_home(override: str | Path | None = None) -> HomePaths:
    """--home beats DLWATCH_HOME beats the platform's user dirs."""
    if override or (override := os.environ.get(HOME_ENV)):
        home = Path(override).expanduser()
        return HomePaths(home, home / CONFIG_FILE)
    # here, not at the top: start-up time (only this path needs it)
    import platformdirs

    home = Path(platformdirs.user_data_dir("dlwatch", appauthor=False))
    config = Path(platformdirs.user_config_dir("dlwatch", appauthor=False)) / CONFIG_FILE
    # Not moved: a cron job or a second machine may still point at the old file. `config path` says
    # which one is read; moving it is the user's call.
    if not config.exists() and (home / CONFIG_FILE).is_file():
        return HomePaths(home, home / CONFIG_FILE, legacy_config=True)
    return HomePaths(home, config)


@dataclass(frozen=True)
class PathMapping:
    """A client sees its files under `remote`; this machine sees them under `local`."""

    remote: str
    local: str
    client: str | None = None  # only for this client name; None means every client

    def translate(self, path: str, client_name: str) -> str | None:
        if self.client and self.client != client_name:
            return None
        remote = self.remote.rstrip("/\\")
        if path == remote or path.startswith((remote + "/", remote + "\\")):
            rest = path[len(remote) :].lstrip("/\\").replace("\\", "/")
            local = self.local.rstrip("/")
            return f"{local}/{rest}" if rest else local
        return None


@dataclass(frozen=True)
class NotifyTarget:
    """An apprise target (`dlwatch notify add`): the statuses it is told about. Its URL holds
    tokens, so it is in the keyring, never here."""

    name: str
    on: tuple[str, ...] = ("completed", "failed")


# Checked in this order: the most specific reason wins (a magnet without metadata also makes no progress).
RULES = ("metadata", "unavailable", "stalled", "slow")
ACTIONS = ("report", "remove", "remove_with_data", "retry")


@dataclass(frozen=True)
class DeadRules:
    """[dead] in config.toml, and [dead.clients.NAME] for one client; tracking/deadness.py applies them.
    A duration of 0 turns its rule off."""

    stalled_after: float = 6 * 3600.0  # no progress while downloading or stalled
    metadata_after: float = 3600.0  # a magnet still fetching its metadata
    unavailable_after: float = 6 * 3600.0  # availability below 1: no complete copy among the peers
    min_speed: float = 0.0  # bytes/s; below it while downloading counts as slow (0: the rule is off)
    slow_after: float = 2 * 3600.0
    strikes: int = 3  # polls in a row a rule must hold, besides its duration
    action: str = "report"  # what happens to a dead download: see ACTIONS
    max_retries: int = 2  # with action = "retry": replacements tried for one original download

    def duration(self, rule: str) -> float:
        if rule == "slow" and not self.min_speed:
            return 0.0
        return {
            "stalled": self.stalled_after,
            "metadata": self.metadata_after,
            "unavailable": self.unavailable_after,
            "slow": self.slow_after,
        }[rule]


@dataclass(frozen=True)
class Hooks:
    """What runs when a download's status changes: the user's commands and the notification
    targets, delivered through one outbox with the same timeout and retries."""

    on_complete: str = ""
    on_failed: str = ""
    on_change: str = ""
    timeout: float = 60.0
    retries: int = 3  # after a failed run; then the run stays failed (see `dlwatch hooks --failed`)
    retry_delay: float = 30.0  # seconds before the first retry; doubled for each one after
    notify: tuple[NotifyTarget, ...] = ()  # from config.toml's [notify.NAME] tables


@dataclass(frozen=True)
class Settings:
    poll_interval: float = 30.0
    # `dlwatch poll` and `serve` ask a client that reports its ends itself (`client push`) only this often.
    interval_with_push: float = 300.0
    request_timeout: float = 10.0
    # The most dlwatch reads of one answer: a client's (a full listing of 50,000 torrents fits) and
    # a fetched .torrent/.nzb or Prowlarr answer.
    max_answer_mib: float = 160.0
    max_file_mib: float = 100.0
    # "missing" needs evidence: this many successful answers in a row without the download, each at
    # least `missing_gap` seconds after the last; then it is still looked for `missing_window` s.
    missing_after: int = 2
    missing_gap: float = 10.0
    missing_window: float = 86400.0
    # A `sending` attempt not listed by its client this long after it was sent never reached it.
    sending_grace: float = 120.0
    # How long a download known only by its title (grabbed through Prowlarr) is looked for.
    find_window: float = 1800.0
    path_mappings: tuple[PathMapping, ...] = ()
    hooks: Hooks = field(default_factory=Hooks)
    # [dead]: when a download counts as dead and what then; [dead.clients.NAME] for one client.
    dead: DeadRules = field(default_factory=DeadRules)
    dead_by_client: tuple[tuple[str, DeadRules], ...] = ()
    # [guard] min_free: pause a client's active downloads below this many free bytes (0: off).
    guard_min_free: int = 0
    # [import] warn_after: a completed download a Sonarr/Radarr knows but has not imported this many
    # seconds after completion is told of once (0: never).
    import_warn_after: float = 3600.0
    # [seeding]: how long a finished torrent should seed, and what then (settings/seeding.py).
    seeding: Seeding = field(default_factory=Seeding)
    # What config.toml holds that dlwatch does not know (a typo'd key is otherwise silently ignored):
    # one line each, for the command line to show.
    warnings: tuple[str, ...] = ()

    def dead_rules(self, client_name: str) -> DeadRules:
        return next((rules for name, rules in self.dead_by_client if name == client_name), self.dead)

    @property
    def client_deadline(self) -> float:
        """All of one client's work in one poll (connect, every request, every body) ends by this."""
        return 2 * self.request_timeout

    @property
    def max_answer_bytes(self) -> int:
        return int(self.max_answer_mib * 2**20)

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mib * 2**20)

    def map_path(self, path: str | None, client_name: str) -> str | None:
        if not path:
            return path
        # The longest matching prefix wins, so a specific mapping beats a broad one.
        for mapping in sorted(self.path_mappings, key=lambda m: len(m.remote), reverse=True):
            if (mapped := mapping.translate(path, client_name)) is not None:
                return mapped
        return path


DEFAULTS = Settings()


def default_document() -> dict:
    """Every key of config.toml at its default (the shipped example must show each one)."""
    return {
        "poll": {
            "interval": DEFAULTS.poll_interval,
            "interval_with_push": DEFAULTS.interval_with_push,
            "missing_after": DEFAULTS.missing_after,
            "missing_gap": DEFAULTS.missing_gap,
            "missing_window": DEFAULTS.missing_window,
            "sending_grace": DEFAULTS.sending_grace,
            "find_window": DEFAULTS.find_window,
        },
        "http": {
            "timeout": DEFAULTS.request_timeout,
            "max_answer_mib": DEFAULTS.max_answer_mib,
            "max_file_mib": DEFAULTS.max_file_mib,
        },
        "hooks": {
            "on_complete": "",
            "on_failed": "",
            "on_change": "",
            "timeout": DEFAULTS.hooks.timeout,
            "retries": DEFAULTS.hooks.retries,
            "retry_delay": DEFAULTS.hooks.retry_delay,
        },
        "dead": {key: getattr(DEFAULTS.dead, key) for key in DeadRules.__dataclass_fields__},
        "guard": {"min_free": DEFAULTS.guard_min_free},
        "import": {"warn_after": DEFAULTS.import_warn_after},
        "seeding": {"ratio": SeedGoal().ratio, "seed_time": SeedGoal().seed_time, "action": SeedGoal().action},
        "path_mappings": [],
    }


def load_settings(paths: HomePaths) -> Settings:
    path, home = paths.config, paths.home
    if home.exists() and not home.is_dir():
        raise ConfigError(f"the dlwatch home {home} is a file, not a folder (see --home and $DLWATCH_HOME)")
    if not path.exists():
        return DEFAULTS
    import tomllib  # here: a home without config.toml (and every `status` of it) does not pay for it

    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
    except IsADirectoryError:
        raise ConfigError(f"{path} is a folder, not a file") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    return parse_settings(doc, path)


def parse_settings(doc: dict, path: Path | str = CONFIG_FILE) -> Settings:
    for section in ("poll", "http", "hooks", "notify", "dead", "guard", "import"):
        if not isinstance(doc.get(section, {}), dict):
            raise ConfigError(f"{path}: [{section}] must be a table of keys, not {doc[section]!r}")
    if not isinstance(doc.get("path_mappings", []), list):
        raise ConfigError(f"{path}: path_mappings must be a list of [[path_mappings]] tables")

    def number(section: str, key: str, default: float) -> float:
        value = doc.get(section, {}).get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < math.inf:
            raise ConfigError(f"{path}: [{section}] {key} must be a positive number, not {value!r}")
        return float(value)

    def seconds(section: str, key: str, default: float) -> float:
        return _seconds(doc.get(section, {}).get(key, default), f"{path}: [{section}] {key}")

    def count(section: str, key: str, default: int) -> int:
        value = doc.get(section, {}).get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
            raise ConfigError(f"{path}: [{section}] {key} must be a whole number from 0 to 100, not {value!r}")
        return value

    hooks_doc = doc.get("hooks", {})
    targets = _notify_targets(doc.get("notify", {}), path)
    for key in ("on_complete", "on_failed", "on_change"):
        if not isinstance(hooks_doc.get(key, ""), str):
            raise ConfigError(f"{path}: [hooks] {key} must be a command string")
    mappings = []
    for i, entry in enumerate(doc.get("path_mappings", [])):
        if not isinstance(entry, dict) or not entry.get("remote") or not entry.get("local"):
            raise ConfigError(f"{path}: path_mappings[{i}] needs both 'remote' and 'local'")
        client = entry.get("client")
        if client is not None and not isinstance(client, str):
            raise ConfigError(f"{path}: path_mappings[{i}] client must be a client's name")
        mappings.append(PathMapping(str(entry["remote"]), str(entry["local"]), client))
    return Settings(
        poll_interval=number("poll", "interval", DEFAULTS.poll_interval),
        interval_with_push=number("poll", "interval_with_push", DEFAULTS.interval_with_push),
        missing_after=max(1, count("poll", "missing_after", DEFAULTS.missing_after)),
        missing_gap=number("poll", "missing_gap", DEFAULTS.missing_gap),
        missing_window=number("poll", "missing_window", DEFAULTS.missing_window),
        sending_grace=number("poll", "sending_grace", DEFAULTS.sending_grace),
        find_window=number("poll", "find_window", DEFAULTS.find_window),
        request_timeout=number("http", "timeout", DEFAULTS.request_timeout),
        max_answer_mib=number("http", "max_answer_mib", DEFAULTS.max_answer_mib),
        max_file_mib=number("http", "max_file_mib", DEFAULTS.max_file_mib),
        path_mappings=tuple(mappings),
        dead=(dead := _dead_rules(doc.get("dead", {}), DEFAULTS.dead, path, "[dead]")),
        dead_by_client=tuple(
            (name, _dead_rules(table, dead, path, f"[dead.clients.{name}]"))
            for name, table in _client_tables(doc.get("dead", {}).get("clients", {}), path)
        ),
        guard_min_free=_size(doc.get("guard", {}).get("min_free", 0), path),
        import_warn_after=seconds("import", "warn_after", DEFAULTS.import_warn_after),
        seeding=parse_seeding(doc.get("seeding", {}), path),
        warnings=_unknown_keys(doc, path),
        hooks=Hooks(
            on_complete=hooks_doc.get("on_complete", ""),
            on_failed=hooks_doc.get("on_failed", ""),
            on_change=hooks_doc.get("on_change", ""),
            timeout=number("hooks", "timeout", DEFAULTS.hooks.timeout),
            retries=count("hooks", "retries", DEFAULTS.hooks.retries),
            retry_delay=number("hooks", "retry_delay", DEFAULTS.hooks.retry_delay),
            notify=targets,
        ),
    )


def _unknown_keys(doc: dict, path: Path | str) -> tuple[str, ...]:
    """A line for each section and key of config.toml dlwatch does not know, naming the closest known
    one. ([dead] refuses its unknown keys outright: a typo there would change what gets deleted.)"""
    import difflib  # here, not at the top: start-up time (only a config.toml with a table needs it)

    def line(where: str, name: str, known: list[str], what: str) -> str:
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" (did you mean {close[0]}?)" if close else f" (known: {', '.join(known)})"
        return f"{path}: {where}: unknown {what}{hint}"

    known = default_document()
    sections = [*known, "notify"]
    found = []
    for name, value in doc.items():
        if name not in sections:
            found.append(line(f"[{name}]", name, sections, "section"))
        elif name in ("poll", "http", "hooks", "guard", "import") and isinstance(value, dict):
            keys = list(known[name])
            found += [line(f"[{name}] {key}", key, keys, "key") for key in value if key not in keys]
    return tuple(found)


def _seconds(value: object, what: str) -> float:
    """A duration in config.toml: a number of seconds, 0 or more (0 turns what it times off)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < math.inf:
        raise ConfigError(f"{what} must be a number of seconds (0 turns it off), not {value!r}")
    return float(value)


def _dead_rules(table: dict, base: DeadRules, path: Path | str, where: str) -> DeadRules:
    """A [dead] table over `base`: every key optional, each checked."""
    values = {}
    for key in DeadRules.__dataclass_fields__:
        if key not in table:
            continue
        value = table[key]
        if key == "action":
            if value not in ACTIONS:
                raise ConfigError(f"{path}: {where} action must be one of {', '.join(ACTIONS)}, not {value!r}")
        elif key in ("strikes", "max_retries"):
            if (
                isinstance(value, bool)
                or not isinstance(value, int)
                or not (1 if key == "strikes" else 0) <= value <= 100
            ):
                raise ConfigError(f"{path}: {where} {key} must be a whole number from 1 to 100, not {value!r}")
        else:
            value = _seconds(value, f"{path}: {where} {key}")
        values[key] = value
    unknown = set(table) - set(DeadRules.__dataclass_fields__) - {"clients"}
    if unknown:
        raise ConfigError(f"{path}: {where} has unknown keys: {', '.join(sorted(unknown))}")
    return replace(base, **values)


def _client_tables(section: object, path: Path | str) -> list[tuple[str, dict]]:
    if not isinstance(section, dict) or not all(isinstance(t, dict) for t in section.values()):
        raise ConfigError(f"{path}: [dead.clients.NAME] must be tables named after clients")
    return list(section.items())


_UNITS = {
    "": 1,
    "b": 1,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "tb": 10**12,
}


def _size(value: object, path: Path | str) -> int:
    """A size: bytes, or a string like "10GiB" or "500 MB"."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)\s*", value) if isinstance(value, str) else None
    if not match or match.group(2).lower() not in _UNITS:
        raise ConfigError(f'{path}: [guard] min_free must be bytes or a size like "10GiB", not {value!r}')
    return int(float(match.group(1)) * _UNITS[match.group(2).lower()])


NOTIFY_NAME = re.compile(r"[A-Za-z0-9_-]{1,40}")
# "any" is every change; `sending` is never an event's status.
# Also the import events (policies/imports.py): "imported", and "not_imported" (blocked, failed or
# ignored by the *arr, or still not imported [import] warn_after after completion); and "seeded",
# a torrent's [seeding] goal met (tracking/seeding.py).
NOTIFY_STATUSES = frozenset(
    {"any", "imported", "not_imported", "seeded"} | {str(s) for s in DownloadStatus} - {"sending"}
)


def _notify_targets(section: object, path: Path | str) -> tuple[NotifyTarget, ...]:
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: notify must hold [notify.NAME] tables")
    targets = []
    for name, table in section.items():
        if not NOTIFY_NAME.fullmatch(name) or not isinstance(table, dict):
            raise ConfigError(f"{path}: [notify.{name}] must be a table named with letters, digits, - or _")
        on = table.get("on", list(NotifyTarget.on))
        if not isinstance(on, list) or not on or not all(isinstance(s, str) and s in NOTIFY_STATUSES for s in on):
            known = ", ".join(sorted(NOTIFY_STATUSES))
            raise ConfigError(f"{path}: [notify.{name}] on must be a list of statuses ({known}), not {on!r}")
        targets.append(NotifyTarget(name, tuple(on)))
    return tuple(targets)
