"""Cut a region of a local image at a given width, without decoding the whole image.

A crop (a thumbnail, a text-version picture, a link preview) needs only the pixels of its region
at its own size. Decoding a 192-megapixel JPEG for each of them took 1.5 s a crop, so they are
cut from what is already there:

- the image's tile tree (pyramid.py): the smallest level that still has at least the crop's
  width, and only the tiles that cover the region, so a crop costs a few 256-pixel tiles;
- where there is no tree (the preview, before the first build), one decode of the file shared
  by all the crops wanted of it, at a JPEG shrink-on-load (1/2, 1/4, 1/8) that still has the
  width the crops need.

A crop from the tree has been through the tiles' JPEG encoding and their halving filter: its
pixels differ from a crop of the decoded file by a few levels (tests/test_crops.py measures it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pyvips

from storiiies.images.pyramid import Level, pyramid_levels, tile_file
from storiiies.images.tiles import TiledImage

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
    """The region, assembled from the fewest tiles of the smallest level wide enough for it."""
    levels = pyramid_levels(tiled.width, tiled.height, tiled.tile_size)
    level = max(
        (
            lv
            for lv in levels
            if region.width / lv.scale >= region.out_width
            and region.height / lv.scale >= region.out_height
        ),
        key=lambda lv: lv.scale,
    )
    step = tiled.tile_size
    left = min(region.x // level.scale, level.width - 1)
    top = min(region.y // level.scale, level.height - 1)
    right = min(level.width, math.ceil((region.x + region.width) / level.scale))
    bottom = min(level.height, math.ceil((region.y + region.height) / level.scale))
    first_x, first_y = left - left % step, top - top % step
    columns = range(first_x, right, step)
    rows = range(first_y, bottom, step)
    tiles = [_read_tile(tiled, level, x, y) for y in rows for x in columns]
    mosaic = tiles[0] if len(tiles) == 1 else pyvips.Image.arrayjoin(tiles, across=len(columns))
    scale = 1 / level.scale
    return _cut_scaled(mosaic, region, scale, scale, first_x, first_y)


def _read_tile(tiled: TiledImage, level: Level, x: int, y: int) -> pyvips.Image:
    name = tile_file(level, x, y, tiled.tile_size, tiled.width, tiled.height)
    # From the file's bytes, not its name: libvips caches loads by file name.
    return pyvips.Image.new_from_buffer((tiled.path / name).read_bytes(), "")


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
    left = max(0, math.floor(region.x * scale_x) - origin_x)
    top = max(0, math.floor(region.y * scale_y) - origin_y)
    right = min(pixels.width, math.ceil((region.x + region.width) * scale_x) - origin_x)
    bottom = min(pixels.height, math.ceil((region.y + region.height) * scale_y) - origin_y)
    part = pixels.crop(left, top, max(1, right - left), max(1, bottom - top))
    if (part.width, part.height) != (region.out_width, region.out_height):
        part = part.resize(region.out_width / part.width, vscale=region.out_height / part.height)
    if (part.width, part.height) != (region.out_width, region.out_height):
        # libvips rounds the resized size; a pixel more or less is trimmed or repeated.
        part = part.crop(
            0, 0, min(part.width, region.out_width), min(part.height, region.out_height)
        )
        part = part.embed(0, 0, region.out_width, region.out_height, extend="copy")
    return part
