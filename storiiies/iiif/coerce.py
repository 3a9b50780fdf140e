"""Tolerant readers for values in untrusted IIIF JSON.

Real manifests put a dict where the spec says list, a string where it says number, and `@id` where
it says `id`. Each helper here answers one question ("what is this node's id?") for every shape
seen in the wild and returns None instead of raising, so the readers above stay declarative.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

#: Larger than any real image (a 2^31 pixel side would be a 4 GiB single row); beyond it is junk.
MAX_PIXELS = 2**31 - 1

_XYWH = re.compile(
    r"xywh=(?:pixel:)?\s*(-?[\d.]+)\s*,\s*(-?[\d.]+)\s*,\s*([\d.]+)\s*,\s*([\d.]+)", re.IGNORECASE
)


def as_list(value: Any) -> list[Any]:
    """A list for a list, [] for None, [value] for a single value (a dict where a list belongs)."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def as_dicts(value: Any) -> list[Mapping[str, Any]]:
    return [item for item in as_list(value) if isinstance(item, Mapping)]


def as_str(value: Any) -> str | None:
    """A non-empty, stripped string, or None."""
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def strings(value: Any) -> list[str]:
    """The strings in a value that may be one string or a list of mixed things."""
    return [s for s in (as_str(item) for item in as_list(value)) if s is not None]


def as_number(value: Any) -> float | None:
    """A finite number from an int, float or numeric string (P2 manifests write "1000")."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        # float() of a huge int raises OverflowError; such a number is junk anyway
        return float(value) if abs(value) <= 2**53 else None
    if isinstance(value, float):
        number = value
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def positive_int(value: Any) -> int | None:
    """A pixel size: a positive integer (rounded), or None for zero, negatives and junk."""
    number = as_number(value)
    if number is None:
        return None
    rounded = round(number)
    return rounded if 0 < rounded <= MAX_PIXELS else None


def node_id(node: Any) -> str | None:
    """The id of a node given as a string or as an object with `id` (P3) or `@id` (P2)."""
    if isinstance(node, str):
        return as_str(node)
    if isinstance(node, Mapping):
        return as_str(node.get("id")) or as_str(node.get("@id"))
    return None


def first_id(value: Any) -> str | None:
    """The first id in a property that may be a string, an object, or a list of either."""
    for item in as_list(value):
        found = node_id(item)
        if found:
            return found
    return None


def type_name(node: Any) -> str | None:
    """The type without its JSON-LD prefix: "sc:Manifest" and "Manifest" both give "Manifest"."""
    if not isinstance(node, Mapping):
        return None
    for key in ("type", "@type"):
        for name in strings(node.get(key)):
            return name.rsplit(":", 1)[-1]
    return None


def xywh(fragment: Any) -> tuple[int, int, int, int] | None:
    """The region of a `#xywh=x,y,w,h` media fragment, in pixels; None if absent or empty.

    Percent regions need the canvas size and are rare in painting targets, so they count as the
    whole canvas rather than a guess.
    """
    if not isinstance(fragment, str) or "percent:" in fragment.lower():
        return None
    match = _XYWH.search(fragment)
    if match is None:
        return None
    numbers = [as_number(part) for part in match.groups()]
    if any(number is None for number in numbers):
        return None
    x, y, w, h = (round(number) for number in numbers if number is not None)
    if w <= 0 or h <= 0 or max(abs(x), abs(y), w, h) > MAX_PIXELS:
        return None
    return (x, y, w, h)
