"""The only code that talks to the network: fetch IIIF JSON over HTTP, with an on-disk cache.

Every response is kept under the project's cache folder with its ETag / Last-Modified, so a
rebuild revalidates cheaply, a build with the network down (or a server failing with 5xx)
falls back to the cached copy, and `--offline` builds need no network at all.

Servers in the wild are slow, overloaded, wrong about content types and sometimes hostile, so
each URL gets bounded patience (FetchPolicy): timeouts, a total deadline, a few retries that
honour Retry-After, a size limit, a redirect limit and a cap on parallel requests per host.
Whatever happens, the caller gets the JSON or one FetchError / NotIIIF line saying why not.
"""

from __future__ import annotations

import email.utils
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from storiiies import __version__
from storiiies.errors import FetchError, NotIIIF, SourceError
from storiiies.iiif.deadline import deadline, deadline_transport
from storiiies.iiif.httpcache import CachedResponse, ResponseCache, fresh_until

MAX_BYTES = 32 * 1024 * 1024  # the largest manifests in the wild are a few MB
RETRY_STATUSES = {429, 500, 502, 503, 504}
USER_AGENT = f"storiiies/{__version__} (+https://github.com/storiiies/storiiies)"
ACCEPT = "application/ld+json, application/json;q=0.9, */*;q=0.1"


@dataclass(frozen=True)
class FetchPolicy:
    """How patient the fetcher is with one URL. The defaults suit real institutions."""

    connect_timeout: float = 10.0
    read_timeout: float = 20.0  # the longest silence between two reads
    deadline: float = 60.0  # everything for one URL: retries, waits and a slow body included
    retries: int = 2
    backoff: float = 0.5  # first wait before a retry without Retry-After; doubles each time
    max_retry_after: float = 10.0  # a server asking for a longer wait is not retried
    max_bytes: int = MAX_BYTES
    max_redirects: int = 5
    per_host: int = 4  # parallel requests to one host, so an exhibit does not flood a museum
    max_connections: int = 8


@dataclass(frozen=True)
class Fetched:
    url: str
    data: Any
    from_cache: bool = False
    stale: bool = False  # served from cache because the network or the server failed


