"""Source images on object storage (`s3://…`, `gs://…`, `file://…`: any fsspec URL but http(s)),
fetched once into the cache and from then on read like any local file.

Each URL has a folder of its own under `<cache>/objects/`: the object's copy under its own name
(so it is named, labelled and tiled exactly as the same file given by path) and a record of the
store's answer about it (ETag, size, modification time: its *stamp*). A build asks the store
for the stamp only, and downloads again only when it differs. A URL that names a folder (a
prefix) is a multi-page source of the image objects in it, in the order a person numbers them.

Credentials come from the store's own configuration (for S3: AWS_ACCESS_KEY_ID and
AWS_SECRET_ACCESS_KEY, AWS_PROFILE, ~/.aws), the endpoint from AWS_ENDPOINT_URL or the
`options` the caller gives (publish.endpoint_url in storiiies.yml). A URL that carries
credentials is refused before anything is asked, and shown with them left out.

fsspec (and s3fs for S3) are the optional extra storiiies[storage]; without it a stored
source is a located problem that says how to install it.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from storiiies.atomic import replacing, write_atomic
from storiiies.errors import ImageError
from storiiies.images.folders import IMAGE_SUFFIXES, natural_sort_key

try:
    import fsspec
except ImportError:  # the optional extra storiiies[storage]
    fsspec = None

#: fsspec storage options for a URL (the endpoint and region of an S3-compatible store).
Options = Callable[[str], dict[str, Any]]

_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
#: Query parameters that hold credentials (an AWS presigned URL's, or fsspec options').
_SECRET = re.compile(r"key|secret|token|signature|credential|password|sig$", re.IGNORECASE)
#: What in a store's description of an object changes when the object does.
_STAMP_FIELDS = (
    "ETag",
    "etag",
    "size",
    "mtime",
    "LastModified",
    "last_modified",
    "generation",
    "md5Hash",
    "updated",
    "ino",
)
EXTRA_HINT = "install it with pip install 'storiiies[storage]'"


def is_stored(location: str) -> bool:
    """Whether `location` is an object-storage URL: any scheme://, but http(s)."""
    return bool(_SCHEME.match(location)) and not location.lower().startswith(
        ("http://", "https://")
    )


def carries_credentials(url: str) -> bool:
    parts = urlsplit(url)
    return "@" in parts.netloc or any(
        _SECRET.search(name) for name, _ in parse_qsl(parts.query, keep_blank_values=True)
    )


def shown(url: str) -> str:
    """`url` as a message may show it: without what precedes an @ or follows a ?."""
    parts = urlsplit(url)
    netloc = f"…@{parts.netloc.rsplit('@', 1)[1]}" if "@" in parts.netloc else parts.netloc
    return f"{parts.scheme}://{netloc}{parts.path}" + ("?…" if parts.query else "")


def base_name(url: str) -> str:
    """The last part of the URL's path: the object's file name, or the folder's name."""
    return PurePosixPath(urlsplit(url).path.rstrip("/")).name or urlsplit(url).netloc


@dataclass(frozen=True)
class StoredFile:
    """One object's copy in the cache, and the stamp of the object it was copied from."""

    url: str
    path: Path
    stamp: str


@dataclass(frozen=True)
class StoredSource:
    """What a URL names: one object, or a folder's image objects (in page order)."""

    url: str
    files: tuple[StoredFile, ...]
    folder: bool

    @property
    def prints(self) -> list[list[str]]:
        """What the source was read from, for the no-change rebuild to compare."""
        return [[file.url, file.stamp] for file in self.files]


