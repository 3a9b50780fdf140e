"""Cut a region of a local image at a given width, without decoding the whole image.

A crop (a thumbnail, a text-version picture, a link preview) needs only the pixels of its region
at its own size. Decoding a 192-megapixel JPEG for each of them took 1.5 s a crop, so they are
cut from what is already there:

- the image's tile tree (pyramid.py): the smallest level that still has at least the crop's
  width, and only the tiles that cover the region, so a crop costs a few 256-pixel tiles;
  a TileReader decodes each tile once for all the crops it cuts (a decode costs more than
  cutting and encoding a crop from pixels in memory);
- where there is no tree (the preview, before the first build), one decode of the file shared
  by all the crops wanted of it, at a JPEG shrink-on-load (1/2, 1/4, 1/8) that still has the
  width the crops need.

A crop from the tree has been through the tiles' JPEG encoding and their halving filter: its
pixels differ from a crop of the decoded file by a few levels (tests/test_crops.py measures it).
"""

from __future__ import annotations

import io
import math
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pyvips
from PIL import Image

from storiiies.atomic import replacing
from storiiies.images.pyramid import Level, pyramid_levels, tile_file, whole_file, whole_levels
from storiiies.images.tiles import TiledImage

#: The JPEG quality of crops: they are seen small, beside text.
CROP_QUALITY = 82

#: The Pillow mode of the pixels Pillow encodes for a crop: 8-bit grey or sRGB, by bands.
PILLOW_MODES = {("b-w", 1): "L", ("srgb", 3): "RGB"}

#: The shrink-on-load factors libvips' JPEG loader offers.
JPEG_SHRINKS = (8, 4, 2, 1)


@dataclass(frozen=True)
class Region:
    """A crop to cut: `x, y, width, height` in full-size pixels (inside the image), and the size
    of the crop, `out_width × out_height` (never larger than the region)."""

    x: int
    y: int
    width: int
    height: int
    out_width: int
    out_height: int


def region_of(
    box: tuple[float, float, float, float], width: int, image_size: tuple[int, int]
) -> Region:
    """The part of an image of `image_size` that `box` shows, cut at most `width` pixels wide."""
    full_width, full_height = image_size
    x, y, w, h = (round(n) for n in box)
    x, y = min(max(x, 0), full_width - 1), min(max(y, 0), full_height - 1)
    w, h = max(1, min(w, full_width - x)), max(1, min(h, full_height - y))
    if w <= width:
        return Region(x, y, w, h, w, h)
    return Region(x, y, w, h, width, max(1, round(h * width / w)))


def shrink_for(region: Region) -> int:
    """The largest JPEG shrink-on-load that keeps at least the crop's pixels."""
    return next(s for s in JPEG_SHRINKS if region.width / s >= region.out_width)


def cut(pixels: pyvips.Image, region: Region, full_width: int, full_height: int) -> pyvips.Image:
    """The region out of `pixels`, the whole image at some reduced size, at the crop's size."""
    scale_x, scale_y = pixels.width / full_width, pixels.height / full_height
    return _cut_scaled(pixels, region, scale_x, scale_y, 0, 0)


def cut_from_tiles(tiled: TiledImage, region: Region) -> pyvips.Image:
    """The region, assembled from the fewest tiles of the smallest level wide enough for it,
    each decoded for this crop alone (a TileReader keeps them for the next crops)."""
    return TileReader(tiled, budget=0).cut(region)


#: Memory a TileReader may keep decoded tiles in: a few hundred 256-pixel tiles.
READER_BUDGET = 64 * 1024 * 1024


