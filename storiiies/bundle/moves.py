"""Every move the tour makes in its viewer panels, so a bundle can hold the tiles for each.

tour.js fits each step's region into a panel; between steps the panel flies from the old
region to the new one, and a panel that opens another canvas first jumps to that canvas's
whole view ("home") and flies from there. In-step links fly from the step's region, and the
kiosk's return to the start flies from any step back to the cover. A Move is one such flight
(`start` → `end`), or a resting view when both are the same.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from storiiies.iiif.model import Canvas
from storiiies.model import Story, View

Box = tuple[float, float, float, float]  # x, y, w, h in canvas pixels


@dataclass(frozen=True)
class Move:
    canvas: Canvas
    start: Box
    end: Box


def home_box(canvas: Canvas) -> Box:
    """What OpenSeadragon shows of a canvas before a step fits it: every image placed on it."""
    boxes = [_placement(canvas, index) for index in range(len(canvas.images))] or [
        (0, 0, canvas.width, canvas.height)
    ]
    left = min(b[0] for b in boxes)
    top = min(b[1] for b in boxes)
    right = max(b[0] + b[2] for b in boxes)
    bottom = max(b[1] + b[3] for b in boxes)
    return left, top, right - left, bottom - top


def _placement(canvas: Canvas, index: int) -> Box:
    image = canvas.images[index]
    x, y, w, h = (float(n) for n in image.target or (0, 0, canvas.width, canvas.height))
    if image.width and image.height and image.region is None:  # a clipped part fills its target
        h = w * image.height / image.width  # the viewer keeps the image's own proportions
    return x, y, w, h


def story_moves(story: Story) -> list[Move]:
    """Every resting view and flight of `story`'s panels, without duplicates."""
    steps = [((story.cover,), ())] + [(step.views, step.links) for step in story.steps]
    moves: dict[tuple[str, Box, Box], Move] = {}

    def add(before: Iterable[View | None], after: View) -> None:
        for previous in before:
            if previous is None or previous.canvas.id != after.canvas.id:
                move = Move(after.canvas, home_box(after.canvas), after.box)
            else:
                move = Move(after.canvas, previous.box, after.box)
            moves.setdefault((move.canvas.id, move.start, move.end), move)
            rest = Move(after.canvas, after.box, after.box)
            moves.setdefault((rest.canvas.id, rest.end, rest.end), rest)

    # What each panel may show when the next step starts: its last view, or an in-step link.
    showing: dict[int, list[View | None]] = {}
    for views, links in steps:
        for index, view in enumerate(views):
            add(showing.get(index, [None]), view)
            showing[index] = [view]
        if links:
            first = views[0] if views else (showing.get(0) or [None])[0]
            for link in links:
                add([first, *links], link)
            showing[0] = [first, *links]
        if views:
            add(showing[0], story.cover)  # the kiosk goes back to the start from any step
    return list(moves.values())
