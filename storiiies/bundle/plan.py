"""MIRROR PLAN: which tiles of each remote image the tour can show, and nothing more. Pure.

For every move of every panel (moves.py), at every screen size of the settings, this follows
what OpenSeadragon does: a region is fitted into the panel (never past `maxZoomPixelRatio`, 2
screen pixels per image pixel); every level whose pixels are at least half a screen pixel
(`minPixelRatio`) is loaded, for the part of the image in view; and a flight from one view to
another passes through views whose edges move linearly between the two (fitBounds zooms about
a fixed point). The panel is any size within the screen with a width:height ratio between 1:3
and 3:1; the plan covers them all by checking neighbouring ratios and flight positions with a
margin of one ratio step. Each canvas also gets a low-resolution overview (every level up to
1024 pixels) and the tiles its crops (thumbnails, text version) are cut from.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from storiiies.bundle.grid import Grid
from storiiies.bundle.moves import Box, Move, story_moves
from storiiies.iiif.model import Canvas
from storiiies.model import Story, View

MIN_PIXEL_RATIO = 0.5  # OpenSeadragon's minPixelRatio
MAX_ZOOM_PIXEL_RATIO = 2.0  # tour.js
ASPECTS = tuple(3 ** (k / 4 - 1) for k in range(9))  # panel width:height from 1:3 to 3:1
ASPECT_STEP = 3 ** (1 / 4)  # how much a panel between two sampled ratios can differ
FLIGHT_SAMPLES = 16
MARGIN = 0.03  # of a view's size, on each side
OVERVIEW_SIDE = 1024

Rect = tuple[float, float, float, float]  # left, top, right, bottom in canvas pixels
Tile = tuple[int, int, int]  # level, x, y


@dataclass(frozen=True)
class CropSource:
    """Where a crop of a mirrored image is cut from: this level of image `key`, this box."""

    key: str
    level: int
    box: tuple[float, float, float, float]  # image pixels


@dataclass(frozen=True)
class MirrorPlan:
    tiles: Mapping[str, frozenset[Tile]]  # by image key
    crops: Mapping[tuple[str, int], CropSource]  # by (crop file name, width)

    @property
    def tile_count(self) -> int:
        return sum(len(tiles) for tiles in self.tiles.values())


class _Marks:
    """The tiles chosen so far for one image: a bitmap per level, filled a rectangle at a time."""

    def __init__(self, grid: Grid) -> None:
        self.grid = grid
        self.levels: dict[int, bytearray] = {}

    def mark(self, level: int, left: float, top: float, right: float, bottom: float) -> None:
        grid = self.grid
        if not grid.has_level(level):
            return
        if right < 0 or bottom < 0 or left > grid.width or top > grid.height:
            return
        columns, rows = grid.tile_count(level)
        bitmap = self.levels.setdefault(level, bytearray(columns * rows))
        x0, y0 = grid.tile_at(level, max(0.0, left), max(0.0, top))
        x1, y1 = grid.tile_at(level, min(right, grid.width), min(bottom, grid.height))
        for row in range(y0, y1 + 1):
            bitmap[row * columns + x0 : row * columns + x1 + 1] = b"\x01" * (x1 - x0 + 1)

    def mark_level(self, level: int) -> None:
        self.mark(level, 0, 0, self.grid.width, self.grid.height)

    def tiles(self) -> frozenset[Tile]:
        result: set[Tile] = set()
        for level, bitmap in self.levels.items():
            columns = self.grid.tile_count(level)[0]
            result.update(
                (level, i % columns, i // columns) for i, flag in enumerate(bitmap) if flag
            )
        return frozenset(result)


def mirror_plan(
    stories: Sequence[Story],
    grids: Mapping[str, Grid],
    keys: Mapping[int, str],
    screens: Sequence[tuple[int, int]],
    crops: Iterable[tuple[View, int, str]] = (),
) -> MirrorPlan:
    """The tiles to fetch for each mirrored image.

    `grids` holds each mirrored image's Grid by key; `keys` maps `id(ImageResource)` to that
    key for every image to mirror. `crops` lists (view, width, crop file name) to cut.
    """
    marks = {key: _Marks(grid) for key, grid in grids.items()}
    for key, grid in grids.items():
        _overview(marks[key], grid)
    seen: set[tuple[str, Box, Box]] = set()
    for story in stories:
        for move in story_moves(story):
            if (move.canvas.id, move.start, move.end) in seen:
                continue
            seen.add((move.canvas.id, move.start, move.end))
            placed = _placed_images(move.canvas, grids, keys)
            if placed:
                for screen in screens:
                    _plan_move(move, placed, screen, marks)
    crop_sources: dict[tuple[str, int], CropSource] = {}
    for view, width, name in crops:
        for key, grid, place in _placed_images(view.canvas, grids, keys):
            source = _crop_source(view, width, key, grid, place)
            if source is not None:
                crop_sources[(name, width)] = source
                x, y, w, h = source.box
                marks[key].mark(source.level, x, y, x + w, y + h)
                break
    return MirrorPlan({key: mark.tiles() for key, mark in marks.items()}, crop_sources)


def full_mirror_count(grid: Grid) -> int:
    """How many tiles a mirror of every level would hold, for comparison."""
    return sum(
        columns * rows
        for level in range(grid.max_level + 1)
        if grid.has_level(level)
        for columns, rows in [grid.tile_count(level)]
    )


def overview_levels(grid: Grid) -> list[int]:
    """Levels small enough to keep whole: every single-tile level and all up to 1024 pixels."""
    cutoff = grid.cutoff_level()
    return [
        level
        for level in range(grid.max_level + 1)
        if grid.has_level(level)
        and (level <= cutoff or max(scaled_size(grid, level)) <= OVERVIEW_SIDE)
    ]


def scaled_size(grid: Grid, level: int) -> tuple[int, int]:
    """A level's size as OpenSeadragon computes it when `sizes` does not list every level."""
    scale = 0.5 ** (grid.max_level - level)
    return math.ceil(grid.width * scale), math.ceil(grid.height * scale)


