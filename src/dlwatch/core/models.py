"""Data that crosses module lines: the normalised download model and client settings."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Protocol(enum.StrEnum):
    USENET = "usenet"
    TORRENT = "torrent"


class DownloadStatus(enum.StrEnum):
    """One vocabulary for every client. Adapters map their raw states onto it."""

    # Set by `send`, never by an adapter: recorded before the upload, so a killed send leaves a trace
    # that polling resolves (found in the client, or "never reached the client").
    SENDING = "sending"
    QUEUED = "queued"
    DOWNLOADING = "downloading"
    PAUSED = "paused"
    STALLED = "stalled"
    CHECKING = "checking"
    POSTPROCESSING = "postprocessing"
    COMPLETED = "completed"  # seeding counts as completed
    FAILED = "failed"
    # Set by the tracker, never by an adapter: seen, then gone from successive answers with no
    # history entry. Still looked for a while: it comes back if the client lists it again.
    MISSING = "missing"
    # Set by `dlwatch remove`, never by an adapter: taken out of the client on purpose.
    REMOVED = "removed"
    UNKNOWN = "unknown"

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATUSES


FINAL_STATUSES = frozenset(
    {DownloadStatus.COMPLETED, DownloadStatus.FAILED, DownloadStatus.MISSING, DownloadStatus.REMOVED}
)


# The kinds of secret the keyring keeps (settings/secrets.py), and the option that reads each.
API_KEY = "api_key"
PASSWORD = "password"
PUSH_TOKEN = "push_token"  # what a client sends `dlwatch listen` with its reports


def stdin_option(kind: str) -> str:
    """The command-line option that reads a secret of this kind from standard input."""
    return "--api-key-stdin" if kind == API_KEY else "--password-stdin"


class Secret:
    """A string that never shows itself in repr, str or f-strings."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class Connection:
    """Everything an adapter needs to reach one client."""

    host: str
    port: int
    use_ssl: bool = False
    url_base: str = ""
    username: str | None = None
    secret: Secret | None = None
    timeout: float = 10.0
    # True: verify against the system CAs; False: --insecure; a path: --ca-bundle.
    verify: bool | str = True
    max_answer_bytes: int = 160 * 2**20  # fits a full listing of a client with 50,000 torrents

    @property
    def base_url(self) -> str:
        scheme = "https" if self.use_ssl else "http"
        host = f"[{self.host}]" if ":" in self.host and not self.host.startswith("[") else self.host
        base = "/" + self.url_base.strip("/") if self.url_base.strip("/") else ""
        return f"{scheme}://{host}:{self.port}{base}"


@dataclass
class DownloadItem:
    """One download as a client reports it, normalised."""

    client_download_id: str
    title: str
    status: DownloadStatus
    raw_state: str
    progress: float = 0.0
    size_bytes: int | None = None
    remaining_bytes: int | None = None
    download_speed: int | None = None
    eta_seconds: int | None = None
    category: str | None = None
    save_path: str | None = None
    # Where the finished files are: a file or a folder, as the client sees it.
    content_path: str | None = None
    error: str | None = None
    # Other ids the same download answers to (qBittorrent hybrid torrents: v1 and v2 infohashes).
    alt_ids: tuple[str, ...] = ()
    # Client-side tag dlwatch attached when sending (NZBGet post-processing parameter).
    dlwatch_tag: str | None = None
    # For the dead-download rules: a magnet still fetching its metadata, and how much of the
    # torrent its peers have between them (below 1: no complete copy), where the client says.
    fetching_metadata: bool = False
    availability: float | None = None
    # A finished torrent as it seeds, as the client reports it (None where the client does not say):
    # whether the client seeds it now (not stopped or paused), its share ratio, seconds seeded,
    # bytes uploaded, upload speed (bytes/s) and the seeders it knows of.
    seeding: bool = False
    ratio: float | None = None
    seed_seconds: int | None = None
    uploaded_bytes: int | None = None
    upload_speed: int | None = None
    seeders: int | None = None

    def answers_to(self, download_id: str) -> bool:
        wanted = download_id.lower()
        return wanted == self.client_download_id.lower() or wanted in (a.lower() for a in self.alt_ids)


