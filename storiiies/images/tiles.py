"""Local images → IIIF Image API 3.0 level-0 tile trees, cached by content.

An image's tiles (see pyramid.py) live in the cache in one folder under a key: the SHA-256 of
the file's bytes plus page, tile size, quality and a format version (see cache.py). Moving or
renaming an image reuses its tiles; changing one pixel cuts it again. A site holds them as
their IIIF tree (`link_tiles`). info.json is not cached: its `id` depends on where the site is
published (see `info_json`).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Literal

import pyvips

from storiiies.images import cache, decode
from storiiies.images.decode import page_count, read_image_size
from storiiies.images.folders import IMAGE_SUFFIXES, list_folder_images, natural_sort_key
from storiiies.images.pyramid import (
    iiif_path,
    stored_name,
    tile_paths,
    whole_levels,
    write_pyramid,
)

__all__ = [
    "IMAGE_SUFFIXES",
    "ProgressEvent",
    "TileJob",
    "TiledImage",
    "info_json",
    "list_folder_images",
    "natural_sort_key",
    "page_count",
    "link_tiles",
    "publish_tiles",
    "tree_folders",
    "read_image_size",
    "tile_image",
]

TILE_SIZE = 256
JPEG_QUALITY = 85
CONTEXT = "http://iiif.io/api/image/3/context.json"


@dataclass(frozen=True)
class TileJob:
    source: Path
    page: int = 0
    tile_size: int = TILE_SIZE
    #: how the file is named in messages; its file name when None
    label: str | None = None


@dataclass(frozen=True)
class TiledImage:
    key: str
    #: the folder of the tiles, each under its stored name (`file` finds one by IIIF path)
    path: Path
    width: int
    height: int
    tile_size: int
    scale_factors: tuple[int, ...]
    #: the whole-image sizes that exist as `full/w,h/0/default.jpg`, smallest first
    sizes: tuple[tuple[int, int], ...]
    #: True when the tiles came from the cache without decoding the image
    cached: bool = False

    def file(self, tile: str) -> Path:
        """The file of the tile whose IIIF path is `tile` (`{region}/{size}/0/default.jpg`)."""
        return self.path / stored_name(tile)

    @property
    def max_size(self) -> tuple[int, int]:
        """The size of `full/max`: the full image, or its largest listed size if that is smaller."""
        return self.sizes[-1]

    def to_fields(self) -> dict[str, Any]:
        """Plain JSON-able fields, to cross to another process (`from_fields` reads them)."""
        fields = asdict(self)
        fields["path"] = str(self.path)
        return fields

    @classmethod
    def from_fields(cls, fields: dict[str, Any]) -> TiledImage:
        return cls(
            key=fields["key"],
            path=Path(fields["path"]),
            width=fields["width"],
            height=fields["height"],
            tile_size=fields["tile_size"],
            scale_factors=tuple(fields["scale_factors"]),
            sizes=tuple((w, h) for w, h in fields["sizes"]),
            cached=fields["cached"],
        )


@dataclass(frozen=True)
class ProgressEvent:
    """`done` of `total` images are finished; `source` is the image this event is about."""

    done: int
    total: int
    source: Path | None = None
    state: Literal["started", "tiling", "finished", "cached", "failed"] = "finished"
    #: how much of this image is cut, 0–1
    fraction: float = 1.0
    #: how much of the whole batch is finished, 0–1 (images in progress count in part)
    overall: float = 1.0


def tile_image(
    source: Path,
    cache_dir: Path,
    *,
    page: int = 0,
    tile_size: int = TILE_SIZE,
    label: str | None = None,
    threads: int | None = None,
    progress: Callable[[float], None] | None = None,
    cutting: Callable[[], None] | None = None,
) -> TiledImage:
    """Cut one image (one page of it) into tiles under cache_dir, or find them there;
    `cutting` is called before a cut starts.

    Raises ImageError for a file that is not a usable image. `threads` encode tiles while the
    calling thread decodes (default: one per core; 0 does everything in the calling thread).

    A large file that the memo does not know is hashed for its key while its tiles are cut,
    not before (the key only names the folder they are committed under; 0.05 s of a 78 MB
    JPEG): should that key be cached already (a file moved or copied), the cut stops at its
    next strip and the cached tiles are taken. A smaller one is hashed first, and so is one
    this process has hashed already (in a build, for its public name: cache.file_hash), which
    costs nothing."""
    where: dict[str, Any] = {"page": page, "tile_size": tile_size, "label": label}
    known = cache.memo_key(source, page, tile_size, cache_dir)
    if known is None and (_size(source) < HASH_WHILE_CUTTING or cache.hashed(source)):
        known = _content_key(source, page, tile_size, label)
        cache.remember(source, page, tile_size, cache_dir, known)
    found = _read_done(cache_dir, known) if known is not None else None
    if found is not None:
        return found
    if cutting is not None:
        cutting()
    if known is not None:
        return cut_tiles(source, cache_dir, known, **where, threads=threads, progress=progress)
    with ThreadPoolExecutor(1, thread_name_prefix="storiiies-hash") as hashing:
        key = hashing.submit(_content_key, source, page, tile_size, label)

        asked = [False]

        def stop_if_cached(fraction: float) -> None:
            if not asked[0] and key.done() and key.exception() is None:
                asked[0] = True  # once: the key is known now
                cached = _read_done(cache_dir, key.result())
                if cached is not None:
                    raise _Cached(cached)
            if progress is not None:
                progress(fraction)

        try:
            return cut_tiles(
                source, cache_dir, key.result, **where, threads=threads, progress=stop_if_cached
            )
        except _Cached as cached:
            cache.remember(source, page, tile_size, cache_dir, cached.tiled.key)
            return cached.tiled


#: Files at least this large are hashed while they are cut (see tile_image).
HASH_WHILE_CUTTING = 16 * 1024 * 1024


def _size(source: Path) -> int:
    try:
        return source.stat().st_size
    except OSError:
        return 0  # hashed first, which says what is wrong with it


class _Cached(Exception):
    def __init__(self, tiled: TiledImage) -> None:
        super().__init__(tiled.key)
        self.tiled = tiled


def _content_key(source: Path, page: int, tile_size: int, label: str | None) -> str:
    salt = f"|page={page}|tile={tile_size}|q={JPEG_QUALITY}"
    return cache.content_key(source, salt, label or source.name)


def find_tiles(
    source: Path,
    cache_dir: Path,
    *,
    page: int = 0,
    tile_size: int = TILE_SIZE,
    label: str | None = None,
) -> tuple[str, TiledImage | None]:
    """The image's cache key, and its tiles if they are cached (no pixels are decoded)."""
    key = cache.memo_key(source, page, tile_size, cache_dir)
    if key is None:
        key = _content_key(source, page, tile_size, label)
        cache.remember(source, page, tile_size, cache_dir, key)
    return key, _read_done(cache_dir, key)


