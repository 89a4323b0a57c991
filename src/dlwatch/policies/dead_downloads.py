"""What happens to a download the rules found dead (tracking/deadness.py), as [dead] action says:

- `report` (the default): nothing more; it is failed, with the rule and how long in its reason.
- `remove` / `remove_with_data`: taken out of its client too (its files kept, or deleted).
- `retry`: a download Sonarr or Radarr sent (found by its id in the queue of an instance added with
  `dlwatch arr add`) is handed back: removed from the queue and the client with the release
  blocklisted there, and the *arr grabs the next release by its own profiles. For a release dlwatch
  grabbed from a Prowlarr search, the release goes on dlwatch's blocklist (by guid, infohash and
  title, never only the client's id), the same search is asked again, and the best result not
  blocklisted is sent, up to `max_retries` per original download; the new attempt names the one
  it replaces (`retry_of`), so `history` shows the chain.

Only the process whose write recorded the verdict acts on it, so two pollers never act twice.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from dlwatch.core.matching import normalise_title
from dlwatch.core.models import ClientConfig, DownloadStatus, Protocol, Verdict
from dlwatch.settings.config import DeadRules, Settings
from dlwatch.store import eventlog
from dlwatch.store.db import Attempt, Store


@dataclass(frozen=True)
class DeadOutcome:
    attempt_id: int
    action: str
    ok: bool
    detail: str


def carry_out(store: Store, settings: Settings, dead: list[tuple[ClientConfig, Verdict]]) -> list[DeadOutcome]:
    """Act on each verdict; a failure is that download's own outcome, the others still go on."""
    outcomes = []
    for client, verdict in dead:
        try:
            outcomes.append(_one(store, settings, client, verdict))
        except Exception as exc:  # a client or Prowlarr that fails here must not stop the poll
            outcomes.append(DeadOutcome(verdict.attempt_id, verdict.action, False, f"{type(exc).__name__}: {exc}"))
    return outcomes


def _one(store: Store, settings: Settings, client: ClientConfig, verdict: Verdict) -> DeadOutcome:
    if verdict.action == "report":
        return DeadOutcome(verdict.attempt_id, "report", True, verdict.reason)
    if verdict.action in ("remove", "remove_with_data"):
        # here, not at the top: start-up time (only this path needs it)
        from dlwatch.tracking.actions import act

        delete = verdict.action == "remove_with_data"
        [result] = act(store, settings, [verdict.attempt_id], "remove", delete_data=delete, why=verdict.reason)
        return DeadOutcome(verdict.attempt_id, verdict.action, result.ok, result.detail)
    attempt = store.get_attempt(verdict.attempt_id)
    handed_back = through_arr(store, settings, attempt)
    if handed_back is not None:
        return handed_back
    return replace_release(store, settings, attempt, settings.dead_rules(client.name))


def through_arr(store: Store, settings: Settings, attempt: Attempt) -> DeadOutcome | None:
    """Hand the download back to the Sonarr or Radarr that sent it; None if none of them did."""
    # here, not at the top: start-up time (only this path needs it)
    from dlwatch.arr import instances as arrs

    if not attempt.client_download_id:
        return None
    for instance in arrs.instances(store):
        with arrs.connect(store, instance, max(30.0, settings.request_timeout)) as app:
            record = app.queue_item(attempt.client_download_id)
            if record is None:
                continue
            app.remove_and_search_again(int(record["id"]))
        detail = f"handed back to {instance.name}: out of its queue and the client, release blocklisted there"
        _record_removed(store, settings, attempt, f"{attempt.error}; {detail}")
        return DeadOutcome(attempt.id, "retry", True, detail)
    return None


def _record_removed(store: Store, settings: Settings, attempt: Attempt, why: str) -> None:
    """The *arr took it out of the client: say so, as an event like any other."""
    after = copy.copy(attempt)
    after.status, after.error = DownloadStatus.REMOVED, why
    client = store.client_by_id(attempt.client_id)
    name, kind = (client.name, client.type) if client else ("(removed)", None)
    eventlog.record(store, [eventlog.Change(attempt, after, name, kind, why)], settings.hooks)


def release_keys(release: dict) -> list[str]:
    """How a release is known on the blocklist: its indexer guid, its infohash, its title."""
    keys = [f"guid:{release['guid']}"] if release.get("guid") else []
    if release.get("info_hash"):
        keys.append(f"btih:{str(release['info_hash']).lower()}")
    if release.get("title"):
        keys.append(f"title:{normalise_title(str(release['title']))}")
    return keys


def _replacements_before(store: Store, attempt: Attempt) -> int:
    """How many replacements came between the original download and this one."""
    tries, current = 0, attempt
    while current.retry_of is not None and tries < 1000:
        current, tries = store.get_attempt(current.retry_of), tries + 1
    return tries


def replace_release(store: Store, settings: Settings, attempt: Attempt, rules: DeadRules) -> DeadOutcome:
    # here, not at the top: start-up time (only this path needs it)
    from dlwatch.arr.releases import open_prowlarr, send_found

    grab = store.grab_of(attempt.id)
    if grab is None:
        return DeadOutcome(attempt.id, "retry", False, "not grabbed from a dlwatch search: nothing to search again")
    release, searched = grab
    store.block(release_keys(release), release["title"], attempt.error or "dead", attempt.id)
    if _replacements_before(store, attempt) >= rules.max_retries:
        return DeadOutcome(attempt.id, "retry", False, f"blocklisted; no retries left ({rules.max_retries} tried)")
    options = {k: v for k, v in searched.items() if k != "query"}
    with open_prowlarr(store, settings) as prowlarr:
        found = prowlarr.search(searched["query"], **options)
    protocol = Protocol(release["protocol"])
    candidates = [r for r in found if r.protocol is protocol and not store.blocked(release_keys(r.to_json()))]
    if not candidates:
        return DeadOutcome(attempt.id, "retry", False, "blocklisted; the search found nothing else to try")
    best = max(candidates, key=lambda r: (r.seeders or 0) if protocol is Protocol.TORRENT else (r.grabs or 0))
    client = store.client_by_id(attempt.client_id)
    send_found(
        store,
        settings,
        best,
        searched,
        client_name=client.name if client else None,
        ref=attempt.ref,
        retry_of=attempt.id,
    )
    return DeadOutcome(attempt.id, "retry", True, f"blocklisted; sent {best.title!r} instead")
