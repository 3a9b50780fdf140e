"""The Image API 3.0 request syntax, `{region}/{size}/{rotation}/{quality}.{format}`, turned into
what to cut from an image and how big to return it. Pure: strings and sizes in, a Plan out.

Follows https://iiif.io/api/image/3.0/#4-image-requests; where the spec leaves room, it does what
the official validator checks (e.g. `!w,h` that would enlarge the region needs `^`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

QUALITIES = ("default", "color", "gray", "bitonal")
FORMATS = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}

_INT = r"\d+"
_NUMBER = r"\d+(?:\.\d+)?"
_ROTATION = re.compile(rf"(!?)({_NUMBER})")


class BadRequest(ValueError):
    """A request the Image API does not allow, or that this server will not answer: HTTP 400."""


@dataclass(frozen=True)
class Limits:
    """Server-imposed limits on the returned image, announced in info.json (None: no limit)."""

    max_width: int | None = None
    max_height: int | None = None
    max_area: int | None = None

    def fit(self, width: int, height: int, *, upscale: bool = False) -> tuple[int, int]:
        """The largest size with this aspect ratio within the limits (and, unless `upscale`,
        no larger than width × height)."""
        scale = math.inf if upscale and self != Limits() else 1.0
        if self.max_width:
            scale = min(scale, self.max_width / width)
        if self.max_height:
            scale = min(scale, self.max_height / height)
        if self.max_area:
            scale = min(scale, math.sqrt(self.max_area / (width * height)))
        return max(1, math.floor(width * scale)), max(1, math.floor(height * scale))

    def allows(self, width: int, height: int) -> bool:
        return not (
            (self.max_width and width > self.max_width)
            or (self.max_height and height > self.max_height)
            or (self.max_area and width * height > self.max_area)
        )


@dataclass(frozen=True)
class Plan:
    """Cut (x, y, width, height) in full-size pixels, scale to out_width × out_height, mirror,
    rotate clockwise by `rotation` degrees, then render in `quality` as `format`."""

    x: int
    y: int
    width: int
    height: int
    out_width: int
    out_height: int
    mirror: bool
    rotation: float
    quality: str
    format: str

    @property
    def media_type(self) -> str:
        return FORMATS[self.format]


def plan_request(
    region: str,
    size: str,
    rotation: str,
    quality_format: str,
    width: int,
    height: int,
    limits: Limits | None = None,
) -> Plan:
    """Check every parameter against an image of width × height; raise BadRequest if one fails."""
    limits = limits or Limits()
    quality, dot, image_format = quality_format.rpartition(".")
    if not dot or quality not in QUALITIES:
        raise BadRequest(f"quality must be one of {', '.join(QUALITIES)}, not {quality_format!r}")
    if image_format not in FORMATS:
        raise BadRequest(f"format must be one of {', '.join(FORMATS)}, not {image_format!r}")
    mirror, degrees = parse_rotation(rotation)
    x, y, w, h = parse_region(region, width, height)
    out_width, out_height = parse_size(size, w, h, limits)
    return Plan(x, y, w, h, out_width, out_height, mirror, degrees, quality, image_format)


def parse_region(text: str, width: int, height: int) -> tuple[int, int, int, int]:
    if text == "full":
        return 0, 0, width, height
    if text == "square":
        side = min(width, height)
        return (width - side) // 2, (height - side) // 2, side, side
    if text.startswith("pct:"):
        px, py, pw, ph = _numbers(text[4:], _NUMBER, 4, "region")
        x, y = round(px * width / 100), round(py * height / 100)
        w, h = round((px + pw) * width / 100) - x, round((py + ph) * height / 100) - y
    else:
        x, y, w, h = (int(n) for n in _numbers(text, _INT, 4, "region"))
    if w <= 0 or h <= 0:
        raise BadRequest(f"region {text!r} is empty")
    if x >= width or y >= height:
        raise BadRequest(f"region {text!r} is outside the {width}×{height} image")
    return x, y, min(w, width - x), min(h, height - y)


def parse_size(text: str, width: int, height: int, limits: Limits) -> tuple[int, int]:
    """The returned size for a region of width × height."""
    upscale = text.startswith("^")
    body = text[1:] if upscale else text
    if body == "max":
        return limits.fit(width, height, upscale=upscale)
    if body.startswith("pct:"):
        (percent,) = _numbers(body[4:], _NUMBER, 1, "size")
        if percent <= 0:
            raise BadRequest(f"size {text!r} is empty")
        out = max(1, round(width * percent / 100)), max(1, round(height * percent / 100))
    elif body.startswith("!"):
        bw, bh = (int(n) for n in _numbers(body[1:], _INT, 2, "size"))
        if bw <= 0 or bh <= 0:
            raise BadRequest(f"size {text!r} is empty")
        scale = min(bw / width, bh / height)
        out = max(1, round(width * scale)), max(1, round(height * scale))
    else:
        match = re.fullmatch(rf"({_INT})?,({_INT})?", body)
        if not match or match.groups() == (None, None):
            raise BadRequest(f"size {text!r} is not max, w,, ,h, w,h, !w,h or pct:n")
        w = int(match[1]) if match[1] else None
        h = int(match[2]) if match[2] else None
        if w == 0 or h == 0:
            raise BadRequest(f"size {text!r} is empty")
        if w is None:
            w = max(1, round(width * h / height))  # type: ignore[operator]
        if h is None:
            h = max(1, round(height * w / width))
        out = w, h
    if not upscale and (out[0] > width or out[1] > height):
        raise BadRequest(f"size {text!r} is larger than the {width}×{height} region: write ^{text}")
    if not limits.allows(*out):
        raise BadRequest(f"size {text!r} is larger than this server returns")
    return out


def parse_rotation(text: str) -> tuple[bool, float]:
    match = _ROTATION.fullmatch(text)
    if not match or float(match[2]) > 360:
        raise BadRequest(f"rotation must be 0–360 degrees, optionally after !, not {text!r}")
    return bool(match[1]), float(match[2]) % 360


def _numbers(text: str, pattern: str, count: int, what: str) -> list[float]:
    parts = text.split(",")
    if len(parts) != count or not all(re.fullmatch(pattern, part) for part in parts):
        raise BadRequest(f"{what} {text!r} is not valid")
    return [float(part) for part in parts]
