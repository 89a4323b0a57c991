"""Dead-download rules: strikes accrue poll after poll and survive in the attempt; any progress or
a rule no longer met clears them; a download fails only after its rule's duration and enough
strikes, with the rule and how long in its reason; Usenet is left to its clients."""

from __future__ import annotations

import copy
from dataclasses import replace

import pytest

from dlwatch.core.attempt import iso_ago
from dlwatch.core.errors import ConfigError
from dlwatch.core.models import DownloadItem, DownloadStatus, Protocol
from dlwatch.settings.config import DeadRules, parse_settings
from dlwatch.store.db import Attempt
from dlwatch.tracking.deadness import judge

RULES = DeadRules(stalled_after=60, metadata_after=30, unavailable_after=0, strikes=3)


def attempt(**fields) -> Attempt:
    base = Attempt(1, "c", "Sintel", Protocol.TORRENT, DownloadStatus.DOWNLOADING, iso_ago(999), iso_ago(999))
    return replace(base, **{"progress": 0.4, **fields})


def item(**fields) -> DownloadItem:
    defaults = {"status": DownloadStatus.DOWNLOADING, "progress": 0.4, "download_speed": 0}
    return DownloadItem("h", "Sintel", raw_state="4", **{**defaults, **fields})


def poll(before: Attempt, seen: DownloadItem, rules: DeadRules = RULES):
    after = copy.copy(before)
    after.status, after.progress, after.download_speed = seen.status, seen.progress, seen.download_speed
    return after, judge(before, after, seen, rules)


def test_strikes_accrue_and_a_stalled_download_fails_after_the_duration_and_the_strikes():
    a, verdict = poll(attempt(), item())
    assert (a.strike_rule, a.strikes, verdict) == ("stalled", 1, None)
    a, verdict = poll(a, item())
    assert (a.strikes, verdict) == (2, None)  # a long-held rule still needs its strikes
    a.strike_since = iso_ago(61)  # as if the polls had been a minute apart
    a, verdict = poll(a, item())
    assert verdict is not None and verdict.rule == "stalled" and verdict.action == "report"
    assert a.status is DownloadStatus.FAILED
    assert a.error == "dead (rule stalled): no progress for 1m01s at 40.0 %, no seeds"


def test_progress_or_a_rule_no_longer_met_clears_the_strikes():
    a, _ = poll(attempt(), item())
    a, _ = poll(a, item())
    moved, verdict = poll(a, item(progress=0.41, download_speed=1000))
    assert (moved.strike_rule, moved.strikes, moved.strike_since, verdict) == (None, 0, None, None)
    paused, _ = poll(a, item(status=DownloadStatus.PAUSED))
    assert paused.strikes == 0


def test_enough_strikes_within_the_duration_kill_nothing():
    a = attempt()
    for _ in range(10):
        a, verdict = poll(a, item())
        assert verdict is None and a.status is DownloadStatus.DOWNLOADING
    assert a.strikes == 10


def test_the_metadata_rule_names_itself_and_beats_the_stalled_one():
    magnet = item(status=DownloadStatus.QUEUED, progress=0.0, fetching_metadata=True)
    a, _ = poll(attempt(status=DownloadStatus.QUEUED, progress=0.0), magnet)
    a, _ = poll(a, magnet)
    a.strike_since = iso_ago(31)
    a, verdict = poll(a, magnet)
    assert verdict.rule == "metadata" and "still fetching the magnet's metadata after 31s" in a.error


def test_availability_below_one_and_a_speed_floor():
    rules = DeadRules(stalled_after=0, unavailable_after=10, min_speed=5000, slow_after=10, strikes=1)
    thin = item(availability=0.94, progress=0.5, download_speed=100)
    a, _ = poll(attempt(strike_rule="unavailable", strikes=4, strike_since=iso_ago(11)), thin, rules)
    assert a.error.startswith("dead (rule unavailable): availability 0.94 for 11s at 50.0 %")
    slow = item(availability=1.5, progress=0.6, download_speed=100)
    a, _ = poll(attempt(strike_rule="slow", strikes=4, strike_since=iso_ago(11)), slow, rules)
    assert a.error.startswith("dead (rule slow): below 5000 B/s for 11s")


def test_usenet_and_finished_downloads_are_never_judged():
    usenet = attempt(protocol=Protocol.USENET, strike_rule="stalled", strikes=5, strike_since=iso_ago(9999))
    a, verdict = poll(usenet, item())
    assert (verdict, a.strikes) == (None, 0)
    done, verdict = poll(attempt(), item(status=DownloadStatus.COMPLETED, progress=1.0))
    assert (verdict, done.strikes, done.status) == (None, 0, DownloadStatus.COMPLETED)


def test_dead_settings_per_client_and_the_guard_size():
    settings = parse_settings(
        {
            "dead": {"stalled_after": 120, "action": "retry", "clients": {"seedbox": {"stalled_after": 86400}}},
            "guard": {"min_free": "10GiB"},
        }
    )
    assert settings.dead_rules("nas").stalled_after == 120
    seedbox = settings.dead_rules("seedbox")
    assert (seedbox.stalled_after, seedbox.action) == (86400, "retry")  # the rest from [dead]
    assert settings.guard_min_free == 10 * 2**30


@pytest.mark.parametrize(
    "doc",
    [
        {"dead": {"action": "delete"}},
        {"dead": {"stalled_after": -1}},
        {"dead": {"strikes": 0}},
        {"dead": {"stalled_afer": 60}},
        {"guard": {"min_free": "lots"}},
    ],
)
def test_bad_dead_settings_are_a_config_error(doc):
    with pytest.raises(ConfigError):
        parse_settings(doc)
