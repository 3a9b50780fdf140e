"""How OpenSeadragon cuts a IIIF Image API service into levels and tiles.

A bundle only works offline if it holds exactly the files the viewer will ask for, so this
module repeats, number for number, what OpenSeadragon 6's IIIFTileSource does with an
info.json: the levels (`maxLevel`, including its rounding quirks), the tile grid of each level,
and the `{region}/{size}/0/default.jpg` path of each tile. The same Grid gives the remote URL
to fetch (the remote's own info.json) and the local path to store it under (the level-0
Image API 3 info.json that the bundle writes).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

Size = tuple[int, int]

# OpenSeadragon's list (checkLevel0): only these spellings make a service "level 0" to it.
_LEVEL0_PROFILES = {
    "http://library.stanford.edu/iiif/image-api/compliance.html#level0",
    "http://library.stanford.edu/iiif/image-api/1.1/compliance.html#level0",
    "http://iiif.io/api/image/2/level0.json",
    "level0",
    "https://iiif.io/api/image/3/level0.json",
}


#: The largest image a bundle copies: the same bound as the local images storiiies tiles. A
#: plan is a bitmap per level, so what it allocates follows from these and the tile sizes.
MAX_SIDE = 200_000
MAX_PIXELS = 10_000_000_000
#: Tile sides a bundle accepts: every service we know uses 256 to 1024; 1-pixel tiles would
#: make a plan of billions of files.
MIN_TILE, MAX_TILE = 32, 8192
_TOO_LARGE_HINT = (
    "check the address; a bundle cannot copy this image: leave this story out of the bundle"
)


class UnusableService(ValueError):
    """An info.json OpenSeadragon cannot build a pyramid from (so neither can a bundle)."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


