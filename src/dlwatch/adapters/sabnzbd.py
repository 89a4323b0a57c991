"""SABnzbd (`/api?mode=...&output=json`): queue for active jobs, history for finished ones.

Facts this relies on (shared/docs/client-apis.md §3): numbers arrive as strings; a waiting job shows as
`Downloading` unless the whole queue is paused; finished jobs leave the queue for the history, which
also lists jobs still post-processing; a wrong key is HTTP 403 with a plain-text body (>= 3.3.0) or
HTTP 200 with that text (3.0-3.2).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from dlwatch.adapters.base import SHAPE_ERRORS, ClientAdapter, chunked, progress_from, shape_error
from dlwatch.core.errors import ActionUnsupported, AuthRejected, DownloadNotFound, UnexpectedResponse, UsageError
from dlwatch.core.models import (
    AddRequest,
    ClientVersion,
    DownloadItem,
    DownloadStatus,
    Protocol,
    PushReport,
    PushSetting,
)

IDS_PER_REQUEST = 200
RECENT = 50  # newest history entries searched for a job known only by its title
MIB = 1024 * 1024

QUEUE_STATES: dict[str, DownloadStatus] = {
    "Downloading": DownloadStatus.DOWNLOADING,
    "Queued": DownloadStatus.QUEUED,
    "Paused": DownloadStatus.PAUSED,
    "Propagating": DownloadStatus.QUEUED,
    "Grabbing": DownloadStatus.QUEUED,
    "Fetching": DownloadStatus.DOWNLOADING,  # fetching extra par2 blocks after a failed verify
    "Checking": DownloadStatus.CHECKING,
}
HISTORY_STATES: dict[str, DownloadStatus] = {
    "Completed": DownloadStatus.COMPLETED,
    "Failed": DownloadStatus.FAILED,
    "Queued": DownloadStatus.POSTPROCESSING,  # waiting for post-processing
    "QuickCheck": DownloadStatus.POSTPROCESSING,
    "Verifying": DownloadStatus.POSTPROCESSING,
    "Repairing": DownloadStatus.POSTPROCESSING,
    "Extracting": DownloadStatus.POSTPROCESSING,
    "Moving": DownloadStatus.POSTPROCESSING,
    "Running": DownloadStatus.POSTPROCESSING,
    "Fetching": DownloadStatus.POSTPROCESSING,
}

AUTH_TEXTS = ("API Key Required", "API Key Incorrect")


class SabnzbdAdapter(ClientAdapter):
    type_name = "sabnzbd"
    display_name = "SABnzbd"
    protocol = Protocol.USENET
    default_port = 8080
    default_url_base = ""
    secret_kind = "api_key"
    uses_username = False
    # Raw states are prefixed by where they were seen, since the two lists share names.
    STATES: ClassVar[dict[str, DownloadStatus]] = {
        **{f"queue:{k}": v for k, v in QUEUE_STATES.items()},
        **{f"history:{k}": v for k, v in HISTORY_STATES.items()},
    }

    def _api(self, mode: str, *, method: str = "GET", files: Any = None, **params: Any) -> Any:
        query = {"mode": mode, "output": "json", **{k: v for k, v in params.items() if v is not None}}
        if self.connection.secret:
            query["apikey"] = self.connection.secret.reveal()
        response = self.request(method, "/api", params=query, files=files)
        body_text = response.text.strip()
        if response.status_code == 403 or body_text in AUTH_TEXTS:
            reason = body_text or "HTTP 403"
            if reason in AUTH_TEXTS:
                raise AuthRejected(f"SABnzbd rejected the API key ({reason}); use the full API key, not the NZB key")
            raise AuthRejected(f"SABnzbd refused access ({reason})")
        self.check_status(response, what=f"mode={mode}")
        body = self.json_body(response, what=f"mode={mode}")
        if isinstance(body, dict) and body.get("status") is False and body.get("error"):
            error = str(body["error"])
            if "API Key" in error:
                raise AuthRejected(f"SABnzbd rejected the API key ({error})")
            raise UnexpectedResponse(f"SABnzbd refused mode={mode}: {error}")
        return body

    def version(self) -> ClientVersion:
        body = self._api("version")
        # mode=version needs no key, so also read the queue to prove the key works.
        self._api("queue", limit=1)
        try:
            return ClientVersion(version=str(body["version"]))
        except SHAPE_ERRORS as exc:
            raise shape_error("SABnzbd", "mode=version", exc) from exc

    def add(self, request: AddRequest) -> str:
        # `script`: push runs dlwatch's script (in SABnzbd's script folder) when this job ends.
        params = {"cat": request.category, "nzbname": request.title or None, "script": request.report_script}
        if request.paused:
            params["priority"] = -2
        if request.content is not None:
            files = {"name": (request.filename or f"{request.title}.nzb", request.content, "application/x-nzb")}
            body = self._api("addfile", method="POST", files=files, **params)
        elif request.url:
            body = self._api("addurl", name=request.url, **params)
        else:
            raise UnexpectedResponse("SABnzbd takes an .nzb file or URL, not a magnet link")
        ids = body.get("nzo_ids") if isinstance(body, dict) else None
        if not ids:
            raise UnexpectedResponse("SABnzbd did not accept the NZB (no nzo_id returned; a duplicate?)")
        return str(ids[0])

    # -- push: a user script in script_dir, named per job --------------------------------------

    push_kind = "script_dir"

    def push_setting(self) -> PushSetting:
        body = self._api("get_config", section="misc", keyword="script_dir")
        try:
            config = body["config"]
            misc = config.get("misc", config)
            folder = str(misc.get("script_dir") or "") if isinstance(misc, dict) else ""
        except SHAPE_ERRORS as exc:
            raise shape_error("SABnzbd", "get_config", exc) from exc
        if not folder:
            raise ActionUnsupported("SABnzbd has no script folder: set Config > Folders > Scripts Folder first")
        return PushSetting(True, folder)

    @classmethod
    def read_report(cls, env: Mapping[str, str], args: Sequence[str]) -> PushReport:
        # Arguments: final folder, NZB file, job name, (empty), category, group, status, failure URL.
        final_dir, _, name, _, category, _, pp_status, *_ = [*args, *[""] * 8]
        nzo_id = env.get("SAB_NZO_ID", "")
        if not nzo_id.startswith("SABnzbd_nzo_"):
            raise UsageError("no SAB_NZO_ID in the environment: this is run by SABnzbd as a user script")
        status = env.get("SAB_PP_STATUS", pp_status)
        done = status == "0"
        reason = env.get("SAB_FAIL_MSG") or f"post-processing failed in SABnzbd (status {status or 'unknown'})"
        item = DownloadItem(
            nzo_id,
            env.get("SAB_FINAL_NAME") or name,
            DownloadStatus.COMPLETED if done else DownloadStatus.FAILED,
            "history:Completed" if done else "history:Failed",
            progress=1.0 if done else 0.0,
            remaining_bytes=0 if done else None,
            category=env.get("SAB_CAT") or category or None,
            content_path=env.get("SAB_COMPLETE_DIR") or final_dir or None,
            error=None if done else reason,
        )
        return PushReport((nzo_id,), item, complete=True)

    def list_downloads(self, ids: Sequence[str] | None = None) -> list[DownloadItem]:
        # The ids go in the URL: a couple of hundred at a time keeps it far below any URL limit.
        chunks = list(chunked(list(ids), IDS_PER_REQUEST)) if ids else [None]
        try:
            queues = [self._api("queue", start=0, limit=0, nzo_ids=",".join(c) if c else None)["queue"] for c in chunks]
            globally_paused = bool(queues[0].get("paused"))
            speed = int(float(queues[0].get("kbpersec") or 0) * 1024)
            items = []
            for slot in (slot for queue in queues for slot in queue["slots"]):
                if slot.get("status") == "Deleted":
                    continue
                items.append(self._queue_item(slot, globally_paused, speed))
                speed = 0  # SABnzbd reports one speed; it belongs to the job it is working on
            return items
        except SHAPE_ERRORS as exc:
            raise shape_error("SABnzbd", "mode=queue", exc) from exc

    def _queue_item(self, slot: dict[str, Any], globally_paused: bool, speed: int) -> DownloadItem:
        raw = str(slot["status"])
        status = self.map_state(f"queue:{raw}")
        size = int(float(slot.get("mb") or 0) * MIB)
        remaining = int(float(slot.get("mbleft") or 0) * MIB)
        if (globally_paused and slot.get("priority") != "Force") or raw == "Paused":
            status = DownloadStatus.PAUSED
        elif raw == "Downloading" and int(slot.get("index", 0)) > 0 and remaining >= size:
            # SABnzbd calls every waiting job "Downloading"; one not yet started is queued.
            status = DownloadStatus.QUEUED
        working = status is DownloadStatus.DOWNLOADING
        return DownloadItem(
            client_download_id=str(slot["nzo_id"]),
            title=str(slot.get("filename") or ""),
            status=status,
            raw_state=f"queue:{raw}",
            progress=progress_from(size, remaining),
            size_bytes=size,
            remaining_bytes=remaining,
            download_speed=speed if working else 0,
            eta_seconds=_parse_timeleft(slot.get("timeleft")) if working else None,
            category=_category(slot.get("cat")),
        )

    def pause(self, download_id: str) -> None:
        self._confirmed(self._api("queue", name="pause", value=download_id), "pause", download_id)

    def resume(self, download_id: str) -> None:
        self._confirmed(self._api("queue", name="resume", value=download_id), "resume", download_id)

    def remove(self, download_id: str, *, delete_data: bool) -> None:
        # A job in the queue, or else in the history; del_files removes what it downloaded.
        flag = 1 if delete_data else 0
        body = self._api("queue", name="delete", value=download_id, del_files=flag)
        if not _touched(body, download_id):
            body = self._api("history", name="delete", value=download_id, del_files=flag)
            self._confirmed(body, "remove", download_id)

    @staticmethod
    def _confirmed(body: Any, what: str, download_id: str) -> None:
        if not (isinstance(body, dict) and body.get("status") is True):
            raise DownloadNotFound(f"SABnzbd could not {what} {download_id}: {str(body)[:80]}")

    def list_recent_finished(self) -> list[DownloadItem]:
        try:
            return [self._history_item(s) for s in self._api("history", start=0, limit=RECENT)["history"]["slots"]]
        except SHAPE_ERRORS as exc:
            raise shape_error("SABnzbd", "mode=history", exc) from exc

    def list_finished(self, ids: Sequence[str]) -> list[DownloadItem]:
        if not ids:
            return []
        try:
            return [
                self._history_item(slot)
                for chunk in chunked(list(ids), IDS_PER_REQUEST)
                for slot in self._api("history", start=0, limit=len(chunk), nzo_ids=",".join(chunk))["history"]["slots"]
            ]
        except SHAPE_ERRORS as exc:
            raise shape_error("SABnzbd", "mode=history", exc) from exc

    def _history_item(self, slot: dict[str, Any]) -> DownloadItem:
        raw = str(slot["status"])
        status = self.map_state(f"history:{raw}")
        size = int(slot.get("bytes") or 0)
        done = status is DownloadStatus.COMPLETED
        return DownloadItem(
            client_download_id=str(slot["nzo_id"]),
            title=str(slot.get("name") or ""),
            status=status,
            raw_state=f"history:{raw}",
            progress=1.0 if done or status is DownloadStatus.POSTPROCESSING else 0.0,
            size_bytes=size,
            remaining_bytes=0 if status is not DownloadStatus.FAILED else None,
            download_speed=0,
            category=_category(slot.get("category")),
            save_path=slot.get("path") or None,
            content_path=slot.get("storage") or None,
            error=(slot.get("fail_message") or None) if status is DownloadStatus.FAILED else None,
        )


def _touched(body: Any, download_id: str) -> bool:
    """Did a queue command act on this job? (SABnzbd answers status true and lists the ids it did.)"""
    return isinstance(body, dict) and body.get("status") is True and download_id in (body.get("nzo_ids") or [])


def _category(value: Any) -> str | None:
    return None if value in (None, "", "*") else str(value)


def _parse_timeleft(value: Any) -> int | None:
    """`H:MM:SS` or `D:HH:MM:SS`; `0:00:00` means SABnzbd does not know."""
    if not value:
        return None
    try:
        parts = [int(p) for p in str(value).split(":")]
    except ValueError:
        return None
    seconds = 0
    for part, unit in zip(reversed(parts), (1, 60, 3600, 86400), strict=False):
        seconds += part * unit
    return seconds or None
