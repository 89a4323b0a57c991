"""qBittorrent WebUI API v2 (4.1 and later).

Facts this relies on (shared/docs/client-apis.md §4): a cookie session from `auth/login`, which answers
`200 Ok.`/`200 Fails.` up to 5.1 and `204`/`401` from 5.2, whose cookie is `SID` up to 5.1 and
`QBT_SID_<port>` from 5.2 (so the cookie jar keeps whatever is set); an expired session gives 403;
no torrent state is ever `completed` (finished torrents are `*UP`); 5.0 renamed `paused*` to
`stopped*`; `torrents/add` returns no id up to 5.1, so dlwatch computes the infohash itself; for a
hybrid torrent the id is the v2 hash truncated to 40 characters.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import httpx

from dlwatch.adapters.base import SHAPE_ERRORS, ClientAdapter, chunked, shape_error
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

MAX_ETA = 8640000  # qBittorrent's "infinity" (100 days)
HASHES_PER_REQUEST = 300  # 300 x 41 characters: a 12 KB query
METADATA_STATES = ("metaDL", "forcedMetaDL")
SEEDING_STATES = ("uploading", "stalledUP", "forcedUP", "queuedUP")  # not pausedUP/stoppedUP
# While a title-only download is looked for, the newest torrents are read a page at a time until one
# was added before it; more pages than this in a find window is a bulk import, not a grab.
RECENT_PAGE = 10
RECENT_PAGES = 20

_D = DownloadStatus
STATES: dict[str, DownloadStatus] = {
    "error": _D.FAILED,  # libtorrent error or upload-only mode (disk full, unwritable save path)
    "missingFiles": _D.FAILED,
    "uploading": _D.COMPLETED,
    "pausedUP": _D.COMPLETED,
    "stoppedUP": _D.COMPLETED,
    "queuedUP": _D.COMPLETED,
    "stalledUP": _D.COMPLETED,
    "forcedUP": _D.COMPLETED,
    # A recheck of finished data can find pieces missing, so it is not yet "completed".
    "checkingUP": _D.CHECKING,
    "checkingDL": _D.CHECKING,
    "checkingResumeData": _D.CHECKING,
    "queuedForChecking": _D.CHECKING,
    "allocating": _D.DOWNLOADING,
    "downloading": _D.DOWNLOADING,
    "forcedDL": _D.DOWNLOADING,
    "metaDL": _D.QUEUED,  # fetching metadata for a magnet
    "forcedMetaDL": _D.QUEUED,
    "pausedDL": _D.PAUSED,
    "stoppedDL": _D.PAUSED,
    "queuedDL": _D.QUEUED,
    "stalledDL": _D.STALLED,
    "moving": _D.POSTPROCESSING,
    "unknown": _D.UNKNOWN,
}

ERROR_TEXTS = {
    "error": "qBittorrent reports an error (disk full, or the save path cannot be written)",
    "missingFiles": "qBittorrent cannot find the torrent's files in its save path",
}


class QbittorrentAdapter(ClientAdapter):
    type_name = "qbittorrent"
    display_name = "qBittorrent"
    protocol = Protocol.TORRENT
    default_port = 8080
    default_url_base = ""
    secret_kind = "password"
    STATES: ClassVar[dict[str, DownloadStatus]] = STATES

    _logged_in = False

    def _login(self) -> None:
        c = self.connection
        if not c.username:
            # "Bypass authentication for localhost" or a whitelisted subnet: no login needed.
            self._logged_in = True
            return
        response = self.request(
            "POST",
            "/api/v2/auth/login",
            data={"username": c.username, "password": c.secret.reveal() if c.secret else ""},
        )
        text = response.text.strip()
        if response.status_code == 403:
            raise AuthRejected(f"qBittorrent refused the login: {text or 'HTTP 403'} (too many failed logins?)")
        if response.status_code == 401 or text == "Fails.":
            raise AuthRejected("qBittorrent rejected the username or password")
        self.check_status(response, what="auth/login")
        if response.status_code != 204 and text != "Ok.":
            raise UnexpectedResponse(f"qBittorrent answered the login with {text[:60]!r}")
        self._logged_in = True

    def _api(self, method: str, path: str, *, tolerate: tuple[int, ...] = (), **kwargs: Any) -> httpx.Response:
        """Call the API, logging in first; `tolerate` lists error statuses the caller reads itself."""
        if not self._logged_in:
            self._login()
        response = self.request(method, f"/api/v2/{path}", **kwargs)
        if response.status_code == 403 and self.connection.username:
            # The session expired (WebUI\SessionTimeout) or the daemon restarted: log in once more.
            self._login()
            response = self.request(method, f"/api/v2/{path}", **kwargs)
        if response.status_code not in tolerate:
            self.check_status(response, what=path)
        return response

    def session_state(self) -> dict[str, Any] | None:
        if not self._logged_in or not self.connection.username:
            return None
        return self._cookie_state()

    def resume_session(self, state: dict[str, Any]) -> None:
        # An expired cookie gets 403, and _api logs in again once: no worse than no cookie.
        if self._resume_cookies(state):
            self._logged_in = True

    def version(self) -> ClientVersion:
        version = self._api("GET", "app/version").text.strip()
        api = self._api("GET", "app/webapiVersion").text.strip()
        if not version:
            raise UnexpectedResponse("qBittorrent answered app/version with an empty body")
        return ClientVersion(version=version, api_version=api or None)

    def add(self, request: AddRequest) -> str:
        torrent_id = _torrent_id(request)
        # `paused` is the 4.x name and `stopped` the 5.x one; each version ignores the other's.
        data: dict[str, str] = {"paused": _flag(request.paused), "stopped": _flag(request.paused)}
        if request.category:
            data["category"] = request.category
        files = None
        if request.content is not None:
            files = {
                "torrents": (
                    request.filename or "download.torrent",
                    request.content,
                    "application/x-bittorrent",
                )
            }
        elif request.magnet or request.url:
            data["urls"] = request.magnet or request.url or ""
        response = self._api("POST", "torrents/add", tolerate=(409, 415), data=data, files=files)
        text = response.text.strip()
        if response.status_code == 415:
            raise UnexpectedResponse(f"qBittorrent rejected the file: {text}")
        if response.headers.get("content-type", "").startswith("application/json"):
            ids = self.json_body(response, what="torrents/add").get("added_torrent_ids") or []
            if ids:
                return str(ids[0])
        if text == "Ok." or response.status_code == 202:
            if torrent_id:
                return torrent_id
            raise UnexpectedResponse("qBittorrent accepted the URL but gives no id for it; send the file instead")
        # "Fails." (<= 5.1) or 409 (5.2): nothing was added, usually because it is there already.
        if torrent_id and any(item.answers_to(torrent_id) for item in self.list_downloads([torrent_id])):
            return torrent_id
        raise UnexpectedResponse(f"qBittorrent did not add the torrent ({text or response.status_code})")

    def list_downloads(self, ids: Sequence[str] | None = None) -> list[DownloadItem]:
        if not ids:
            return self._info(None)
        # The hashes go in the URL: a few hundred at a time keeps it far below any URL limit.
        items: dict[str, DownloadItem] = {}
        for chunk in chunked(list(dict.fromkeys(i.lower() for i in ids)), HASHES_PER_REQUEST):
            for item in self._info("|".join(chunk)):
                items[item.client_download_id] = item  # a hybrid asked by both hashes comes once
        return list(items.values())

    def pause(self, download_id: str) -> None:
        self._control("stop", "pause", download_id)

    def resume(self, download_id: str) -> None:
        self._control("start", "resume", download_id)

    def _control(self, name: str, name_before_5: str, download_id: str) -> None:
        # 5.0 renamed pause/resume to stop/start, with no aliases: the old name answers 404 there,
        # the new one 404 before.
        response = self._api("POST", f"torrents/{name}", tolerate=(404,), data={"hashes": download_id.lower()})
        if response.status_code == 404:
            self._api("POST", f"torrents/{name_before_5}", data={"hashes": download_id.lower()})

    def remove(self, download_id: str, *, delete_data: bool) -> None:
        data = {"hashes": download_id.lower(), "deleteFiles": _flag(delete_data)}
        self._api("POST", "torrents/delete", data=data)

    # -- push: "Run external program on torrent finished" ----------------------------------------

    push_kind = "program"

    def _preferences(self) -> dict[str, Any]:
        prefs = self.json_body(self._api("GET", "app/preferences"), what="app/preferences")
        if not isinstance(prefs, dict):
            raise UnexpectedResponse("qBittorrent answered app/preferences without its settings")
        return prefs

    def push_setting(self) -> PushSetting:
        prefs = self._preferences()
        return PushSetting(bool(prefs.get("autorun_enabled")), str(prefs.get("autorun_program") or "") or None)

    def share_limits(self) -> ShareLimits | None:
        prefs = self._preferences()
        try:
            ratio = float(prefs["max_ratio"]) if prefs.get("max_ratio_enabled") else None
            minutes = float(prefs["max_seeding_time"]) if prefs.get("max_seeding_time_enabled") else None
            action = RATIO_ACTIONS.get(int(prefs.get("max_ratio_act") or 0), "stop")
        except SHAPE_ERRORS as exc:
            raise shape_error("qBittorrent", "app/preferences", exc) from exc
        if ratio is None and not minutes:
            return None
        return ShareLimits(ratio, minutes * 60 if minutes else None, action, "Options > BitTorrent > Seeding Limits")

    def set_push_setting(self, setting: PushSetting) -> None:
        prefs = {"autorun_enabled": setting.enabled, "autorun_program": setting.program or ""}
        self._api("POST", "app/setPreferences", data={"json": json.dumps(prefs)})

    report_placeholders = ("%I", "%J", "%F")  # v1 hash, v2 hash (empty for v1), content path

    @classmethod
    def read_report(cls, env: Mapping[str, str], args: Sequence[str]) -> PushReport:
        v1, v2, content = [*args, "", "", ""][:3]
        ids = tuple(h.lower() for h in (v2[:40], v1) if len(h) >= 40)
        if not ids:
            raise UsageError("qBittorrent's report needs the infohash: `dlwatch report --client NAME -- %I %J %F`")
        item = DownloadItem(ids[0], "", DownloadStatus.COMPLETED, "finished", progress=1.0, remaining_bytes=0)
        item.content_path, item.alt_ids = content or None, ids[1:]
        return PushReport(ids, item, complete=bool(content))

    def list_recent(self, since: float) -> list[DownloadItem]:
        items: list[DownloadItem] = []
        newest_first = {"sort": "added_on", "reverse": "true", "limit": str(RECENT_PAGE)}
        for page in range(RECENT_PAGES):
            torrents = self._torrents(None, {**newest_first, "offset": str(page * RECENT_PAGE)})
            items += self._items(torrents)
            try:
                older = len(torrents) < RECENT_PAGE or float(torrents[-1].get("added_on") or 0) < since
            except SHAPE_ERRORS as exc:
                raise shape_error("qBittorrent", "torrents/info", exc) from exc
            if older:
                break
        return items

    def _info(self, hashes: str | None) -> list[DownloadItem]:
        return self._items(self._torrents(hashes))

    def _torrents(self, hashes: str | None, extra: dict[str, str] | None = None) -> list[dict[str, Any]]:
        params = {**({"hashes": hashes} if hashes else {}), **(extra or {})}
        response = self._api("GET", "torrents/info", params=params or None)
        return self.json_body(response, what="torrents/info")

    def _items(self, torrents: list[dict[str, Any]]) -> list[DownloadItem]:
        try:
            return [self._item(t) for t in torrents]
        except SHAPE_ERRORS as exc:
            raise shape_error("qBittorrent", "torrents/info", exc) from exc

    def _item(self, t: dict[str, Any]) -> DownloadItem:
        raw = str(t["state"])
        status = self.map_state(raw)
        size = int(t.get("size") or 0)
        progress = float(t.get("progress") or 0.0)
        eta = t.get("eta")
        return DownloadItem(
            client_download_id=str(t["hash"]).lower(),
            title=str(t.get("name") or ""),
            status=status,
            raw_state=raw,
            progress=1.0 if status is DownloadStatus.COMPLETED else min(1.0, max(0.0, progress)),
            size_bytes=size or None,  # 0 while a magnet has no metadata
            remaining_bytes=0 if status is DownloadStatus.COMPLETED else int(t.get("amount_left") or 0),
            download_speed=int(t.get("dlspeed") or 0),
            eta_seconds=None
            if status is DownloadStatus.COMPLETED or eta is None or not 0 <= int(eta) < MAX_ETA
            else int(eta),
            category=t.get("category") or None,
            save_path=t.get("save_path") or None,
            content_path=t.get("content_path") or None,
            error=ERROR_TEXTS.get(raw),
            alt_ids=tuple(h.lower() for h in (t.get("infohash_v1"), t.get("infohash_v2")) if h),
            fetching_metadata=raw in METADATA_STATES or t.get("has_metadata") is False,
            # the distributed copies among connected peers; -1 when qBittorrent does not know
            availability=float(t["availability"]) if float(t.get("availability", -1) or 0) >= 0 else None,
            seeding=raw in SEEDING_STATES,
            ratio=float(t["ratio"]) if t.get("ratio") is not None else None,
            seed_seconds=int(t["seeding_time"]) if t.get("seeding_time") is not None else None,
            uploaded_bytes=int(t["uploaded"]) if t.get("uploaded") is not None else None,
            upload_speed=int(t.get("upspeed") or 0),
            # the seeders the trackers count (num_complete; -1 while unknown)
            seeders=int(t["num_complete"]) if int(t.get("num_complete", -1)) >= 0 else None,
        )


def _torrent_id(request: AddRequest) -> str | None:
    """qBittorrent's id: the v1 hash, or for v2 and hybrid torrents the v2 hash cut to 40 characters."""
    if request.infohash_v2:
        return request.infohash_v2[:40].lower()
    return request.infohash_v1.lower() if request.infohash_v1 else None


def _flag(value: bool) -> str:
    return "true" if value else "false"


# What qBittorrent does at its share limits (app/preferences `max_ratio_act`, the same numbers in
# 4.x and 5.x: 4.x calls 0 "pause", 5.x "stop").
RATIO_ACTIONS = {0: "stop", 1: "remove", 2: "super_seed", 3: "remove_with_data"}
