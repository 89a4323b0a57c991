"""rTorrent (0.9.x) through XML-RPC: over SCGI, which rTorrent opens itself (a TCP port or a unix
socket), or over HTTP where a web server passes `/RPC2` on (as ruTorrent setups do).

Which one is chosen by the client's settings: `--host /path/to/socket` is a unix socket; a
`--url-base` (e.g. /RPC2) is HTTP(S) to that web server, with basic auth when a username is set;
otherwise SCGI on host:port. SCGI has no authentication: whoever reaches the port controls rTorrent,
which is why it belongs on 127.0.0.1 or a socket.

Facts this relies on (tests/fixtures/rtorrent-0.9/README.md, recorded from rTorrent 0.9.8): hashes
are upper case; an unknown hash is fault -501 "Could not find info-hash."; `d.multicall2` lists a
view ("main": every download) with one value per command; `system.multicall` wraps each result in a
one-element list and a failed call in a fault struct; `load.raw_start`/`load.raw` return 0 whatever
happens, so a load is checked by asking for the hash; rTorrent has no state of its own: `d.state`
(started), `d.is_active` (not paused), `d.complete`, `d.hashing` and `d.message` together say it
(ruTorrent's reading: started and inactive is "paused", not started is "stopped"); a magnet is a
download named `<HASH>.meta` (1 byte long) until its metadata arrives; `d.custom1` is ruTorrent's label.
"""

from __future__ import annotations

import time
import xmlrpc.client
from collections.abc import Sequence
from typing import Any, ClassVar
from xml.parsers.expat import ExpatError

from dlwatch.adapters.base import SHAPE_ERRORS, ClientAdapter, progress_from, shape_error
from dlwatch.adapters.scgi import ScgiAddress, ScgiError, ScgiTooLarge, exchange
from dlwatch.core.errors import (
    ActionUnsupported,
    AuthRejected,
    CannotConnect,
    DownloadNotFound,
    NotDelivered,
    UnexpectedResponse,
)
from dlwatch.core.models import (
    AddRequest,
    ClientVersion,
    Connection,
    DownloadFiles,
    DownloadItem,
    DownloadStatus,
    Protocol,
)

UNKNOWN_HASH = -501
# Pauses between asking whether a load arrived (rTorrent loads on its main thread, after answering).
LOAD_CHECKS = (0.05, 0.1, 0.2, 0.4, 0.8, 0)
ASK_EACH_UP_TO = 25  # more tracked hashes than this: one listing of the whole view is smaller

# rTorrent has no state field: these are dlwatch's names for what its flags say (see _raw_state).
_D = DownloadStatus
STATES: dict[str, DownloadStatus] = {
    "metadata": _D.QUEUED,  # a magnet still fetching its metadata
    "hashing": _D.CHECKING,
    "downloading": _D.DOWNLOADING,
    "stalled": _D.STALLED,  # started, active, nothing coming in and no peer connected
    "paused": _D.PAUSED,  # started but inactive (ruTorrent's Pause)
    "stopped": _D.PAUSED,  # not started: stopped, or loaded without starting (ruTorrent's Stop)
    "complete": _D.COMPLETED,  # seeding or not
    "error": _D.FAILED,  # stopped with a message from rTorrent itself
}

FIELDS = (
    "d.hash",
    "d.name",
    "d.state",
    "d.is_active",
    "d.complete",
    "d.hashing",
    "d.message",
    "d.size_bytes",
    "d.completed_bytes",
    "d.down.rate",
    "d.directory",
    "d.base_path",
    "d.is_multi_file",
    "d.custom1",
    "d.peers_connected",
    "d.up.rate",
    "d.ratio",  # per mille
    "d.timestamp.finished",  # 0 until it finished here
)


