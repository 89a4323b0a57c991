from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keyring
import pytest
from keyring.backend import KeyringBackend

FIXTURES = Path(__file__).parent / "fixtures"
DROP_HEADERS = {"content-length", "content-encoding", "transfer-encoding", "connection"}


class MemoryKeyring(KeyringBackend):
    """A keyring that lives and dies with one test."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        from keyring.errors import PasswordDeleteError

        if self.store.pop((service, username), None) is None:
            raise PasswordDeleteError(username)


@pytest.fixture(autouse=True)
def memory_keyring() -> MemoryKeyring:
    backend = MemoryKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture(autouse=True)
def dlwatch_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("DLWATCH_HOME", str(home))
    for name in list(__import__("os").environ):
        if name.startswith("DLWATCH_") and name != "DLWATCH_HOME" and name != "DLWATCH_REQUIRE_REAL_CLIENTS":
            monkeypatch.delenv(name)
    return home


@dataclass
class Recorded:
    """One HTTP exchange recorded from a real client (any of the fixture folders' formats)."""

    request: dict[str, Any]
    status: int
    headers: dict[str, str]
    body: Any

    @property
    def text(self) -> str:
        return self.body if isinstance(self.body, str) else json.dumps(self.body)

    def response_kwargs(self) -> dict[str, Any]:
        headers = {k: v for k, v in self.headers.items() if k.lower() not in DROP_HEADERS}
        return {"status_code": self.status, "headers": headers, "content": self.text.encode()}


def recorded(name: str) -> Recorded:
    data = json.loads((FIXTURES / name).read_text())
    response = data["response"]
    return Recorded(data["request"], response["status"], response.get("headers", {}), response.get("body"))


def fixture_body(name: str) -> Any:
    return recorded(name).body
