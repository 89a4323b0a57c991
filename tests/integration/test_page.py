"""The page in a real Chromium, against a real `dlwatch serve` with the real Transmission,
qBittorrent and NZBGet behind it: every tracked download listed; a completion recorded by a
`dlwatch poll --once` in another process shown without a reload; pause and resume from the page
acting in qBittorrent; a write without the token refused, and the page saying so; a title holding
HTML and an ANSI escape shown as text; the server going away and coming back, said on the page.
Screenshots at 360 and 1280 pixels go to the test's temp dir."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from tests.integration.cli import Dlwatch
from tests.integration.test_serve import start_serve
from tests.support import by_hand, daemons, payloads
from tests.support.browser import chromium
from tests.support.waiting import unique, wait_for

pytestmark = pytest.mark.integration

WRITE = "page-write-token-42"
HOSTILE = "<img src=x onerror=alert(1)>\x1b[31mred"
NZB = b"""<?xml version="1.0" encoding="utf-8"?>
<nzb xmlns="http://www.newzbin.com/DTD/2003/nzb">
  <file poster="dlwatch" date="1700000000" subject="&quot;page.bin&quot; yEnc (1/1)">
    <groups><group>alt.binaries.dlwatch</group></groups>
    <segments><segment bytes="1000" number="1">page-1@dlwatch.test</segment></segments>
  </file>
</nzb>
"""


def row(driver, attempt_id: int):
    from selenium.webdriver.common.by import By

    found = driver.find_elements(By.CSS_SELECTOR, f'tr[data-id="{attempt_id}"]')
    return found[0] if found else None


def status_on_page(driver, attempt_id: int) -> str | None:
    """The row's status as the page shows it now (rows are redrawn as events come: read it at once)."""
    return driver.execute_script(
        "const r = document.querySelector(`tr[data-id='${arguments[0]}']`); return r && r.dataset.status", attempt_id
    )


