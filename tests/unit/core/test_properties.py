"""Property tests over every parser of outside data: whatever the bytes, only dlwatch's own errors
come out (which the CLI turns into one line), never a crash."""

from __future__ import annotations

import contextlib
import copy
import json
import tomllib

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dlwatch.adapters import registry
from dlwatch.core.errors import DlwatchError
from dlwatch.core.models import Connection, Secret
from dlwatch.core.torrentmeta import TorrentError, parse_magnet, parse_torrent
from dlwatch.settings.config import parse_settings
from dlwatch.tracking.sources import _from_content
from tests.conftest import FIXTURES

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=25,
)


def bencode(value) -> bytes:
    if isinstance(value, int):
        return b"i%de" % value
    if isinstance(value, bytes):
        return b"%d:%s" % (len(value), value)
    if isinstance(value, list):
        return b"l" + b"".join(bencode(v) for v in value) + b"e"
    return b"d" + b"".join(bencode(k) + bencode(v) for k, v in sorted(value.items())) + b"e"


bencoded = st.recursive(
    st.integers() | st.binary(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.binary(max_size=8), children, max_size=4),
    max_leaves=20,
)


@SETTINGS
@given(st.one_of(st.binary(max_size=300), bencoded.map(bencode), bencoded.map(lambda v: bencode({b"info": v}))))
def test_torrent_parsing_raises_only_torrent_errors(data):
    with contextlib.suppress(TorrentError):
        parse_torrent(data)


@SETTINGS
@given(st.text(max_size=200).map(lambda t: "magnet:?" + t) | st.text(max_size=100))
def test_magnet_parsing_raises_only_torrent_errors(uri):
    with contextlib.suppress(TorrentError):
        parse_magnet(uri)


@SETTINGS
@given(st.binary(max_size=400), st.sampled_from(["x.torrent", "x.nzb", "x.bin", ""]))
def test_any_file_content_is_a_payload_or_one_usage_error(content, filename):
    with contextlib.suppress(DlwatchError):
        _from_content(content, filename, "", None, origin="test")


toml_values = st.recursive(
    st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats() | st.text(max_size=10),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=15,
)
config_keys = st.sampled_from(["poll", "http", "hooks", "path_mappings", "interval", "timeout", "on_complete"])


@SETTINGS
@given(
    st.dictionaries(
        config_keys, toml_values | st.dictionaries(config_keys | st.text(max_size=8), toml_values, max_size=4)
    )
)
def test_any_config_document_is_settings_or_one_config_error(doc):
    with contextlib.suppress(DlwatchError):
        parse_settings(doc)


def test_config_toml_that_is_not_toml_is_a_config_error():
    with pytest.raises(tomllib.TOMLDecodeError):
        tomllib.loads("[poll\ninterval = ")


def recorded_bodies(folder: str) -> list:
    bodies = []
    for path in sorted((FIXTURES / folder).glob("*.json")):
        body = json.loads(path.read_text()).get("response", {}).get("body")
        if isinstance(body, dict | list):
            bodies.append(body)
    return bodies


def mutated(body, draw_value, choices):
    """The recorded body with one value somewhere in it replaced."""
    body = copy.deepcopy(body)
    paths = []

    def walk(node, path):
        if isinstance(node, dict):
            for k, v in node.items():
                paths.append((*path, k))
                walk(v, (*path, k))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                paths.append((*path, i))
                walk(v, (*path, i))

    walk(body, ())
    if not paths:
        return draw_value
    target = paths[choices % len(paths)]
    node = body
    for step in target[:-1]:
        node = node[step]
    node[target[-1]] = draw_value
    return body


ADAPTER_FOLDERS = {
    "qbittorrent": "qbittorrent",
    "transmission": "transmission",
    "sabnzbd": "sabnzbd",
    "nzbget": "nzbget",
}


@pytest.mark.parametrize("type_name", sorted(ADAPTER_FOLDERS))
def test_any_client_answer_is_items_or_one_client_error(type_name):
    bodies = recorded_bodies(ADAPTER_FOLDERS[type_name])

    @SETTINGS
    @given(st.integers(0, 10**6), st.integers(0, 10**6), json_values)
    def check(which, where, value):
        body = mutated(bodies[which % len(bodies)], value, where) if bodies else value
        cls = registry.adapter_class(type_name)
        adapter = cls(Connection(host="127.0.0.1", port=1, username="u", secret=Secret("p"), timeout=1))

        def answer(request: httpx.Request) -> httpx.Response:
            headers = {"X-Transmission-Session-Id": "x"} if type_name == "transmission" else {}
            return httpx.Response(200, content=json.dumps(body).encode(), headers=headers)

        adapter._http = httpx.Client(base_url=adapter.connection.base_url, transport=httpx.MockTransport(answer))
        for call in (adapter.version, adapter.list_downloads, lambda: adapter.list_finished(["1", "a" * 40])):
            with contextlib.suppress(DlwatchError):
                call()

    check()
