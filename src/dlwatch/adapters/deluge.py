"""Deluge 2.x through its web UI's JSON-RPC (`POST /json`), as Sonarr and Radarr reach it.

Facts this relies on (tests/fixtures/deluge-2.0/README.md, recorded from Deluge 2.0.3): every answer
is HTTP 200 with `{result, error, id}`; `auth.login [password]` answers true or false and sets the
`_session_id` cookie; a call without it fails with error code 1 "Not authenticated"; the web UI
forwards `core.*`, `label.*` and `daemon.*` calls to the daemon it is connected to, which it may not
be (`web.connected`, then `web.get_hosts` and `web.connect`); the Content-Type must be exactly
`application/json` (a charset makes 2.0.3 refuse the request); `progress` is a percentage; a
finished torrent is `Seeding`, or `Paused`/`Queued` with `is_finished`; an add-time error shows up
as state `Error` with the reason in `message`, even at progress 100.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from typing import Any, ClassVar

from dlwatch.adapters.base import SHAPE_ERRORS, ClientAdapter, shape_error
from dlwatch.core.errors import AuthRejected, DownloadNotFound, UnexpectedResponse
from dlwatch.core.models import AddRequest, ClientVersion, DownloadItem, DownloadStatus, Protocol, ShareLimits

NOT_AUTHENTICATED = 1  # the web UI's error code for a call without a valid session cookie

_D = DownloadStatus
STATES: dict[str, DownloadStatus] = {
    "Queued": _D.QUEUED,
    "Checking": _D.CHECKING,
    "Downloading": _D.DOWNLOADING,
    "Seeding": _D.COMPLETED,
    "Paused": _D.PAUSED,
    "Error": _D.FAILED,
    "Moving": _D.POSTPROCESSING,  # storage moving to move_completed_path
    "Allocating": _D.DOWNLOADING,
}

KEYS = (
    "hash",
    "name",
    "state",
    "progress",
    "total_wanted",
    "total_done",
    "download_payload_rate",
    "eta",
    "save_path",
    "message",
    "is_finished",
    "num_peers",
    "ratio",  # -1 until it has data
    "seeding_time",
    "total_uploaded",
    "upload_payload_rate",
    "total_seeds",  # the seeders the trackers count
    "label",
    "distributed_copies",  # complete copies among the connected peers
)

# Labels the Label plugin accepts (it refuses anything else).
_LABEL_CHARS = re.compile(r"[^a-z0-9_-]+")


class DelugeAdapter(ClientAdapter):
    type_name = "deluge"
    display_name = "Deluge"
    protocol = Protocol.TORRENT
    default_port = 8112
    default_url_base = ""
    secret_kind = "password"
    uses_username = False  # the web UI has one password and no user names
    STATES: ClassVar[dict[str, DownloadStatus]] = STATES

    _logged_in = False
    _connected = False
    _request_id = 0

    # -- the JSON-RPC exchange -------------------------------------------------------------------

    def _send(self, method: str, params: list[Any]) -> dict[str, Any]:
        self._request_id += 1
        payload = {"method": method, "params": params, "id": self._request_id}
        response = self.request("POST", "/json", json=payload, headers={"Content-Type": "application/json"})
        self.check_status(response, what=method)
        body = self.json_body(response, what=method)
        if not isinstance(body, dict) or "result" not in body:
            raise UnexpectedResponse(f"Deluge answered {method} without a JSON-RPC result")
        return body

    def _call(self, method: str, *params: Any) -> Any:
        """Call `method` logged in and connected to the daemon; log in once more if the session
        expired (the web UI forgets sessions after an hour, and on restart)."""
        if not self._logged_in:
            self._login()
        if not self._connected and not method.startswith(("web.", "auth.")):
            self._connect_daemon()
        body = self._send(method, list(params))
        error = body.get("error")
        if isinstance(error, dict) and error.get("code") == NOT_AUTHENTICATED:
            self._login()
            body = self._send(method, list(params))
            error = body.get("error")
        if error:
            message = error.get("message") if isinstance(error, dict) else error
            raise UnexpectedResponse(f"Deluge refused {method}: {_reason(str(message))}")
        return body["result"]

    def _login(self) -> None:
        c = self.connection
        body = self._send("auth.login", [c.secret.reveal() if c.secret else ""])
        if body.get("result") is not True:
            raise AuthRejected("Deluge rejected the web UI password")
        self._logged_in = True

    def _connect_daemon(self) -> None:
        """The web UI relays to one daemon; attach it to the first known one if it is not (what
        the web UI's Connection Manager does when the user clicks Connect)."""
        if self._call("web.connected") is not True:
            hosts = self._call("web.get_hosts")
            if not isinstance(hosts, list) or not hosts or not isinstance(hosts[0], list):
                raise UnexpectedResponse(
                    "Deluge's web UI is not connected to a daemon and knows none: add one in its Connection Manager"
                )
            self._call("web.connect", hosts[0][0])
            if self._call("web.connected") is not True:
                where = f"{hosts[0][1]}:{hosts[0][2]}"
                raise UnexpectedResponse(
                    f"Deluge's web UI could not connect to its daemon at {where}; is deluged running?"
                )
        self._connected = True

    def session_state(self) -> dict[str, Any] | None:
        return self._cookie_state() if self._logged_in else None

    def resume_session(self, state: dict[str, Any]) -> None:
        # An expired cookie gets "Not authenticated", and _call logs in again once.
        if self._resume_cookies(state):
            self._logged_in = True

    # -- the interface ---------------------------------------------------------------------------

    def version(self) -> ClientVersion:
        version = self._call("daemon.get_version")
        if not isinstance(version, str) or not version:
            raise UnexpectedResponse("Deluge answered daemon.get_version without a version")
        return ClientVersion(version=version)

    def add(self, request: AddRequest) -> str:
        options = {"add_paused": request.paused}
        try:
            if request.content is not None:
                filename = request.filename or "download.torrent"
                result = self._call(
                    "core.add_torrent_file", filename, base64.b64encode(request.content).decode("ascii"), options
                )
            elif request.magnet:
                result = self._call("core.add_torrent_magnet", request.magnet, options)
            else:
                result = self._call("core.add_torrent_url", request.url, options)
        except UnexpectedResponse as exc:
            # Deluge refuses a torrent it has already; that is the download dlwatch wants.
            if "already in session" in str(exc) and request.infohash_v1:
                result = request.infohash_v1
            else:
                raise
        if not isinstance(result, str) or not result:
            raise UnexpectedResponse("Deluge accepted the torrent but returned no hash")
        torrent_id = result.lower()
        if request.category:
            self._set_label(torrent_id, request.category)
        return torrent_id

    def _set_label(self, torrent_id: str, category: str) -> None:
        label = _LABEL_CHARS.sub("-", category.lower()).strip("-") or "dlwatch"
        try:
            if label not in (self._call("label.get_labels") or []):
                self._call("label.add", label)
            self._call("label.set_torrent", torrent_id, label)
        except UnexpectedResponse as exc:
            # Without the Label plugin the torrent is still added; only the label is lost.
            if "Unknown method" not in str(exc):
                raise

    def share_limits(self) -> ShareLimits | None:
        keys = ["stop_seed_at_ratio", "stop_seed_ratio", "remove_seed_at_ratio"]
        values = self._call("core.get_config_values", keys)
        try:
            if not values.get("stop_seed_at_ratio"):
                return None
            action = "remove" if values.get("remove_seed_at_ratio") else "stop"
            return ShareLimits(float(values["stop_seed_ratio"]), None, action, "Preferences > Queue > Share Ratio")
        except SHAPE_ERRORS as exc:
            raise shape_error("Deluge", "core.get_config_values", exc) from exc

    def pause(self, download_id: str) -> None:
        self._on_torrent("core.pause_torrent", download_id)

    def resume(self, download_id: str) -> None:
        self._on_torrent("core.resume_torrent", download_id)

    def remove(self, download_id: str, *, delete_data: bool) -> None:
        self._on_torrent("core.remove_torrent", download_id, delete_data)

    def _on_torrent(self, method: str, download_id: str, *more: Any) -> None:
        try:
            self._call(method, download_id.lower(), *more)
        except UnexpectedResponse as exc:
            if "not in session" in str(exc):
                raise DownloadNotFound(f"Deluge has no torrent {download_id}") from None
            raise

    def list_downloads(self, ids: Sequence[str] | None = None) -> list[DownloadItem]:
        filters = {"id": [i.lower() for i in ids]} if ids else {}
        result = self._call("core.get_torrents_status", filters, list(KEYS))
        try:
            items = [self._item(t) for t in result.values()]
            # Where a finished torrent's files went comes from its file list, asked only for those.
            finished = [i.client_download_id for i in items if i.status is DownloadStatus.COMPLETED]
            if finished:
                files = self._call("core.get_torrents_status", {"id": finished}, ["files"])
                for item in items:
                    if item.client_download_id in files:
                        item.content_path = _content_path(item.save_path, files[item.client_download_id].get("files"))
            return items
        except SHAPE_ERRORS as exc:
            raise shape_error("Deluge", "core.get_torrents_status", exc) from exc

    def _item(self, t: dict[str, Any]) -> DownloadItem:
        raw = str(t["state"])
        status = self._status(t, raw)
        wanted = int(t.get("total_wanted") or 0)
        done_bytes = int(t.get("total_done") or 0)
        finished = status is DownloadStatus.COMPLETED
        eta = int(t.get("eta") or 0)
        message = str(t.get("message") or "")
        return DownloadItem(
            client_download_id=str(t["hash"]).lower(),
            title=str(t.get("name") or ""),
            status=status,
            raw_state=raw,
            progress=1.0 if finished else min(1.0, max(0.0, float(t.get("progress") or 0.0) / 100)),
            size_bytes=wanted or None,  # 0 while a magnet has no metadata
            remaining_bytes=0 if finished else max(0, wanted - done_bytes),
            download_speed=int(t.get("download_payload_rate") or 0),
            eta_seconds=eta if eta > 0 and not finished else None,
            category=t.get("label") or None,
            save_path=t.get("save_path") or None,
            error=message if message and message != "OK" else None,
            fetching_metadata=raw == "Downloading" and not wanted,
            availability=float(t["distributed_copies"]) if t.get("distributed_copies") is not None else None,
            seeding=finished and raw in ("Seeding", "Queued"),  # Queued: waiting for a seeding slot
            ratio=float(t["ratio"]) if float(t.get("ratio", -1)) >= 0 else None,
            seed_seconds=int(t["seeding_time"]) if t.get("seeding_time") is not None else None,
            uploaded_bytes=int(t["total_uploaded"]) if t.get("total_uploaded") is not None else None,
            upload_speed=int(t.get("upload_payload_rate") or 0),
            seeders=int(t["total_seeds"]) if int(t.get("total_seeds", -1)) >= 0 else None,
        )

    def _status(self, t: dict[str, Any], raw: str) -> DownloadStatus:
        if raw == "Error":
            return DownloadStatus.FAILED
        if t.get("is_finished") and raw in ("Paused", "Queued", "Seeding"):
            return DownloadStatus.COMPLETED
        if raw == "Downloading":
            if not int(t.get("total_wanted") or 0):
                return DownloadStatus.QUEUED  # a magnet still fetching its metadata
            if not t.get("download_payload_rate") and not t.get("num_peers"):
                return DownloadStatus.STALLED
        return self.map_state(raw)


def _content_path(save_path: str | None, files: Any) -> str | None:
    """The file or top folder the torrent's files are in, from Deluge's own file list; nothing
    when that list points outside the save path."""
    if not save_path or not isinstance(files, list) or not files or not isinstance(files[0], dict):
        return None
    top = str(files[0].get("path") or "").replace("\\", "/").split("/", 1)[0]
    if top in ("", ".", ".."):
        return None
    return f"{save_path.rstrip('/')}/{top}"


def _reason(message: str) -> str:
    """Deluge wraps the daemon's exception in a Twisted failure dump: keep the last line's text."""
    if "Failure instance" in message:
        tail = message.strip().rstrip("]").strip().splitlines()[-1]
        return tail.split(">: ", 1)[-1].strip()
    return message.strip().splitlines()[0] if message.strip() else "no reason given"