def click(driver, attempt_id: int, action: str) -> None:
    """Click a row's button as a person would; a row redrawn under the pointer is found again."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By

    def clicked() -> bool:
        try:
            row(driver, attempt_id).find_element(By.CSS_SELECTOR, f'button[data-action="{action}"]').click()
            return True
        except StaleElementReferenceException:
            return False

    wait_for(clicked, timeout=5, every=0.1)


def qb_state(qbittorrent, infohash: str) -> str:
    with by_hand.qbittorrent(qbittorrent) as client:
        return client.get("/torrents/info", params={"hashes": infohash}).json()[0]["state"]


def test_the_page_in_chromium(tmp_path, transmission, qbittorrent, nzbget):
    from selenium.webdriver.common.by import By

    cli = Dlwatch(tmp_path)
    cli.add_client("tr", transmission)
    cli.add_client("qb", qbittorrent)
    cli.add_client("nzb", nzbget)
    # serve polls once as it starts, then not for an hour: the completion must come from elsewhere.
    (cli.home / "config.toml").write_text("[poll]\ninterval = 3600\n")
    name = unique("dlw-page")
    done_data = payloads.make_payload(transmission.download_dir, f"{name}-done", 256 * 1024)
    done_torrent = tmp_path / "done.torrent"
    done_torrent.write_bytes(payloads.make_torrent(done_data, announce="http://127.0.0.1:9/announce"))
    done = cli.send(done_torrent, "--client", "tr", "--paused")
    nobody = payloads.make_payload(tmp_path / "nobody", f"{name}-stuck", 512 * 1024)  # no one seeds it
    stuck_torrent = tmp_path / "stuck.torrent"
    stuck_torrent.write_bytes(payloads.make_torrent(nobody, announce="http://127.0.0.1:9/announce"))
    stuck = cli.send(stuck_torrent, "--client", "qb")
    nzb = tmp_path / "page.nzb"
    nzb.write_bytes(NZB)
    hostile = cli.send(nzb, "--client", "nzb", "--title", HOSTILE)
    process, url = start_serve(cli, "127.0.0.1", "--write-token-stdin", stdin=f"{WRITE}\n")
    try:
        with chromium(1280, 900) as driver:
            driver.get(url)
            wait_for(lambda: all(row(driver, a["id"]) for a in (done, stuck, hostile)), timeout=15, every=0.2)
            assert "live" in driver.find_element(By.ID, "live").text

            # A title is text, never markup: no element made of it, and the escape shown as \x1b.
            title = driver.execute_script(
                "return document.querySelector(`tr[data-id='${arguments[0]}'] .name`).textContent", hostile["id"]
            )
            assert title == "<img src=x onerror=alert(1)>\\x1b[31mred"
            assert not driver.find_elements(By.CSS_SELECTOR, "#rows img")

            # A completion recorded by another process shows without a reload.
            driver.execute_script("window.dlwatchMark = 1")
            by_hand.resume(transmission, done["client_download_id"])

            def completion_recorded() -> float | None:
                """When the `poll --once` that recorded the completion ended (an upper bound)."""
                poll_once(cli)
                ended = time.monotonic()
                return ended if cli.status_no_refresh(done["id"])["status"] == "completed" else None

            recorded = wait_for(completion_recorded, timeout=30)
            wait_for(lambda: status_on_page(driver, done["id"]) == "completed", timeout=5, every=0.05)
            shown_after = time.monotonic() - recorded
            print(f"a completion recorded by another process was on the page {shown_after:.2f} s later")
            assert shown_after < 2.0, shown_after
            assert driver.execute_script("return window.dlwatchMark") == 1  # the same page: no reload

            # A write without the token is refused, and the page says so.
            click(driver, stuck["id"], "pause")
            message = driver.find_element(By.ID, "message")
            wait_for(lambda: message.is_displayed() and "401" in message.text, timeout=5, every=0.1)
            assert "write token" in message.text
            assert qb_state(qbittorrent, stuck["client_download_id"]) not in ("pausedDL", "stoppedDL")

            # With the token: pause and resume act in qBittorrent.
            driver.find_element(By.ID, "open-token").click()
            driver.find_element(By.ID, "write-token").send_keys(WRITE)
            driver.find_element(By.CSS_SELECTOR, '#token-dialog button[value="save"]').click()
            wait_for(lambda: row(driver, stuck["id"]) is not None, timeout=5)
            click(driver, stuck["id"], "pause")
            wait_for(
                lambda: qb_state(qbittorrent, stuck["client_download_id"]) in ("pausedDL", "stoppedDL"), timeout=10
            )
            wait_for(lambda: status_on_page(driver, stuck["id"]) == "paused", timeout=5, every=0.1)
            click(driver, stuck["id"], "resume")
            wait_for(
                lambda: qb_state(qbittorrent, stuck["client_download_id"]) not in ("pausedDL", "stoppedDL"), timeout=10
            )
            # No script error and no CSP violation (the refused write's 401 is the only network error).
            problems = [e for e in driver.get_log("browser") if e["level"] == "SEVERE" and e["source"] != "network"]
            assert not problems, problems
            driver.save_screenshot(str(tmp_path / "page-1280.png"))

            # The server goes away: the page says so; it comes back on the same port: the page says that.
            port = url.rsplit(":", 1)[1]
            process.terminate()
            process.wait(10)
            live = driver.find_element(By.ID, "live")
            wait_for(lambda: "unreachable" in live.text, timeout=10, every=0.2)
            process, _ = start_serve_on(cli, port)
            wait_for(lambda: live.text == "live again", timeout=15, every=0.2)

        with chromium(360, 1400) as phone:
            phone.get(url)
            wait_for(lambda: row(phone, stuck["id"]) is not None, timeout=15, every=0.2)
            widths = phone.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
            assert widths[0] <= widths[1], widths  # nothing wider than the phone: rows are cards
            phone.save_screenshot(str(tmp_path / "page-360.png"))
    finally:
        process.terminate()
        process.wait(10)
        by_hand.remove_named(transmission, name)
        by_hand.remove_named(qbittorrent, name)


def poll_once(cli: Dlwatch) -> bool:
    """`dlwatch poll --once` in its own process, as cron runs it."""
    return cli("poll", "--once").returncode in (0, 1)


def start_serve_on(cli: Dlwatch, port: str):
    process = cli.popen("serve", "--bind", f"127.0.0.1:{port}")
    wait_for(lambda: _answers(f"http://127.0.0.1:{port}"), timeout=20, every=0.1)
    return process, f"http://127.0.0.1:{port}"


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/api/v1/summary", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_the_page_is_small_and_served_without_any_other_host(tmp_path):
    """No CDN: every file the page loads is this server's, and all of it is far under 100 KB."""
    cli = Dlwatch(tmp_path)
    process, url = start_serve(cli)
    try:
        page = httpx.get(url)
        assert "http" not in page.text.replace('content="', "")  # nothing from elsewhere
        files = ["/", "/static/app.js", "/static/stream.js", "/static/text.js", "/static/app.css", "/static/icon.svg"]
        total = sum(len(httpx.get(f"{url}{path}").content) for path in files)
        assert total < 100 * 1024, total
        assert json.loads(httpx.get(f"{url}/api/v1/downloads").text) == []
    finally:
        process.terminate()
        process.wait(10)
    assert daemons.free_port()  # nothing left listening on the way out (the port is free again)
