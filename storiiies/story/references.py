"""Region references: `ALIAS[/CANVAS][#xywh=x,y,w,h | #xywh=percent:x,y,w,h | #t=start,end]`.

Pure string → value parsing, so it can be tested exhaustively and fuzzed.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from urllib.parse import unquote

from storiiies.iiif.fragments import Region, TimeRange

ALIAS_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_NUMBER = r"\s*(\d+(?:\.\d+)?)\s*"
_XYWH = re.compile(rf"^(?:(pixel|percent):)?{_NUMBER},{_NUMBER},{_NUMBER},{_NUMBER}$")


_INVISIBLE = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")


def _shown(text: str) -> str:
    """The author's text as quoted in a one-line message: line breaks and controls made visible."""
    return _INVISIBLE.sub(lambda match: repr(match.group())[1:-1], text)


class ReferenceSyntaxError(ValueError):
    def __init__(self, message: str, hint: str | None = None) -> None:
        message = _shown(message)
        super().__init__(message)
        self.message = message
        self.hint = hint


@dataclass(frozen=True)
class Reference:
    """Which source, which canvas (1-based index or canvas id; None = first), and which region
    (images) or time range (audio and video canvases)."""

    alias: str
    canvas: str | None = None
    region: Region | None = None
    time: TimeRange | None = None

    def __str__(self) -> str:
        text = self.alias
        if self.canvas is not None:
            text += f"/{self.canvas}"
        if self.region is not None:
            text += f"#xywh={self.region}"
        if self.time is not None:
            text += f"#t={self.time}"
        return text


def split_alias(target: str) -> str:
    """The alias part of a link or image target (text before the first '/' or '#')."""
    return re.split(r"[/#]", target, maxsplit=1)[0]


def looks_like_reference(target: str, aliases: set[str]) -> bool:
    """Whether a Markdown image/link target is meant as a region reference.

    A target is a reference when it starts with a declared source (then the rest may be a
    canvas's full id, URL and all), or carries `#xywh=` without being a URL (so a mistyped
    alias is reported instead of silently becoming a broken image).
    """
    if target.startswith(("mailto:", "/", "#", "./", "../")):
        return False
    # A declared source first: `book/https://…/canvas/p2` names a canvas by its full id.
    if split_alias(target) in aliases:
        return True
    if "://" in target.split("#", 1)[0]:
        return False
    return "#xywh=" in target or "#t=" in target


def _whole(value: float) -> int:
    return math.floor(value + 0.5)


def parse_region(text: str) -> Region:
    match = _XYWH.match(text.strip())
    if not match and _XYWH.match(text.strip().replace("-", "")):
        raise ReferenceSyntaxError(
            f"region '{text}' has a negative number",
            "negative numbers are not allowed: the canvas starts at 0,0",
        )
    if not match:
        raise ReferenceSyntaxError(
            f"region '{text}' is not x,y,w,h",
            "write #xywh=x,y,w,h in canvas pixels or #xywh=percent:x,y,w,h",
        )
    unit, *numbers = match.groups()
    x, y, w, h = (float(n) for n in numbers)
    if any(n > _LARGEST for n in (x, y, w, h)):  # also 1e400, read as infinity
        raise ReferenceSyntaxError(
            f"region '{text}' has a number too large",
            f"no canvas is wider or taller than {_LARGEST:,.0f} pixels: check the region",
        )
    if w <= 0 or h <= 0:
        raise ReferenceSyntaxError(
            f"region '{text}' has no area", "width and height must be greater than 0"
        )
    if unit != "percent" and not all(n.is_integer() for n in (x, y, w, h)):
        first = next(n for n in (x, y, w, h) if not n.is_integer())
        raise ReferenceSyntaxError(
            f"region '{text}' is not in whole pixels",
            f"canvas pixels are whole numbers: write {math.floor(first)} or "
            f"{math.ceil(first)} (a percent region may have fractions)",
        )
    if unit == "percent" and (x + w > 100.0001 or y + h > 100.0001):
        raise ReferenceSyntaxError(
            f"region '{text}' goes past 100%", "x + w and y + h must stay within 100"
        )
    return Region(x, y, w, h, "percent" if unit == "percent" else "pixel")


#: Larger than any canvas: a region beyond it is a typo, and its numbers would overflow.
_LARGEST = 1e9


_TIME = re.compile(rf"^(?:npt:)?{_NUMBER}(?:,{_NUMBER})?$")


def parse_time(text: str) -> TimeRange:
    """`start,end` or `start` (to the end) in seconds, as a media fragment's `t=` writes it."""
    match = _TIME.match(text.strip())
    if not match:
        raise ReferenceSyntaxError(
            f"time range '{text}' is not start,end",
            "write #t=start,end in seconds (e.g. #t=12,40), or #t=start to play to the end",
        )
    start = float(match.group(1))
    end = float(match.group(2)) if match.group(2) is not None else None
    if end is not None and end <= start:
        raise ReferenceSyntaxError(
            f"time range '{text}' ends before it starts", "the end must be later than the start"
        )
    return TimeRange(start, end)


def parse_reference(target: str) -> Reference:
    """Parse `alias/canvas#xywh=...`. Raises ReferenceSyntaxError with a hint."""
    text = unquote(target.strip())
    region: Region | None = None
    time: TimeRange | None = None
    if "#xywh=" in text:
        text, _, fragment = text.rpartition("#xywh=")
        region = parse_region(fragment)
    elif "#t=" in text:
        text, _, fragment = text.rpartition("#t=")
        time = parse_time(fragment)
    elif "#" in text and not text.split("#", 1)[0].count("://"):
        head, _, fragment = text.partition("#")
        raise ReferenceSyntaxError(
            f"unknown fragment '#{fragment}' in '{target}'",
            "a region is written #xywh=x,y,w,h or #xywh=percent:x,y,w,h, a time range #t=start,end",
        )
    alias, _, canvas = text.partition("/")
    if not ALIAS_PATTERN.match(alias):
        raise ReferenceSyntaxError(
            f"'{alias}' is not a source name",
            "source names use letters, digits, '-', '_' and '.', and are declared under sources:",
        )
    if canvas == "":
        canvas_ref = None
    else:
        canvas_ref = canvas
        if canvas.isdecimal() and int(canvas) < 1:
            raise ReferenceSyntaxError(
                f"canvas {canvas} does not exist", "canvases are numbered from 1"
            )
    return Reference(alias, canvas_ref, region, time)