def info_json(tiled: TiledImage, image_id: str) -> dict[str, Any]:
    """The Image API 3.0 level-0 info.json for a tile tree published at `image_id`."""
    info: dict[str, Any] = {
        "@context": CONTEXT,
        "id": image_id.rstrip("/"),
        "type": "ImageService3",
        "protocol": "http://iiif.io/api/image",
        "profile": "level0",
        "width": tiled.width,
        "height": tiled.height,
    }
    if tiled.max_size != (tiled.width, tiled.height):
        # `full/max` of a large image is its largest listed size, not the full image.
        info["maxWidth"], info["maxHeight"] = tiled.max_size
    info["sizes"] = [{"width": w, "height": h} for w, h in tiled.sizes]
    info["tiles"] = [
        {
            "width": tiled.tile_size,
            "height": tiled.tile_size,
            "scaleFactors": list(tiled.scale_factors),
        }
    ]
    return info


def publish_tiles(tiled: TiledImage, dest: Path) -> None:
    """Put the image's tile tree at `dest`: hard links to the cache, copies across file systems."""
    link_tiles(str(tiled.path), str(dest))


def link_tiles(folder: str, dest: str) -> list[str]:
    """Make `dest` the IIIF tree of the tile folder `folder`: each tile at its IIIF path, a
    hard link to the folder's file (a copy where links cannot be made). Folders that are not
    there yet are made (`tree_folders` can make them all beforehand); a file already at a
    tile's path is replaced. Returns the IIIF paths."""
    os.makedirs(dest, exist_ok=True)
    linking = True
    with os.scandir(folder) as entries:
        names = [entry.name for entry in entries]
    paths = [iiif_path(name) for name in names]
    for name, path in zip(names, paths, strict=True):
        source, target = f"{folder}/{name}", f"{dest}/{path}"
        try:
            linking = _place(source, target, linking)
        except FileNotFoundError:  # its folders are not made yet (or the tile is gone: again)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            linking = _place(source, target, linking)
    return paths