def _overview(marks: _Marks, grid: Grid) -> None:
    for level in overview_levels(grid) if grid.legacy is None else range(grid.max_level + 1):
        marks.mark_level(level)


Placed = tuple[str, Grid, Box]


def _placed_images(
    canvas: Canvas, grids: Mapping[str, Grid], keys: Mapping[int, str]
) -> list[Placed]:
    placed = []
    for image in canvas.images:
        key = keys.get(id(image))
        if key is None:
            continue
        grid = grids[key]
        target: Box = image.target or (0, 0, canvas.width, canvas.height)
        x, y, w, _ = target
        if image.region is not None and image.width:
            # A part of the image (a virtual canvas): the whole image lies where the viewer
            # puts it before clipping, so tiles are counted in the same pixels.
            scale = w / image.region[2]  # canvas pixels per image pixel
            x, y = x - image.region[0] * scale, y - image.region[1] * scale
            w = image.width * scale
        placed.append((key, grid, (x, y, w, w * grid.height / grid.width)))
    return placed


def _plan_move(
    move: Move, placed: list[Placed], screen: tuple[int, int], marks: Mapping[str, _Marks]
) -> None:
    # Zoom is capped at 2 screen pixels per pixel of the sharpest image, but never below the
    # whole canvas (OpenSeadragon's getMaxZoom).
    sharpest = max(grid.width / place[2] for _, grid, place in placed)
    home = _home(placed)
    panels = [_panel(screen, aspect) for aspect in ASPECTS]
    samples = _flight_samples(move.start, move.end)
    # views[i][j]: the view at flight position i in panel j, and its screen pixels per canvas pixel
    views = []
    for fraction in samples:
        row = []
        for width, height in panels:
            cap = max(MAX_ZOOM_PIXEL_RATIO * sharpest, min(width / home[2], height / home[3]))
            end = _fit(move.end, width, height, cap)
            start = _fit(move.start, width, height, cap)
            rect = tuple(e + (s - e) * fraction for e, s in zip(end, start, strict=True))
            row.append((rect, width / (rect[2] - rect[0])))
        views.append(row)
    pairs_i = [(i, i + 1) for i in range(len(samples) - 1)] or [(0, 0)]
    for key, grid, place in placed:
        image_scale = place[2] / grid.width  # canvas pixels per image pixel

        cutoff = grid.cutoff_level()
        for level in range(cutoff + 1, grid.max_level + 1):
            # the screen pixels per canvas pixel at which this level starts to load
            threshold = MIN_PIXEL_RATIO / (image_scale * grid.factor(level))
            for i0, i1 in pairs_i:
                for j in range(len(panels) - 1):
                    corners = [views[i][jj] for i in (i0, i1) for jj in (j, j + 1)]
                    if max(d for _, d in corners) * ASPECT_STEP < threshold:
                        continue
                    left = min(r[0] for r, _ in corners)
                    top = min(r[1] for r, _ in corners)
                    right = max(r[2] for r, _ in corners)
                    bottom = max(r[3] for r, _ in corners)
                    pad_x, pad_y = MARGIN * (right - left), MARGIN * (bottom - top)
                    marks[key].mark(
                        level,
                        (left - pad_x - place[0]) / image_scale,
                        (top - pad_y - place[1]) / image_scale,
                        (right + pad_x - place[0]) / image_scale,
                        (bottom + pad_y - place[1]) / image_scale,
                    )


