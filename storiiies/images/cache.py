"""The tile cache on disk: content keys, the memo that spares re-hashing, atomic commits.

cache_dir/<key>/tiles/…        a tile folder: the tiles of the image's tree, side by side
                               under their stored names (pyramid.py)
cache_dir/<key>/image.json     its record, written before the commit; no record, no tiles
cache_dir/<key>.tmp-<pid>-<n>  tiles being cut; renamed to <key> in one step when complete
cache_dir/new-<…>.tmp-<pid>-<n> the same, while the key is still being computed
cache_dir/memo/<…>.json        file identity → key, so an unchanged file is not re-read
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

from storiiies.atomic import staging_folder as new_staging_folder
from storiiies.atomic import write_atomic
from storiiies.errors import ImageError

#: Bump whenever the same input would be cut or stored differently (it is part of every key).
#: 2: tiles side by side under their stored names, not in the tree of their IIIF paths.
FORMAT_VERSION = 2

# The memo trusts a file's identity (device, inode, size, mtime, ctime) instead of re-reading it,
# as git's index does. A file written in the same instant it was hashed could change again
# without its mtime moving, so such "racy" files are not memoised.
_RACY_NS = 2_000_000_000


#: The SHA-256 of files hashed in this process, by path and identity (see `file_hash`).
_hashed: dict[tuple[str, tuple[int, ...]], hashlib._Hash] = {}
_HASHED_MAXIMUM = 4096


def file_hash(source: Path) -> hashlib._Hash:
    """SHA-256 of the file's bytes, as a hash object of its own (to read, or extend).

    An image's public name and its tiles' key both hash its bytes (0.065 s for a 78 MB JPEG),
    so a file hashed before in this process is not read again while its identity (device,
    inode, size, mtime, ctime) is unchanged; as for the memo on disk, a file changed in the
    last two seconds is always read. Raises OSError."""
    known = _hashed_as(source)
    if known is not None and known in _hashed:
        return _hashed[known].copy()
    digest = hashlib.sha256()
    with source.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    if known is not None and time.time_ns() - max(known[1][3], known[1][4]) >= _RACY_NS:
        if len(_hashed) >= _HASHED_MAXIMUM:
            del _hashed[next(iter(_hashed))]
        _hashed[known] = digest.copy()
    return digest


def hashed(source: Path) -> bool:
    """Whether `file_hash` would give the file's hash without reading it."""
    return _hashed_as(source) in _hashed


def _hashed_as(source: Path) -> tuple[str, tuple[int, ...]] | None:
    identity = _identity(source)
    return (os.path.abspath(source), tuple(identity)) if identity is not None else None


def content_key(source: Path, salt: str, shown: str) -> str:
    """SHA-256 of the file's bytes, plus whatever else changes the tiles (`salt`)."""
    try:
        digest = file_hash(source)
    except FileNotFoundError:
        raise ImageError(f"{shown} does not exist", "check the file name and folder") from None
    except OSError as exc:
        raise ImageError(f"{shown} cannot be read ({exc.strerror})") from None
    digest.update(f"{salt}|v={FORMAT_VERSION}".encode())
    return digest.hexdigest()[:32]


def memo_key(source: Path, page: int, tile_size: int, cache_dir: Path) -> str | None:
    """The key remembered for this file, if the file is unchanged and its tiles are there."""
    try:
        memo = json.loads(_memo_path(source, page, tile_size, cache_dir).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    identity = _identity(source)
    if identity is None or memo.get("identity") != identity:
        return None
    key = memo.get("key")
    return key if isinstance(key, str) and (cache_dir / key / "image.json").is_file() else None


def remember(source: Path, page: int, tile_size: int, cache_dir: Path, key: str) -> None:
    identity = _identity(source)
    if identity is None or time.time_ns() - max(identity[3], identity[4]) < _RACY_NS:
        return
    path = _memo_path(source, page, tile_size, cache_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json.dumps({"identity": identity, "key": key}))


def read_record(cache_dir: Path, key: str) -> dict[str, Any] | None:
    return read_record_at(cache_dir / key)


def read_record_at(tree: Path) -> dict[str, Any] | None:
    """The record of the tree in folder `tree` (a cache entry or one being unpacked)."""
    try:
        record = json.loads((tree / "image.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and record.get("format") == FORMAT_VERSION else None


def staging_folder(cache_dir: Path, key: str) -> Path:
    """A new, empty `<key>.tmp-…/tiles` to cut into; leftovers of dead processes are removed."""
    staging = new_staging_folder(cache_dir, key)
    (staging / "tiles").mkdir()
    return staging


def commit(staging: Path, cache_dir: Path, key: str, record: dict[str, Any]) -> None:
    """Write the record, then rename the staging folder to <key>: all or nothing."""
    record = {"format": FORMAT_VERSION, **record}
    (staging / "image.json").write_text(json.dumps(record), encoding="utf-8")
    try:
        os.rename(staging, cache_dir / key)
    except OSError:
        if read_record(cache_dir, key) is None:
            raise
        # Another process finished the same image first; its tree is as good as ours.
        shutil.rmtree(staging, ignore_errors=True)


def provisional_name(source: Path, page: int, tile_size: int) -> str:
    """What tiles being cut before their key is known are staged under: one name per file,
    so the leftovers of a killed cut are swept by the next cut of the same file."""
    return "new-" + _memo_path(source, page, tile_size, Path()).stem


def _memo_path(source: Path, page: int, tile_size: int, cache_dir: Path) -> Path:
    name = f"{os.path.abspath(source)}|{page}|{tile_size}|{FORMAT_VERSION}"
    return cache_dir / "memo" / (hashlib.sha256(name.encode()).hexdigest()[:32] + ".json")


def _identity(source: Path) -> list[int] | None:
    try:
        st = source.stat()
    except OSError:
        return None
    return [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]

    return True
