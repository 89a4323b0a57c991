"""Delivering the hook outbox (store/outbox.py holds its rows): claim what is due, run each hook
command or notification, and record how it ended. Any dlwatch process may do it; the lease on a
claimed row keeps two from running the same one at once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from dlwatch.core.events import HookOutcome, HookRun
from dlwatch.delivery.hooks import run_command
from dlwatch.settings.config import Settings
from dlwatch.store import outbox
from dlwatch.store.db import Store

PARALLEL = 4  # hooks run at once by one deliverer


def deliver_due(store: Store, settings: Settings, *, only: int | None = None) -> list[HookRun]:
    """Run every due hook (or the one `only`), a few at a time; the runs as they ended."""
    delivered: list[HookRun] = []
    home = str(store.path.parent)
    while runs := outbox.claim(store, settings, PARALLEL, only):
        with ThreadPoolExecutor(max_workers=len(runs)) as pool:
            outcomes = list(pool.map(lambda r: _run(r, home, settings.hooks.timeout), runs))
        for run, outcome in zip(runs, outcomes, strict=True):
            outbox.finish(store, settings, run, outcome)
        delivered += [outbox.get(store, run.id) for run in runs]
        if only is not None:
            break
    return delivered


def _run(run: HookRun, home: str, timeout: float) -> HookOutcome:
    if run.hook.startswith(outbox.NOTIFY_PREFIX):
        # here, not at the top: start-up time (only this path needs it)
        from dlwatch.delivery.notify import deliver

        return deliver(run.command, run.record or {})
    return run_command(run.command, run.record or {}, home, timeout)


def retry(store: Store, settings: Settings, run_id: int) -> HookRun:
    """Run a hook again now, once, with the command configured today for that hook (if still set)."""
    outbox.requeue(store, settings, run_id)
    deliver_due(store, settings, only=run_id)
    return outbox.get(store, run_id)
