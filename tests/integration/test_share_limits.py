"""The failure that hurts most: a client's own share limits removing a download before Sonarr or
Radarr imported it. On the real qBittorrent and Deluge, set to remove at a ratio, `client test`
says so in one warning line naming the setting, and `client show` repeats it without asking the
client again. Transmission, which only stops at its ratio, is shown beside dlwatch's own goal and not
warned of. (The daemons are shared with other tests: their settings are put back at once.)"""

from __future__ import annotations

import json

import pytest

from tests.integration.cli import Dlwatch
from tests.support import by_hand, schemas

pytestmark = pytest.mark.integration

QB_REMOVING = {"max_ratio_enabled": True, "max_ratio": 5, "max_ratio_act": 3}
QB_DEFAULTS = {"max_ratio_enabled": False, "max_ratio": -1, "max_ratio_act": 0}
DELUGE_REMOVING = {"stop_seed_at_ratio": True, "stop_seed_ratio": 5.0, "remove_seed_at_ratio": True}


def set_qbittorrent(daemon, prefs: dict) -> None:
    with by_hand.qbittorrent(daemon) as client:
        client.post("/app/setPreferences", data={"json": json.dumps(prefs)}).raise_for_status()


def test_qbittorrent_removing_with_files_at_its_ratio_is_warned_of(qbittorrent, tmp_path):
    cli = Dlwatch(tmp_path)
    cli.add_client("qb", qbittorrent)
    set_qbittorrent(qbittorrent, QB_REMOVING)
    try:
        tested = cli("client", "test", "qb")
        as_json = schemas.check("client-test", json.loads(cli.ok("client", "test", "qb", "--json")))
    finally:
        set_qbittorrent(qbittorrent, QB_DEFAULTS)
    assert tested.returncode == 0, tested.stderr
    [warning] = tested.stderr.strip().splitlines()
    assert warning.startswith("warning: qb at ratio 5 it removes it and deletes its files (Options > BitTorrent")
    assert as_json[0]["share_limits"] == {
        "ratio": 5.0,
        "seed_seconds": None,
        "action": "remove_with_data",
        "setting": "Options > BitTorrent > Seeding Limits",
    }
    shown = cli("client", "show", "qb")
    assert "seeding:     at ratio 5 it removes it and deletes its files" in shown.stdout
    assert shown.stderr.strip() == warning


def test_deluge_removing_at_its_ratio_is_warned_of(deluge, tmp_path):
    cli = Dlwatch(tmp_path)
    cli.add_client("deluge", deluge)
    before = by_hand.deluge(deluge, "core.get_config_values", list(DELUGE_REMOVING))
    by_hand.deluge(deluge, "core.set_config", DELUGE_REMOVING)
    try:
        tested = cli("client", "test", "deluge")
    finally:
        by_hand.deluge(deluge, "core.set_config", before)
    assert tested.returncode == 0, tested.stderr
    assert tested.stderr.strip() == (
        "warning: deluge at ratio 5 it removes it (Preferences > Queue > Share Ratio): a download can go before "
        "Sonarr or Radarr imports it; have it stop seeding there instead"
    )
    cli.ok("client", "test", "deluge")  # as it was: no limit, no warning
    assert "no share limits of its own" in cli.ok("client", "show", "deluge")


def test_transmission_stopping_at_its_ratio_is_shown_beside_the_goal_and_not_warned_of(transmission, tmp_path):
    cli = Dlwatch(tmp_path)
    cli.home.mkdir(parents=True, exist_ok=True)
    (cli.home / "config.toml").write_text('[seeding]\nratio = 1.5\naction = "remove"\n')
    cli.add_client("tr", transmission)
    by_hand.transmission(transmission, "session-set", {"seedRatioLimited": True, "seedRatioLimit": 3})
    try:
        tested = cli("client", "test", "tr")
    finally:
        by_hand.transmission(transmission, "session-set", {"seedRatioLimited": False})
    assert (tested.returncode, tested.stderr) == (0, "")  # it only stops: nothing to warn of
    shown = cli.ok("client", "show", "tr")
    assert "seed goal:   ratio 1.5, then remove" in shown
    assert "seeding:     at ratio 3 it stops seeding (Preferences > Seeding > Stop at ratio)" in shown
