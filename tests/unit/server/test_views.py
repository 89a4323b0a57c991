"""What `serve` says past `completed`: the summary counts completed downloads by import state and
seeding state, and /metrics has them per *arr instance and per client, with the upload speed
(parsed with prometheus_client's own parser)."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from dlwatch.core.models import DownloadStatus
from dlwatch.server.views import PollState, Views
from dlwatch.settings.config import Hooks
from dlwatch.store import eventlog
from dlwatch.store.db import Store
from tests.support.attempts import changed, tracked


def test_summary_and_metrics_count_completed_downloads_by_import_state():
    store = Store(":memory:")
    for state, arr in (("blocked", "sonarr"), ("imported", "sonarr"), ("imported", "radarr"), (None, None)):
        attempt = tracked(store, DownloadStatus.COMPLETED)
        eventlog.record(store, [changed(attempt, import_state=state, arr=arr)], Hooks())
    views = Views(PollState())
    assert views.summary(store)["imports"] == {"blocked": 1, "imported": 2}
    [family] = [f for f in text_string_to_metric_families(views.metrics(store).decode()) if f.name == "dlwatch_imports"]
    assert {(s.labels["arr"], s.labels["state"]): s.value for s in family.samples} == {
        ("sonarr", "blocked"): 1.0,
        ("sonarr", "imported"): 1.0,
        ("radarr", "imported"): 1.0,
    }


def test_summary_and_metrics_count_seeding_torrents_and_their_upload():
    store = Store(":memory:")
    for state, speed in (("seeding", 1000), ("seeding", 500), ("held", 200), ("removed", 0)):
        attempt = tracked(store, DownloadStatus.COMPLETED)
        eventlog.record(store, [changed(attempt, seed_state=state, upload_speed=speed)], Hooks())
    views = Views(PollState())
    summary = views.summary(store)
    assert (summary["seeding"], summary["upload_speed"]) == ({"seeding": 2, "held": 1, "removed": 1}, 1700)
    families = {f.name: f for f in text_string_to_metric_families(views.metrics(store).decode())}
    assert {s.labels["state"]: s.value for s in families["dlwatch_seeding"].samples} == {
        "seeding": 2.0,
        "held": 1.0,
        "removed": 1.0,
    }
    [upload] = families["dlwatch_client_upload_speed_bytes"].samples
    assert (upload.labels["client"], upload.value) == ("c", 1700.0)
