"""The commenting annotations of a Presentation 2.1 or 3.0 manifest, in reading order.

P3 keeps them in `annotations` pages on the manifest and on each canvas (embedded or
referenced); P2 in `otherContent` annotation lists. Whatever the shape, each becomes a
`Comment`: which canvas, which region, and the body as HTML in each language given.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from storiiies.errors import SourceError
from storiiies.iiif.coerce import (
    as_dicts,
    as_list,
    as_number,
    as_str,
    node_id,
    strings,
    type_name,
    xywh,
)
from storiiies.iiif.language import to_language_map
from storiiies.iiif.model import LanguageMap
from storiiies.iiif.presentation import presentation_version
from storiiies.iiif.presentation2 import raw_canvases as p2_canvases
from storiiies.iiif.presentation3 import raw_canvases as p3_canvases

#: Motivations that make an annotation a step of a story.
STEP_MOTIVATIONS = {"commenting", "describing"}
Fetch = Callable[[str], Any]


@dataclass(frozen=True)
class Comment:
    id: str | None
    motivation: str
    canvas: str
    #: (x, y, w, h) in canvas pixels, a point (x, y) for a PointSelector, or None: the canvas
    region: tuple[float, float, float, float] | None
    point: tuple[float, float] | None
    #: body HTML by language ("none" when the body names none), in the order given
    bodies: tuple[tuple[str, str], ...]
    label: str | None
    #: the label in every language it is given in (a translated story's alt texts)
    labels: LanguageMap = field(default_factory=dict)
    #: the URLs of its Sound bodies (a narrated step), in the order given
    sounds: tuple[str, ...] = ()


def read_comments(data: Mapping[str, Any], fetch: Fetch) -> tuple[list[Comment], list[str]]:
    """Every commenting or describing annotation, and a warning per page that failed to load."""
    warnings: list[str] = []
    raw = list(_manifest_annotations(data, fetch, warnings))
    seen_ids = {node_id(a) for a in raw}
    for annotation in _canvas_annotations(data, fetch, warnings):
        if node_id(annotation) not in seen_ids or node_id(annotation) is None:
            raw.append(annotation)
    comments, seen = [], set()
    for annotation in raw:
        key = json.dumps(annotation, sort_keys=True, default=str)
        if key in seen:
            continue
        seen.add(key)
        comment = _comment(annotation)
        if comment is not None:
            comments.append(comment)
    return comments, warnings


def _pages(
    value: Any, fetch: Fetch, warnings: list[str], items_key: str
) -> Iterator[Mapping[str, Any]]:
    for page in as_dicts(value):
        if items_key not in page and node_id(page):
            try:
                page = fetch(node_id(page))  # type: ignore[arg-type]
            except SourceError as error:
                warnings.append(
                    f"annotations at {node_id(page)} could not be read: {error.message}"
                )
                continue
        yield from as_dicts(page.get(items_key) if isinstance(page, Mapping) else None)


def _manifest_annotations(
    data: Mapping[str, Any], fetch: Fetch, warnings: list[str]
) -> Iterator[Mapping[str, Any]]:
    yield from _pages(data.get("annotations"), fetch, warnings, "items")


def _canvas_annotations(
    data: Mapping[str, Any], fetch: Fetch, warnings: list[str]
) -> Iterator[Mapping[str, Any]]:
    if presentation_version(data) == 2:
        for canvas in as_dicts(p2_canvases(data)):
            yield from _pages(canvas.get("otherContent"), fetch, warnings, "resources")
        return
    for canvas in as_dicts(p3_canvases(data)):
        yield from _pages(canvas.get("annotations"), fetch, warnings, "items")


def _comment(annotation: Mapping[str, Any]) -> Comment | None:
    motivations = [m.rsplit(":", 1)[-1] for m in strings(annotation.get("motivation"))]
    motivation = next((m for m in motivations if m in STEP_MOTIVATIONS), None)
    if motivation is None and motivations:
        return None  # painting, tagging, highlighting … are not steps
    raw_bodies = annotation.get("body", annotation.get("resource"))
    bodies = tuple(_bodies(raw_bodies, 0))
    target = _target(annotation.get("target", annotation.get("on")))
    if not bodies or target is None:
        return None
    canvas, region, point = target
    label = as_str(annotation.get("label")) or _first_text(annotation.get("label"))
    labels = to_language_map(annotation.get("label"))
    return Comment(
        node_id(annotation),
        motivation or "commenting",
        canvas,
        region,
        point,
        bodies,
        label,
        labels,
        tuple(_sounds(raw_bodies)),
    )


def _sounds(value: Any) -> Iterator[str]:
    for body in as_dicts(value):
        url = node_id(body)
        if type_name(body) in {"Sound", "Audio"} and url:
            yield url


def _first_text(value: Any) -> str | None:
    if isinstance(value, Mapping):
        for values in value.values():
            for text in as_list(values):
                if as_str(text):
                    return as_str(text)
    return None


def _bodies(value: Any, depth: int) -> Iterator[tuple[str, str]]:
    if depth > 3:
        return
    for body in as_dicts(value):
        if type_name(body) == "Choice":
            yield from _bodies(
                body.get("items") or [*as_list(body.get("default")), *as_list(body.get("item"))],
                depth + 1,
            )
            continue
        text = body.get("value", body.get("chars"))
        if not isinstance(text, str) or not text.strip():
            continue
        purpose = strings(body.get("purpose"))
        if purpose and not {"commenting", "describing"} & {p.rsplit(":", 1)[-1] for p in purpose}:
            continue  # tags and classifications are not the step's text
        media = (as_str(body.get("format")) or "").lower()
        # Declared text/plain is text, even with a `<` in it; with no format at all, many
        # publishers give HTML, recognised by its tags (it is sanitized where it is shown).
        if media.startswith("text/plain") or ("html" not in media and "<" not in text):
            text = "".join(
                f"<p>{html.escape(part.strip(), quote=False)}</p>"
                for part in text.split("\n\n")
                if part.strip()
            )
        language = next(iter(strings(body.get("language"))), "none")
        yield language, text


def _target(
    value: Any,
) -> tuple[str, tuple[float, float, float, float] | None, tuple[float, float] | None] | None:
    target = next(iter(as_list(value)), None)
    if isinstance(target, str):
        base, _, fragment = target.partition("#")
        return base, _region(fragment), None
    if not isinstance(target, Mapping):
        return None
    source = target.get("source", target.get("full"))
    canvas = node_id(source) if source is not None else node_id(target)
    if canvas is None:
        return None
    base, _, fragment = canvas.partition("#")
    region, point = _region(fragment), None
    selectors = as_dicts(target.get("selector"))
    for selector in selectors + [s for c in selectors for s in as_dicts(c.get("default"))]:
        kind = type_name(selector)
        if kind == "PointSelector":
            x, y = as_number(selector.get("x")), as_number(selector.get("y"))
            if x is not None and y is not None:
                point = (x, y)
        elif region is None:
            region = _region(selector.get("value"))
    return base, region, point


def _region(fragment: Any) -> tuple[float, float, float, float] | None:
    found = xywh(fragment)
    return tuple(float(n) for n in found) if found else None  # type: ignore[return-value]