@dataclass(frozen=True)
class Grid:
    """The levels and tiles of one image service, as OpenSeadragon sees them.

    Level `max_level` is full resolution; level `l` is scaled down by 2**(max_level - l).
    `legacy` is set for a level-0 service that offers only whole images (`sizes`, no tiles):
    each of its levels is one of those images, smallest first.
    """

    id: str
    version: int
    level0: bool
    width: int
    height: int
    max_level: int
    tile: Size
    tile_by_factor: Mapping[int, Size]
    level_sizes: tuple[Size, ...] | None = None
    legacy: tuple[Size, ...] | None = None
    advertised: frozenset[int] | None = None  # scale factors the service lists, if it lists any

    def factor(self, level: int) -> int:
        return int(2 ** (self.max_level - level))

    def has_level(self, level: int) -> bool:
        return (
            self.legacy is not None
            or self.advertised is None
            or self.factor(level) in self.advertised
        )

    def level_size(self, level: int) -> Size:
        if self.legacy is not None:
            return self.legacy[level]
        if self.level_sizes is not None:
            return self.level_sizes[level]
        scale = 0.5 ** (self.max_level - level)
        return math.ceil(self.width * scale), math.ceil(self.height * scale)

    def tile_size(self, level: int) -> Size:
        if self.legacy is not None:
            return self.legacy[level]
        return self.tile_by_factor.get(self.factor(level), self.tile)

    def tile_count(self, level: int) -> Size:
        if self.legacy is not None:
            return 1, 1
        tw, th = self.tile_size(level)
        if self.level_sizes is not None:
            lw, lh = self.level_sizes[level]
            return math.ceil(lw / tw), math.ceil(lh / th)
        scale = 0.5 ** (self.max_level - level)
        return math.ceil(scale * self.width / tw), math.ceil(scale * self.height / th)

    def cutoff_level(self) -> int:
        """The finest level that is a single tile (OpenSeadragon's getClosestLevel)."""
        level = 1
        while level <= self.max_level and self.tile_count(level) == (1, 1):
            level += 1
        return level - 1

    def tile_at(self, level: int, x: float, y: float) -> tuple[int, int]:
        """The tile holding image pixel (x, y), clamped to the grid (getTileAtPoint)."""
        if self.legacy is not None:
            return 0, 0
        tw, th = self.tile_size(level)
        scale = 0.5 ** (self.max_level - level)
        columns, rows = self.tile_count(level)
        column = min(columns - 1, max(0, math.floor(x * scale / tw)))
        row = min(rows - 1, max(0, math.floor(y * scale / th)))
        return column, row

    def tile_region(self, level: int, x: int, y: int) -> tuple[int, int, int, int]:
        """The image pixels (x, y, w, h) that tile (x, y) of `level` shows."""
        if self.legacy is not None or self._whole_image(level):
            return 0, 0, self.width, self.height
        tw, th = self.tile_size(level)
        scale = 0.5 ** (self.max_level - level)
        step_x, step_y = round(tw / scale), round(th / scale)
        left, top = x * step_x, y * step_y
        return left, top, min(step_x, self.width - left), min(step_y, self.height - top)

    def tile_pixels(self, level: int, x: int, y: int) -> Size:
        """The pixel size of tile (x, y) of `level`."""
        lw, lh = self.level_size(level)
        if self.legacy is not None or self._whole_image(level):
            return lw, lh
        tw, th = self.tile_size(level)
        return min(tw, lw - x * tw), min(th, lh - y * th)

    def _whole_image(self, level: int) -> bool:
        lw, lh = self.level_size(level)
        tw, th = self.tile_size(level)
        return lw < tw and lh < th

    def tile_path(self, level: int, x: int, y: int) -> str:
        """`{region}/{size}/0/default.jpg` exactly as OpenSeadragon's getTileUrl writes it."""
        if self.legacy is not None:
            w, h = self.legacy[level]
            return f"full/{w},{h if self.version == 3 else ''}/0/default.jpg"
        lw, lh = self.level_size(level)
        if self._whole_image(level):
            if self.version == 2 and lw == self.width:
                size = "full"
            elif self.version == 3 and (lw, lh) == (self.width, self.height):
                size = "max"
            else:
                size = f"{lw},{lh}" if self.version == 3 else f"{lw},"
            return f"full/{size}/0/default.jpg"
        left, top, w, h = self.tile_region(level, x, y)
        region = (
            "full"
            if (x, y) == (0, 0) and (w, h) == (self.width, self.height)
            else f"{left},{top},{w},{h}"
        )
        size_w, size_h = self.tile_pixels(level, x, y)
        if self.version == 2 and size_w == self.width:
            size = "full"
        elif self.version == 3 and (size_w, size_h) == (self.width, self.height):
            size = "max"
        elif self.level0 and self.version < 3:
            size = f"{size_w},"
        else:
            size = f"{size_w},{size_h}"
        return f"{region}/{size}/0/default.jpg"

    def tile_url(self, level: int, x: int, y: int) -> str:
        return f"{self.id}/{self.tile_path(level, x, y)}"


def read_grid(info: Mapping[str, Any]) -> Grid:
    """The Grid OpenSeadragon builds from `info` (Image API 2 or 3). Raises UnusableService."""
    version = _version(info)
    service_id = str(info.get("id") or info.get("@id") or "").rstrip("/")
    width, height = info.get("width"), info.get("height")
    if (
        not service_id
        or not isinstance(width, int)
        or not isinstance(height, int)
        or width < 1
        or height < 1
    ):
        raise UnusableService("the info.json has no id, width or height")
    if max(width, height) > MAX_SIDE or width * height > MAX_PIXELS:
        raise UnusableService(
            f"the info.json declares {width:,}×{height:,} pixels, more than a bundle copies "
            f"({MAX_SIDE:,} pixels a side, {MAX_PIXELS // 1_000_000_000} gigapixels)",
            _TOO_LARGE_HINT,
        )
    profile = info.get("profile")
    first = profile[0] if isinstance(profile, list) and profile else profile
    level0 = first in _LEVEL0_PROFILES
    sizes = _sizes(info.get("sizes"))
    tiles = [
        t
        for t in info.get("tiles") or []
        if isinstance(t, Mapping) and isinstance(t.get("width"), int)
    ]
    tile_by_factor: dict[int, Size] = {}
    factors: list[int] = []
    if len(tiles) == 1:
        tile = (tiles[0]["width"], tiles[0].get("height") or tiles[0]["width"])
        factors = [f for f in tiles[0].get("scaleFactors") or [] if isinstance(f, int) and f > 0]
    elif tiles:
        tile = (tiles[0]["width"], tiles[0].get("height") or tiles[0]["width"])
        for entry in tiles:
            for factor in entry.get("scaleFactors") or []:
                if not isinstance(factor, int) or factor <= 0:
                    continue
                factors.append(factor)
                tile_by_factor[factor] = (entry["width"], entry.get("height") or entry["width"])
    elif not level0 or _sizes_by_request(info, version):
        short = min(width, height)
        fitting = [n for n in (256, 512, 1024) if n <= short]
        tile = (max(fitting),) * 2 if fitting else (short, short)
    elif sizes:
        legacy = tuple(sorted(sizes))
        return Grid(
            service_id,
            version,
            level0,
            width,
            height,
            len(legacy) - 1,
            legacy[-1],
            {},
            legacy=legacy,
        )
    else:
        raise UnusableService("the level-0 info.json offers neither tiles nor sizes")
    if tiles:
        _check_tiles([tile, *tile_by_factor.values()], factors)
    # Without scale factors OpenSeadragon calls Math.log(x, 2): the natural logarithm. So do we.
    max_level = round(math.log2(max(factors))) if factors else round(math.log(max(width, height)))
    return Grid(
        service_id,
        version,
        level0,
        width,
        height,
        max_level,
        tile,
        tile_by_factor,
        level_sizes=_level_sizes(sizes, width, height, max_level, factors),
        advertised=frozenset(factors) if factors else None,
    )