class _Flight:
    """One fetch in progress, so concurrent callers of the same URL share it."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.result: Fetched | SourceError | None = None


class Fetcher:
    """Fetch JSON documents; thread-safe, so sources can be fetched in parallel.

    Successes are kept for the Fetcher's life; failures are not, so a long-lived Fetcher
    (the preview server's) tries a failed URL again on the next rebuild.
    """

    def __init__(
        self, cache_dir: Path, *, offline: bool = False, policy: FetchPolicy | None = None
    ) -> None:
        self.cache = ResponseCache(cache_dir / "http")
        self.offline = offline
        self.policy = policy or FetchPolicy()
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()
        self._memo: dict[str, Fetched] = {}
        self._flights: dict[str, _Flight] = {}
        self._hosts: dict[str, threading.BoundedSemaphore] = {}
        #: URLs answered from the cache because the server failed, and why: the author is told.
        self.stale_reasons: dict[str, str] = {}
        #: every URL asked for, answered or not: what a build read from the network
        self.asked: set[str] = set()
        self._recording = threading.local()

    @property
    def client(self) -> httpx.Client:
        with self._lock:
            if self._client is None:
                policy = self.policy
                limits = httpx.Limits(
                    max_connections=policy.max_connections,
                    max_keepalive_connections=policy.max_connections,
                )
                self._client = httpx.Client(
                    transport=deadline_transport(limits),
                    timeout=httpx.Timeout(policy.read_timeout, connect=policy.connect_timeout),
                    follow_redirects=True,
                    max_redirects=policy.max_redirects,
                    headers={"User-Agent": USER_AGENT, "Accept": ACCEPT},
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

    @contextmanager
    def recording(self) -> Iterator[list[str]]:
        """The URLs this thread asks for inside the block (a source may need several: a
        collection and its member, a canvas and its manifest), to tell which answers were stale."""
        urls: list[str] = []
        self._recording.urls = urls
        try:
            yield urls
        finally:
            self._recording.urls = None

    def get_json(self, url: str) -> Fetched:
        """The JSON at `url`. Raises FetchError (network, status, size) or NotIIIF (not JSON)."""
        recorded = getattr(self._recording, "urls", None)
        if recorded is not None:
            recorded.append(url)
        with self._lock:
            self.asked.add(url)
            if url in self._memo:
                return self._memo[url]
            flight = self._flights.get(url)
            leader = flight is None
            if flight is None:
                flight = self._flights[url] = _Flight()
        if not leader:
            flight.done.wait()
            if flight.result is None:  # the leader died of a bug: its traceback tells
                return self._get_json(url)
        else:
            try:
                flight.result = self._get_json(url)
            except SourceError as error:
                flight.result = error
            finally:  # whatever happens, callers waiting for this flight are released
                with self._lock:
                    del self._flights[url]
                    if isinstance(flight.result, Fetched):
                        self._memo[url] = flight.result
                flight.done.set()
        if isinstance(flight.result, SourceError):
            raise type(flight.result)(flight.result.message, flight.result.hint)
        assert flight.result is not None
        return flight.result

    def _stale(self, url: str, cached: CachedResponse, reason: str) -> Fetched:
        """The cached copy, standing in for an answer the server failed to give (`reason`)."""
        self.stale_reasons[url] = reason
        return Fetched(url, _parse_json(url, cached.body), from_cache=True, stale=True)

    def _get_json(self, url: str) -> Fetched:
        cached = self.cache.read(url)
        if self.offline:
            if cached is None:
                raise FetchError(
                    f"{url} is not in the cache and --offline is set",
                    "build once with the network on, or drop --offline",
                )
            return Fetched(url, _parse_json(url, cached.body), from_cache=True)
        if _scheme(url) not in ("http", "https"):
            raise FetchError(
                f"{url} is not an http(s) URL", "sources are web addresses or project files"
            )
        try:
            response, body = self._request(url, cached.revalidation_headers() if cached else {})
        except FetchError as error:
            if cached is not None:
                return self._stale(url, cached, error.message)
            raise
        status = response.status_code
        if status == 304 and cached is not None:
            fresh = fresh_until(response.headers, time.time())
            if fresh is not None:  # the answer renews the copy's lifetime (RFC 9111 §4.3.4)
                self.cache.write(replace(cached, fresh_until=fresh))
            return Fetched(url, _parse_json(url, cached.body), from_cache=True)
        if status >= 400:
            if cached is not None and (status >= 500 or status == 429):
                return self._stale(url, cached, _status_message(url, response))
            raise FetchError(_status_message(url, response), _status_hint(status))
        text = _decode(body)
        data = _parse_json(url, text)
        headers = response.headers
        self.cache.write(
            CachedResponse(
                url,
                text,
                headers.get("ETag"),
                headers.get("Last-Modified"),
                fresh_until(headers, time.time()),
            )
        )
        return Fetched(url, data)

    def _request(self, url: str, headers: dict[str, str]) -> tuple[httpx.Response, bytes]:
        """GET `url` with retries, all within the policy's deadline. Returns the last response."""
        with deadline(self.policy.deadline) as end:
            for attempt in range(self.policy.retries + 1):
                try:
                    answer = self._attempt(url, headers, attempt, end)
                except (httpx.HTTPError, httpx.InvalidURL) as exc:
                    wait = _wait_after_failure(url, exc, attempt, end, self.policy)
                else:
                    if not isinstance(answer, float):
                        return answer
                    wait = answer
                time.sleep(max(0.0, min(wait, end - time.monotonic())))
        raise AssertionError("unreachable")  # the last attempt returns or raises

    def _attempt(
        self, url: str, headers: dict[str, str], attempt: int, end: float
    ) -> tuple[httpx.Response, bytes] | float:
        """One GET: the response and its body, or the seconds to wait before trying again."""
        policy = self.policy
        with (
            self._host_slot(url, end),
            self.client.stream("GET", url, headers=headers) as response,
        ):
            retry = response.status_code in RETRY_STATUSES and attempt < policy.retries
            wait = (
                _retry_wait(response.headers.get("Retry-After"), attempt, policy) if retry else -1
            )
            if wait < 0:
                return response, self._read_body(url, response)
            if time.monotonic() + wait >= end:
                return response, b""  # no time left to wait: report this answer
            return wait

    @contextmanager
    def _host_slot(self, url: str, end: float) -> Iterator[None]:
        host = urlsplit(url).netloc.lower()
        with self._lock:
            slot = self._hosts.setdefault(host, threading.BoundedSemaphore(self.policy.per_host))
        if not slot.acquire(timeout=max(0.0, end - time.monotonic())):
            raise FetchError(
                f"{url} waited {self.policy.deadline:g} s for its turn at {host}",
                "the server is slow for many sources at once; try again later",
            )
        try:
            yield
        finally:
            slot.release()

    def _read_body(self, url: str, response: httpx.Response) -> bytes:
        limit = self.policy.max_bytes
        too_large = FetchError(
            f"{url} is larger than {_size(limit)}",
            "this is not a manifest or info.json; check the URL",
        )
        declared = response.headers.get("Content-Length", "")
        if declared.isascii() and declared.isdecimal() and int(declared) > limit:
            raise too_large
        body = bytearray()
        for chunk in response.iter_bytes():
            body.extend(chunk)
            if len(body) > limit:
                raise too_large
        return bytes(body)


_NETWORK_HINT = "check the URL and your network, or build with --offline from the cache"


def _scheme(url: str) -> str:
    try:
        return urlsplit(url).scheme.lower()
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return ""


def _wait_after_failure(
    url: str, exc: Exception, attempt: int, end: float, policy: FetchPolicy
) -> float:
    """Seconds to wait before the next attempt after `exc`; raises FetchError when there is none."""
    last = attempt == policy.retries
    if isinstance(exc, httpx.TooManyRedirects):
        raise FetchError(
            f"{url} redirects more than {policy.max_redirects} times",
            "the address redirects in a loop; open it in a browser to find the final one",
        )
    if isinstance(exc, httpx.TimeoutException):
        if time.monotonic() >= end:
            raise FetchError(
                f"{url} did not answer completely within {policy.deadline:g} s",
                "the server is stalled or very slow; try again later, or build with --offline",
            )
        if last:
            raise FetchError(f"{url} timed out", "check the URL, or try again later")
        return 0.0
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        raise FetchError(f"{url} is not a URL storiiies can fetch ({exc})", "check the URL")
    if last or not isinstance(exc, httpx.TransportError):
        raise FetchError(_transport_message(url, exc), _NETWORK_HINT)
    return policy.backoff * 2.0**attempt


def _retry_wait(value: str | None, attempt: int, policy: FetchPolicy) -> float:
    """Seconds to wait before retrying: Retry-After (seconds or a date) if given, else backoff.
    Negative when the server asks for longer than the policy allows: then we do not retry."""
    seconds: float | None = None
    if value:
        try:
            seconds = float(value)
        except ValueError:
            try:
                when = email.utils.parsedate_to_datetime(value)
                seconds = when.timestamp() - time.time()
            except (TypeError, ValueError, OverflowError):
                seconds = None
    if seconds is None:
        return min(policy.backoff * 2.0**attempt, policy.max_retry_after)
    seconds = max(seconds, 0.0)
    return seconds if seconds <= policy.max_retry_after else -1.0


def _status_message(url: str, response: httpx.Response) -> str:
    message = f"{url} answered HTTP {response.status_code} {response.reason_phrase}".rstrip()
    retry_after = response.headers.get("Retry-After")
    if response.status_code in (429, 503) and retry_after:
        message += f" (it asks to retry after {retry_after[:40]})"
    return message


def _status_hint(status: int) -> str:
    if status == 404:
        return "check the URL: the server has no document there"
    if status in (401, 403):
        return "the server refuses access; the resource may not be public"
    if status == 429:
        return "the server is rate-limiting requests; try again later"
    if status >= 500:
        return "the server has a problem; try again later"
    return "check the URL"


def _transport_message(url: str, exc: Exception) -> str:
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"{url} broke off its answer ({_one_line(exc)})"
    if isinstance(exc, httpx.DecodingError):
        return f"{url} sent a body that cannot be decompressed"
    return f"cannot reach {url} ({type(exc).__name__}: {_one_line(exc)})"


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())[:160] or type(exc).__name__


def _size(n: int) -> str:
    return f"{n / 2**20:g} MB" if n >= 2**20 else f"{n} bytes"


def _decode(body: bytes) -> str:
    """Text of a JSON body in whatever Unicode encoding it came in, without a byte-order mark."""
    text = body.decode(json.detect_encoding(body), errors="replace")
    return text.lstrip("\ufeff").strip()


def _parse_json(url: str, text: str) -> Any:
    if not text:
        raise NotIIIF(
            f"{url} returned an empty document",
            "check that the URL is a IIIF manifest or info.json",
        )
    if text[:1] == "<":
        raise NotIIIF(
            f"{url} returned an HTML page, not IIIF JSON",
            "use the manifest's own URL (often ending in manifest.json), not the viewer page",
        )
    try:
        return json.loads(text)
    except RecursionError:
        raise NotIIIF(f"{url} is JSON nested too deeply to be IIIF", "check the URL") from None
    except ValueError as exc:
        raise NotIIIF(
            f"{url} is not valid JSON ({_one_line(exc)})",
            "check that the URL is a IIIF manifest or info.json",
        ) from None