class TileReader:
    """Cuts many crops from one tile tree, decoding each tile once.

    Decoding a tile costs more than cutting a crop from pixels in memory and encoding it, so
    decoded tiles are kept, least recently used first out, within `budget` bytes. A level the
    tiler wrote whole (`full/w,h`: those at most 2,048 pixels a side) is decoded from that one
    file; another that fits in a quarter of the budget is decoded whole from its tiles, once
    (the level of a 1000-pixel image is three megabytes); a larger one tile by tile. A whole
    level is kept when it fits in that quarter. The crops are the same, byte for byte,
    whatever the budget, and as crops cut by `cut_from_tiles`: each level is read from the
    same files, joined on the same grid. A budget of 0 keeps nothing, and reads the files of
    each crop lazily.
    """

    def __init__(self, tiled: TiledImage, *, budget: int = READER_BUDGET) -> None:
        self.tiled = tiled
        self.budget = budget
        self.levels = pyramid_levels(tiled.width, tiled.height, tiled.tile_size)
        self.written_whole = frozenset(whole_levels(self.levels))
        self._held: OrderedDict[tuple[int, int, int], pyvips.Image] = OrderedDict()
        self._pictures: dict[int, Image.Image | None] = {}
        self.held_bytes = 0

    def cut(self, region: Region) -> pyvips.Image:
        level = self._level(region)
        step = self.tiled.tile_size
        scale = 1 / level.scale
        if level in self.written_whole or self._fits_whole(level):
            return _cut_scaled(self._whole(level), region, scale, scale, 0, 0)
        left = min(region.x // level.scale, level.width - 1)
        top = min(region.y // level.scale, level.height - 1)
        right = min(level.width, math.ceil((region.x + region.width) / level.scale))
        bottom = min(level.height, math.ceil((region.y + region.height) / level.scale))
        first_x, first_y = left - left % step, top - top % step
        columns = range(first_x, right, step)
        rows = range(first_y, bottom, step)
        tiles = [self._tile(level, x, y) for y in rows for x in columns]
        return _cut_scaled(_join(tiles, len(columns)), region, scale, scale, first_x, first_y)

    def picture(self, region: Region) -> pyvips.Image | Image.Image:
        """The crop `cut` makes, as a Pillow image when it is a plain copy of pixels from a
        level held whole (a crop at its region's own size): copying them in Pillow spares
        libvips' pipeline for each crop (0.35 of 0.9 ms for a 300-pixel one)."""
        level = self._level(region)
        whole = self._whole_picture(level) if self._fits_whole(level) else None
        if whole is not None:
            scale = 1 / level.scale
            box = _box(region, scale, scale, 0, 0, whole.size)
            if (box[2] - box[0], box[3] - box[1]) == (region.out_width, region.out_height):
                return whole.crop(box)
        return self.cut(region)

    def shares(
        self, crops: Sequence[tuple[Region, Path]], parts: int
    ) -> list[list[tuple[Region, Path]]]:
        """`crops` in at most `parts` shares of about the same work, for as many readers at
        once: the crops from one level stay together (a reader decodes its tiles once), and a
        level's work is the tiles it decodes (the whole level, or the tiles its crops cover)."""
        by_level: dict[Level, list[tuple[Region, Path]]] = {}
        for crop in crops:
            by_level.setdefault(self._level(crop[0]), []).append(crop)
        work = {level: self._tiles_read(level, group) for level, group in by_level.items()}
        shares: list[list[tuple[Region, Path]]] = [[] for _ in range(parts)]
        loads = [0] * parts
        # The largest first, each to the share with the least work so far.
        for level in sorted(by_level, key=lambda lv: -work[lv]):
            least = loads.index(min(loads))
            shares[least].extend(by_level[level])
            loads[least] += work[level]
        return [share for share in shares if share]

    def _tiles_read(self, level: Level, crops: list[tuple[Region, Path]]) -> int:
        step = self.tiled.tile_size
        if self._fits_whole(level):
            return -(-level.width // step) * -(-level.height // step)
        span = step * level.scale
        return sum(
            (-(-(r.x + r.width) // span) - r.x // span)
            * (-(-(r.y + r.height) // span) - r.y // span)
            for r, _ in crops
        )

    def _level(self, region: Region) -> Level:
        """The smallest level that still has the crop's pixels."""
        return max(
            (
                lv
                for lv in self.levels
                if region.width / lv.scale >= region.out_width
                and region.height / lv.scale >= region.out_height
            ),
            key=lambda lv: lv.scale,
        )

    def _whole_picture(self, level: Level) -> Image.Image | None:
        """`_whole(level)` as a Pillow image, when its pixels are ones Pillow holds as they are
        (8-bit grey or sRGB); kept beside it."""
        if level.scale not in self._pictures:
            self._pictures[level.scale] = as_pillow(self._whole(level))
        return self._pictures[level.scale]

    def _fits_whole(self, level: Level) -> bool:
        # Tiles are joined on a grid of whole tiles: the level's pixels, rounded up to tiles.
        step = self.tiled.tile_size
        width, height = -(-level.width // step) * step, -(-level.height // step) * step
        return width * height * 3 <= self.budget // 4

    def _whole(self, level: Level) -> pyvips.Image:
        """The whole of `level`, decoded into memory: from its one file where the tiler wrote
        it whole (`full/w,h`: one decode, against ~50 tiles decoded and joined for a
        2,000-pixel level), else from every tile, joined. Kept when it fits the budget."""
        key = (level.scale, -1, -1)
        if key in self._held:
            self._held.move_to_end(key)
            return self._held[key]
        if level in self.written_whole:
            whole = _read_jpeg(self.tiled, whole_file(level))
        else:
            step = self.tiled.tile_size
            columns = range(0, level.width, step)
            tiles = [
                _read_tile(self.tiled, level, x, y)
                for y in range(0, level.height, step)
                for x in columns
            ]
            # One tile is in memory already (and copy_memory would give back the same pixels
            # in an image that does not keep the bytes beneath them alive).
            whole = tiles[0] if len(tiles) == 1 else _join(tiles, len(columns)).copy_memory()
        if self._fits_whole(level):
            self._hold(key, whole)
        return whole

    def _tile(self, level: Level, x: int, y: int) -> pyvips.Image:
        if self.budget <= 0:
            return _read_tile(self.tiled, level, x, y)
        key = (level.scale, x, y)
        if key not in self._held:
            self._hold(key, _read_tile(self.tiled, level, x, y))
        self._held.move_to_end(key)
        return self._held[key]

    def _hold(self, key: tuple[int, int, int], pixels: pyvips.Image) -> None:
        self._held[key] = pixels
        self.held_bytes += _size(pixels)
        # The newest stays even over budget: a crop in progress still holds it.
        while self.held_bytes > self.budget and len(self._held) > 1:
            _, dropped = self._held.popitem(last=False)
            self.held_bytes -= _size(dropped)


def cut_from_tiles_into_files(tiled: TiledImage, crops: Sequence[tuple[Region, Path]]) -> None:
    """Cut each region and save it as its JPEG file, with one TileReader for them all (a task
    of a worker process: it takes only what pickles, and imports nothing of the stories)."""
    reader = TileReader(tiled)
    for region, target in crops:
        save_crop(reader.picture(region), target)


def save_crop(pixels: pyvips.Image | Image.Image, target: Path) -> None:
    """Save the crop as a JPEG without metadata.

    libvips computes the pixels; Pillow encodes the common 8-bit grey or sRGB ones, with the
    same libjpeg-turbo, in 0.3 ms against libvips' 0.8 ms for a crop of 300 × 300 (libvips
    sets up a threaded pipeline for each save, which costs more than a small picture's
    encoding). Anything else (alpha, CMYK, 16 bits) goes through libvips' own conversion."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if not isinstance(pixels, Image.Image):
        pixels = as_pillow(pixels) or pixels
    with replacing(target) as temporary:
        if isinstance(pixels, Image.Image):
            pixels.save(temporary, "JPEG", quality=CROP_QUALITY)
        else:
            pixels.jpegsave(str(temporary), Q=CROP_QUALITY, strip=True)


def as_pillow(pixels: pyvips.Image) -> Image.Image | None:
    """`pixels` (computed now) as a Pillow image when they are 8-bit grey or sRGB, which
    Pillow holds as they are; None for anything else."""
    mode = PILLOW_MODES.get((pixels.interpretation, pixels.bands))
    if mode is None or pixels.format != "uchar":
        return None
    return Image.frombytes(mode, (pixels.width, pixels.height), pixels.write_to_memory())


def _join(tiles: list[pyvips.Image], across: int) -> pyvips.Image:
    return tiles[0] if len(tiles) == 1 else pyvips.Image.arrayjoin(tiles, across=across)


def _size(pixels: pyvips.Image) -> int:
    return int(pixels.width * pixels.height * pixels.bands)


def _read_tile(tiled: TiledImage, level: Level, x: int, y: int) -> pyvips.Image:
    return _read_jpeg(tiled, tile_file(level, x, y, tiled.tile_size, tiled.width, tiled.height))


def _read_jpeg(tiled: TiledImage, name: str) -> pyvips.Image:
    """The pixels of the tree's file at IIIF path `name`, decoded into memory.

    Pillow decodes the 8-bit grey or sRGB JPEGs that the tiler writes, with the same
    libjpeg-turbo and so to the same pixels, in 0.3 ms against libvips' 1.3 ms for a
    256-pixel tile (libvips sets up a pipeline for each image it loads)."""
    data = tiled.file(name).read_bytes()
    with Image.open(io.BytesIO(data)) as tile:
        if tile.mode in ("L", "RGB") and tile.format == "JPEG":
            pixels = tile.tobytes()
            bands = 1 if tile.mode == "L" else 3
            return pyvips.Image.new_from_memory(pixels, tile.width, tile.height, bands, "uchar")
    # From the file's bytes, not its name: libvips caches loads by file name.
    return pyvips.Image.new_from_buffer(data, "").copy_memory()


def _cut_scaled(
    pixels: pyvips.Image,
    region: Region,
    scale_x: float,
    scale_y: float,
    origin_x: int,
    origin_y: int,
) -> pyvips.Image:
    """Crop `region` (full-size pixels) out of `pixels`, which hold the image at `scale` with
    their top-left corner at (origin_x, origin_y) of that scaled image, and size it exactly."""
    size = (pixels.width, pixels.height)
    left, top, right, bottom = _box(region, scale_x, scale_y, origin_x, origin_y, size)
    part = pixels.crop(left, top, right - left, bottom - top)
    if (part.width, part.height) != (region.out_width, region.out_height):
        part = part.resize(region.out_width / part.width, vscale=region.out_height / part.height)
    if (part.width, part.height) != (region.out_width, region.out_height):
        # libvips rounds the resized size; a pixel more or less is trimmed or repeated.
        part = part.crop(
            0, 0, min(part.width, region.out_width), min(part.height, region.out_height)
        )
        part = part.embed(0, 0, region.out_width, region.out_height, extend="copy")
    return part


def _box(
    region: Region,
    scale_x: float,
    scale_y: float,
    origin_x: int,
    origin_y: int,
    size: tuple[int, int],
) -> tuple[int, int, int, int]:
    """The pixels (left, top, right, bottom) that hold `region` in an image of `size` holding
    the full image at `scale` from (origin_x, origin_y): whole pixels, at least one."""
    left = max(0, math.floor(region.x * scale_x) - origin_x)
    top = max(0, math.floor(region.y * scale_y) - origin_y)
    right = min(size[0], math.ceil((region.x + region.width) * scale_x) - origin_x)
    bottom = min(size[1], math.ceil((region.y + region.height) * scale_y) - origin_y)
    return left, top, left + max(1, right - left), top + max(1, bottom - top)
