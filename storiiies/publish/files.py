"""The built site's files as publishing sees them: a content hash, the Content-Type and
Cache-Control each is served with, and the phase it is uploaded in.

A reader must never meet a page whose images are not there yet, so the files go in phases:
what pages point at first (tiles, crops, media, assets), then the image descriptions and the
story pages, the home page and the collection last. See docs/publish.md for the cache policy.
"""

from __future__ import annotations

import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

#: Named after their content (an image's folder carries a hash of its pixels, a crop's name a
#: hash of image and region, a media file's name a hash of its bytes): a new version gets a
#: new address, so a reader's browser and a CDN may keep them for ever.
IMMUTABLE = "public, max-age=31536000, immutable"
#: Pages, manifests, info.json and assets keep their names from one build to the next.
SHORT = "public, max-age=300"

#: Phases, in upload order, with the words progress lines use.
PHASES = (
    "images, crops and media",
    "assets",
    "image descriptions and story pages",
    "home page and collection",
)
_HOME = {"index.html", "collection.json"}

_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".vtt": "text/vtt; charset=utf-8",
    ".svg": "image/svg+xml",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
    ".jp2": "image/jp2",
    ".gif": "image/gif",
    ".mp3": "audio/mpeg",
    ".m4a": "audio/mp4",
    ".ogg": "audio/ogg",
    ".mp4": "video/mp4",
    ".webm": "video/webm",
    ".woff2": "font/woff2",
}


@dataclass(frozen=True)
class SiteFile:
    """One file of the built site; `path` is relative, with `/`, as it is published."""

    path: str
    sha256: str
    size: int
    content_type: str
    cache_control: str
    phase: int


def content_type(path: str) -> str:
    suffix = PurePosixPath(path).suffix.lower()
    if suffix in _TYPES:
        return _TYPES[suffix]
    guessed, _ = mimetypes.guess_type(path, strict=False)
    # `.storiiies-site` and other names without a known suffix are short notes in text.
    return guessed or ("text/plain; charset=utf-8" if not suffix else "application/octet-stream")


def is_content_named(path: str) -> bool:
    top = path.split("/", 1)[0]
    if top == "images":
        return not path.endswith("/info.json")
    return top in ("crops", "media")


def phase_of(path: str) -> int:
    if is_content_named(path):
        return 0
    if path.startswith("assets/"):
        return 1
    if path in _HOME:
        return 3
    return 2


def upload_order(file: SiteFile) -> tuple[int, int, str]:
    """Phase first; inside a phase JSON before HTML, so a story's manifest is there before
    its page, and the collection before the home page."""
    return (file.phase, 0 if file.path.endswith(".json") else 1, file.path)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def md5_of(path: Path) -> str:
    """What S3 reports as the ETag of an object uploaded in one request."""
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def site_files(folder: Path, skip: frozenset[str] = frozenset()) -> list[SiteFile]:
    """Every file under `folder`, hashed, in upload order; names in `skip` are left out."""
    files = []
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        relative = path.relative_to(folder).as_posix()
        if relative in skip:
            continue
        cache = IMMUTABLE if is_content_named(relative) else SHORT
        files.append(
            SiteFile(
                relative,
                sha256_of(path),
                path.stat().st_size,
                content_type(relative),
                cache,
                phase_of(relative),
            )
        )
    return sorted(files, key=upload_order)
