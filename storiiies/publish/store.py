"""The destination of a publish, through fsspec: an `s3://bucket/prefix/` (or any fsspec URL)
or a local folder. Every failure of the store becomes one PublishError that says what to do.

Credentials come from the store's own standard places (for S3: AWS_ACCESS_KEY_ID and
AWS_SECRET_ACCESS_KEY, AWS_PROFILE, ~/.aws); storiiies.yml may only name the endpoint and
region, and story files nothing at all.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fsspec
from fsspec.implementations.local import LocalFileSystem

from storiiies.atomic import replacing
from storiiies.errors import StoriiiesError
from storiiies.publish.files import sha256_of

#: What the destination holds, as the last complete publish left it: path → SHA-256.
MANIFEST_NAME = ".storiiies-publish.json"
#: Written before a publish changes anything, removed after the manifest: what a publish that
#: was stopped midway may have put there (path → every hash it may hold).
PENDING_NAME = ".storiiies-publish.pending.json"
_OWN = frozenset({MANIFEST_NAME, PENDING_NAME})


class PublishError(StoriiiesError):
    """The destination cannot be used: `message` says what happened, `hint` what to do."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


@dataclass(frozen=True)
class Listed:
    """An object at the destination, as its listing tells it."""

    size: int
    etag: str | None  # S3's MD5 of an object uploaded in one request; None elsewhere


class Destination:
    """One destination URL. `options` are fsspec storage options (the endpoint, the region)."""

    def __init__(self, url: str, options: dict[str, Any] | None = None) -> None:
        self.url = url
        try:
            self.fs, root = fsspec.core.url_to_fs(url, **(options or {}))
        except (ImportError, ValueError) as error:
            raise PublishError(f"cannot publish to {url}: {error}", _EXTRA_HINT) from None
        self.root = root.rstrip("/")
        self.local = isinstance(self.fs, LocalFileSystem)
        protocol = self.fs.protocol
        self.protocol = protocol if isinstance(protocol, str) else protocol[0]
        self.sets_headers = self.protocol in ("s3", "s3a")

    def _key(self, relative: str) -> str:
        return f"{self.root}/{relative}" if self.root else relative

    def listing(self) -> dict[str, Listed]:
        """Every object under the destination, by relative path."""
        with self._translated():
            if self.local and not Path(self.root).exists():
                return {}
            found = self.fs.find(self.root, detail=True)
        listed = {}
        prefix = self.root + "/"
        for name, info in found.items():
            relative = name.removeprefix(prefix) if name.startswith(prefix) else None
            if relative is None or info.get("type") == "directory":
                continue
            etag = info.get("ETag")
            listed[relative] = Listed(int(info.get("size") or 0), etag.strip('"') if etag else None)
        return listed

    def read_record(self, name: str) -> dict[str, Any] | None:
        """One of publishing's own JSON records; None when absent, {} when unreadable (which
        no publish writes: both S3 and a folder receive each record whole)."""
        with self._translated():
            try:
                data = self.fs.cat_file(self._key(name))
            except FileNotFoundError:
                return None
        try:
            record = json.loads(data)
        except (ValueError, UnicodeDecodeError):
            return {}
        return record if isinstance(record, dict) else {}

    def write_record(self, name: str, record: dict[str, Any]) -> None:
        data = json.dumps(record, separators=(",", ":"), sort_keys=True).encode("utf-8")
        self.put_bytes(name, data, "application/json", "no-store")

    def put(self, relative: str, source: Path, content_type: str, cache_control: str) -> None:
        """Upload one file whole: an S3 PUT is atomic; a local file is renamed into place."""
        if self.local:
            self._replace_local(relative, lambda temporary: shutil.copyfile(source, temporary))
            return
        self.put_bytes(relative, source.read_bytes(), content_type, cache_control)

    def _replace_local(self, relative: str, fill: Callable[[Path], object]) -> None:
        """Write the local file at `relative` whole: `fill` writes a temporary sibling, which
        is then renamed over it."""
        target = Path(self._key(relative))
        with self._translated():
            target.parent.mkdir(parents=True, exist_ok=True)
            with replacing(target) as temporary:
                fill(temporary)

    def put_bytes(self, relative: str, data: bytes, content_type: str, cache_control: str) -> None:
        if self.local:
            self._replace_local(relative, lambda temporary: temporary.write_bytes(data))
            return
        headers = (
            {"ContentType": content_type, "CacheControl": cache_control}
            if self.sets_headers
            else {}
        )
        with self._translated():
            self.fs.pipe_file(self._key(relative), data, **headers)

    def remove(self, relative: str) -> None:
        # Already gone: a publish stopped after removing it.
        with self._translated(), suppress(FileNotFoundError):
            self.fs.rm_file(self._key(relative))

    def holds(self, relative: str, listed: Listed, source: Path, md5: str, sha256: str) -> bool:
        """Whether the object at `relative` already has `source`'s content: by its ETag on S3,
        by reading it back from a folder; elsewhere it is not known, so no."""
        if listed.size != source.stat().st_size:
            return False
        if listed.etag is not None and "-" not in listed.etag:
            return listed.etag == md5
        if self.local:
            from_disk = Path(self._key(relative))
            with self._translated():
                return sha256_of(from_disk) == sha256
        return False

    @contextmanager
    def _translated(self) -> Iterator[None]:
        try:
            yield
        except PublishError:
            raise
        except Exception as error:
            raise _explained(error, self.url) from None


def own_names() -> frozenset[str]:
    return _OWN


_EXTRA_HINT = "install the store's fsspec package, e.g. pip install 'storiiies[publish]' for s3://"


def _explained(error: Exception, url: str) -> PublishError:
    """A store's exception as one line. Classes are matched by name: botocore is optional."""
    names = {cls.__name__ for cls in type(error).__mro__}
    text = str(error)
    if "NoCredentialsError" in names or "PartialCredentialsError" in names:
        return PublishError(
            f"no credentials to publish to {url}",
            "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) in the environment",
        )
    if (
        "EndpointConnectionError" in names
        or "ConnectTimeoutError" in names
        or ("ClientConnectorError" in names)
    ):
        return PublishError(
            f"cannot reach the storage endpoint for {url}: {text}",
            "check AWS_ENDPOINT_URL or publish.endpoint_url in storiiies.yml, and the network",
        )
    if isinstance(error, FileNotFoundError) and "bucket" in text.lower():
        return PublishError(
            f"the bucket of {url} does not exist",
            "create it first, or check the bucket name in the URL",
        )
    if isinstance(error, PermissionError):
        return PublishError(
            f"access to {url} was refused: {text}",
            "check that the credentials may list, read, write and delete under that prefix",
        )
    if isinstance(error, OSError):
        return PublishError(f"cannot write to {url}: {text}", "check the URL and the permissions")
    return PublishError(
        f"publishing to {url} failed: {type(error).__name__}: {text}",
        "check the URL, the credentials and the endpoint",
    )
