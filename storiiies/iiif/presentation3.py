"""Presentation 3.0: canvases in `items`, images as painting annotations in annotation pages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from storiiies.iiif import presentation2
from storiiies.iiif.av import media_bodies
from storiiies.iiif.canvases import Painted, add_image, first_image, is_painting
from storiiies.iiif.coerce import as_dicts, as_list


def raw_canvases(data: Mapping[str, Any]) -> list[Any]:
    if "items" in data:
        return as_list(data.get("items"))
    # Drafts of 3.0 (still served by some AV projects) kept P2's sequences of canvases.
    return presentation2.raw_canvases(data)


def painted(canvas: Mapping[str, Any]) -> Painted:
    result = Painted()
    # Drafts of 3.0 called a canvas's annotation pages `content`.
    pages = canvas.get("items") if "items" in canvas else canvas.get("content")
    for page in as_dicts(pages):
        for annotation in as_dicts(page.get("items")):
            if not is_painting(annotation):
                continue
            image = first_image(annotation.get("body"), result.others)
            if image is not None:
                add_image(result, image, annotation.get("target"))
            else:
                result.media.extend(media_bodies(annotation.get("body"), result.streams))
    return result
