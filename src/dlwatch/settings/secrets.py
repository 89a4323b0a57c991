"""API keys and passwords: the OS keyring, or an environment override. Nowhere else."""

from __future__ import annotations

import os
import re
import shlex
import sys

from dlwatch.core.errors import KeyringUnavailable
from dlwatch.core.models import Secret

SERVICE = "dlwatch"

API_KEY = "api_key"
PASSWORD = "password"
PUSH_TOKEN = "push_token"  # what a client sends `dlwatch listen` with its reports

NO_KEYRING_HINT = (
    "no OS keyring is available; unlock or install one (e.g. gnome-keyring), set {env}, or use a "
    "plaintext file keyring: `"
    + shlex.quote(sys.executable)
    + " -m pip install keyrings.alt` and PYTHON_KEYRING_BACKEND=keyrings.alt.file.PlaintextKeyring"
)


def stdin_option(kind: str) -> str:
    """The command-line option that reads a secret of this kind from standard input."""
    return "--api-key-stdin" if kind == API_KEY else "--password-stdin"


def env_slug(client_name: str) -> str:
    """The name as it appears in environment variables: upper-cased, other characters as `_`.
    Two clients whose names fold to the same slug would share a variable, so that is refused."""
    return re.sub(r"[^A-Z0-9]+", "_", client_name.upper()).strip("_")


def env_var(client_name: str, kind: str) -> str:
    """DLWATCH_<CLIENT NAME>_API_KEY / _PASSWORD."""
    return f"DLWATCH_{env_slug(client_name)}_{kind.upper()}"


def _account(client_id: str, kind: str) -> str:
    # Keyed by the client's UUID so renaming a client keeps its secret.
    return f"{client_id}/{kind}"


def get_secret(client_id: str, client_name: str, kind: str) -> Secret | None:
    if value := os.environ.get(env_var(client_name, kind)):
        return Secret(value)
    import keyring
    from keyring.errors import KeyringError, NoKeyringError

    try:
        value = keyring.get_password(SERVICE, _account(client_id, kind))
    except NoKeyringError as exc:
        raise KeyringUnavailable(NO_KEYRING_HINT.format(env=env_var(client_name, kind))) from exc
    except KeyringError as exc:
        raise KeyringUnavailable(f"the OS keyring refused to answer: {exc}") from exc
    return Secret(value) if value else None


def set_secret(client_id: str, client_name: str, kind: str, secret: Secret) -> None:
    import keyring
    from keyring.errors import KeyringError, NoKeyringError

    try:
        keyring.set_password(SERVICE, _account(client_id, kind), secret.reveal())
    except NoKeyringError as exc:
        raise KeyringUnavailable(NO_KEYRING_HINT.format(env=env_var(client_name, kind))) from exc
    except KeyringError as exc:
        raise KeyringUnavailable(f"the OS keyring refused to store the secret: {exc}") from exc


def delete_secret(client_id: str, kind: str) -> None:
    import keyring
    from keyring.errors import KeyringError, PasswordDeleteError

    try:
        keyring.delete_password(SERVICE, _account(client_id, kind))
    except PasswordDeleteError:
        pass  # nothing stored: nothing to delete
    except KeyringError:
        pass  # a missing keyring holds nothing of ours either


def env_override_present(client_name: str, kind: str) -> bool:
    return bool(os.environ.get(env_var(client_name, kind)))


def secret_source(owner_id: str, owner_name: str, kind: str) -> str:
    """Where a secret would come from, for `show` commands: never the secret itself."""
    if env_override_present(owner_name, kind):
        return f"environment ({env_var(owner_name, kind)})"
    try:
        return "keyring" if get_secret(owner_id, owner_name, kind) else "none"
    except KeyringUnavailable:
        return "unknown (no keyring)"