class StoredImages:
    """Copies of source images on object storage, kept in `cache_dir/objects`. Thread-safe.

    `offline`: the store is never asked; the copy an online build saved is used, or missing."""

    def __init__(
        self, cache_dir: Path, *, offline: bool = False, options: Options | None = None
    ) -> None:
        self.folder = cache_dir / "objects"
        self.offline = offline
        self._options = options or (lambda url: {})
        self._systems: dict[str, Any] = {}
        self._lock = threading.Lock()

    def fetch(self, url: str) -> StoredSource:
        """The source at `url`, copied into the cache where the copy is not current.
        Raises ImageError that says what to do."""
        _refuse_credentials(url)
        if self.offline:
            return self._saved(url)
        folder, listing = self._listing(url)
        files = tuple(self._copy(member, stamp) for member, stamp in listing)
        if folder:
            self._place(url).mkdir(parents=True, exist_ok=True)
            write_atomic(
                self._place(url) / "folder.json",
                json.dumps({"url": url, "members": [file.url for file in files]}),
            )
        return StoredSource(url, files, folder)

    def prints(self, url: str) -> list[list[str]]:
        """What `url` holds now (offline: what the saved copies were), without downloading."""
        _refuse_credentials(url)
        if self.offline:
            return self._saved(url).prints
        return [[member, stamp] for member, stamp in self._listing(url)[1]]

    def _listing(self, url: str) -> tuple[bool, list[tuple[str, str]]]:
        """Whether `url` is a folder, and the (URL, stamp) of each image object it names."""
        fs, path = self._filesystem(url)
        with _explained(url):
            info = fs.info(path)
            if info.get("type") != "directory":
                _check_suffix(url)
                return False, [(url, _stamp(info))]
            entries = [
                entry
                for entry in fs.ls(path, detail=True)
                if entry.get("type") == "file"
                and not PurePosixPath(entry["name"]).name.startswith(".")
                and PurePosixPath(entry["name"]).suffix.lower() in IMAGE_SUFFIXES
            ]
        if not entries:
            raise ImageError(
                f"the folder {shown(url)} holds no images", "add JPEG, PNG or TIFF objects to it"
            )
        entries.sort(key=lambda entry: natural_sort_key(PurePosixPath(entry["name"]).name))
        scheme = urlsplit(url).scheme
        return True, [(f"{scheme}://{entry['name']}", _stamp(entry)) for entry in entries]

    def _copy(self, url: str, stamp: str) -> StoredFile:
        """The cached copy of the object at `url`, downloaded unless it has this stamp."""
        place = self._place(url)
        target = place / base_name(url)
        if _record(place).get("stamp") == stamp and target.is_file():
            return StoredFile(url, target, stamp)
        fs, path = self._filesystem(url)
        place.mkdir(parents=True, exist_ok=True)
        with _explained(url), replacing(target) as temporary:
            fs.get_file(path, str(temporary))
        write_atomic(place / "object.json", json.dumps({"url": url, "stamp": stamp}))
        return StoredFile(url, target, stamp)

    def _saved(self, url: str) -> StoredSource:
        place = self._place(url)
        folder = _record(place, "folder.json")
        members = folder.get("members") if folder.get("url") == url else None
        files = []
        for member in members if isinstance(members, list) else [url]:
            record = _record(self._place(member))
            target = self._place(member) / base_name(member)
            if record.get("url") != member or not target.is_file():
                raise ImageError(
                    f"there is no saved copy of {shown(url)} to build --offline from",
                    "build once without --offline to fetch it",
                )
            files.append(StoredFile(member, target, str(record.get("stamp"))))
        return StoredSource(url, tuple(files), members is not None)

    def _place(self, url: str) -> Path:
        return self.folder / hashlib.sha256(url.encode()).hexdigest()[:32]

    def _filesystem(self, url: str) -> tuple[Any, str]:
        if fsspec is None:
            raise ImageError(f"reading {shown(url)} needs the storage extra", EXTRA_HINT)
        scheme = urlsplit(url).scheme.lower()
        with _explained(url):
            with self._lock:
                if scheme not in self._systems:
                    # A filesystem of this build's own: no listing remembered by an earlier one.
                    fs, _ = fsspec.core.url_to_fs(
                        url, skip_instance_cache=True, **self._options(url)
                    )
                    self._systems[scheme] = fs
                fs = self._systems[scheme]
            return fs, fs._strip_protocol(url)


def _refuse_credentials(url: str) -> None:
    if carries_credentials(url):
        raise ImageError(
            f"the URL {shown(url)} carries credentials; they were not used",
            "remove them from the story and give them to the store's own configuration"
            " (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, ~/.aws)",
        )


def _check_suffix(url: str) -> None:
    if PurePosixPath(urlsplit(url).path).suffix.lower() not in IMAGE_SUFFIXES:
        raise ImageError(
            f"{shown(url)} is not an image file storiiies knows",
            "use JPEG, PNG, TIFF, WebP or JPEG 2000, or a manifest URL",
        )


def _stamp(info: dict[str, Any]) -> str:
    return json.dumps([[name, str(info[name])] for name in _STAMP_FIELDS if info.get(name)])


def _record(place: Path, name: str = "object.json") -> dict[str, Any]:
    try:
        record = json.loads((place / name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


@contextmanager
def _explained(url: str) -> Iterator[None]:
    """A store's exception as one ImageError that says what to do."""
    try:
        yield
    except ImageError:
        raise
    except Exception as error:
        raise _explanation(error, url) from None


def _explanation(error: Exception, url: str) -> ImageError:
    """Classes are matched by name: botocore and aiohttp belong to the optional extra."""
    names = {cls.__name__ for cls in type(error).__mro__}
    text = str(error)
    where = shown(url)
    if isinstance(error, ImportError):
        if urlsplit(url).scheme.lower() in ("s3", "s3a"):
            return ImageError(f"reading {where} needs the storage extra", EXTRA_HINT)
        return ImageError(
            f"reading {where} needs a package storiiies does not have ({text})",
            "install the fsspec package for that kind of URL",
        )
    if "NoCredentialsError" in names or "PartialCredentialsError" in names:
        return ImageError(
            f"no credentials to read {where}",
            "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) in the environment",
        )
    if names & {"EndpointConnectionError", "ConnectTimeoutError", "ClientConnectorError"}:
        return ImageError(
            f"cannot reach the storage endpoint for {where}: {text}",
            "check AWS_ENDPOINT_URL or publish.endpoint_url in storiiies.yml, and the network",
        )
    if isinstance(error, FileNotFoundError):
        if "bucket" in text.lower():
            return ImageError(
                f"the bucket of {where} does not exist", "check the bucket's name in the URL"
            )
        on_disk = urlsplit(url).scheme.lower() == "file"
        return ImageError(
            f"{where} does not exist",
            "check the path (file:// URLs name a file on this machine)"
            if on_disk
            else "check the bucket and the object's name (they are case-sensitive)",
        )
    if isinstance(error, PermissionError):
        return ImageError(
            f"access to {where} was refused: {text}",
            "check that the credentials in the environment may read that object",
        )
    if isinstance(error, ValueError):
        return ImageError(
            f"{where} is not a URL storiiies can read ({text})",
            "use s3://, gs://, file:// or another fsspec URL (or http(s) for IIIF)",
        )
    return ImageError(
        f"reading {where} failed: {type(error).__name__}: {text}",
        "check the URL, the credentials in the environment and the endpoint",
    )
