"""The adapter interface, and the one boundary where transport failures become dlwatch errors."""

from __future__ import annotations

import abc
import contextlib
import json
import ssl
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar

import httpx

from dlwatch.adapters.httpio import AnswerTooLarge, DeadlinePassed, read_bounded, timeout_until
from dlwatch.core.errors import (
    ActionUnsupported,
    AuthRejected,
    CannotConnect,
    ClientError,
    NotDelivered,
    UnexpectedResponse,
    UsageError,
)
from dlwatch.core.models import (
    AddRequest,
    ClientVersion,
    Connection,
    DownloadFiles,
    DownloadItem,
    DownloadStatus,
    Protocol,
    PushReport,
    PushSetting,
    ShareLimits,
)

USER_AGENT = "dlwatch/0.1"


class ClientAdapter(abc.ABC):
    """One download client. Subclasses are registered in the `dlwatch.clients` entry-point group.

    Adapters speak HTTP and normalise; they know nothing of SQLite, Typer or Rich.
    """

    type_name: ClassVar[str]
    display_name: ClassVar[str]
    protocol: ClassVar[Protocol]
    default_port: ClassVar[int]
    default_url_base: ClassVar[str] = ""
    # Which secret the client takes: "api_key" or "password"; whether it needs a username too.
    secret_kind: ClassVar[str]
    uses_username: ClassVar[bool] = True
    # May --host be the path of a unix socket (starting with "/") instead of a host name?
    takes_socket_path: ClassVar[bool] = False
    # Can list_downloads() ask the client for given ids only?
    can_filter_ids: ClassVar[bool] = True
    # The client's documented raw states and what each means here: the one place for this fact.
    STATES: ClassVar[Mapping[str, DownloadStatus]]

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._http: httpx.Client | None = None
        # A time.monotonic() by which all of this client's work must be done (a poll cycle sets it
        # with `work_within`): every request and body read is cut off there, however slow the drip.
        self.deadline: float | None = None
        self.deadline_seconds = 0.0

    @contextlib.contextmanager
    def work_within(self, seconds: float) -> Iterator[None]:
        self.deadline, self.deadline_seconds = time.monotonic() + seconds, seconds
        try:
            yield
        finally:
            self.deadline = None

    @classmethod
    def settings_problem(cls, connection: Connection) -> str | None:
        """What makes these settings unusable for this client, checked before anything is saved."""
        return None

    @classmethod
    def address(cls, connection: Connection) -> str:
        """Where the client is reached, as shown to the user."""
        return connection.base_url

    def __repr__(self) -> str:
        c = self.connection
        return f"{type(self).__name__}({c.base_url!r}, username={c.username!r}, secret={c.secret!r})"

    # -- the interface ---------------------------------------------------------------------------

    @abc.abstractmethod
    def version(self) -> ClientVersion:
        """Connect, authenticate and report the client's version."""

    @abc.abstractmethod
    def add(self, request: AddRequest) -> str:
        """Hand the download to the client; return the client's own id for it."""

    @abc.abstractmethod
    def list_downloads(self, ids: Sequence[str] | None = None) -> list[DownloadItem]:
        """The client's active list: everything, or only `ids` where the client can filter."""

    # -- actions: through the client's own API, as its web UI would ----------------------------------

    def pause(self, download_id: str) -> None:
        raise ActionUnsupported(f"dlwatch cannot pause downloads in {self.display_name}")

    def resume(self, download_id: str) -> None:
        raise ActionUnsupported(f"dlwatch cannot resume downloads in {self.display_name}")

    def remove(self, download_id: str, *, delete_data: bool) -> None:
        """Take the download out of the client; with `delete_data`, its files too."""
        raise ActionUnsupported(f"dlwatch cannot remove downloads from {self.display_name}")

    # False where the client's API cannot delete a download's files (rTorrent, aria2): dlwatch then
    # deletes them itself from what `files` reports, as the *arrs do for such clients.
    deletes_files: ClassVar[bool] = True

    def files(self, download_id: str) -> DownloadFiles:
        """Where the download's files are, for a client that cannot delete them itself."""
        raise ActionUnsupported(f"dlwatch cannot list the files of a {self.display_name} download")

    def share_limits(self) -> ShareLimits | None:
        """The client's own seeding limits, where it has any that could take a download away (None:
        none set, or none this client has)."""
        return None

    # -- push: the client runs `dlwatch report` when a download ends -------------------------------
    # How it is set up: "program" (a command line set through the API), "script" (a program file
    # set through the API, run with an environment), "script_dir" (a script dlwatch writes into the
    # client's own script folder, then named per job), or None where dlwatch cannot set it up.
    push_kind: ClassVar[str | None] = None
    # What `dlwatch report` exits with, for clients that read it (NZBGet: "nothing done").
    report_exit_code: ClassVar[int] = 0

    def push_setting(self) -> PushSetting:
        """What the client runs now when a download ends (for script_dir clients: its folder)."""
        raise ActionUnsupported(f"dlwatch cannot set up push for {self.display_name}")

    def set_push_setting(self, setting: PushSetting) -> None:
        raise ActionUnsupported(f"dlwatch cannot set up push for {self.display_name}")

    def push_script_written(self) -> None:
        """Called after dlwatch put its script in the client's script folder (NZBGet rescans it)."""
        return None

    # For "program" clients: the placeholders the client fills in, passed to `dlwatch report`.
    report_placeholders: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def read_report(cls, env: Mapping[str, str], args: Sequence[str]) -> PushReport:
        """What the client passed when it ran the report program; UsageError if it names nothing."""
        raise UsageError(f"{cls.display_name} does not run programs dlwatch can read")

    def list_recent(self, since: float) -> list[DownloadItem]:
        """The downloads added since `since` (a Unix time), where a download known only by its title
        (just sent by Prowlarr) will be. Clients that can bound this listing override it; by
        default, all."""
        return self.list_downloads(None)

    def list_recent_finished(self) -> list[DownloadItem]:
        """The newest finished jobs of clients that keep them apart (a Usenet history), where a job
        known only by its title is when it ended before dlwatch first looked. Bounded; none here."""
        return []

    def list_finished(self, ids: Sequence[str]) -> list[DownloadItem]:
        """Finished jobs, for clients that keep them apart (history), looked up by id."""
        return []

    def session_state(self) -> dict[str, Any] | None:
        """What another process may reuse of this adapter's login and handshake (see sessioncache)."""
        return None

    def resume_session(self, state: dict[str, Any]) -> None:
        """Take up a session another process left; the adapter must still cope if it was dropped."""
        return None

    def _cookie_state(self) -> dict[str, Any] | None:
        """session_state() for clients whose login is a cookie (qBittorrent, Deluge)."""
        cookies = {c.name: c.value for c in self.http.cookies.jar}
        return {"cookies": cookies} if cookies else None

    def _resume_cookies(self, state: dict[str, Any]) -> bool:
        """Take up cookies another process left; True if there were any. A stale one costs the
        client's "log in again" answer, which each adapter handles once anyway."""
        cookies = state.get("cookies")
        if not isinstance(cookies, dict) or not cookies or not all(isinstance(v, str) for v in cookies.values()):
            return False
        for name, value in cookies.items():
            self.http.cookies.set(name, value)
        return True

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    def __enter__(self) -> ClientAdapter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- shared HTTP -----------------------------------------------------------------------------

    @property
    def http(self) -> httpx.Client:
        if self._http is None:
            c = self.connection
            try:
                self._http = httpx.Client(
                    base_url=c.base_url,
                    timeout=httpx.Timeout(c.timeout, connect=min(c.timeout, 10.0)),
                    # Loading the CA store costs start-up time that plain http:// never needs.
                    verify=c.verify if c.use_ssl else False,
                    headers={"User-Agent": USER_AGENT},
                    follow_redirects=False,
                )
            except (OSError, ssl.SSLError) as exc:
                raise NotDelivered(f"cannot use the CA bundle {c.verify}: {exc}") from exc
        return self._http

    @contextlib.contextmanager
    def transport_errors(self) -> Iterator[None]:
        """Map httpx failures to the few kinds the rest of dlwatch understands."""
        where = self.connection.base_url
        try:
            yield
        except ClientError:
            raise
        except httpx.ConnectTimeout as exc:
            raise NotDelivered(f"timed out connecting to {where}") from exc
        except httpx.TimeoutException as exc:
            raise CannotConnect(
                f"{where} did not answer within {self.connection.timeout:g}s "
                "(raise [http] timeout in config.toml if it is just slow)"
            ) from exc
        except httpx.ConnectError as exc:
            text = str(exc)
            if "CERTIFICATE_VERIFY_FAILED" in text or "SSL" in text or "TLS" in text:
                raise NotDelivered(
                    f"TLS failed for {where}: {_first_line(text)} "
                    "(for a self-signed certificate use --ca-bundle FILE, or --insecure)"
                ) from exc
            raise NotDelivered(f"cannot connect to {where}: {_first_line(text)}") from exc
        except httpx.RemoteProtocolError as exc:
            raise UnexpectedResponse(
                f"{where} broke the HTTP exchange ({_first_line(str(exc))}); is this an https port?"
            ) from exc
        except httpx.HTTPError as exc:
            raise CannotConnect(f"request to {where} failed: {_first_line(str(exc))}") from exc
        except (httpx.InvalidURL, httpx.StreamError) as exc:
            raise UnexpectedResponse(f"could not make a request to {where}: {_first_line(str(exc))[:160]}") from exc

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One exchange, its body read within the size limit and the deadline (`httpio`)."""
        c = self.connection
        with self.transport_errors():
            try:
                timeout = timeout_until(self.deadline, c.timeout)
                return read_bounded(
                    self.http, method, path, limit=c.max_answer_bytes, deadline=self.deadline, timeout=timeout, **kwargs
                )
            except AnswerTooLarge as exc:
                raise UnexpectedResponse(
                    f"{c.base_url} sent {exc} for one answer; stopped reading "
                    "(raise [http] max_answer_mib in config.toml if that is right)"
                ) from None
            except DeadlinePassed:
                self._http = None  # read_bounded closed it; a later cycle starts a new one
                raise CannotConnect(
                    f"{c.base_url} did not finish answering within this poll's deadline "
                    f"({self.deadline_seconds:g}s, twice [http] timeout); cut off"
                ) from None

    def check_status(self, response: httpx.Response, *, what: str) -> None:
        """401/403 mean the client turned us away; any other non-2xx is unexpected."""
        if response.status_code in (401, 403):
            detail = _first_line(response.text) if response.text.strip() else f"HTTP {response.status_code}"
            raise AuthRejected(f"{self.display_name} rejected the credentials ({detail})")
        if response.status_code == 404:
            raise UnexpectedResponse(f"{self.display_name} has no {what} at {response.request.url.path} (HTTP 404)")
        if not 200 <= response.status_code < 300:
            raise UnexpectedResponse(
                f"{self.display_name} answered HTTP {response.status_code} to {what}: "
                f"{_first_line(response.text)[:120]}"
            )

    def json_body(self, response: httpx.Response, *, what: str) -> Any:
        try:
            return response.json()
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise UnexpectedResponse(
                f"{self.display_name} did not answer JSON to {what}: {_first_line(response.text)[:80]!r}"
            ) from exc

    def map_state(self, raw: str) -> DownloadStatus:
        return self.STATES.get(raw, DownloadStatus.UNKNOWN)


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


# What reading a JSON answer of the wrong shape raises (a list where a dict was, inf where an int was).
SHAPE_ERRORS = (KeyError, IndexError, TypeError, ValueError, AttributeError, OverflowError)


def shape_error(client: str, what: str, exc: Exception) -> UnexpectedResponse:
    """A JSON answer that lacks what the documented shape promises."""
    return UnexpectedResponse(f"{client} answered {what} in an unexpected shape ({type(exc).__name__}: {exc})")


def chunked(values: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    """`values` a `size` at a time, for ids that go into a URL or one request body."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def progress_from(total: int | None, remaining: int | None) -> float:
    if not total or remaining is None:
        return 0.0
    return min(1.0, max(0.0, (total - remaining) / total))
