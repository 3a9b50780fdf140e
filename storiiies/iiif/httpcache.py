"""The on-disk cache of fetched documents: one JSON file per URL, with its validators.

A rebuild sends the ETag / Last-Modified back so an unchanged document costs one 304; a build
with the network down, or `--offline`, reads the body from here. Entries are written to a
temporary file and renamed, so a killed build or two builds at once never leave half an entry.

Each entry also keeps until when the server said it stays fresh (`Cache-Control: max-age`, or
`Expires`, RFC 9111 §4.2): while every document a build read is fresh, `storiiies build` may
take the last build as current (fingerprint.py) without asking the servers again.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from storiiies.atomic import write_atomic


@dataclass(frozen=True)
class CachedResponse:
    url: str
    body: str  # the decoded text: JSON is Unicode, whatever encoding it came in
    etag: str | None = None
    last_modified: str | None = None
    #: until when (seconds since the epoch) the server said this copy is fresh; None when it
    #: said nothing, or `no-cache` / `no-store`
    fresh_until: float | None = None

    def is_fresh(self, now: float) -> bool:
        return self.fresh_until is not None and now < self.fresh_until

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
        fresh = entry.get("fresh_until")
        if not isinstance(body, str):
            return None
        return CachedResponse(
            url,
            body,
            etag if isinstance(etag, str) else None,
            modified if isinstance(modified, str) else None,
            float(fresh) if isinstance(fresh, int | float) else None,
        )

    def write(self, entry: CachedResponse) -> None:
        path = self.path(entry.url)
        data = {
            "url": entry.url,
            "etag": entry.etag,
            "last_modified": entry.last_modified,
            "fresh_until": entry.fresh_until,
            "body": entry.body,
        }
        # Another build (or the preview server) may write the same entry: each writes its own
        # temporary file and the last complete one wins.
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, json.dumps(data))
        except OSError:
            pass  # a read-only cache only costs a revalidation


def fresh_until(headers: Mapping[str, str], now: float) -> float | None:
    """Until when a response with `headers`, received at `now`, is fresh for a private cache
    (RFC 9111 §4.2.1): `max-age`, else `Expires` − `Date`, less the `Age` it arrived with.
    None when the server gave no lifetime (no guess from Last-Modified: such a document is
    asked for again), or forbade reuse without asking (`no-cache`, `no-store`)."""
    directives = {}
    for part in headers.get("cache-control", "").split(","):
        name, _, value = part.strip().partition("=")
        directives[name.strip().lower()] = value.strip().strip('"')
    if "no-store" in directives or "no-cache" in directives:
        return None
    lifetime: float | None = None
    if directives.get("max-age", "").isdigit():
        lifetime = int(directives["max-age"])
    elif "expires" in headers:
        expires = _http_date(headers["expires"])
        date = _http_date(headers.get("date", "")) or now
        lifetime = max(0.0, expires - date) if expires is not None else 0.0
    if lifetime is None:
        return None
    age = headers.get("age", "")
    return now + lifetime - (int(age) if age.isdigit() else 0)


def _http_date(text: str) -> float | None:
    try:
        return email.utils.parsedate_to_datetime(text).timestamp()
    except (TypeError, ValueError, IndexError):
        return None
