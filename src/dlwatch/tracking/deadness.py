"""Dead downloads: the rules that catch a download that will never finish, and the strikes that
count, poll after poll, how long one has met a rule.

A rule holds or not on one answer of the client. A download that meets the same rule on successive
polls collects strikes (kept with the attempt, so they survive restarts and are shared by every
dlwatch process); it is dead when it has met the rule for the rule's whole duration *and* for at
least `strikes` polls, so one odd answer, or a first poll after a week off, kills nothing. Any
progress, or a rule no longer met, clears the strikes. Usenet downloads are left to their clients'
own health checks (which dlwatch reports as failed already)."""

from __future__ import annotations

from dlwatch.core.attempt import Attempt, now_iso, seconds_since
from dlwatch.core.humane import human_duration
from dlwatch.core.models import DownloadItem, DownloadStatus, Protocol, Verdict
from dlwatch.settings.config import RULES, DeadRules

_WATCHED = (DownloadStatus.QUEUED, DownloadStatus.DOWNLOADING, DownloadStatus.STALLED)


def _meets(rule: str, before: Attempt, after: Attempt, item: DownloadItem, rules: DeadRules) -> bool:
    if rule == "metadata":
        return item.fetching_metadata
    if item.fetching_metadata:
        return False
    if rule == "unavailable":
        return item.availability is not None and item.availability < 1 and after.status is not DownloadStatus.QUEUED
    if rule == "stalled":
        return (
            after.status in (DownloadStatus.DOWNLOADING, DownloadStatus.STALLED) and after.progress <= before.progress
        )
    return after.status is DownloadStatus.DOWNLOADING and (after.download_speed or 0) < rules.min_speed


def judge(before: Attempt, after: Attempt, item: DownloadItem, rules: DeadRules) -> Verdict | None:
    """Count this poll's strike on `after` (or clear its strikes); fail it when a rule has held long
    enough. The verdict, if this poll made it dead."""
    if after.protocol is not Protocol.TORRENT or after.status not in _WATCHED:
        after.strike_rule, after.strikes, after.strike_since = None, 0, None
        return None
    rule = next((r for r in RULES if rules.duration(r) > 0 and _meets(r, before, after, item, rules)), None)
    if rule is None:
        after.strike_rule, after.strikes, after.strike_since = None, 0, None
        return None
    if rule == before.strike_rule and before.strike_since:
        after.strikes = before.strikes + 1
    else:
        after.strike_rule, after.strikes, after.strike_since = rule, 1, now_iso()
    held = seconds_since(after.strike_since or now_iso())
    if held < rules.duration(rule) or after.strikes < rules.strikes:
        return None
    reason = _reason(rule, held, after, item, rules)
    after.status, after.error = DownloadStatus.FAILED, reason
    after.download_speed, after.eta_seconds = 0, None
    return Verdict(after.id, rule, reason, rules.action)


def _reason(rule: str, held: float, attempt: Attempt, item: DownloadItem, rules: DeadRules) -> str:

    took, at = human_duration(held), f"{attempt.progress * 100:.1f} %"
    if rule == "metadata":
        return f"dead (rule metadata): still fetching the magnet's metadata after {took}, no peer sent it"
    if rule == "unavailable":
        return (
            f"dead (rule unavailable): availability {item.availability:.2f} for {took} at {at}: "
            "no complete copy among the peers"
        )
    if rule == "stalled":
        return f"dead (rule stalled): no progress for {took} at {at}" + ("" if attempt.download_speed else ", no seeds")
    return f"dead (rule slow): below {rules.min_speed:g} B/s for {took} at {at}"
