"""config.toml: the shipped example is valid and documents every key `config init` writes."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from dlwatch.core.errors import ConfigError
from dlwatch.settings.config import DEFAULTS, default_document, parse_settings

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "config.toml"


def test_the_example_parses_to_the_defaults_and_names_every_key():
    text = EXAMPLE.read_text()
    assert parse_settings(tomllib.loads(text), EXAMPLE) == DEFAULTS
    for section, keys in default_document().items():
        for key in keys if isinstance(keys, dict) else []:
            assert re.search(rf"^{key} = ", text, re.M), f"[{section}] {key} is not in {EXAMPLE}"


@pytest.mark.parametrize(
    "doc",
    [
        {"hooks": {"retries": -1}},
        {"hooks": {"retries": 1.5}},
        {"hooks": {"retry_delay": 0}},
        {"http": {"timeout": float("nan")}},
        {"poll": {"interval": float("inf")}},
    ],
)
def test_out_of_range_numbers_are_a_config_error(doc):
    with pytest.raises(ConfigError):
        parse_settings(doc)
