"""Real daemons for the integration tests: started once per session, stopped by pid.

A daemon that is not installed skips its tests with the reason, unless DLWATCH_REQUIRE_REAL_CLIENTS=1
(set by .ci/run), which turns the skip into a failure so CI can never skip them silently.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support import daemons

REQUIRE = os.environ.get("DLWATCH_REQUIRE_REAL_CLIENTS") == "1"


def _daemon(kind: str, tmp_path_factory: pytest.TempPathFactory, **kwargs) -> daemons.Daemon:
    if not daemons.installed(kind):
        message = f"{daemons.BINARIES[kind]} is not installed (run `make test`, which installs it)"
        if REQUIRE:
            pytest.fail(message + "; DLWATCH_REQUIRE_REAL_CLIENTS=1 forbids skipping", pytrace=False)
        pytest.skip(message)
    root: Path = tmp_path_factory.mktemp(kind)
    return daemons.STARTERS[kind](root, **kwargs)


@pytest.fixture(scope="session")
def transmission(tmp_path_factory):
    daemon = _daemon("transmission", tmp_path_factory)
    yield daemon
    daemon.stop()


@pytest.fixture(scope="session")
def qbittorrent(tmp_path_factory):
    daemon = _daemon("qbittorrent", tmp_path_factory)
    yield daemon
    daemon.stop()


@pytest.fixture(scope="session")
def nzbget(tmp_path_factory):
    daemon = _daemon("nzbget", tmp_path_factory)
    yield daemon
    daemon.stop()


@pytest.fixture(scope="session")
def tracker():
    """A BitTorrent tracker on loopback, so the real clients find each other."""
    from tests.support.tracker import Tracker

    tracker = Tracker().start()
    yield tracker
    tracker.stop()


@pytest.fixture(scope="session")
def news():
    """A small news server for NZBGet (a delay per article keeps progress observable)."""
    from tests.support import nntp

    server = nntp.NewsServer(delay=0.25).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def nzbget_with_news(news, tmp_path_factory):
    daemon = _daemon("nzbget", tmp_path_factory, news_port=news.port)
    yield daemon
    daemon.stop()


@pytest.fixture(scope="session")
def deluge(tmp_path_factory):
    daemon = _daemon("deluge", tmp_path_factory)
    yield daemon
    daemon.stop()


@pytest.fixture(scope="session")
def rtorrent(tmp_path_factory):
    daemon = _daemon("rtorrent", tmp_path_factory)
    yield daemon
    daemon.stop()


@pytest.fixture(scope="session")
def rtorrent_on_socket(tmp_path_factory):
    """rTorrent listening on a unix socket instead of a port."""
    daemon = _daemon("rtorrent", tmp_path_factory, unix_socket=True)
    yield daemon
    daemon.stop()


@pytest.fixture(scope="session")
def aria2(tmp_path_factory):
    daemon = _daemon("aria2", tmp_path_factory)
    yield daemon
    daemon.stop()


@pytest.fixture(scope="session")
def all_daemons(transmission, qbittorrent, nzbget, deluge, rtorrent, aria2) -> dict[str, daemons.Daemon]:
    return {
        "transmission": transmission,
        "qbittorrent": qbittorrent,
        "nzbget": nzbget,
        "deluge": deluge,
        "rtorrent": rtorrent,
        "aria2": aria2,
    }


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On a failing test, show the log of every daemon it used."""
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        shown = set()
        for value in getattr(item, "funcargs", {}).values():
            for daemon in value.values() if isinstance(value, dict) else [value]:
                if isinstance(daemon, daemons.Daemon) and daemon.pid not in shown:
                    shown.add(daemon.pid)
                    report.sections.append((f"{daemon.kind} log (pid {daemon.pid})", daemon.log_tail()))
