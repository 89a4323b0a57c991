"""Sonarr's and Radarr's API v3, the parts dlwatch reads: their download clients and remote path
mappings (shared/docs/sonarr-radarr.md). Both apps share one code base and these routes."""

from __future__ import annotations

from dlwatch.arr.servarr import RemotePathMapping, ServarrApi, remote_path_mapping
from dlwatch.core.errors import UnexpectedResponse
from dlwatch.core.models import Secret

APPS = {"sonarr": "Sonarr", "radarr": "Radarr"}


class ArrApp(ServarrApi):
    api_prefix = "/api/v3"

    def __init__(self, app: str, url: str, api_key: Secret | None, timeout: float = 30.0) -> None:
        self.app_name = APPS[app]
        super().__init__(url, api_key, timeout)

    def __enter__(self) -> ArrApp:
        return self

    def check(self) -> str:
        """The version, after making sure the app at this address is the one the user named."""
        status = self.status()
        named = str(status.get("appName") or self.app_name)
        if named.lower() in APPS and named.lower() != self.app_name.lower():
            raise UnexpectedResponse(f"{self.url} is {named}, not {self.app_name}: use --from-{named.lower()}")
        return str(status["version"])

    def queue_item(self, download_id: str, *, page_size: int = 200, max_pages: int = 50) -> dict | None:
        """The queue record of the download the client knows as `download_id` (an infohash, in
        upper case there), or None if this app did not send it."""
        wanted = download_id.lower()
        for page in range(1, max_pages + 1):
            body = self._request("GET", f"{self.api_prefix}/queue", params={"page": page, "pageSize": page_size})
            try:
                records = body["records"]
                found = next((r for r in records if str(r.get("downloadId") or "").lower() == wanted), None)
                total = int(body.get("totalRecords") or 0)
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                raise UnexpectedResponse(f"{self.app_name}'s queue came in an unexpected shape ({exc})") from exc
            if found is not None:
                return found
            if page * page_size >= total or not records:
                return None
        return None

    def queue(self, *, page_size: int = 1000, max_pages: int = 20) -> list[dict]:
        """Every record of the queue: one request unless it holds more than `page_size` downloads.
        Unknown items too (a download the app cannot match to a series or movie is importBlocked)."""
        unknown = "includeUnknownSeriesItems" if self.app_name == "Sonarr" else "includeUnknownMovieItems"
        records: list[dict] = []
        for page in range(1, max_pages + 1):
            params = {"page": page, "pageSize": page_size, unknown: "true"}
            body = self._request("GET", f"{self.api_prefix}/queue", params=params)
            try:
                batch = [r for r in body["records"] if isinstance(r, dict)]
                total = int(body.get("totalRecords") or 0)
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                raise UnexpectedResponse(f"{self.app_name}'s queue came in an unexpected shape ({exc})") from exc
            records += batch
            if page * page_size >= total or not batch:
                break
        return records

    def history_since(self, date: str) -> list[dict]:
        """Every history record since `date` (ISO 8601): where a download that left the queue says
        how it ended (downloadFolderImported, downloadFailed, downloadIgnored)."""
        body = self._request("GET", f"{self.api_prefix}/history/since", params={"date": date})
        if not isinstance(body, list):
            raise UnexpectedResponse(f"{self.app_name}'s history came as {type(body).__name__}, not a list")
        return [r for r in body if isinstance(r, dict)]

    def remove_and_search_again(self, queue_id: int) -> None:
        """Remove it from the queue and its client, blocklist the release, and let the app grab
        the next one (its own choice, by its own profiles)."""
        params = {"removeFromClient": "true", "blocklist": "true", "skipRedownload": "false"}
        self._request("DELETE", f"{self.api_prefix}/queue/{int(queue_id)}", params=params)

    def path_mappings(self) -> list[RemotePathMapping]:
        body = self._request("GET", f"{self.api_prefix}/remotepathmapping")
        try:
            return [remote_path_mapping(resource) for resource in body]
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise UnexpectedResponse(
                f"{self.app_name}'s remote path mappings came in an unexpected shape ({exc})"
            ) from exc
