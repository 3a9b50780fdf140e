"""Cut an image into the tiles of an Image API 3.0 level-0 tree, one strip of tiles at a time.

The tiles are those of `vips dzsave --layout iiif3`, each named by its IIIF path
`{region}/{size}/0/default.jpg`, with `x,y,w,h` regions in full-size pixels and `w,h` sizes,
each level half the one before (rounded up) until one tile holds it. Two differences make it
match what viewers request: a tile that covers the whole image is called `full` (and `max` at
full size), as OpenSeadragon asks for it; and every level up to `MAX_DERIVATIVE` pixels is also
written whole, as `full/w,h`, for the info.json `sizes` that thumbnails use, with the largest
doubling as `full/max`.

They are written side by side in one folder, each under its *stored name*
(`{region}_{size}.jpg`, see `stored_name`), not as the tree of their paths: the tree has three
folders for every tile, and a folder costs the file system as much as a file. The cache keeps
the flat folder; a site gets the tree, its files hard links to the folder's (tiles.py).

The image is decoded top to bottom once, by this thread, a strip of tiles at a time, while worker
threads encode the strip's tiles (as one JPEG, see jpegstrip.py) and shrink it for the next
level: memory stays a few strips, however large the image.
"""

from __future__ import annotations

import ctypes
import functools
import os
import sys
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyvips

from storiiies.images.jpegstrip import strip_tiles

#: Levels at most this many pixels a side are also written whole (`full/w,h`).
MAX_DERIVATIVE = 2048

#: libvips adds an EXIF block even to pixels from memory; tiles carry no metadata.
NO_METADATA: dict[str, Any] = (
    {"keep": "none"} if pyvips.at_least_libvips(8, 15) else {"strip": True}
)

Pixels = Any  # bytes, or the cffi buffer pyvips returns: anything new_from_memory takes


@dataclass(frozen=True)
class Level:
    width: int
    height: int
    scale: int


