"""NZBGet JSON-RPC (`POST /jsonrpc`, positional params): `listgroups` for the queue (including jobs in
post-processing), `history` for finished jobs, `status` for the global pause flag and the speed.

Facts this relies on (shared/docs/client-apis.md §6): sizes are unsigned 32-bit Lo/Hi halves;
`append` returns the NZBID (<= 0 is a failure); a bad password is HTTP 401 with an empty body;
the original nzbget 21 and the nzbgetcom fork share these fields and states.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ClassVar

from dlwatch.adapters.base import SHAPE_ERRORS, ClientAdapter, progress_from, shape_error
from dlwatch.core.errors import (
    ActionUnsupported,
    AuthRejected,
    CannotConnect,
    DownloadNotFound,
    UnexpectedResponse,
    UsageError,
)
from dlwatch.core.models import (
    AddRequest,
    ClientVersion,
    DownloadItem,
    DownloadStatus,
    Protocol,
    PushReport,
    PushSetting,
)

# The post-processing parameter dlwatch attaches to each job, as Sonarr attaches `drone`.
TAG_PARAMETER = "dlwatch"
RECENT = 50  # newest history entries searched for a job known only by its title
RELOAD_CHECK = 0.1  # seconds between asks while NZBGet reloads
RELOAD_SETTLE = 5.0  # answering all along this long after a reload: it went down and up between two asks

_PP = DownloadStatus.POSTPROCESSING
GROUP_STATES: dict[str, DownloadStatus] = {
    "QUEUED": DownloadStatus.QUEUED,
    "PAUSED": DownloadStatus.PAUSED,
    "DOWNLOADING": DownloadStatus.DOWNLOADING,
    "FETCHING": DownloadStatus.QUEUED,  # the NZB itself is still being fetched from its URL
    "PP_QUEUED": _PP,
    "LOADING_PARS": _PP,
    "VERIFYING_SOURCES": _PP,
    "REPAIRING": _PP,
    "VERIFYING_REPAIRED": _PP,
    "RENAMING": _PP,
    "UNPACKING": _PP,
    "MOVING": _PP,
    "POST_UNPACK_RENAMING": _PP,  # nzbgetcom >= 24.6
    "EXECUTING_SCRIPT": _PP,
    "PP_FINISHED": _PP,
    "QS_QUEUED": _PP,
    "QS_EXECUTING": _PP,
}

_OK, _BAD = DownloadStatus.COMPLETED, DownloadStatus.FAILED
HISTORY_STATES: dict[str, DownloadStatus] = {
    "SUCCESS/ALL": _OK,
    "SUCCESS/UNPACK": _OK,
    "SUCCESS/PAR": _OK,
    "SUCCESS/HEALTH": _OK,
    "SUCCESS/GOOD": _OK,
    "SUCCESS/MARK": _OK,
    "SUCCESS/HIDDEN": _OK,
    # The files are there and whole; only the user's script complained.
    "WARNING/SCRIPT": _OK,
    "WARNING/SPACE": _BAD,
    "WARNING/PASSWORD": _BAD,
    "WARNING/DAMAGED": _BAD,
    "WARNING/REPAIRABLE": _BAD,
    "WARNING/HEALTH": _BAD,
    "WARNING/SKIPPED": _BAD,
    "FAILURE/PAR": _BAD,
    "FAILURE/UNPACK": _BAD,
    "FAILURE/MOVE": _BAD,
    "FAILURE/SCAN": _BAD,
    "FAILURE/BAD": _BAD,
    "FAILURE/HEALTH": _BAD,
    "FAILURE/FETCH": _BAD,
    "FAILURE/INTERNAL_ERROR": _BAD,
    "FAILURE/HIDDEN": _BAD,
    "DELETED/MANUAL": _BAD,
    "DELETED/DUPE": _BAD,
    "DELETED/COPY": _BAD,
    "DELETED/GOOD": _BAD,
}

REASONS: dict[str, str] = {
    "WARNING/SCRIPT": "a post-processing script reported an error",
    "WARNING/SPACE": "unpacking stopped: not enough disk space",
    "WARNING/PASSWORD": "unpacking needs a password",
    "WARNING/DAMAGED": "the download is damaged and could not be repaired",
    "WARNING/REPAIRABLE": "the download is damaged; repair is possible but was not done",
    "WARNING/HEALTH": "health is below the critical level",
    "WARNING/SKIPPED": "skipped as a duplicate",
    "FAILURE/PAR": "par repair failed",
    "FAILURE/UNPACK": "unpacking failed",
    "FAILURE/MOVE": "moving the files failed",
    "FAILURE/SCAN": "the NZB could not be read",
    "FAILURE/BAD": "marked bad",
    "FAILURE/HEALTH": "health check failed: too many articles are missing on the news server",
    "FAILURE/FETCH": "fetching the NZB from its URL failed",
    "FAILURE/INTERNAL_ERROR": "NZBGet reported an internal error",
    "FAILURE/HIDDEN": "a hidden duplicate failed",
    "DELETED/MANUAL": "deleted in NZBGet",
    "DELETED/DUPE": "deleted as a duplicate",
    "DELETED/COPY": "deleted: an identical copy was already downloaded",
    "DELETED/GOOD": "deleted: a good duplicate was already downloaded",
}


class NzbgetAdapter(ClientAdapter):
    type_name = "nzbget"
    display_name = "NZBGet"
    protocol = Protocol.USENET
    default_port = 6789
    default_url_base = ""
    secret_kind = "password"
    can_filter_ids = False  # listgroups has no filter; dlwatch filters what it reads
    STATES: ClassVar[dict[str, DownloadStatus]] = {
        **{f"queue:{k}": v for k, v in GROUP_STATES.items()},
        **{f"history:{k}": v for k, v in HISTORY_STATES.items()},
    }

    def _call(self, method: str, *params: Any) -> Any:
        c = self.connection
        auth = (c.username or "", c.secret.reveal() if c.secret else "")
        payload = {"method": method, "params": list(params), "id": 1}
        response = self.request("POST", "/jsonrpc", json=payload, auth=auth)
        if response.status_code == 401:
            raise AuthRejected("NZBGet rejected the username or password (HTTP 401)")
        self.check_status(response, what=method)
        body = self.json_body(response, what=method)
        if not isinstance(body, dict):
            raise UnexpectedResponse(f"NZBGet answered {method} with {type(body).__name__}, not an object")
        if error := body.get("error"):
            message = error.get("message", error) if isinstance(error, dict) else error
            if isinstance(error, dict) and error.get("code") == 401:
                raise AuthRejected(f"NZBGet refused {method}: {message} (an add-only or restricted user?)")
            raise UnexpectedResponse(f"NZBGet refused {method}: {message}")
        if "result" not in body:
            raise UnexpectedResponse(f"NZBGet answered {method} without a result")
        return body["result"]

    def version(self) -> ClientVersion:
        return ClientVersion(version=str(self._call("version")))

    # -- push: a post-processing script in ScriptDir, named per job ---------------------------

    push_kind = "script_dir"
    report_exit_code = 95  # POSTPROCESS_NONE: the job's own status stays as it is

    def push_setting(self) -> PushSetting:
        try:
            options = {str(o["Name"]): str(o["Value"]) for o in self._call("config")}
        except SHAPE_ERRORS as exc:
            raise shape_error("NZBGet", "config", exc) from exc
        folder = _expand(options.get("ScriptDir", ""), options).replace(",", ";").split(";")[0].strip()
        return PushSetting(True, folder or None)

    def push_script_written(self) -> None:
        """NZBGet reads its script folder when it loads its configuration, so it reloads: it answers
        a moment longer, goes down for about a second, then comes back with its uptime counted from
        zero. Returns only once it is back (a `send` right after must find it), within the deadline
        of the work it is part of."""
        uptime = self._uptime()
        self._call("reload")
        reloaded = time.monotonic()
        went_down = False
        while True:
            try:
                now = self._uptime()
            except CannotConnect as exc:
                if self.deadline is None or time.monotonic() >= self.deadline:
                    raise CannotConnect(
                        f"NZBGet did not answer again within {self.deadline_seconds:g}s of reloading its "
                        "settings (the script is in place; it may still be starting)"
                    ) from exc
                went_down = True
            else:
                # Back (down, then up; or a smaller uptime), or it answered all along: both are fine.
                if went_down or now < uptime or time.monotonic() - reloaded >= RELOAD_SETTLE:
                    return
            time.sleep(RELOAD_CHECK)

    def _uptime(self) -> int:
        try:
            return int(self._call("status")["UpTimeSec"])
        except SHAPE_ERRORS as exc:
            raise shape_error("NZBGet", "status", exc) from exc

    @classmethod
    def read_report(cls, env: Mapping[str, str], args: Sequence[str]) -> PushReport:
        nzbid = env.get("NZBPP_NZBID", "")
        if not nzbid.isdigit():
            raise UsageError("no NZBPP_NZBID in the environment: this is run by NZBGet as a post-processing script")
        raw = env.get("NZBPP_STATUS", "")
        status = HISTORY_STATES.get(raw) or (
            DownloadStatus.COMPLETED if env.get("NZBPP_TOTALSTATUS") == "SUCCESS" else DownloadStatus.FAILED
        )
        done = status is DownloadStatus.COMPLETED
        where = env.get("NZBPP_FINALDIR") or env.get("NZBPP_DIRECTORY") or None
        item = DownloadItem(
            nzbid, env.get("NZBPP_NZBNAME", ""), status, f"history:{raw}", progress=1.0 if done else 0.0
        )
        item.content_path, item.save_path = where, where
        item.remaining_bytes = 0 if done else None
        item.error = None if done and raw.startswith("SUCCESS") else REASONS.get(raw, raw or "failed in NZBGet")
        item.category = env.get("NZBPP_CATEGORY") or None
        return PushReport((nzbid,), item, complete=True)

    def add(self, request: AddRequest) -> str:
        if request.content is not None:
            content = base64.b64encode(request.content).decode("ascii")
            filename = request.filename or f"{request.title}.nzb"
        elif request.url:
            content, filename = request.url, request.filename or ""
        else:
            raise UnexpectedResponse("NZBGet takes an .nzb file or URL, not a magnet link")
        parameters = [[TAG_PARAMETER, request.dlwatch_tag]] if request.dlwatch_tag else []
        if request.report_script:  # push: run dlwatch's script for this job (`<script>:` = yes)
            parameters.append([f"{request.report_script}:", "yes"])
        nzbid = self._call(
            "append",
            filename,
            content,
            request.category or "",
            request.priority,
            False,  # AddToTop
            request.paused,
            "",  # DupeKey
            0,  # DupeScore
            "SCORE",  # DupeMode
            parameters,
        )
        if isinstance(nzbid, bool) or not isinstance(nzbid, int) or nzbid <= 0:
            raise UnexpectedResponse(f"NZBGet did not accept the NZB (append returned {nzbid!r})")
        return str(nzbid)

    def list_downloads(self, ids: Sequence[str] | None = None) -> list[DownloadItem]:
        # Two independent questions: asked at once, so a poll waits one round trip, not two.
        with ThreadPoolExecutor(max_workers=2) as pool:
            asked_status = pool.submit(self._call, "status")
            groups = self._call("listgroups", 0)
            status = asked_status.result()
        try:
            globally_paused = bool(status.get("DownloadPaused"))
            rate = _int64(status, "DownloadRate") if "DownloadRateLo" in status else int(status["DownloadRate"])
            items, remaining_ahead, speed_given = [], 0, False
            for group in groups:
                item = self._group_item(group, globally_paused)
                if item.status is DownloadStatus.DOWNLOADING:
                    # Jobs download one after another: a job's ETA counts the jobs ahead of it.
                    remaining_ahead += item.remaining_bytes or 0
                    item.eta_seconds = remaining_ahead // rate if rate > 0 else None
                    if group.get("ActiveDownloads") and not speed_given:
                        item.download_speed, speed_given = rate, True
                items.append(item)
        except SHAPE_ERRORS as exc:
            raise shape_error("NZBGet", "listgroups", exc) from exc
        wanted = set(ids) if ids is not None else None
        return [i for i in items if wanted is None or i.client_download_id in wanted]

    def _group_item(self, group: dict[str, Any], globally_paused: bool) -> DownloadItem:
        raw = str(group["Status"])
        status = self.map_state(f"queue:{raw}")
        size = _int64(group, "FileSize")
        remaining = _int64(group, "RemainingSize")
        paused_size = _int64(group, "PausedSize")
        error = None
        if group.get("DeleteStatus") not in (None, "NONE"):
            # Deleted by a health check (or as a dupe) but not yet moved to the history.
            status, error = DownloadStatus.FAILED, _delete_reason(group)
        elif status in (DownloadStatus.DOWNLOADING, DownloadStatus.QUEUED) and (
            globally_paused or (remaining and remaining == paused_size)
        ):
            status = DownloadStatus.PAUSED
        return DownloadItem(
            client_download_id=str(group["NZBID"]),
            title=str(group.get("NZBName") or ""),
            status=status,
            raw_state=f"queue:{raw}",
            progress=progress_from(size, remaining),
            size_bytes=size,
            remaining_bytes=remaining,
            download_speed=0,
            category=group.get("Category") or None,
            save_path=group.get("DestDir") or None,
            error=error,
            dlwatch_tag=_tag(group),
            alt_ids=_drone(group),
        )

    def pause(self, download_id: str) -> None:
        self._edit("GroupPause", download_id, "pause")

    def resume(self, download_id: str) -> None:
        self._edit("GroupResume", download_id, "resume")

    def remove(self, download_id: str, *, delete_data: bool) -> None:
        # In the queue: GroupFinalDelete drops the job and the files it downloaded, GroupDelete moves
        # it to the history. A finished job is only in the history, whose files NZBGet never deletes.
        if self._call("editqueue", "GroupFinalDelete" if delete_data else "GroupDelete", "", [int(download_id)]):
            return
        if delete_data:
            raise ActionUnsupported(
                "NZBGet cannot delete a finished job's files; "
                "delete them yourself, then remove it without --delete-data"
            )
        if not self._call("editqueue", "HistoryFinalDelete", "", [int(download_id)]):
            raise DownloadNotFound(f"NZBGet has no job {download_id} in its queue or history")

    def _edit(self, command: str, download_id: str, what: str) -> None:
        if not self._call("editqueue", command, "", [int(download_id)]):
            raise DownloadNotFound(f"NZBGet could not {what} job {download_id}: it is not in the queue")

    def list_recent_finished(self) -> list[DownloadItem]:
        history = self._call("history", False)
        try:
            # NZBGet has no limit parameter; its history comes newest first.
            return [self._history_item(h) for h in history[:RECENT]]
        except SHAPE_ERRORS as exc:
            raise shape_error("NZBGet", "history", exc) from exc

    def list_finished(self, ids: Sequence[str]) -> list[DownloadItem]:
        if not ids:
            return []
        wanted = set(ids)
        history = self._call("history", False)
        try:
            return [self._history_item(h) for h in history if str(h.get("NZBID", h.get("ID"))) in wanted]
        except SHAPE_ERRORS as exc:
            raise shape_error("NZBGet", "history", exc) from exc

    def find_tagged(self, tag: str) -> DownloadItem | None:
        """Find a job by the dlwatch parameter attached when it was sent (queue first, then history)."""
        for item in self.list_downloads():
            if item.dlwatch_tag == tag:
                return item
        for entry in self._call("history", False):
            if _tag(entry) == tag:
                return self._history_item(entry)
        return None

    def _history_item(self, entry: dict[str, Any]) -> DownloadItem:
        raw = str(entry["Status"])
        status = self.map_state(f"history:{raw}")
        size = _int64(entry, "FileSize")
        reason = REASONS.get(raw, raw)
        if raw.endswith("/HEALTH"):
            reason += _health(entry)
        return DownloadItem(
            client_download_id=str(entry.get("NZBID", entry.get("ID"))),
            title=str(entry.get("Name") or entry.get("NZBName") or ""),
            status=status,
            raw_state=f"history:{raw}",
            progress=1.0
            if status is DownloadStatus.COMPLETED
            else progress_from(size, size - _int64(entry, "DownloadedSize")),
            size_bytes=size,
            remaining_bytes=0 if status is DownloadStatus.COMPLETED else None,
            download_speed=0,
            category=entry.get("Category") or None,
            save_path=entry.get("DestDir") or None,
            content_path=entry.get("FinalDir") or entry.get("DestDir") or None,
            error=None if status is DownloadStatus.COMPLETED and raw.startswith("SUCCESS") else reason,
            dlwatch_tag=_tag(entry),
            alt_ids=_drone(entry),
        )


def _expand(value: str, options: dict[str, str], depth: int = 0) -> str:
    """NZBGet's ${Option} references in an option's value, as NZBGet itself reads them."""
    if depth > 5 or "${" not in value:
        return value
    for name, other in options.items():
        value = value.replace(f"${{{name}}}", other)
    return _expand(value, options, depth + 1)


def _int64(record: dict[str, Any], name: str) -> int:
    """NZBGet splits 64-bit numbers into unsigned 32-bit halves."""
    lo, hi = record.get(f"{name}Lo"), record.get(f"{name}Hi")
    if lo is None:
        return int(record.get(name, 0) or 0)
    return (int(hi or 0) << 32) | (int(lo) & 0xFFFFFFFF)


def _parameter(record: dict[str, Any], name: str) -> str | None:
    """A post-processing parameter of a job, as sent with it (`append`'s PPParameters); None when
    the job has none of that name with a value."""
    for parameter in record.get("Parameters") or []:
        if isinstance(parameter, dict) and parameter.get("Name") == name and parameter.get("Value") is not None:
            return str(parameter["Value"])
    return None


def _tag(record: dict[str, Any]) -> str | None:
    return _parameter(record, TAG_PARAMETER)


def _drone(record: dict[str, Any]) -> tuple[str, ...]:
    """The `drone` parameter Sonarr and Radarr attach to a job they send: their id for it."""
    value = _parameter(record, "drone")
    return (value,) if value else ()


def _delete_reason(group: dict[str, Any]) -> str:
    kind = group.get("DeleteStatus")
    if kind == "HEALTH":
        return REASONS["FAILURE/HEALTH"] + _health(group)
    return REASONS.get(f"DELETED/{kind}", f"deleted in NZBGet ({kind})")


def _health(record: dict[str, Any]) -> str:
    # Only the measured health: the CriticalHealth field of a history entry need not be the threshold
    # the health check used (seen with NZBGet 21: 100% in the field, 85% in its log).
    health = record.get("Health")
    return f" (health {health / 10:g}%)" if isinstance(health, int) else ""
