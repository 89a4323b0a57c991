"""The project's own error kinds. The CLI turns each into one line and an exit code."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dlwatch.core.models import ClientConfig


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

    def for_client(self, client: str | ClientConfig) -> ClientError:
        """Name the client in the message; given its settings, the hint names its secret's option."""
        if isinstance(client, str):
            self.client = client
            return self
        from dlwatch.adapters.registry import adapter_class
        from dlwatch.settings.secrets import stdin_option

        self.client = client.name
        self.secret_option = stdin_option(adapter_class(client.type).secret_kind)
        return self

    def __str__(self) -> str:
        import shlex

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