def pyramid_levels(width: int, height: int, tile_size: int) -> tuple[Level, ...]:
    """Full size first, each level half the last (rounded up, as OpenSeadragon computes it)."""
    levels = [Level(width, height, 1)]
    while levels[-1].width > tile_size or levels[-1].height > tile_size:
        last = levels[-1]
        levels.append(Level(-(-last.width // 2), -(-last.height // 2), last.scale * 2))
    return tuple(levels)


def whole_levels(levels: tuple[Level, ...]) -> tuple[Level, ...]:
    """The levels also written whole as `full/w,h`, smallest first (the top one is one tile)."""
    top = levels[-1]
    whole = [lv for lv in levels if max(lv.width, lv.height) <= MAX_DERIVATIVE or lv is top]
    return tuple(sorted(whole, key=lambda lv: lv.width))


def tile_file(level: Level, x: int, y: int, tile_size: int, width: int, height: int) -> str:
    """Path of the tile whose top-left corner is (x, y) in the level's pixels."""
    span = tile_size * level.scale
    rx, ry = x * level.scale, y * level.scale
    rw, rh = min(span, width - rx), min(span, height - ry)
    sw, sh = min(tile_size, level.width - x), min(tile_size, level.height - y)
    whole = rx == 0 and ry == 0 and rw == width and rh == height
    region = "full" if whole else f"{rx},{ry},{rw},{rh}"
    size = "max" if whole and level.scale == 1 else f"{sw},{sh}"
    return f"{region}/{size}/0/default.jpg"


def tile_paths(width: int, height: int, tile_size: int) -> list[str]:
    """The IIIF path of every tile `write_pyramid` writes for an image of this size."""
    levels = pyramid_levels(width, height, tile_size)
    paths = {
        tile_file(level, x, y, tile_size, width, height): None
        for level in levels
        for y in range(0, level.height, tile_size)
        for x in range(0, level.width, tile_size)
    }
    paths.update(dict.fromkeys(whole_file(level) for level in whole_levels(levels)))
    paths[MAX_FILE] = None
    return list(paths)


def whole_file(level: Level) -> str:
    return f"full/{level.width},{level.height}/0/default.jpg"


MAX_FILE = "full/max/0/default.jpg"
_TAIL = "/0/default.jpg"


def stored_name(path: str) -> str:
    """The name of the tile with IIIF path `{region}/{size}/0/default.jpg` in a tile folder:
    `{region}_{size}.jpg` (neither part can hold `_` or `/`). ValueError for other paths."""
    region, slash, size = path.removesuffix(_TAIL).partition("/")
    if not path.endswith(_TAIL) or not slash or "/" in size or "_" in region + size:
        raise ValueError(f"not the path of a tile: {path!r}")
    return f"{region}_{size}.jpg"


def iiif_path(name: str) -> str:
    """The IIIF path of the tile stored as `name`: what `stored_name` undoes."""
    region, _, size = name.removesuffix(".jpg").partition("_")
    return f"{region}/{size}{_TAIL}"


def write_pyramid(
    image: pyvips.Image,
    out: Path,
    *,
    tile_size: int,
    quality: int,
    threads: int,
    progress: Callable[[float], None] | None = None,
) -> tuple[Level, ...]:
    """Write `image` (8-bit, 1 or 3 bands) as tiles into the empty folder `out`, each under
    its stored name.

    `threads` workers encode tiles while this thread decodes; 0 does everything in this thread.
    Raises pyvips.Error when the image cannot be decoded.
    """
    _fewer_malloc_arenas()
    _no_operation_cache()
    levels = pyramid_levels(image.width, image.height, tile_size)
    with ThreadPoolExecutor(threads) if threads else _Inline() as pool:
        cutter = _Cutter(image, out, levels, tile_size, quality, pool, max(threads, 1) + 2)
        try:
            cutter.run(progress)
        except BaseException:
            cutter.cancel()
            raise
    return levels


class _Cutter:
    def __init__(
        self,
        image: pyvips.Image,
        out: Path,
        levels: tuple[Level, ...],
        tile_size: int,
        quality: int,
        pool: Any,
        in_flight: int,
    ) -> None:
        self.image = image
        self.out = out
        self.root = str(out)
        self.levels = levels
        self.tile_size = tile_size
        self.quality = quality
        self.pool = pool
        self.in_flight = in_flight
        self.bands = image.bands
        self.pending: deque[tuple[int, Future[tuple[Pixels, int] | None]]] = deque()
        self.chunks: list[list[Pixels]] = [[] for _ in levels]
        self.rows = [0] * len(levels)
        self.next_y = [0] * len(levels)
        # Levels written whole are kept as they pass (the top one is a tile already).
        self.kept: dict[int, list[Pixels]] = {
            levels.index(level): [] for level in whole_levels(levels) if level is not levels[-1]
        }
        self.written: set[str] = set()
        self.lock = threading.Lock()

    def run(self, progress: Callable[[float], None] | None) -> None:
        width, height, step = self.image.width, self.image.height, self.tile_size
        for y in range(0, height, step):
            rows = min(step, height - y)
            self.feed(0, self.image.crop(0, y, width, rows).write_to_memory(), rows)
            self.drain(self.in_flight)
            if progress is not None:
                progress((y + rows) / height)
        self.drain(0)
        self.write_whole_levels()

    def cancel(self) -> None:
        for _, future in self.pending:
            future.cancel()

    def feed(self, index: int, pixels: Pixels, rows: int) -> None:
        """Add rows to a level; once a strip of tiles is there, hand it to a worker."""
        if index in self.kept:
            self.kept[index].append(pixels)
        self.chunks[index].append(pixels)
        self.rows[index] += rows
        level = self.levels[index]
        if (
            self.rows[index] < self.tile_size
            and self.next_y[index] + self.rows[index] < level.height
        ):
            return
        chunks, rows = self.chunks[index], self.rows[index]
        strip = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        y = self.next_y[index]
        self.chunks[index], self.rows[index], self.next_y[index] = [], 0, y + rows
        future = self.pool.submit(self.cut, index, strip, y, rows)
        self.pending.append((index, future))

    def drain(self, limit: int) -> None:
        """Wait for the oldest strips until at most `limit` are in flight; pass shrunk rows on."""
        while len(self.pending) > limit:
            index, future = self.pending.popleft()
            shrunk = future.result()
            if shrunk is not None:
                self.feed(index + 1, *shrunk)

    def cut(self, index: int, pixels: Pixels, y: int, rows: int) -> tuple[Pixels, int] | None:
        """Encode one strip's tiles (in a worker) and return the strip at half size."""
        level, full, step = self.levels[index], self.levels[0], self.tile_size
        strip = pyvips.Image.new_from_memory(pixels, level.width, rows, self.bands, "uchar")
        whole_tiles = level.width // step
        encoded = None
        if whole_tiles:
            body = (
                strip
                if whole_tiles * step == level.width
                else strip.crop(0, 0, whole_tiles * step, rows)
            )
            encoded = strip_tiles(body, step, self.quality, **NO_METADATA)
        for column, x in enumerate(range(0, level.width, step)):
            name = tile_file(level, x, y, step, full.width, full.height)
            if encoded is not None and column < whole_tiles:
                self.write(encoded[column], name)
            else:
                self.save(strip.crop(x, 0, min(step, level.width - x), rows), name)
        if index == len(self.levels) - 1:
            return None
        if level.width % 2 or rows % 2:
            strip = strip.embed(0, 0, level.width + level.width % 2, rows + rows % 2, extend="copy")
        # Triangle filter down, 2-pixel box across: libvips' vectorised reducev plus shrinkh
        # took half the time of reduce(2, 2) in our measurements, with no visible difference.
        half = strip.reducev(2, kernel="linear").shrinkh(2)
        return half.write_to_memory(), half.height

    def save(self, image: pyvips.Image, name: str) -> None:
        if self.claim(name):
            image.jpegsave(f"{self.root}/{stored_name(name)}", Q=self.quality, **NO_METADATA)

    def write(self, jpeg: bytes, name: str) -> None:
        if self.claim(name):
            with open(f"{self.root}/{stored_name(name)}", "wb") as file:
                file.write(jpeg)

    def claim(self, name: str) -> bool:
        """False if the name is taken (tiny edge tiles of two levels can share one, and the
        first written wins)."""
        with self.lock:
            if name in self.written:
                return False
            self.written.add(name)
        return True

    def write_whole_levels(self) -> None:
        for index, chunks in self.kept.items():
            level = self.levels[index]
            pixels = b"".join(chunks)
            whole = pyvips.Image.new_from_memory(
                pixels, level.width, level.height, self.bands, "uchar"
            )
            self.save(whole, whole_file(level))
        # The top level's one tile is `full/w,h` already, or `full/max` when it is full size.
        top, largest = self.levels[-1], whole_levels(self.levels)[-1]
        if largest is top and top.scale == 1:
            _link(self.out, MAX_FILE, whole_file(top))
        else:
            _link(self.out, whole_file(largest), MAX_FILE)


def _link(root: Path, existing: str, new: str) -> None:
    if not (root / stored_name(new)).exists():
        os.link(root / stored_name(existing), root / stored_name(new))


@functools.cache
def _fewer_malloc_arenas() -> None:
    """Stop glibc from keeping freed strips in one heap per thread.

    glibc gives threads their own heaps ("arenas"), which keep freed pages: peak memory doubled
    in our measurements. Two arenas (what MALLOC_ARENA_MAX=2 sets) kept it at 170–190 MB for
    a 20,000-pixel-wide image, for less system time than a fixed mmap threshold.
    """
    if not sys.platform.startswith("linux"):
        return
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)  # glibc; musl has none
    if mallopt is not None:
        mallopt(-8, 2)  # M_ARENA_MAX


@functools.cache
def _no_operation_cache() -> None:
    """Stop libvips from keeping finished operations for reuse.

    libvips keeps the last 100 operations (up to 100 MB of what they hold) in case the same
    one is asked for again; the tiler never asks twice (each strip is a new crop), and the
    cache kept 130 MB of a 40,000-pixel-wide image's strips alive in our measurements. Nothing
    else in storiiies repeats an operation either: a tile server answers repeats from the
    browser's cache and its own.
    """
    pyvips.cache_set_max(0)


class _Inline:
    """A stand-in for an executor that runs each job at once, in this thread."""

    def __enter__(self) -> _Inline:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args))
        except BaseException as exc:  # handed back through the future, like a real pool
            future.set_exception(exc)
        return future
