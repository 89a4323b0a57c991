"""`dlwatch serve` as a real process with the real Transmission and qBittorrent behind it: its
three read endpoints against `status --json`, `/metrics` through prometheus_client's own parser,
the read-token rules off loopback, and oversized requests refused."""

from __future__ import annotations

import json
import re
import socket

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.cli import ROOT, Dlwatch
from tests.support import daemons, payloads
from tests.support.waiting import unique, wait_for

pytestmark = pytest.mark.integration


def start_serve(cli: Dlwatch, *args: str, stdin: str | None = None):
    port = daemons.free_port()
    process = cli.popen(
        "serve", "--bind", f"{args[0] if args else '127.0.0.1'}:{port}", *args[1:], stdin=stdin is not None
    )
    if stdin is not None:
        process.stdin.write(stdin)
        process.stdin.close()
    url = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        try:
            httpx.get(url, timeout=1)
            return True
        except httpx.HTTPError:
            assert process.poll() is None, process.stderr.read()
            return False

    wait_for(answers, timeout=20, every=0.1)
    return process, url


@pytest.fixture
def served(tmp_path, transmission, qbittorrent):
    cli = Dlwatch(tmp_path)
    cli.add_client("tr", transmission)
    cli.add_client("qb", qbittorrent)
    (cli.home / "config.toml").write_text("[poll]\ninterval = 1\n")
    name = unique("dlw-serve")
    data = payloads.make_payload(tmp_path / "elsewhere", name, 512 * 1024)
    torrent = tmp_path / f"{name}.torrent"
    torrent.write_bytes(payloads.make_torrent(data, announce="http://127.0.0.1:9/announce"))
    attempt = cli.send(torrent, "--client", "tr")
    process, url = start_serve(cli)
    try:
        yield cli, url, attempt
    finally:
        process.terminate()
        process.wait(10)


def test_downloads_and_summary_agree_with_status_json(served, transmission, qbittorrent):
    cli, url, attempt = served
    summary = wait_for(
        lambda: (s := httpx.get(f"{url}/api/v1/summary").json())["clients"][0]["up"] is not None and s, timeout=20
    )
    by_name = {c["name"]: c for c in summary["clients"]}
    assert by_name["tr"]["up"] is True and by_name["qb"]["up"] is True
    assert by_name["tr"]["version"].startswith("3.00") and by_name["qb"]["version"].startswith("v4")
    status = json.loads(cli.ok("status", "--json", "--no-refresh"))
    served_records = httpx.get(f"{url}/api/v1/downloads").json()
    assert [r["id"] for r in served_records] == [r["id"] for r in status]
    assert {k: v for k, v in served_records[0].items() if k != "updated_at"} == {
        k: v for k, v in status[0].items() if k != "updated_at"
    }
    everything = json.loads(cli.ok("status", "--all", "--json", "--no-refresh"))
    counts = {}
    for record in everything:
        counts[record["status"]] = counts.get(record["status"], 0) + 1
    assert summary["counts"] == counts
    assert httpx.get(f"{url}/api/v1/downloads", params={"client": "qb"}).json() == []
    only = httpx.get(f"{url}/api/v1/downloads", params={"id": str(attempt["id"])}).json()
    assert [r["id"] for r in only] == [attempt["id"]]
    for secret in (transmission.password, qbittorrent.password):
        assert secret not in json.dumps(summary) and secret not in json.dumps(served_records)


def test_metrics_parse_with_prometheus_clients_own_parser(served):
    _, url, _ = served
    wait_for(lambda: 'dlwatch_client_up{client="tr"' in httpx.get(f"{url}/metrics").text, timeout=20)
    text = httpx.get(f"{url}/metrics").text
    families = {f.name: f for f in text_string_to_metric_families(text)}
    up = {s.labels["client"]: s.value for s in families["dlwatch_client_up"].samples}
    assert up == {"tr": 1.0, "qb": 1.0}
    downloads = [s for s in families["dlwatch_downloads"].samples if s.labels["client"] == "tr"]
    assert sum(s.value for s in downloads) == 1
    assert {"dlwatch_poll_failures", "dlwatch_hook_runs_failed", "dlwatch_client_last_success_age_seconds"} <= set(
        families
    )


def test_off_loopback_reads_need_the_read_token(tmp_path):
    cli = Dlwatch(tmp_path)
    refused = cli("serve", "--bind", f"0.0.0.0:{daemons.free_port()}")
    assert refused.returncode == 2 and "needs a read token" in refused.stderr
    process, url = start_serve(cli, "0.0.0.0", "--read-token-stdin", stdin="dash-token-123\n")
    try:
        summary = f"{url}/api/v1/summary"
        assert httpx.get(summary).status_code == 401
        assert httpx.get(summary, headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert httpx.get(summary, headers={"Authorization": "Bearer dash-token-123"}).status_code == 200
        assert httpx.get(f"{url}/metrics").status_code == 401
        assert httpx.post(f"{url}/report/x", content=b"x" * 70_000).status_code == 413  # reports: their own token
        with socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1]))) as sock:
            sock.sendall(b"GET /api/v1/downloads?" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
            assert sock.recv(100).startswith(b"HTTP/1.0 414")
    finally:
        process.terminate()
        process.wait(10)
    for path in cli.home.rglob("*"):
        if path.is_file():
            assert b"dash-token-123" not in path.read_bytes(), path


def test_the_documented_homepage_example_gets_a_valid_answer(served):
    """docs/serve.md's Homepage `customapi` widget, filled in as written: every field it maps exists."""
    _, url, _ = served
    page = (ROOT / "docs" / "serve.md").read_text()
    block = page.split("```yaml", 1)[1].split("```", 1)[0]
    example_url = re.search(r"url: (\S+)", block).group(1)
    fields = re.findall(r"field: (\w+)", block)
    assert fields
    answer = httpx.get(example_url.replace("http://dlwatch-host:9797", url)).json()
    assert all(f in answer for f in fields), (fields, answer)
