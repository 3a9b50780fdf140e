"""Fetch image files politely: a few requests per host at a time, retries with backoff, and
resumable, so a second run fetches only what the first did not finish.

A file is written to `NAME.part` and renamed into place only once complete, so a file that
exists is a whole file; an interrupted run leaves only `.part` files, which the next run
starts again. Each URL that cannot be fetched gets one line saying why. No file is larger than
the policy's `max_bytes`: a server that declares more is refused from its headers, one that
sends more without saying so is cut off at the limit (bytes are counted after decompression).
"""

from __future__ import annotations

import email.utils
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from storiiies import __version__
from storiiies.atomic import replacing
from storiiies.iiif.deadline import deadline, deadline_transport

RETRY_STATUSES = {429, 500, 502, 503, 504}
USER_AGENT = f"storiiies/{__version__} (offline bundle; +https://github.com/storiiies/storiiies)"
_IMAGE_MAGIC = (
    b"\xff\xd8\xff",
    b"\x89PNG",
    b"GIF8",
    b"RIFF",
    b"II*\x00",
    b"MM\x00*",
    b"\x00\x00\x00\x0cjP",
)


@dataclass(frozen=True)
class Download:
    url: str
    target: Path


@dataclass(frozen=True)
class DownloadPolicy:
    per_host: int = 4  # parallel requests to one institution
    retries: int = 3
    backoff: float = 0.5  # first wait before a retry; doubles each time
    max_retry_after: float = 30.0
    timeout: float = 20.0  # the longest silence between two reads, as the IIIF JSON fetcher
    # Everything for one file, retries and waits included, as the IIIF JSON fetcher: a server
    # that drips a byte just inside the read timeout is stopped here (iiif/deadline.py).
    deadline: float = 60.0
    max_bytes: int = 32 * 2**20  # one file, as the 32 MB of IIIF JSON; plain images ask more
    kind: str = "tile"  # what one file is, for messages


@dataclass(frozen=True)
class FailedDownload:
    url: str
    reason: str
    too_large: bool = False  # over the policy's max_bytes: trying again will not help

    def __str__(self) -> str:
        return f"{self.url}: {self.reason}"


@dataclass(frozen=True)
class DownloadReport:
    fetched: int
    present: int  # already there from an earlier run
    fetched_bytes: int
    errors: tuple[FailedDownload, ...]  # one per failed file, by URL


Progress = Callable[[int, int, int], None]  # files done, files in all, bytes fetched


def download_all(
    downloads: Iterable[Download],
    policy: DownloadPolicy | None = None,
    progress: Progress | None = None,
) -> DownloadReport:
    policy = policy or DownloadPolicy()
    pending: dict[str, list[Download]] = {}
    present = 0
    for item in downloads:
        if item.target.is_file():
            present += 1
        else:
            pending.setdefault(urlsplit(item.url).netloc.lower(), []).append(item)
    total = present + sum(len(items) for items in pending.values())
    state = {"done": present, "bytes": 0, "fetched": 0}
    errors: list[FailedDownload] = []
    lock = threading.Lock()
    if progress is not None:
        progress(present, total, 0)

    def finish(size: int | None, error: FailedDownload | None) -> None:
        with lock:
            state["done"] += 1
            if error is not None:
                errors.append(error)
            else:
                state["fetched"] += 1
                state["bytes"] += size or 0
            if progress is not None:
                progress(state["done"], total, state["bytes"])

    if pending:
        limits = httpx.Limits(
            max_connections=policy.per_host * len(pending),
            max_keepalive_connections=policy.per_host * len(pending),
        )
        with httpx.Client(
            timeout=httpx.Timeout(policy.timeout, connect=10.0),
            transport=deadline_transport(limits),
            follow_redirects=True,
            headers={"User-Agent": USER_AGENT, "Accept": "image/jpeg, image/*;q=0.9"},
            trust_env=False,
        ) as client:
            # One small pool per host is what keeps each institution's load bounded.
            pools = [ThreadPoolExecutor(max_workers=policy.per_host) for _ in pending]
            try:
                futures = [
                    pool.submit(_fetch_one, client, item, policy, finish)
                    for pool, items in zip(pools, pending.values(), strict=True)
                    for item in items
                ]
                for future in futures:
                    future.result()
            finally:
                for pool in pools:
                    pool.shutdown(wait=True, cancel_futures=True)
    errors.sort(key=lambda error: error.url)
    return DownloadReport(state["fetched"], present, state["bytes"], tuple(errors))


