"""The project's own error kinds. The CLI turns each into one line and an exit code."""

from __future__ import annotations

import shlex

from dlwatch.core.models import stdin_option


class DlwatchError(Exception):
    """An error the user can act on; its message says what to do."""

    exit_code = 1


class UsageError(DlwatchError):
    """What was typed cannot work: an option, an argument, a value out of range (exit 2)."""

    exit_code = 2


class Refused(DlwatchError):
    """Well typed, but the state of things does not allow it: already tracked, no such client
    enabled, a file that is not a .torrent, a name taken (exit 1, as every runtime failure)."""


class ConfigError(DlwatchError):
    pass


class NotFoundError(DlwatchError):
    """A dlwatch object (client, attempt) does not exist."""


class KeyringUnavailable(DlwatchError):
    pass


class ClientError(DlwatchError):
    """A download client failed; `client` is filled in where the caller knows its name."""

    what_to_do = ""

    def __init__(self, message: str, *, client: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.client = client
        self.secret_option = "--password-stdin (or --api-key-stdin)"

    def for_client(self, client: str, secret_kind: str | None = None) -> ClientError:
        """Name the client in the message; given the kind of its secret (its adapter's
        `secret_kind`), the hint names the option that sets it."""
        self.client = client
        if secret_kind is not None:
            self.secret_option = stdin_option(secret_kind)
        return self

    def __str__(self) -> str:
        prefix = f"{self.client}: " if self.client else ""
        hint = self.what_to_do.format(
            name=shlex.quote(self.client) if self.client else "NAME", option=self.secret_option
        )
        return f"{prefix}{self.message}" + (f"; {hint}" if hint else "")


class CannotConnect(ClientError):
    what_to_do = "check that the client is running and the host, port and --ssl settings are right"


class NotDelivered(CannotConnect):
    """Nothing reached the client (refused, DNS, TLS, connect timeout): safe to try another."""


class AuthRejected(ClientError):
    what_to_do = "fix it with `dlwatch client edit {name} {option}`"


class UnexpectedResponse(ClientError):
    what_to_do = "check the url base and that this is the right client type; --debug shows more"


class ActionUnsupported(ClientError):
    """The client has no way to do what was asked (e.g. delete a finished Usenet job's files)."""


class DownloadNotFound(ClientError):
    """The client does not know the download id asked for."""


def cause_chain(exc: BaseException) -> list[str]:
    """`--debug`: what lay under an error, one line per cause, innermost last."""
    lines, seen = [], {id(exc)}
    current = exc.__cause__ or exc.__context__
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        lines.append(f"caused by {type(current).__module__}.{type(current).__name__}: {current}")
        current = current.__cause__ or current.__context__
    return lines