def _place(source: str, target: str, linking: bool) -> bool:
    """Put a hard link to `source` at `target` (replacing a file there), or a copy when links
    cannot be made; returns whether to keep trying links."""
    if linking:
        try:
            os.link(source, target)
            return True
        except FileExistsError:
            os.unlink(target)
            os.link(source, target)
            return True
        except FileNotFoundError:
            raise
        except OSError:
            pass  # another file system, or no hard links: copy from now on
    shutil.copyfile(source, target)
    return False


def tree_folders(width: int, height: int, tile_size: int = TILE_SIZE) -> list[str]:
    """Every folder of the IIIF tree of an image of this size, parents first: what
    `link_tiles` fills once the tiles are cut."""
    folders: dict[str, None] = {}
    for path in tile_paths(width, height, tile_size):
        region, size, _ = path.split("/", 2)
        folders.update(dict.fromkeys((region, f"{region}/{size}", f"{region}/{size}/0")))
    return list(folders)


def cached_tiles(job: TileJob, cache_dir: Path) -> TiledImage | None:
    """The job's tiles if the memo says the file is unchanged and they are in the cache."""
    key = cache.memo_key(job.source, job.page, job.tile_size, cache_dir)
    return _read_done(cache_dir, key) if key else None


def cut_tiles(
    source: Path,
    cache_dir: Path,
    key: str | Callable[[], str],
    *,
    page: int = 0,
    tile_size: int = TILE_SIZE,
    label: str | None = None,
    threads: int | None = None,
    progress: Callable[[float], None] | None = None,
) -> TiledImage:
    """Decode the image and cut it into cache_dir/<key> (the key from find_tiles). `key` may
    be a function that gives it, asked once the tiles are cut."""
    shown = label or source.name
    image = decode.open_for_tiling(source, page, label=shown)
    named = key if isinstance(key, str) else cache.provisional_name(source, page, tile_size)
    staging = cache.staging_folder(cache_dir, named)
    try:
        levels = write_pyramid(
            image,
            staging / "tiles",
            tile_size=tile_size,
            quality=JPEG_QUALITY,
            threads=_default_threads() if threads is None else threads,
            progress=progress,
        )
        record = {
            "width": image.width,
            "height": image.height,
            "tile_size": tile_size,
            "scale_factors": [level.scale for level in levels],
            "sizes": [[level.width, level.height] for level in whole_levels(levels)],
        }
        if not isinstance(key, str):
            key = key()
        cache.commit(staging, cache_dir, key, record)
    except pyvips.Error as error:
        shutil.rmtree(staging, ignore_errors=True)
        raise decode.image_error(shown, error) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    cache.remember(source, page, tile_size, cache_dir, key)
    done = _read_done(cache_dir, key)
    assert done is not None
    return replace(done, cached=False)


def tree_at(cache_dir: Path, key: str) -> TiledImage | None:
    """The tree committed under `key`, if it is there (cut here or by a cluster worker)."""
    return _read_done(cache_dir, key)


def _read_done(cache_dir: Path, key: str) -> TiledImage | None:
    record = cache.read_record(cache_dir, key)
    if record is None:
        return None
    return TiledImage.from_fields(
        {**record, "key": key, "path": cache_dir / key / "tiles", "cached": True}
    )


def _default_threads() -> int:
    return max(1, min(os.cpu_count() or 1, 4))
