"""The project's own error kinds. The CLI turns each into one line and an exit code."""

from __future__ import annotations


class DlwatchError(Exception):
    """An error the user can act on; its message says what to do."""

    exit_code = 1


class UsageError(DlwatchError):
    exit_code = 2


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

    def for_client(self, name: str) -> ClientError:
        self.client = name
        return self

    def __str__(self) -> str:
        prefix = f"{self.client}: " if self.client else ""
        hint = self.what_to_do.format(name=self.client or "NAME")
        return f"{prefix}{self.message}" + (f"; {hint}" if hint else "")


class CannotConnect(ClientError):
    what_to_do = "check that the client is running and the host, port and --ssl settings are right"


class NotDelivered(CannotConnect):
    """Nothing reached the client (refused, DNS, TLS, connect timeout): safe to try another."""


class AuthRejected(ClientError):
    what_to_do = "fix it with `dlwatch client edit {name} --password-stdin` (or --api-key-stdin)"


class UnexpectedResponse(ClientError):
    what_to_do = "check the url base and that this is the right client type; --debug shows more"


class ActionUnsupported(ClientError):
    """The client has no way to do what was asked (e.g. delete a finished Usenet job's files)."""


class DownloadNotFound(ClientError):
    """The client does not know the download id asked for."""
