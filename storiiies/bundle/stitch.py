"""Whole images cut from mirrored tiles: the `full/w,h` overview sizes a level-0 info.json
lists, and the crops the index and the text version show. No request leaves the machine:
every pixel comes from tiles already in the mirror.

A tile is a stranger's file: its header is checked against the size the grid gives it before
any pixel is decoded (a JPEG of a few hundred bytes can declare 65,000 × 65,000 pixels), and
one libvips cannot decode is an ImageError, never a raw pyvips.Error."""

from __future__ import annotations

import math
from pathlib import Path

import pyvips

from storiiies.atomic import replacing
from storiiies.bundle.grid import Grid
from storiiies.errors import ImageError
from storiiies.images.decode import image_error

JPEG_OPTIONS = {"Q": 85, "strip": True}


def region_at_level(
    grid: Grid, tree: Path, level: int, box: tuple[float, float, float, float]
) -> pyvips.Image:
    """The image pixels `box` (x, y, w, h) at the resolution of `level`, from its tiles."""
    lw, _ = grid.level_size(level)
    scale = lw / grid.width
    x, y, w, h = box
    x0, y0 = grid.tile_at(level, x, y)
    x1, y1 = grid.tile_at(level, x + w - 1e-6, y + h - 1e-6)
    tw, th = grid.tile_size(level)
    if grid.legacy is not None:
        tw, th = grid.level_size(level)
    mosaic = None
    for row in range(y0, y1 + 1):
        for column in range(x0, x1 + 1):
            tile = _displayable(
                open_tile(grid, tree, level, column, row), grid.tile_pixels(level, column, row)
            )
            if mosaic is None:
                width = sum(grid.tile_pixels(level, c, y0)[0] for c in range(x0, x1 + 1))
                height = sum(grid.tile_pixels(level, x0, r)[1] for r in range(y0, y1 + 1))
                mosaic = (
                    pyvips.Image.black(width, height, bands=3)
                    .copy(interpretation="srgb")
                    .cast("uchar")
                )
            mosaic = mosaic.insert(tile, (column - x0) * tw, (row - y0) * th)
    assert mosaic is not None
    left = max(0, math.floor(x * scale) - x0 * tw)
    top = max(0, math.floor(y * scale) - y0 * th)
    right = min(mosaic.width, math.ceil((x + w) * scale) - x0 * tw)
    bottom = min(mosaic.height, math.ceil((y + h) * scale) - y0 * th)
    return mosaic.crop(left, top, max(1, right - left), max(1, bottom - top))


def open_tile(grid: Grid, tree: Path, level: int, x: int, y: int) -> pyvips.Image:
    """A fetched tile's header (pixels are decoded only when asked for), checked against the
    size the grid gives it. Raises ImageError."""
    tile_path = grid.tile_path(level, x, y)
    size = grid.tile_pixels(level, x, y)
    try:
        image = pyvips.Image.new_from_file(str(tree / tile_path), fail_on="truncated")
    except pyvips.Error as error:
        raise image_error(f"its tile {tile_path}", error) from None
    # Servers round differently by a pixel; anything larger is not the tile the grid asked for.
    if image.width > 2 * size[0] + 2 or image.height > 2 * size[1] + 2:
        raise ImageError(
            f"its tile {tile_path} says it is {image.width:,}×{image.height:,} pixels, where the "
            f"image service's grid has {size[0]}×{size[1]}",
            "the server does not send tiles at this address: check it, or leave this story out "
            "of the bundle",
        )
    return image


def _displayable(image: pyvips.Image, size: tuple[int, int]) -> pyvips.Image:
    if image.hasalpha():
        image = image.flatten(background=[255] * (image.bands - 1))
    if image.bands != 3 or image.interpretation != "srgb":
        image = image.colourspace("srgb")
    if image.format != "uchar":
        image = image.cast("uchar")
    if (image.width, image.height) != size:
        # Servers round differently by a pixel; the grid is what the viewer draws.
        image = image.resize(size[0] / image.width, vscale=size[1] / image.height)
    return image


def save_jpeg(image: pyvips.Image, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with replacing(target) as temporary:
        image.jpegsave(str(temporary), **JPEG_OPTIONS)


def write_level_image(grid: Grid, tree: Path, level: int) -> str:
    """`full/w,h/0/default.jpg`: the whole image at `level`, written unless already there."""
    lw, lh = grid.level_size(level)
    path = f"full/{lw},{lh}/0/default.jpg"
    if not (tree / path).is_file():
        save_jpeg(region_at_level(grid, tree, level, (0, 0, grid.width, grid.height)), tree / path)
    return path


def cut_crop(
    grid: Grid,
    tree: Path,
    level: int,
    box: tuple[float, float, float, float],
    size: tuple[int, int],
    target: Path,
) -> None:
    """A crop of `box` (image pixels) at exactly `size`, cut from the tiles of `level`."""
    region = region_at_level(grid, tree, level, box)
    region = region.resize(size[0] / region.width, vscale=size[1] / region.height)
    save_jpeg(region, target)