def _fetch_one(
    client: httpx.Client,
    item: Download,
    policy: DownloadPolicy,
    finish: Callable[[int | None, FailedDownload | None], None],
) -> None:
    try:
        size = _fetch_with_retries(client, item, policy)
    except _Failed as failure:
        finish(None, FailedDownload(item.url, str(failure), failure.too_large))
    except OSError as exc:
        finish(None, FailedDownload(item.url, f"cannot save it ({exc.strerror or exc})"))
    else:
        finish(size, None)


class _Failed(Exception):
    def __init__(self, reason: str, too_large: bool = False) -> None:
        super().__init__(reason)
        self.too_large = too_large


def _fetch_with_retries(client: httpx.Client, item: Download, policy: DownloadPolicy) -> int:
    with deadline(policy.deadline) as end:
        return _attempts(client, item, policy, end)


def _attempts(client: httpx.Client, item: Download, policy: DownloadPolicy, end: float) -> int:
    def pause(seconds: float) -> None:
        time.sleep(max(0.0, min(seconds, end - time.monotonic())))

    for attempt in range(policy.retries + 1):
        last = attempt == policy.retries or time.monotonic() >= end
        try:
            with client.stream("GET", item.url) as response:
                if response.status_code in RETRY_STATUSES and not last:
                    wait = _retry_after(
                        response.headers.get("Retry-After"), policy.backoff * 2**attempt
                    )
                    if wait <= policy.max_retry_after:
                        pause(wait)
                        continue
                if response.status_code >= 400:
                    raise _Failed(f"HTTP {response.status_code} {response.reason_phrase}".rstrip())
                return _save(response, item.target, policy)
        except httpx.TimeoutException:
            if time.monotonic() >= end:
                raise _Failed(f"did not answer completely within {policy.deadline:g} s") from None
            if last:
                raise _Failed(f"timed out ({policy.retries + 1} tries)") from None
        except httpx.TransportError as exc:
            if last:
                raise _Failed(f"network error: {exc or type(exc).__name__}") from None
        except httpx.HTTPError as exc:  # too many redirects, a broken encoding: not worth a retry
            raise _Failed(str(exc) or type(exc).__name__) from None
        pause(policy.backoff * 2**attempt)
    raise _Failed("gave up")  # every branch above returns, raises or retries


def _save(response: httpx.Response, target: Path, policy: DownloadPolicy) -> int:
    declared = response.headers.get("Content-Length", "")
    limit = f"the {policy.max_bytes / 2**20:g} MB a bundle fetches for one {policy.kind}"
    if declared.isascii() and declared.isdecimal() and int(declared) > policy.max_bytes:
        raise _Failed(f"it declares {int(declared):,} bytes, more than {limit}", too_large=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    size = 0
    with replacing(target) as part:
        with part.open("wb") as handle:
            for chunk in response.iter_bytes():
                if size == 0 and not chunk.startswith(_IMAGE_MAGIC):
                    kind = response.headers.get("Content-Type", "unknown type")
                    raise _Failed(f"the answer is not an image ({kind})")
                size += len(chunk)
                if size > policy.max_bytes:
                    raise _Failed(f"it sent more than {limit}", too_large=True)
                handle.write(chunk)
        if (
            declared.isascii()
            and declared.isdecimal()
            and int(declared) != size
            and "Content-Encoding" not in response.headers
        ):
            raise _Failed(f"the connection closed after {size} of {declared} bytes")
        if size == 0:
            raise _Failed("the answer is empty")
    return size


def _retry_after(value: str | None, default: float) -> float:
    if not value:
        return default
    if value.strip().isascii() and value.strip().isdecimal():
        return float(value.strip())
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    return max(0.0, when.timestamp() - time.time())