@dataclass(frozen=True)
class AddRequest:
    """What to hand a client. Exactly one of content, magnet or url is set."""

    title: str
    content: bytes | None = None
    filename: str | None = None
    magnet: str | None = None
    url: str | None = None
    category: str | None = None
    paused: bool = False
    priority: int = 0
    # Infohashes dlwatch computed from the .torrent or magnet (hex, lower case); the adapter
    # turns them into the id its client uses.
    infohash_v1: str | None = None
    infohash_v2: str | None = None
    # An opaque tag for clients that can carry one (NZBGet PP parameter), to find the job again.
    dlwatch_tag: str | None = None
    # The script dlwatch put in the client's script folder for push (`client push`), to be run
    # for this job (NZBGet's per-job post-processing parameter).
    report_script: str | None = None


@dataclass(frozen=True)
class ClientVersion:
    version: str
    api_version: str | None = None


@dataclass
class ClientConfig:
    """A configured download client, as stored (without its secret)."""

    id: str
    name: str
    type: str
    host: str
    port: int
    use_ssl: bool = False
    url_base: str = ""
    username: str | None = None
    category: str | None = None
    priority: int = 0
    enabled: bool = True
    tls_verify: bool = True
    ca_bundle: str | None = None
    created_at: str = ""
    updated_at: str = ""


@dataclass(frozen=True)
class PushSetting:
    """What a client runs when a download ends, as its own settings say: whether that is on, and
    the program (a command line or a script's path; for script-folder clients, the folder)."""

    enabled: bool
    program: str | None


@dataclass
class PushReport:
    """What a client passed to the program it ran when a download ended. `item` is set where that
    says it all (the status and where the files are), so nobody needs to ask the client."""

    ids: tuple[str, ...]
    item: DownloadItem | None = None
    # The item is all there is to know: the client is not asked.
    complete: bool = False


@dataclass(frozen=True)
class DirSpace:
    """The free space of one download folder, as read at `at` (the disk guard keeps these)."""

    path: str
    free_bytes: int | None
    at: str


@dataclass(frozen=True)
class Verdict:
    """A download found dead on this poll, and what the rules say to do with it."""

    attempt_id: int
    rule: str
    reason: str
    action: str


@dataclass(frozen=True)
class DownloadFiles:
    """A download's files as its client reports them: the folder the client saved it in (`root`,
    which holds other downloads too and is never deleted) and each file's path under it."""

    root: str
    files: tuple[str, ...]


@dataclass(frozen=True)
class ShareLimits:
    """A client's own seeding limits, as it reports them, and what it does once one is reached."""

    ratio: float | None
    seed_seconds: float | None
    action: str  # "stop", "remove", "remove_with_data" or "super_seed"
    setting: str  # the client's own names for these settings, for the user to find them

    @property
    def removes(self) -> bool:
        """The client itself takes a finished download away (with its files, or not)."""
        return self.action in ("remove", "remove_with_data") and (self.ratio is not None or bool(self.seed_seconds))

    def describe(self) -> str:
        limits = [f"ratio {self.ratio:g}" if self.ratio is not None else "", _minutes(self.seed_seconds)]
        return f"at {' or '.join(x for x in limits if x)} it {_AT_LIMIT.get(self.action, self.action)} ({self.setting})"


_AT_LIMIT = {
    "stop": "stops seeding",
    "super_seed": "turns super-seeding on",
    "remove": "removes it",
    "remove_with_data": "removes it and deletes its files",
}


def _minutes(seconds: float | None) -> str:
    return f"{seconds / 60:g} minutes of seeding" if seconds else ""