def _home(placed: list[Placed]) -> Box:
    left = min(p[0] for _, _, p in placed)
    top = min(p[1] for _, _, p in placed)
    right = max(p[0] + p[2] for _, _, p in placed)
    bottom = max(p[1] + p[3] for _, _, p in placed)
    return left, top, right - left, bottom - top


def _panel(screen: tuple[int, int], aspect: float) -> tuple[float, float]:
    """The largest panel of this width:height ratio on the screen."""
    width = min(float(screen[0]), aspect * screen[1])
    return width, width / aspect


def _fit(box: Box, width: float, height: float, cap: float) -> Rect:
    """The part of the canvas a panel shows when `box` is fitted into it."""
    x, y, w, h = box
    scale = min(width / max(w, 1e-9), height / max(h, 1e-9), cap)
    cx, cy = x + w / 2, y + h / 2
    half_w, half_h = width / scale / 2, height / scale / 2
    return cx - half_w, cy - half_h, cx + half_w, cy + half_h


def _flight_samples(start: Box, end: Box) -> list[float]:
    """Positions along a flight (0 = end, 1 = start), closer together where the view is small."""
    if start == end:
        return [0.0]
    ratio = max(start[2], start[3]) / max(end[2], end[3], 1e-9)
    if abs(math.log(ratio)) < 1e-6:
        return [i / FLIGHT_SAMPLES for i in range(FLIGHT_SAMPLES + 1)]
    small_end = ratio > 1
    q = ratio if small_end else 1 / ratio
    positions = [(q ** (i / FLIGHT_SAMPLES) - 1) / (q - 1) for i in range(FLIGHT_SAMPLES + 1)]
    return positions if small_end else sorted(1 - p for p in positions)


def _crop_source(view: View, width: int, key: str, grid: Grid, place: Box) -> CropSource | None:
    x, y, w, h = view.box
    image_scale = place[2] / grid.width
    left, top = max(x, place[0]), max(y, place[1])
    right, bottom = min(x + w, place[0] + place[2]), min(y + h, place[1] + place[3])
    if right <= left or bottom <= top:
        return None
    box = (
        (left - place[0]) / image_scale,
        (top - place[1]) / image_scale,
        (right - left) / image_scale,
        (bottom - top) / image_scale,
    )
    shown = min(width, max(1, round(w)))  # as render.crop_size: crops are never enlarged
    needed = shown * (right - left) / w  # crop pixels across the part of the box on this image
    if grid.legacy is not None:
        level = next(
            (i for i, size in enumerate(grid.legacy) if size[0] * box[2] / grid.width >= needed),
            grid.max_level,
        )
        return CropSource(key, level, box)
    # the coarsest level that still has `needed` pixels across the box
    level = grid.max_level
    while level > 0 and grid.has_level(level - 1) and box[2] / grid.factor(level - 1) >= needed:
        level -= 1
    return CropSource(key, level, box)
