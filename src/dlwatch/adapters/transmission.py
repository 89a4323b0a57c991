"""Transmission RPC (`POST /transmission/rpc`): the legacy dialect (3.x, 4.0) and JSON-RPC 2.0 (4.1+).

Facts this relies on (shared/docs/client-apis.md §5): every session starts with a 409 that carries
`X-Transmission-Session-Id`, and a daemon restart changes the id; 4.1 servers with
`rpc-version-semver` >= 6 speak JSON-RPC 2.0 with snake_case names, older ones only the legacy
`{method, arguments, tag}` with camelCase/kebab-case; `isFinished` does not mean "downloaded"
(`leftUntilDone == 0` does); `errorString` is also set for harmless tracker warnings (error 1, 2);
`eta` is -1 (not available) or -2 (unknown) when there is none.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import httpx

from dlwatch.adapters.base import SHAPE_ERRORS, ClientAdapter, shape_error
from dlwatch.core.errors import AuthRejected, UnexpectedResponse, UsageError
from dlwatch.core.models import (
    AddRequest,
    ClientVersion,
    DownloadItem,
    DownloadStatus,
    Protocol,
    PushReport,
    PushSetting,
    ShareLimits,
)

SESSION_HEADER = "X-Transmission-Session-Id"
MAX_HANDSHAKES = 2
LOCAL_ERROR = 3  # tr_stat_errtype: 1 tracker warning, 2 tracker error, 3 local error
MAX_SENSIBLE_ETA = 10 * 365 * 86400  # larger values are overflow noise (Sonarr#5444)

_D = DownloadStatus
STATES: dict[str, DownloadStatus] = {
    "0": _D.PAUSED,  # stopped (a finished torrent is completed whatever its status: see _status)
    "1": _D.CHECKING,  # queued to verify
    "2": _D.CHECKING,  # verifying
    "3": _D.QUEUED,  # queued to download
    "4": _D.DOWNLOADING,
    "5": _D.COMPLETED,  # queued to seed
    "6": _D.COMPLETED,  # seeding
}

# torrent_get's own id for "changed lately", in snake_case like every other request value here;
# the legacy dialect spells it "recently-active" (see _legacy).
RECENTLY_ACTIVE = "recently_active"

# Asked of torrent_get, in snake_case; the legacy dialect gets them in camelCase.
FIELDS = (
    "id",
    "hash_string",
    "name",
    "status",
    "percent_done",
    "metadata_percent_complete",
    "total_size",
    "size_when_done",
    "left_until_done",
    "rate_download",
    "eta",
    "error",
    "error_string",
    "download_dir",
    "is_stalled",
    "labels",
    "desired_available",  # bytes of the wanted, missing pieces the connected peers have
    "upload_ratio",  # -1 while nothing is known, -2 for "infinite"
    "seconds_seeding",
    "uploaded_ever",
    "rate_upload",
)


def snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).replace("-", "_").lower()


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _snake_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {snake(k): _snake_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_snake_keys(v) for v in value]
    return value


class TransmissionAdapter(ClientAdapter):
    type_name = "transmission"
    display_name = "Transmission"
    protocol = Protocol.TORRENT
    default_port = 9091
    default_url_base = "/transmission"
    secret_kind = "password"
    STATES: ClassVar[dict[str, DownloadStatus]] = STATES

    _session_id: str | None = None
    _jsonrpc: bool | None = None  # None until session_get told us which dialect the server speaks
    _request_id = 0

    def session_state(self) -> dict[str, Any] | None:
        if self._session_id is None or self._jsonrpc is None:
            return None
        return {"session_id": self._session_id, "jsonrpc": self._jsonrpc}

    def resume_session(self, state: dict[str, Any]) -> None:
        # A stale id only costs the 409 handshake that would have happened anyway.
        if isinstance(state.get("session_id"), str) and isinstance(state.get("jsonrpc"), bool):
            self._session_id, self._jsonrpc = state["session_id"], state["jsonrpc"]

    def _post(self, payload: dict[str, Any]) -> httpx.Response:
        c = self.connection
        auth = (c.username or "", c.secret.reveal() if c.secret else "") if c.username else None
        for _ in range(MAX_HANDSHAKES + 1):
            headers = {SESSION_HEADER: self._session_id} if self._session_id else {}
            response = self.request("POST", "/rpc", json=payload, headers=headers, auth=auth)
            if response.status_code != 409:
                break
            new_id = response.headers.get(SESSION_HEADER)
            if not new_id or new_id == self._session_id:
                break
            self._session_id = new_id
        if response.status_code == 409:
            raise UnexpectedResponse("Transmission kept refusing the session id (HTTP 409)")
        if response.status_code == 401:
            raise AuthRejected("Transmission rejected the username or password (HTTP 401)")
        if response.status_code == 403:
            raise AuthRejected(
                "Transmission refused this address (HTTP 403): add it to rpc-whitelist, "
                "or wait if too many logins failed"
            )
        if response.status_code == 421:
            raise UnexpectedResponse(
                "Transmission refused the host name (HTTP 421): use its IP address or add the name "
                "to rpc-host-whitelist"
            )
        self.check_status(response, what=str(payload.get("method")))
        return response

    def _call(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """Call `method` (snake_case name) in the server's dialect; return the result in snake_case."""
        if self._jsonrpc is None and method != "session_get":
            self._detect_dialect()
        params = params or {}
        self._request_id += 1
        if self._jsonrpc:
            payload = {"jsonrpc": "2.0", "method": method, "params": params, "id": self._request_id}
        else:
            payload = {
                "method": method.replace("_", "-"),
                "arguments": _legacy(params),
                "tag": self._request_id,
            }
        body = self.json_body(self._post(payload), what=method)
        if not isinstance(body, dict):
            raise UnexpectedResponse(f"Transmission answered {method} with {type(body).__name__}")
        if self._jsonrpc:
            if error := body.get("error"):
                detail = error.get("data", {}).get("error_string") if isinstance(error, dict) else None
                message = error.get("message") if isinstance(error, dict) else error
                raise UnexpectedResponse(f"Transmission refused {method}: {detail or message}")
            result = body.get("result")
        else:
            if body.get("result") != "success":
                raise UnexpectedResponse(f"Transmission refused {method}: {body.get('result')}")
            result = body.get("arguments")
        if not isinstance(result, dict):
            raise UnexpectedResponse(f"Transmission answered {method} without a result")
        return _snake_keys(result)

    def _detect_dialect(self) -> dict[str, Any]:
        # The legacy dialect works on every version, so it is the one to ask in.
        self._jsonrpc = False
        session = self._call("session_get", {"fields": ["version", "rpc-version", "rpc-version-semver"]})
        semver = str(session.get("rpc_version_semver") or "0")
        try:
            self._jsonrpc = int(semver.split(".")[0]) >= 6
        except ValueError:
            self._jsonrpc = False
        return session

    def version(self) -> ClientVersion:
        session = self._detect_dialect()
        version = session.get("version")
        if not version:
            raise UnexpectedResponse("Transmission's session-get has no version")
        return ClientVersion(version=str(version), api_version=str(session.get("rpc_version_semver") or "") or None)

    def add(self, request: AddRequest) -> str:
        params: dict[str, Any] = {"paused": request.paused}
        if request.content is not None:
            params["metainfo"] = base64.b64encode(request.content).decode("ascii")
        elif request.magnet or request.url:
            params["filename"] = request.magnet or request.url
        if request.category:
            params["labels"] = [request.category]  # Transmission has labels, not categories
        result = self._call("torrent_add", params)
        added = result.get("torrent_added") or result.get("torrent_duplicate")
        if not isinstance(added, dict) or not added.get("hash_string"):
            raise UnexpectedResponse("Transmission accepted the torrent but returned no hash")
        return str(added["hash_string"]).lower()

    def pause(self, download_id: str) -> None:
        self._call("torrent_stop", {"ids": [download_id.lower()]})

    def resume(self, download_id: str) -> None:
        self._call("torrent_start", {"ids": [download_id.lower()]})

    def remove(self, download_id: str, *, delete_data: bool) -> None:
        self._call("torrent_remove", {"ids": [download_id.lower()], "delete_local_data": delete_data})

    def share_limits(self) -> ShareLimits | None:
        # Transmission only stops at its ratio (it never removes); its idle limit is idle time, not
        # time seeded, so it is no share limit here.
        session = self._call("session_get", {"fields": ["seed_ratio_limited", "seed_ratio_limit"]})
        if not session.get("seed_ratio_limited"):
            return None
        try:
            ratio = float(session["seed_ratio_limit"])
        except SHAPE_ERRORS as exc:
            raise shape_error("Transmission", "session-get", exc) from exc
        return ShareLimits(ratio, None, "stop", "Preferences > Seeding > Stop at ratio")

    # -- push: the torrent-done script --------------------------------------------------------

    push_kind = "script"

    def push_setting(self) -> PushSetting:
        fields = ["script-torrent-done-enabled", "script-torrent-done-filename"]
        session = self._call("session_get", {"fields": fields})
        program = str(session.get("script_torrent_done_filename") or "") or None
        return PushSetting(bool(session.get("script_torrent_done_enabled")), program)

    def set_push_setting(self, setting: PushSetting) -> None:
        self._call(
            "session_set",
            {"script_torrent_done_enabled": setting.enabled, "script_torrent_done_filename": setting.program or ""},
        )

    @classmethod
    def read_report(cls, env: Mapping[str, str], args: Sequence[str]) -> PushReport:
        infohash = env.get("TR_TORRENT_HASH", "").lower()
        if len(infohash) != 40:
            raise UsageError("no TR_TORRENT_HASH in the environment: this is run by Transmission's done script")
        directory, name = env.get("TR_TORRENT_DIR") or None, env.get("TR_TORRENT_NAME", "")
        item = DownloadItem(infohash, name, DownloadStatus.COMPLETED, "done", progress=1.0, remaining_bytes=0)
        item.save_path = directory
        # The torrent's name is where its files went unless the file list says otherwise: the
        # report is used as it is only when the client cannot be asked.
        item.content_path = f"{directory.rstrip('/')}/{name}" if directory and name and "/" not in name else None
        return PushReport((infohash,), item)

    def list_recent(self, since: float) -> list[DownloadItem]:
        # What changed in the last minute or so, which a torrent just added is; first only when each
        # was added, so the full fields are read for the new ones only, not for every busy torrent.
        result = self._call("torrent_get", {"fields": ["hash_string", "added_date"], "ids": RECENTLY_ACTIVE})
        try:
            new = [str(t["hash_string"]) for t in result["torrents"] if float(t.get("added_date") or 0) >= since]
        except SHAPE_ERRORS as exc:
            raise shape_error("Transmission", "torrent-get", exc) from exc
        return self.list_downloads(new) if new else []

    def list_downloads(self, ids: Sequence[str] | None = None) -> list[DownloadItem]:
        params: dict[str, Any] = {"fields": list(FIELDS)}
        if ids:
            params["ids"] = [i.lower() for i in ids]
        result = self._call("torrent_get", params)
        try:
            torrents = result["torrents"]
            items = [self._item(t) for t in torrents]
            # Where a finished torrent's files are comes from its own file list, asked only for the
            # ones that finished (a season pack lists hundreds of files).
            unlisted = [
                i
                for i, t in zip(items, torrents, strict=True)
                if i.status is DownloadStatus.COMPLETED and "files" not in t
            ]
            if unlisted:
                files = self._call(
                    "torrent_get", {"fields": ["hash_string", "files"], "ids": [i.client_download_id for i in unlisted]}
                )
                by_hash = {str(t["hash_string"]).lower(): t.get("files") for t in files["torrents"]}
                for item in unlisted:
                    item.content_path, warning = _content_path(item.save_path, by_hash.get(item.client_download_id))
                    item.error = item.error or warning
            return items
        except SHAPE_ERRORS as exc:
            raise shape_error("Transmission", "torrent-get", exc) from exc

    def _item(self, t: dict[str, Any]) -> DownloadItem:
        code = int(t["status"])
        status, error = self._status(t, code)
        total = int(t.get("size_when_done") or t.get("total_size") or 0)
        left = int(t.get("left_until_done") or 0)
        eta = t.get("eta")
        download_dir = t.get("download_dir") or None
        name = str(t.get("name") or "")
        done = status is DownloadStatus.COMPLETED
        content_path, warning = _content_path(download_dir, t["files"]) if done and "files" in t else (None, None)
        return DownloadItem(
            client_download_id=str(t["hash_string"]).lower(),
            title=name,
            status=status,
            raw_state=str(code),
            progress=1.0 if done else min(1.0, max(0.0, float(t.get("percent_done") or 0.0))),
            size_bytes=total or None,
            remaining_bytes=0 if done else left,
            download_speed=int(t.get("rate_download") or 0),
            eta_seconds=int(eta) if not done and eta is not None and 0 <= int(eta) < MAX_SENSIBLE_ETA else None,
            category=(t.get("labels") or [None])[0],
            save_path=download_dir,
            content_path=content_path,
            error=error or warning,
            fetching_metadata=not _has_metadata(t),
            availability=_availability(total, left, t.get("desired_available")) if not done else None,
            seeding=done and code in (5, 6),  # queued to seed, or seeding (0: stopped)
            ratio=float(t["upload_ratio"]) if float(t.get("upload_ratio", -1)) >= 0 else None,
            seed_seconds=int(t["seconds_seeding"]) if t.get("seconds_seeding") is not None else None,
            uploaded_bytes=int(t["uploaded_ever"]) if t.get("uploaded_ever") is not None else None,
            upload_speed=int(t.get("rate_upload") or 0),
            # Transmission counts the tracker's seeders only per tracker (trackerStats, a large answer
            # per torrent): the connected peers are what it says cheaply.
            seeders=None,
        )

    def _status(self, t: dict[str, Any], code: int) -> tuple[DownloadStatus, str | None]:
        error_text = t.get("error_string") or None
        if int(t.get("error") or 0) == LOCAL_ERROR:
            return DownloadStatus.FAILED, error_text
        if code in (1, 2):
            return DownloadStatus.CHECKING, error_text
        if not _has_metadata(t):
            return DownloadStatus.QUEUED, error_text  # a magnet still fetching its metadata
        if int(t.get("left_until_done") or 0) == 0:
            return DownloadStatus.COMPLETED, error_text
        if code == 4 and t.get("is_stalled") and not t.get("rate_download"):
            return DownloadStatus.STALLED, error_text
        return self.map_state(str(code)), error_text