class RtorrentAdapter(ClientAdapter):
    type_name = "rtorrent"
    display_name = "rTorrent"
    protocol = Protocol.TORRENT
    default_port = 5000  # the usual network.scgi.open_port in seedbox setups
    default_url_base = ""  # SCGI; a web server's /RPC2 is given with --url-base
    secret_kind = "password"  # basic auth at the web server, when there is one
    takes_socket_path = True
    STATES: ClassVar[dict[str, DownloadStatus]] = STATES

    @property
    def _scgi(self) -> ScgiAddress | None:
        return _scgi_address(self.connection)

    @classmethod
    def settings_problem(cls, connection: Connection) -> str | None:
        if connection.use_ssl and _scgi_address(connection):
            return "rTorrent's SCGI has no TLS: --ssl needs the --url-base of the web server in front of it"
        return None

    @classmethod
    def address(cls, connection: Connection) -> str:
        scgi = _scgi_address(connection)
        return str(scgi) if scgi else connection.base_url

    # -- the XML-RPC exchange --------------------------------------------------------------------

    def _call(self, method: str, *params: Any) -> Any:
        body = xmlrpc.client.dumps(params, method, allow_none=False).encode()
        answer = self._over_scgi(body) if self._scgi else self._over_http(body, method)
        try:
            (result,), _ = xmlrpc.client.loads(answer, use_builtin_types=True)
        except xmlrpc.client.Fault as fault:
            raise _fault(method, fault) from None
        except (ExpatError, xmlrpc.client.ResponseError, ValueError) as exc:
            raise UnexpectedResponse(f"rTorrent did not answer XML-RPC to {method}: {answer[:60]!r}") from exc
        return result

    def _over_scgi(self, body: bytes) -> bytes:
        address = self._scgi
        assert address is not None
        c = self.connection
        try:
            status, answer = exchange(
                address, body, timeout=c.timeout, deadline=self.deadline, limit=c.max_answer_bytes
            )
        except ScgiTooLarge as exc:
            raise UnexpectedResponse(f"{address} sent {exc} for one answer; stopped reading") from None
        except ScgiError as exc:
            raise (CannotConnect if exc.delivered else NotDelivered)(str(exc)) from None
        if status != 200:
            raise UnexpectedResponse(f"rTorrent answered SCGI status {status} at {address}")
        return answer

    def _over_http(self, body: bytes, method: str) -> bytes:
        c = self.connection
        auth = (c.username, c.secret.reveal() if c.secret else "") if c.username else None
        response = self.request("POST", c.base_url, content=body, headers={"Content-Type": "text/xml"}, auth=auth)
        if response.status_code == 401:
            raise AuthRejected(
                f"the web server in front of rTorrent rejected the credentials (HTTP 401 at {c.url_base})"
            )
        self.check_status(response, what=method)
        return response.content

    def _each(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        """One `system.multicall`: each call's value, or the Fault where that call failed."""
        if not calls:
            return []
        answers = self._call("system.multicall", [{"methodName": m, "params": list(p)} for m, p in calls])
        if not isinstance(answers, list) or len(answers) != len(calls):
            raise UnexpectedResponse("rTorrent answered system.multicall with the wrong number of results")
        out: list[Any] = []
        for answer in answers:
            if isinstance(answer, dict) and "faultCode" in answer:
                out.append(xmlrpc.client.Fault(answer["faultCode"], answer.get("faultString", "")))
            else:
                out.append(answer[0])
        return out

    # -- the interface ---------------------------------------------------------------------------

    def version(self) -> ClientVersion:
        version, api = self._each([("system.client_version", []), ("system.api_version", [])])
        if not isinstance(version, str) or not version:
            raise UnexpectedResponse("rTorrent answered system.client_version without a version")
        return ClientVersion(version=version, api_version=None if isinstance(api, Exception) else str(api))

    def add(self, request: AddRequest) -> str:
        if not request.infohash_v1:
            raise UnexpectedResponse("rTorrent gives no id for a torrent it fetches itself; send the .torrent file")
        torrent_id = request.infohash_v1.upper()
        if request.content is not None:
            method = "load.raw" if request.paused else "load.raw_start"
            self._call(method, "", xmlrpc.client.Binary(request.content))
        else:
            self._call("load.normal" if request.paused else "load.start", "", request.magnet or request.url)
        # load.* answers 0 even for data it could not load, and before its main thread has loaded
        # what it could: the hash, asked for a few times, says whether it is there.
        if not self._appears(torrent_id):
            raise UnexpectedResponse(
                "rTorrent did not load the torrent: it silently drops a .torrent without a tracker "
                "(announce) and one it cannot read"
            )
        if request.category:
            # Set as a value, not inside the load command, where rTorrent would parse it as commands.
            self._call("d.custom1.set", torrent_id, request.category)
        return torrent_id.lower()

    def _appears(self, torrent_id: str) -> bool:
        for wait in LOAD_CHECKS:
            try:
                self._call("d.hash", torrent_id)
                return True
            except DownloadNotFound:
                time.sleep(wait)
        return False

    def pause(self, download_id: str) -> None:
        self._call("d.stop", download_id.upper())

    def resume(self, download_id: str) -> None:
        # d.start starts a stopped download; d.resume reactivates one ruTorrent paused.
        for result in self._each([("d.start", [download_id.upper()]), ("d.resume", [download_id.upper()])]):
            if isinstance(result, xmlrpc.client.Fault):
                raise _fault("d.start", result)

    deletes_files = False  # XML-RPC has no such call: dlwatch deletes what `files` lists

    def remove(self, download_id: str, *, delete_data: bool) -> None:
        if delete_data:
            raise ActionUnsupported("rTorrent cannot delete files through XML-RPC")
        self._call("d.erase", download_id.upper())

    def files(self, download_id: str) -> DownloadFiles:
        h = download_id.upper()
        answers = self._each([("d.directory", [h]), ("d.is_multi_file", [h]), ("f.multicall", [h, "", "f.path="])])
        if fault := next((a for a in answers if isinstance(a, xmlrpc.client.Fault)), None):
            raise _fault("d.directory", fault)
        directory, multi, rows = answers
        try:
            paths = [str(row[0]) for row in rows]
        except SHAPE_ERRORS as exc:
            raise shape_error("rTorrent", "f.multicall", exc) from exc
        directory = str(directory).rstrip("/") or "/"
        if not multi:  # d.directory is the folder the file is in
            return DownloadFiles(directory, tuple(paths))
        # d.directory is the download's own folder: its files are named under it, from its parent.
        root, _, own = directory.rpartition("/")
        return DownloadFiles(root or "/", tuple(f"{own}/{path}" for path in paths))

    def list_downloads(self, ids: Sequence[str] | None = None) -> list[DownloadItem]:
        hashes = list(dict.fromkeys(i.upper() for i in ids)) if ids else []
        try:
            if ids and len(hashes) <= ASK_EACH_UP_TO:
                rows = self._rows_of(hashes)
            else:
                rows = self._call("d.multicall2", "", "main", *(f"{f}=" for f in FIELDS))
                if ids:
                    wanted = set(hashes)
                    rows = [r for r in rows if str(r[0]).upper() in wanted]
            return [self._item(dict(zip(FIELDS, row, strict=True))) for row in rows]
        except SHAPE_ERRORS as exc:
            raise shape_error("rTorrent", "d.multicall2", exc) from exc

    def _rows_of(self, hashes: list[str]) -> list[list[Any]]:
        """Each field of each hash in one system.multicall; a hash rTorrent lacks is left out."""
        values = self._each([(f, [h]) for h in hashes for f in FIELDS])
        rows = [values[i : i + len(FIELDS)] for i in range(0, len(values), len(FIELDS))]
        faults = [v for row in rows for v in row if isinstance(v, xmlrpc.client.Fault)]
        if other := [f for f in faults if f.faultCode != UNKNOWN_HASH]:
            raise _fault("d.*", other[0])
        return [r for r in rows if not any(isinstance(v, xmlrpc.client.Fault) for v in r)]

    def _item(self, d: dict[str, Any]) -> DownloadItem:
        raw = _raw_state(d)
        status = self.map_state(raw)
        size, done_bytes = int(d["d.size_bytes"] or 0), int(d["d.completed_bytes"] or 0)
        speed = int(d["d.down.rate"] or 0)
        finished = status is DownloadStatus.COMPLETED
        directory = str(d["d.directory"] or "") or None
        multi = bool(d["d.is_multi_file"])
        name = str(d["d.name"] or "")
        # A multi-file download's d.directory is its own folder; a single file's, the folder it is in.
        # d.base_path is where the data is, but empty while the download is closed (stopped).
        save_path, content = directory, str(d["d.base_path"] or "") or None
        if directory and multi:
            save_path = directory.rsplit("/", 1)[0] or "/"
        if directory and not content:
            content = directory if multi else f"{directory}/{name}"
        message = str(d["d.message"] or "") or None
        finished_at = int(d["d.timestamp.finished"] or 0)
        return DownloadItem(
            client_download_id=str(d["d.hash"]).lower(),
            title=name,
            status=status,
            raw_state=raw,
            progress=1.0 if finished else progress_from(size, size - done_bytes),
            size_bytes=size or None,
            remaining_bytes=0 if finished else max(0, size - done_bytes),
            download_speed=speed,
            eta_seconds=(size - done_bytes) // speed if speed and not finished and size else None,
            category=str(d["d.custom1"] or "") or None,
            save_path=save_path,
            content_path=content if finished else None,
            error=message,
            fetching_metadata=raw == "metadata",
            seeding=finished and bool(int(d["d.state"] or 0)) and bool(int(d["d.is_active"] or 0)),
            ratio=int(d["d.ratio"] or 0) / 1000 if finished else None,
            seed_seconds=max(0, int(time.time()) - finished_at) if finished and finished_at else None,
            upload_speed=int(d["d.up.rate"] or 0),
        )


def _scgi_address(c: Connection) -> ScgiAddress | None:
    if c.host.startswith("/") or not c.url_base:
        return ScgiAddress(c.host, c.port)
    return None


def _raw_state(d: dict[str, Any]) -> str:
    started, active = int(d["d.state"] or 0), int(d["d.is_active"] or 0)
    if int(d["d.hashing"] or 0):
        return "hashing"
    if int(d["d.complete"] or 0):
        return "complete"
    if str(d["d.name"]).upper() == f"{str(d['d.hash']).upper()}.META":
        return "metadata"  # named after its hash until the metadata arrives
    message = str(d["d.message"] or "")
    if not started:
        # Tracker trouble is reported in d.message too, but never stops a download by itself.
        return "error" if message and not message.startswith("Tracker:") else "stopped"
    if not active:
        return "paused"
    if not int(d["d.down.rate"] or 0) and not int(d["d.peers_connected"] or 0):
        return "stalled"
    return "downloading"


def _fault(method: str, fault: xmlrpc.client.Fault) -> Exception:
    if fault.faultCode == UNKNOWN_HASH:
        return DownloadNotFound("rTorrent has no such torrent")
    return UnexpectedResponse(f"rTorrent refused {method}: {str(fault.faultString)[:200]}")
