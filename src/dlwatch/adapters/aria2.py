"""aria2 (1.36+) through its JSON-RPC interface (`POST /jsonrpc`), torrents only, as Sonarr's client.

Facts this relies on (tests/fixtures/aria2-1.36/README.md, recorded from aria2 1.36.0): every
`aria2.*` call's first parameter is `token:<rpc-secret>` (also inside `system.multicall`); a wrong
or missing token is HTTP 400 with error code 1 "Unauthorized", an unknown gid is also error code 1
("GID ... is not found"); all numbers come as strings; the client id is the gid, which aria2 hands
out itself; a magnet is first a metadata download which, once complete, is `followedBy` the real
download under a new gid with the same infoHash; a finished torrent is `active` while it seeds
(`seeder` true) and `complete` after; an unfinished one removed in aria2 is `removed`; adding a
torrent aria2 already has is accepted under a new gid that fails moments later (error code 12).
"""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Sequence
from typing import Any, ClassVar

from dlwatch.adapters.base import SHAPE_ERRORS, ClientAdapter, progress_from, shape_error
from dlwatch.core.errors import ActionUnsupported, AuthRejected, DownloadNotFound, UnexpectedResponse
from dlwatch.core.models import AddRequest, ClientVersion, DownloadFiles, DownloadItem, DownloadStatus, Protocol

GID = re.compile(r"[0-9a-fA-F]{16}")
LISTED_MAX = 1000  # aria2 keeps at most --max-download-result (default 1000) stopped results
REMOVAL_SETTLE = 3.0  # seconds a removal waits for aria2 to stop an active download and leave its result

_D = DownloadStatus
STATES: dict[str, DownloadStatus] = {
    "active": _D.DOWNLOADING,  # also while seeding a finished torrent: see _status
    "waiting": _D.QUEUED,
    "paused": _D.PAUSED,
    "error": _D.FAILED,
    "complete": _D.COMPLETED,
    "removed": _D.FAILED,  # taken out in aria2 before it finished
}

KEYS = [
    "gid",
    "status",
    "totalLength",
    "completedLength",
    "downloadSpeed",
    "connections",
    "errorCode",
    "errorMessage",
    "dir",
    "infoHash",
    "followedBy",
    "seeder",
    "bittorrent",
    "uploadLength",
    "uploadSpeed",
    "numSeeders",
]