def _content_path(download_dir: str | None, files: Any) -> tuple[str | None, str | None]:
    """The file (single-file torrent) or top folder its files are in, from Transmission's own file
    list (the torrent's name is what its creator chose, and need not be where the files went); and
    a warning when that list points outside the download folder, which is then not used."""
    if not download_dir or not isinstance(files, list) or not files or not isinstance(files[0], dict):
        return None, None
    first = str(files[0].get("name") or "").replace("\\", "/")
    top = first.split("/", 1)[0]
    if first.startswith("/") or top in ("", ".", ".."):
        return None, f"Transmission listed a file outside its download folder ({first[:80]!r}); path not used"
    return f"{download_dir.rstrip('/')}/{top}", None


def _legacy(params: dict[str, Any]) -> dict[str, Any]:
    """snake_case request arguments in the legacy names (camelCase fields, kebab-case arguments)."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        if key == "fields":
            value = [f if "-" in f else camel(f) for f in value]
        elif key == "ids" and value == RECENTLY_ACTIVE:
            value = "recently-active"
        out[key.replace("_", "-")] = value
    return out


def _has_metadata(t: dict[str, Any]) -> bool:
    return float(t.get("metadata_percent_complete", 1) or 0) >= 1 and int(t.get("total_size") or 0) > 0


def _availability(wanted: int, left: int, obtainable: Any) -> float | None:
    """What share of the wanted data this machine has or its peers can give: below 1, no peer set
    holds a complete copy (Transmission's own "desiredAvailable" against "leftUntilDone")."""
    if obtainable is None or wanted <= 0:
        return None
    return min(1.0, (wanted - left + int(obtainable)) / wanted)
