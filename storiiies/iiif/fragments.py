"""Media fragments: a rectangle (`xywh=`) of an image canvas and a segment (`t=`) of a
time-based one, as IIIF selectors and W3C Media Fragments write them
(https://www.w3.org/TR/media-frags/#naming-space)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal


@dataclass(frozen=True)
class Region:
    """A rectangle as the author wrote it, in canvas pixels or in percent of the canvas."""

    x: float
    y: float
    w: float
    h: float
    unit: Literal["pixel", "percent"] = "pixel"

    def in_pixels(self, width: int, height: int) -> tuple[float, float, float, float]:
        """The region in whole canvas pixels: the tour, manifest.json and text.html all use
        these numbers (a percent region is rounded half up, never to an empty region)."""
        if self.unit == "pixel":
            return (self.x, self.y, self.w, self.h)
        x, y = _whole(self.x * width / 100), _whole(self.y * height / 100)
        w, h = _whole(self.w * width / 100), _whole(self.h * height / 100)
        return (x, y, max(1, w), max(1, h))

    def __str__(self) -> str:
        numbers = ",".join(format_number(n) for n in (self.x, self.y, self.w, self.h))
        return f"percent:{numbers}" if self.unit == "percent" else numbers


@dataclass(frozen=True)
class TimeRange:
    """A segment of an audio or video canvas in seconds; `end` None means to the end."""

    start: float
    end: float | None = None

    def __str__(self) -> str:
        start = format_number(self.start)
        return start if self.end is None else f"{start},{format_number(self.end)}"


def format_number(value: float) -> str:
    # The shortest digits that read back as the same float, never in exponent form (which
    # references do not accept): 100000.1, not 100000 (`:g`), and 0.00001, not 1e-05.
    return str(int(value)) if float(value).is_integer() else format(Decimal(repr(value)), "f")


def _whole(value: float) -> int:
    return math.floor(value + 0.5)
