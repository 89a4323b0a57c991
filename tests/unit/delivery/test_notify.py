"""Notification targets: config.toml tables written and removed without touching the rest, statuses
chosen per target, and deliveries through the outbox to a real local HTTP receiver (apprise's
json://), retried after a failure, with the URL's tokens in no stored reason."""

from __future__ import annotations

import json
import tomllib
from dataclasses import replace

from dlwatch.core.models import DownloadStatus, Secret
from dlwatch.delivery import deliver
from dlwatch.delivery.notify import store_url
from dlwatch.settings.config import Hooks, NotifyTarget, Settings
from dlwatch.store import eventlog, outbox
from dlwatch.store.db import Store
from tests.support.attempts import changed, tracked
from tests.support.jsonserver import JsonServer


def test_add_writes_a_table_keeps_the_rest_and_remove_takes_only_it_out(cli, dlwatch_home, memory_keyring):
    dlwatch_home.mkdir(parents=True)
    config = dlwatch_home / "config.toml"
    config.write_text("# mine\n[hooks]\non_complete = 'true'\n")
    with JsonServer() as receiver:
        url = f"json://127.0.0.1:{receiver.url.rsplit(':', 1)[1]}/token-abcdef123456"
        result = cli("notify", "add", "phone", "--on", "completed", "--on", "missing", "--url-stdin", input=url)
        assert result.exit_code == 0, result.output
        assert len(receiver.received) == 1  # the test notification
        other = cli("notify", "add", "desk", "--on", "any", "--url-stdin", "--no-test", input=url)
        assert other.exit_code == 0, other.output
    doc = tomllib.loads(config.read_text())
    assert doc["notify"] == {"phone": {"on": ["completed", "missing"]}, "desk": {"on": ["any"]}}
    assert doc["hooks"] == {"on_complete": "true"} and config.read_text().startswith("# mine\n")
    assert url not in config.read_text() and list(memory_keyring.store.values()) == [url, url]
    listed = json.loads(cli("notify", "list", "--json").stdout)
    assert [t["name"] for t in listed] == ["phone", "desk"]

    assert cli("notify", "remove", "phone").exit_code == 0
    doc = tomllib.loads(config.read_text())
    assert doc["notify"] == {"desk": {"on": ["any"]}} and doc["hooks"] == {"on_complete": "true"}
    assert list(memory_keyring.store.values()) == [url]
    gone = cli("notify", "remove", "phone")
    assert gone.exit_code == 1 and "no notification target 'phone'" in gone.stderr


def test_bad_input_is_one_line(cli):
    bad_status = cli("notify", "add", "phone", "--on", "done", "--url-stdin", input="json://x\n")
    assert bad_status.exit_code == 2 and "--on done: not a status" in bad_status.stderr
    bad_name = cli("notify", "add", "my phone", "--url-stdin", input="json://x\n")
    assert bad_name.exit_code == 2 and "letters, digits, - or _" in bad_name.stderr
    bad_url = cli("notify", "add", "phone", "--url-stdin", input="nonsense://x\n")
    assert bad_url.exit_code == 2 and "apprise does not know this URL" in bad_url.stderr


def test_only_the_statuses_a_target_asked_for_are_queued():
    hooks = Hooks(notify=(NotifyTarget("phone"), NotifyTarget("all", ("any",))))
    store = Store(":memory:")
    attempt = tracked(store)
    [started] = eventlog.record(store, [changed(attempt, status=DownloadStatus.DOWNLOADING)], hooks)
    [done] = eventlog.record(store, [changed(store.get_attempt(attempt.id), status=DownloadStatus.COMPLETED)], hooks)
    runs = outbox.for_events(store, [started.id, done.id])
    assert [r.hook for r in runs[started.id]] == ["notify:all"]
    assert [r.hook for r in runs[done.id]] == ["notify:phone", "notify:all"]
    assert {r.command for r in runs[done.id]} == {"phone", "all"}  # the name, never the URL


def test_import_events_reach_the_targets_that_hear_of_them_and_on_change_hooks():
    hooks = Hooks(
        on_complete="c",
        on_change="x",
        notify=(NotifyTarget("phone"), NotifyTarget("imports", ("imported", "not_imported"))),
    )
    store = Store(":memory:")
    attempt = tracked(store, DownloadStatus.COMPLETED)

    def runs(event: str, **fields) -> list[str]:
        current = store.get_attempt(attempt.id)
        change = eventlog.Change(current, replace(current, **fields), "c", "qbittorrent", "why", event=event)
        [appended] = eventlog.record(store, [change], hooks)
        assert appended.what == event and appended.to_status == "completed"
        return [r.hook for r in outbox.for_events(store, [appended.id])[appended.id]]

    assert runs("import", import_state="blocked") == ["on_change", "notify:imports"]
    assert runs("import", import_state="importing") == ["on_change"]
    assert runs("import_late", import_warned=True) == ["on_change", "notify:imports"]
    assert runs("import", import_state="imported") == ["on_change", "notify:imports"]


def test_a_failed_delivery_is_retried_and_its_reason_hides_the_token(memory_keyring):
    with JsonServer({"/secret-token-99xyz": (500, {"error": "down"})}) as receiver:
        url = f"json://127.0.0.1:{receiver.url.rsplit(':', 1)[1]}/secret-token-99xyz"
        store_url("phone", Secret(url))
        settings = Settings(hooks=Hooks(notify=(NotifyTarget("phone"),), retry_delay=0.01))
        store = Store(":memory:")
        attempt = tracked(store)
        [event] = eventlog.record(
            store, [changed(replace(attempt), status=DownloadStatus.COMPLETED, title="Big Buck Bunny")], settings.hooks
        )
        [first] = deliver.deliver_due(store, settings)
        assert first.state == "pending" and first.detail.startswith("not delivered to phone")
        assert "secret-token-99xyz" not in first.detail
        receiver.routes.clear()  # the receiver is back
        import time

        time.sleep(0.05)
        [second] = deliver.deliver_due(store, settings)
        assert (second.state, second.tries) == ("done", 2)
    notes = [r.json() for r in receiver.received]
    assert len(notes) == 2 and notes[-1]["title"] == "dlwatch: Big Buck Bunny completed"
    assert event.id == second.event_id
