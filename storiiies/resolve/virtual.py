"""Virtual canvases: parts of a story's sources laid side by side as one canvas. Pure geometry.

A dispersed object (the leaves of one manuscript now in several libraries) is shown whole by
composing a canvas from a region of each part's canvas. The parts are scaled to a common
height (a row) or width (a column), never shrinking the largest, so no part loses detail. Every
image of a part becomes an ImageResource of the composed canvas with `target` (where it is
painted, in composed canvas pixels) and `region` (the part of the image painted there, in image
pixels): the same shape a IIIF canvas with several painting annotations has, so the viewer,
the export and the offline bundle need no other idea of it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from storiiies.iiif.model import Canvas, ImageResource, LanguageMap, SourceDocument
from storiiies.model import Story, View

Box = tuple[float, float, float, float]  # x, y, w, h
Layout = Literal["row", "column"]


@dataclass(frozen=True)
class Part:
    """One part of a virtual canvas: a region (`box`, canvas pixels) of a source's canvas."""

    alias: str
    canvas: Canvas
    box: Box


def compose_canvas(parts: Sequence[Part], layout: Layout, label: LanguageMap) -> Canvas:
    """The composed canvas: `parts` in order, left to right (row) or top to bottom (column)."""
    row = layout == "row"
    common = max(part.box[3] if row else part.box[2] for part in parts)
    images: list[ImageResource] = []
    offset = 0.0
    for part in parts:
        x, y, w, h = part.box
        scale = common / (h if row else w)
        origin = (offset, 0.0) if row else (0.0, offset)
        for image in part.canvas.images:
            painted = _painted_part(image, part, scale, origin)
            if painted is not None:
                images.append(painted)
        offset += (w if row else h) * scale
    width, height = (round(offset), round(common)) if row else (round(common), round(offset))
    return Canvas(
        id=_canvas_id(parts, layout),
        index=1,
        width=width,
        height=height,
        label=label,
        images=tuple(images),
    )


def _painted_part(
    image: ImageResource, part: Part, scale: float, origin: tuple[float, float]
) -> ImageResource | None:
    """`image` of the part's canvas, cut to the part's box and placed on the composed canvas."""
    canvas = part.canvas
    tx, ty, tw, th = image.target or (0, 0, canvas.width, canvas.height)
    bx, by, bw, bh = part.box
    left, top = max(tx, bx), max(ty, by)
    right, bottom = min(tx + tw, bx + bw), min(ty + th, by + bh)
    if right - left < 0.5 or bottom - top < 0.5:
        return None  # this image lies outside the part
    width = image.width or (image.service.width if image.service else None) or round(tw)
    height = image.height or (image.service.height if image.service else None) or round(th)
    # The image pixels behind the target (all of the image, unless the source already cut it).
    rx, ry, rw, rh = image.region or (0, 0, width, height)
    sx, sy = rw / tw, rh / th
    region = (
        rx + (left - tx) * sx,
        ry + (top - ty) * sy,
        (right - left) * sx,
        (bottom - top) * sy,
    )
    target = (
        origin[0] + (left - bx) * scale,
        origin[1] + (top - by) * scale,
        (right - left) * scale,
        (bottom - top) * scale,
    )
    return replace(
        image,
        width=width,
        height=height,
        target=_whole(target),
        region=_whole(region),
    )


def _whole(box: Box) -> tuple[int, int, int, int]:
    """Integer pixels that keep the box's edges where they were (no gaps between parts)."""
    left, top = round(box[0]), round(box[1])
    return left, top, round(box[0] + box[2]) - left, round(box[1] + box[3]) - top


def _canvas_id(parts: Sequence[Part], layout: Layout) -> str:
    # The same composition gets the same id in every story; a different one never does.
    key = "|".join(f"{part.canvas.id}@{part.box}" for part in parts) + f"|{layout}"
    return f"virtual:{hashlib.sha256(key.encode()).hexdigest()[:16]}"


def image_address(image: ImageResource) -> str | None:
    """What identifies an image across canvases: its service, else its URL."""
    return image.service.id if image.service is not None else image.url


def part_view(view: View, story: Story) -> View:
    """The view of a single source that a static picture of `view` shows.

    A view of an ordinary canvas is returned as it is. For a virtual canvas, a crop (text
    version, thumbnails, link previews) cannot stitch images of several servers, so it shows the
    part of the region on the part it overlaps most, as a view of that part's own canvas.
    """
    document = story.sources.get(view.alias)
    if document is None or document.kind != "virtual" or not view.canvas.images:
        return view
    x, y, w, h = view.box
    best = max(view.canvas.images, key=lambda image: _overlap(view.box, _target(image)))
    tx, ty, tw, th = _target(best)
    left, top = max(x, tx), max(y, ty)
    right, bottom = max(left + 1, min(x + w, tx + tw)), max(top + 1, min(y + h, ty + th))
    rx, ry, rw, rh = best.region or (0, 0, best.width or tw, best.height or th)
    # From composed canvas pixels to the part image's pixels …
    pixels = (
        rx + (left - tx) * rw / tw,
        ry + (top - ty) * rh / th,
        (right - left) * rw / tw,
        (bottom - top) * rh / th,
    )
    found = _source_canvas(best, story.sources)
    if found is None:
        return view
    alias, canvas, image = found
    # … and from those to the part canvas's own pixels.
    cx, cy, cw, ch = image.target or (0, 0, canvas.width, canvas.height)
    ox, oy, ow, oh = image.region or (0, 0, image.width or cw, image.height or ch)
    box = (
        cx + (pixels[0] - ox) * cw / ow,
        cy + (pixels[1] - oy) * ch / oh,
        pixels[2] * cw / ow,
        pixels[3] * ch / oh,
    )
    whole = (
        box[0] <= 0.5
        and box[1] <= 0.5
        and box[2] >= canvas.width - 1
        and box[3] >= canvas.height - 1
    )
    return View(alias, canvas, None if whole else box, view.alt)


def _target(image: ImageResource) -> Box:
    assert image.target is not None  # every image of a composed canvas is placed
    return image.target


def _overlap(a: Box, b: Box) -> float:
    width = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    height = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    return max(0.0, width) * max(0.0, height)


def _source_canvas(
    image: ImageResource, sources: Mapping[str, SourceDocument]
) -> tuple[str, Canvas, ImageResource] | None:
    """The source canvas (and its image) that a composed canvas's image was taken from."""
    address = image_address(image)
    for alias, document in sources.items():
        if document.kind == "virtual":
            continue
        for canvas in document.canvases:
            for own in canvas.images:
                if image_address(own) == address:
                    return alias, canvas, own
    return None


def credited_sources(document: SourceDocument) -> tuple[SourceDocument, ...]:
    """The sources to credit for what `document` shows: itself, or for a virtual canvas the
    sources of its parts (and itself too when the author gave it rights or a credit)."""
    if document.kind != "virtual":
        return (document,)
    own = (document,) if document.rights or document.required_statement else ()
    return (*own, *document.parts)
