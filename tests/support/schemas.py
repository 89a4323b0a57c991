"""The JSON Schemas of dlwatch's outputs (src/dlwatch/core/schemas/), for the tests to check real outputs
against. Every name a test checks is remembered, so a test can make sure no schema goes unchecked."""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any

CHECKED: set[str] = set()


@cache
def _registry_and_schemas():
    from referencing import Registry, Resource

    schemas = {}
    for entry in files("dlwatch.core").joinpath("schemas").iterdir():
        if entry.name.endswith(".json"):
            schemas[entry.name.removesuffix(".json")] = json.loads(entry.read_text(encoding="utf-8"))
    registry = Registry().with_resources((s["$id"], Resource.from_contents(s)) for s in schemas.values())
    return registry, schemas


def names() -> set[str]:
    return set(_registry_and_schemas()[1]) - {"common"}


def check(name: str, data: Any) -> Any:
    """Raise if `data` does not match schema `name`; return it, for chaining."""
    from jsonschema import Draft202012Validator

    registry, schemas = _registry_and_schemas()
    Draft202012Validator(schemas[name], registry=registry).validate(data)
    CHECKED.add(name)
    return data


def check_lines(name: str, text: str) -> list[Any]:
    return [check(name, json.loads(line)) for line in text.splitlines() if line.strip()]
