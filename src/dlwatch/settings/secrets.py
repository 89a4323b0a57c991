"""API keys and passwords: the OS keyring, or an environment override. Nowhere else."""

from __future__ import annotations

import os
import re
import shlex
import sys

from dlwatch.core.errors import KeyringUnavailable

# The kinds of secret and their options belong to the vocabulary (core.models); re-exported, since
# every caller that reads or writes a secret names its kind through this module.
from dlwatch.core.models import API_KEY as API_KEY
from dlwatch.core.models import PASSWORD as PASSWORD
from dlwatch.core.models import PUSH_TOKEN as PUSH_TOKEN
from dlwatch.core.models import Secret
from dlwatch.core.models import stdin_option as stdin_option

SERVICE = "dlwatch"

NO_KEYRING_HINT = (
    "no OS keyring is available; unlock or install one (e.g. gnome-keyring), set {env}, or use a "
    "plaintext file keyring: `"
    + shlex.quote(sys.executable)
    + " -m pip install keyrings.alt` and PYTHON_KEYRING_BACKEND=keyrings.alt.file.PlaintextKeyring"
)


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
    # here, not at the top: start-up time (only this path needs it)
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
    # here, not at the top: start-up time (only this path needs it)
    import keyring
    from keyring.errors import KeyringError, NoKeyringError

    try:
        keyring.set_password(SERVICE, _account(client_id, kind), secret.reveal())
    except NoKeyringError as exc:
        raise KeyringUnavailable(NO_KEYRING_HINT.format(env=env_var(client_name, kind))) from exc
    except KeyringError as exc:
        raise KeyringUnavailable(f"the OS keyring refused to store the secret: {exc}") from exc


def delete_secret(client_id: str, kind: str) -> None:
    # here, not at the top: start-up time (only this path needs it)
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