class Aria2Adapter(ClientAdapter):
    type_name = "aria2"
    display_name = "aria2"
    protocol = Protocol.TORRENT
    default_port = 6800
    default_url_base = ""
    secret_kind = "api_key"  # the --rpc-secret token
    uses_username = False
    STATES: ClassVar[dict[str, DownloadStatus]] = STATES

    _request_id = 0

    def _token(self) -> list[str]:
        secret = self.connection.secret
        return [f"token:{secret.reveal()}"] if secret else []

    def _rpc(self, method: str, params: list[Any]) -> Any:
        self._request_id += 1
        payload = {"jsonrpc": "2.0", "id": f"dlw{self._request_id}", "method": method, "params": params}
        response = self.request("POST", "/jsonrpc", json=payload)
        if response.status_code not in (200, 400):  # 400 carries JSON-RPC errors, the bad token among them
            self.check_status(response, what=method)
        body = self.json_body(response, what=method)
        if not isinstance(body, dict):
            raise UnexpectedResponse(f"aria2 answered {method} with {type(body).__name__}")
        if error := body.get("error"):
            raise _error(method, error)
        if "result" not in body:
            raise UnexpectedResponse(f"aria2 answered {method} without a result")
        return body["result"]

    def _call(self, method: str, *params: Any) -> Any:
        return self._rpc(f"aria2.{method}", [*self._token(), *params])

    def _each(self, method: str, calls: Sequence[list[Any]]) -> list[Any]:
        """One `system.multicall` of `method` per parameter list: each result, or the error
        (a dict with `code` and `message`) where that one call failed."""
        if not calls:
            return []
        token = self._token()
        answers = self._rpc(
            "system.multicall", [[{"methodName": f"aria2.{method}", "params": [*token, *p]} for p in calls]]
        )
        if not isinstance(answers, list) or len(answers) != len(calls):
            raise UnexpectedResponse(f"aria2 answered system.multicall with {len(answers)} results for {len(calls)}")
        for answer in answers:
            if isinstance(answer, dict) and _unauthorized(answer):
                raise _error(method, answer)
        return [a[0] if isinstance(a, list) and a else a for a in answers]

    # -- the interface ---------------------------------------------------------------------------

    def version(self) -> ClientVersion:
        result = self._call("getVersion")
        if not isinstance(result, dict) or not result.get("version"):
            raise UnexpectedResponse("aria2 answered getVersion without a version")
        return ClientVersion(version=str(result["version"]))

    def add(self, request: AddRequest) -> str:
        # aria2 takes a torrent it has already under a new gid that then fails: hand back the one
        # it has instead, as the other clients do.
        if request.infohash_v1 and (existing := self._gid_of(request.infohash_v1)):
            return existing
        options = {"pause": "true"} if request.paused else {}
        if request.content is not None:
            gid = self._call("addTorrent", base64.b64encode(request.content).decode("ascii"), [], options)
        else:
            gid = self._call("addUri", [request.magnet or request.url], options)
        if not isinstance(gid, str) or not GID.fullmatch(gid):
            raise UnexpectedResponse(f"aria2 accepted the torrent but answered {str(gid)[:40]!r} for its gid")
        return gid

    def _gid_of(self, infohash: str) -> str | None:
        keys = ["gid", "infoHash", "followedBy"]
        listed = [*self._call("tellActive", keys), *self._call("tellWaiting", 0, LISTED_MAX, keys)]
        return next((str(d["gid"]) for d in listed if str(d.get("infoHash", "")).lower() == infohash.lower()), None)

    def pause(self, download_id: str) -> None:
        self._on_gid("pause", download_id)

    def resume(self, download_id: str) -> None:
        self._on_gid("unpause", download_id)

    deletes_files = False  # its API has no such call: dlwatch deletes what `files` lists

    def remove(self, download_id: str, *, delete_data: bool) -> None:
        if delete_data:
            raise ActionUnsupported("aria2 cannot delete files through its API")
        try:
            self._on_gid("remove", download_id)
        except UnexpectedResponse:
            # A stopped download is no longer active: only its result is left to remove.
            self._on_gid("removeDownloadResult", download_id)
            return
        # The active one is being removed (a torrent says goodbye to its tracker first): its result
        # appears once that is done, and is removed then, so aria2 lists it no more. If that takes
        # longer than REMOVAL_SETTLE, it stays listed as `removed`, which is what it is.
        deadline = time.monotonic() + REMOVAL_SETTLE
        while True:
            try:
                self._on_gid("removeDownloadResult", download_id)
                return
            except UnexpectedResponse:
                if time.monotonic() >= deadline:
                    return
                time.sleep(0.1)

    def files(self, download_id: str) -> DownloadFiles:
        """aria2 lists absolute paths; each is named under the download's `dir`, with the control
        file aria2 keeps beside a download it has not finished (`<top>.aria2`)."""
        try:
            answer = self._call("tellStatus", download_id, ["dir", "files"])
        except UnexpectedResponse as exc:
            if "is not found" in str(exc):
                raise DownloadNotFound(f"aria2 has no download {download_id}") from None
            raise
        try:
            root = str(answer["dir"]).rstrip("/") or "/"
            paths = [str(f["path"]) for f in answer["files"] if f.get("path")]
        except SHAPE_ERRORS as exc:
            raise shape_error("aria2", "tellStatus", exc) from exc
        base = root.rstrip("/") + "/"
        if outside := [p for p in paths if not p.startswith(base)]:
            raise UnexpectedResponse(f"aria2 lists a file outside the download's folder: {outside[0][:200]!r}")
        named = [p[len(base) :] for p in paths]
        tops = {n.split("/", 1)[0] for n in named}
        return DownloadFiles(root, (*named, *(f"{top}.aria2" for top in sorted(tops))))

    def _on_gid(self, method: str, gid: str) -> None:
        try:
            self._call(method, gid)
        except UnexpectedResponse as exc:
            if "is not found" in str(exc):
                raise DownloadNotFound(f"aria2 has no download {gid}") from None
            raise

    def list_downloads(self, ids: Sequence[str] | None = None) -> list[DownloadItem]:
        try:
            if ids is None:
                listed = [
                    *self._call("tellActive", KEYS),
                    *self._call("tellWaiting", 0, LISTED_MAX, KEYS),
                    *self._call("tellStopped", 0, LISTED_MAX, KEYS),
                ]
            else:
                # The infohashes among the ids are for matching only: aria2 is asked by gid.
                gids = list(dict.fromkeys(i.lower() for i in ids if GID.fullmatch(i)))
                listed = [d for d in self._each("tellStatus", [[g, KEYS] for g in gids]) if "gid" in d]
            statuses = self._follow(listed)
            items = [self._item(d) for d in statuses]
            self._add_paths(items)
            return list({i.client_download_id: i for i in items}.values())
        except SHAPE_ERRORS as exc:
            raise shape_error("aria2", "tellStatus", exc) from exc

    def _follow(self, listed: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """A magnet's metadata download stands for the download that followed it, under its gid;
        the metadata gid stays an alternative id, so the attempt moves over to the real one."""
        handed = {str(d["gid"]): d["followedBy"][-1] for d in listed if d.get("followedBy")}
        known = {str(d["gid"]): d for d in listed}
        missing = [g for g in handed.values() if g not in known]
        for d in self._each("tellStatus", [[g, KEYS] for g in missing]):
            if "gid" in d:
                known[str(d["gid"])] = d
        out = []
        for d in listed:
            follower = known.get(handed.get(str(d["gid"]), ""))
            if follower is not None:
                out.append({**follower, "_before": str(d["gid"])})
            elif str(d["gid"]) not in handed:
                out.append(d)
        return out

    def _add_paths(self, items: list[DownloadItem]) -> None:
        finished = [i for i in items if i.status is DownloadStatus.COMPLETED]
        answers = self._each("tellStatus", [[i.client_download_id, ["files"]] for i in finished])
        for item, answer in zip(finished, answers, strict=True):
            item.content_path = _content_path(item.save_path, answer.get("files"))

    def _item(self, d: dict[str, Any]) -> DownloadItem:
        raw = str(d["status"])
        status = self._status(d, raw)
        total, done_bytes = int(d.get("totalLength") or 0), int(d.get("completedLength") or 0)
        speed = int(d.get("downloadSpeed") or 0)
        finished = status is DownloadStatus.COMPLETED
        info = (d.get("bittorrent") or {}).get("info") or {}
        error = str(d.get("errorMessage") or "") or None
        if raw == "removed":
            error = "removed in aria2 before it finished"
        elif raw == "error" and not error:
            error = f"aria2 stopped it with error code {d.get('errorCode')}"
        infohash = str(d.get("infoHash") or "").lower()
        uploaded = int(d["uploadLength"]) if d.get("uploadLength") is not None else None
        return DownloadItem(
            client_download_id=str(d["gid"]),
            title=str(info.get("name") or ""),
            status=status,
            raw_state=raw,
            progress=1.0 if finished else progress_from(total, total - done_bytes),
            size_bytes=total or None,  # 0 while a magnet has no metadata
            remaining_bytes=0 if finished else max(0, total - done_bytes),
            download_speed=speed,
            eta_seconds=(total - done_bytes) // speed if speed and not finished and total else None,
            save_path=d.get("dir") or None,
            error=error,
            alt_ids=tuple(i for i in (d.get("_before"), infohash) if i),
            fetching_metadata=raw == "active" and not (bool((d.get("bittorrent") or {}).get("info")) and total > 0),
            # aria2 seeds a finished torrent while it stays active (until its --seed-ratio/--seed-time)
            seeding=finished and raw == "active",
            ratio=round(uploaded / done_bytes, 3) if finished and done_bytes and uploaded is not None else None,
            uploaded_bytes=uploaded,
            upload_speed=int(d.get("uploadSpeed") or 0),
            seeders=int(d["numSeeders"]) if d.get("numSeeders") is not None else None,
        )

    def _status(self, d: dict[str, Any], raw: str) -> DownloadStatus:
        total, done_bytes = int(d.get("totalLength") or 0), int(d.get("completedLength") or 0)
        has_metadata = bool((d.get("bittorrent") or {}).get("info")) and total > 0
        if raw == "active":
            if d.get("seeder") == "true" or (has_metadata and done_bytes >= total):
                return DownloadStatus.COMPLETED
            if not has_metadata:
                return DownloadStatus.QUEUED  # a magnet still fetching its metadata
            if not int(d.get("downloadSpeed") or 0) and not int(d.get("connections") or 0):
                return DownloadStatus.STALLED
        return self.map_state(raw)


def _content_path(save_dir: str | None, files: Any) -> str | None:
    """The file (single-file torrent) or top folder under the download dir; aria2 lists absolute
    paths, so a path outside that dir gives nothing."""
    if not save_dir or not isinstance(files, list) or not files or not isinstance(files[0], dict):
        return None
    base = save_dir.rstrip("/") + "/"
    path = str(files[0].get("path") or "")
    if not path.startswith(base):
        return None
    top = path[len(base) :].split("/", 1)[0]
    return base + top if top not in ("", ".", "..") else None


def _unauthorized(error: dict[str, Any]) -> bool:
    return str(error.get("message", "")).strip() == "Unauthorized"


def _error(method: str, error: Any) -> Exception:
    if isinstance(error, dict) and _unauthorized(error):
        return AuthRejected("aria2 rejected the RPC secret (its --rpc-secret)")
    message = error.get("message") if isinstance(error, dict) else error
    return UnexpectedResponse(f"aria2 refused {method}: {str(message)[:200]}")
