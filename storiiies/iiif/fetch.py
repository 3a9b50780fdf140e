"""The only code that talks to the network: fetch IIIF JSON over HTTP, with an on-disk cache.

Every response is kept under the project's cache folder with its ETag / Last-Modified, so a
rebuild revalidates cheaply, a build with the network down falls back to the cached copy, and
`--offline` builds need no network at all.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from storiiies import __version__
from storiiies.errors import FetchError, NotIIIF

MAX_BYTES = 32 * 1024 * 1024  # the largest manifests in the wild are a few MB
RETRY_STATUSES = {429, 500, 502, 503, 504}
USER_AGENT = f"storiiies/{__version__} (+https://github.com/storiiies/storiiies)"


@dataclass(frozen=True)
class Fetched:
    url: str
    data: Any
    from_cache: bool = False
    stale: bool = False  # served from cache because the network failed


class Fetcher:
    """Fetch JSON documents; thread-safe, so sources can be fetched in parallel."""

    def __init__(
        self,
        cache_dir: Path,
        *,
        offline: bool = False,
        timeout: float = 20.0,
        retries: int = 2,
        max_bytes: int = MAX_BYTES,
    ) -> None:
        self.cache_dir = cache_dir / "http"
        self.offline = offline
        self.retries = retries
        self.max_bytes = max_bytes
        self._client: httpx.Client | None = None
        self._timeout = httpx.Timeout(timeout, connect=min(timeout, 10.0))
        self._lock = threading.Lock()
        self._memo: dict[str, Fetched] = {}

    @property
    def client(self) -> httpx.Client:
        with self._lock:
            if self._client is None:
                self._client = httpx.Client(
                    timeout=self._timeout,
                    follow_redirects=True,
                    max_redirects=5,
                    headers={"User-Agent": USER_AGENT, "Accept": "application/ld+json, application/json;q=0.9, */*;q=0.1"},
                    limits=httpx.Limits(max_connections=8, max_keepalive_connections=8),
                    trust_env=False,
                )
            return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def get_json(self, url: str) -> Fetched:
        """The JSON at `url`. Raises FetchError (with the HTTP status) or NotIIIF (not JSON)."""
        with self._lock:
            if url in self._memo:
                return self._memo[url]
        fetched = self._get_json(url)
        with self._lock:
            self._memo[url] = fetched
        return fetched

    def _get_json(self, url: str) -> Fetched:
        cached = self._read_cache(url)
        if self.offline:
            if cached is None:
                raise FetchError(
                    f"{url} is not in the cache and --offline is set",
                    "build once with the network on, or drop --offline",
                )
            return Fetched(url, _parse_json(url, cached["body"]), from_cache=True)
        headers = {}
        if cached is not None:
            if cached.get("etag"):
                headers["If-None-Match"] = cached["etag"]
            if cached.get("last_modified"):
                headers["If-Modified-Since"] = cached["last_modified"]
        try:
            response, body = self._request(url, headers)
        except FetchError:
            if cached is not None:
                return Fetched(url, _parse_json(url, cached["body"]), from_cache=True, stale=True)
            raise
        if response.status_code == 304 and cached is not None:
            return Fetched(url, _parse_json(url, cached["body"]), from_cache=True)
        if response.status_code >= 400:
            raise FetchError(
                f"{url} answered HTTP {response.status_code} {response.reason_phrase}".rstrip(),
                _status_hint(response.status_code),
            )
        data = _parse_json(url, body)
        self._write_cache(url, response, body)
        return Fetched(url, data)

    def _request(self, url: str, headers: dict[str, str]) -> tuple[httpx.Response, bytes]:
        for attempt in range(self.retries + 1):
            try:
                with self.client.stream("GET", url, headers=headers) as response:
                    if response.status_code in RETRY_STATUSES and attempt < self.retries:
                        delay = _retry_after(response.headers.get("Retry-After"), attempt)
                        response.close()
                        time.sleep(delay)
                        continue
                    body = bytearray()
                    for chunk in response.iter_bytes():
                        body.extend(chunk)
                        if len(body) > self.max_bytes:
                            raise FetchError(
                                f"{url} is larger than {self.max_bytes // 2**20} MB",
                                "this is not a manifest or info.json; check the URL",
                            )
                    return response, bytes(body)
            except httpx.TooManyRedirects:
                raise FetchError(f"{url} redirects too many times", "check the URL") from None
            except httpx.TimeoutException:
                if attempt < self.retries:
                    continue
                raise FetchError(f"{url} timed out", "check the URL, or try again later") from None
            except httpx.HTTPError as exc:
                if attempt < self.retries and isinstance(exc, httpx.TransportError):
                    time.sleep(0.2 * (attempt + 1))
                    continue
                raise FetchError(
                    f"cannot reach {url} ({type(exc).__name__}: {exc})".rstrip(),
                    "check the URL and your network, or build with --offline from the cache",
                ) from None
        raise AssertionError("unreachable")  # the loop always returns or raises

    def _cache_path(self, url: str) -> Path:
        return self.cache_dir / (hashlib.sha256(url.encode()).hexdigest() + ".json")

    def _read_cache(self, url: str) -> dict[str, Any] | None:
        path = self._cache_path(url)
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(entry, dict) or entry.get("url") != url:
            return None
        entry["body"] = entry.get("body", "").encode("utf-8")
        return entry

    def _write_cache(self, url: str, response: httpx.Response, body: bytes) -> None:
        path = self._cache_path(url)
        entry = {
            "url": url,
            "etag": response.headers.get("ETag"),
            "last_modified": response.headers.get("Last-Modified"),
            "body": body.decode("utf-8", errors="replace"),
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{threading.get_ident()}.tmp")
        temporary.write_text(json.dumps(entry), encoding="utf-8")
        temporary.replace(path)


def _retry_after(value: str | None, attempt: int) -> float:
    try:
        return min(max(float(value or ""), 0.0), 10.0)
    except ValueError:
        return min(0.5 * 2**attempt, 10.0)


def _status_hint(status: int) -> str:
    if status == 404:
        return "check the URL: the server has no document there"
    if status in (401, 403):
        return "the server refuses access; the resource may not be public"
    if status >= 500:
        return "the server has a problem; try again later"
    return "check the URL"


def _parse_json(url: str, body: bytes) -> Any:
    text = body.decode("utf-8-sig", errors="replace").strip()
    if text[:1] == "<":
        raise NotIIIF(
            f"{url} returned an HTML page, not IIIF JSON",
            "use the manifest's own URL (often ending in manifest.json), not the viewer page",
        )
    try:
        return json.loads(text)
    except ValueError as exc:
        raise NotIIIF(f"{url} is not valid JSON ({exc})", "check that the URL is a IIIF manifest or info.json") from None