def _check_tiles(sizes: list[Size], factors: list[int]) -> None:
    for width, height in sizes:
        if not (isinstance(height, int) and min(width, height) >= MIN_TILE) or (
            max(width, height) > MAX_TILE
        ):
            raise UnusableService(
                f"the info.json declares tiles of {width}×{height} pixels; a bundle copies tiles "
                f"of {MIN_TILE} to {MAX_TILE:,} pixels a side",
                _TOO_LARGE_HINT,
            )
    if any(factor > MAX_SIDE for factor in factors):
        raise UnusableService(
            f"the info.json declares a scale factor of {max(factors):,}, more than a bundle "
            f"copies ({MAX_SIDE:,})",
            _TOO_LARGE_HINT,
        )


def _version(info: Mapping[str, Any]) -> int:
    context = info.get("@context")
    contexts = context if isinstance(context, list) else [context]
    for entry in contexts:
        if entry == "http://iiif.io/api/image/3/context.json":
            return 3
        if entry == "http://iiif.io/api/image/2/context.json":
            return 2
    raise UnusableService("the info.json is not Image API 2 or 3")


def _sizes(value: Any) -> list[Size]:
    sizes = []
    for entry in value or []:
        if (
            isinstance(entry, Mapping)
            and isinstance(entry.get("width"), int)
            and isinstance(entry.get("height"), int)
        ):
            sizes.append((entry["width"], entry["height"]))
    return sizes


def _sizes_by_request(info: Mapping[str, Any], version: int) -> bool:
    # canBeTiled: a level-0 service that still scales to any width.
    if version == 2:
        profile = info.get("profile")
        extra = profile[1] if isinstance(profile, list) and len(profile) > 1 else None
        return isinstance(extra, Mapping) and "sizeByW" in (extra.get("supports") or [])
    return "sizeByWh" in (info.get("extraFeatures") or [])


def _level_sizes(
    sizes: list[Size], width: int, height: int, max_level: int, factors: list[int]
) -> tuple[Size, ...] | None:
    """OpenSeadragon's `levelSizes`: used when `sizes` lists exactly one size per level."""
    if not sizes:
        return None
    ordered = sorted(sizes, key=lambda size: size[0])
    if ordered[-1][0] < width and ordered[-1][1] < height:
        ordered.append((width, height))
    if len(ordered) != max_level + 1:
        return None
    if len(factors) == len(ordered):
        for index, (w, h) in enumerate(ordered):
            factor = factors[len(ordered) - index - 1]
            if _js_round(width / w) != factor or _js_round(height / h) != factor:
                return None
    return tuple(ordered)


def _js_round(value: float) -> int:
    return math.floor(value + 0.5)
