"""The on-disk cache of fetched documents: one JSON file per URL, with its validators.

A rebuild sends the ETag / Last-Modified back so an unchanged document costs one 304; a build
with the network down, or `--offline`, reads the body from here. Entries are written to a
temporary file and renamed, so a killed build or two builds at once never leave half an entry.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from storiiies.atomic import write_atomic


@dataclass(frozen=True)
class CachedResponse:
    url: str
    body: str  # the decoded text: JSON is Unicode, whatever encoding it came in
    etag: str | None = None
    last_modified: str | None = None

    def revalidation_headers(self) -> dict[str, str]:
        headers = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers


class ResponseCache:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, url: str) -> Path:
        return self.folder / (hashlib.sha256(url.encode()).hexdigest() + ".json")

    def read(self, url: str) -> CachedResponse | None:
        """The entry for `url`; None when absent, unreadable or damaged."""
        try:
            entry = json.loads(self.path(url).read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            return None
        if not isinstance(entry, dict) or entry.get("url") != url:
            return None
        body, etag, modified = entry.get("body"), entry.get("etag"), entry.get("last_modified")
        if not isinstance(body, str):
            return None
        return CachedResponse(
            url,
            body,
            etag if isinstance(etag, str) else None,
            modified if isinstance(modified, str) else None,
        )

    def write(self, entry: CachedResponse) -> None:
        path = self.path(entry.url)
        data = {
            "url": entry.url,
            "etag": entry.etag,
            "last_modified": entry.last_modified,
            "body": entry.body,
        }
        # Another build (or the preview server) may write the same entry: each writes its own
        # temporary file and the last complete one wins.
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, json.dumps(data))
        except OSError:
            pass  # a read-only cache only costs a revalidation
