"""What every command shares: the dlwatch home, its settings and its store, opened when first used.
(No CLI framework here: quick.py answers some commands without one.)"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from dlwatch.core.safetext import shown
from dlwatch.settings.config import DB_FILE, HomePaths, Settings, load_settings

if TYPE_CHECKING:
    from dlwatch.store.db import Store


@dataclass
class AppContext:
    paths: HomePaths
    debug: bool = False
    _settings: Settings | None = field(default=None, repr=False)
    _store: Store | None = field(default=None, repr=False)

    @property
    def home(self) -> Path:
        return self.paths.home

    @property
    def config_file(self) -> Path:
        return self.paths.config

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.paths)
            for line in self._settings.warnings:  # once per command, whichever reads the settings first
                sys.stderr.write(f"warning: {shown(line)}\n")
        return self._settings

    @property
    def store(self) -> Store:
        if self._store is None:
            _ = self.settings  # a broken config.toml is reported before any work, not halfway through
            # here, not at the top: start-up time (only this path needs it)
            from dlwatch.store.db import Store

            self._store = Store(self.home / DB_FILE)
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None
