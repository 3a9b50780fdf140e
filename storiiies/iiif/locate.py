"""What a pasted source string points at, before anything is fetched.

Authors paste whatever the IIIF world gave them: a manifest URL, a viewer link carrying
`?iiif-content=` or `?manifest=`, a content state (JSON or encoded), an image URL of an Image
API service. `locate` turns each into the one URL to fetch, plus the canvas and region the
string singled out. Pure string work: the fetching is in remote.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qs, urlsplit

from storiiies.iiif import content_state
from storiiies.story.references import Region

#: `{base}/{region}/{size}/{rotation}/{quality}.{format}` of the Image API (2 and 3).
_IMAGE_URL = re.compile(
    r"^(?P<base>https?://.+?)/(?P<region>full|square|\d+,\d+,\d+,\d+|pct:(?:\d+(?:\.\d+)?,){3}\d+(?:\.\d+)?)"
    r"/(?P<size>[^/]+)/(?P<rotation>!?[\d.]+)/(?P<quality>[a-z]+)\.(?P<format>jpg|jpeg|png|gif|webp|tif|jp2)$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Located:
    """The URL (or local path) to read, the canvas it singled out, and a region on it.

    `region` is in canvas pixels, or in percent (an Image API `pct:` region). `error` says why
    the string looked like a content state but could not be read as one.
    """

    location: str
    canvas: str | None = None
    region: Region | None = None
    error: str | None = None


def is_remote(text: str) -> bool:
    return text.startswith(("http://", "https://"))


def locate(text: str) -> Located | None:
    """Where `text` leads, or None when it is an ordinary URL or path."""
    text = text.strip()
    if text.startswith("{") or _carries_state(text):
        return _from_state(text)
    if is_remote(text):
        return _from_image_url(text)
    if content_state.looks_encoded(text):
        located = _from_state(text)
        return None if located.error else located
    return None


def _carries_state(text: str) -> bool:
    if not is_remote(text):
        return False
    query = parse_qs(urlsplit(text).query)
    return any(query.get(name) for name in content_state.QUERY_PARAMETERS)


def _from_state(text: str) -> Located:
    try:
        data = content_state.parse_text(text)
    except content_state.ContentStateError as error:
        return Located(text, error=str(error))
    if isinstance(data, str):
        return Located(data)  # a URL: of a manifest, a canvas or a content state, to be fetched
    places = content_state.read_places(data)
    if not places:
        return Located(text, error="the content state points at nothing storiiies can show")
    place = places[0]
    region = Region(*place.region) if place.region else None
    if place.manifest is None:
        return Located(place.canvas or text, region=region)  # a canvas, found through partOf
    return Located(place.manifest, canvas=place.canvas, region=region)


def _from_image_url(url: str) -> Located | None:
    match = _IMAGE_URL.match(url.split("?", 1)[0])
    if match is None:
        return None
    region = match.group("region")
    parsed = None
    if region.startswith("pct:") or region[0].isdigit():
        unit: Literal["pixel", "percent"] = "percent" if region.startswith("pct:") else "pixel"
        # The pattern allows exactly four plain numbers; an empty region means the whole image.
        x, y, w, h = (float(n) for n in region.removeprefix("pct:").split(","))
        parsed = Region(x, y, w, h, unit) if w > 0 and h > 0 else None
    return Located(match.group("base") + "/info.json", region=parsed)


def looks_like_canvas(url: str) -> bool:
    """Canvas URIs are ids that often answer nothing; their paths usually say `canvas`."""
    return "canvas" in urlsplit(url).path.lower()
