"""Presentation 2.1: canvases in the first sequence, images as annotations with a `resource`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from storiiies.iiif.canvases import Painted, add_image, first_image, is_painting
from storiiies.iiif.coerce import as_dicts, as_list


def raw_canvases(data: Mapping[str, Any]) -> list[Any]:
    # The first sequence is the default order; later ones are alternatives a story need not know.
    for sequence in as_dicts(data.get("sequences")):
        canvases = as_list(sequence.get("canvases"))
        if canvases:
            return canvases
    return []


def painted(canvas: Mapping[str, Any]) -> Painted:
    result = Painted()
    for annotation in as_dicts(canvas.get("images")):
        if not is_painting(annotation):
            continue
        image = first_image(annotation.get("resource"), result.others)
        if image is not None:
            add_image(result, image, annotation.get("on"))
    return result
