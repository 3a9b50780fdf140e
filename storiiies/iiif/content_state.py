"""IIIF Content State 1.0: sharing "this region of this canvas of this manifest" as one string.

`encode`/`decode` follow §6 of the specification exactly: the JSON text goes through
encodeURIComponent, then base64url, then loses its `=` padding. `read_content_state` accepts
every form §2.2 lists (a full Annotation, a bare target, either as JSON text, a mapping or
content-state-encoded) and reduces it to the places a story can show.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from storiiies.iiif.coerce import as_dicts, as_list, as_str, node_id, strings, type_name, xywh

#: The characters encodeURIComponent leaves alone beyond letters and digits; Python's `quote`
#: keeps `_.-~` by default, so these are what it must keep too to match JavaScript byte for byte.
_URI_COMPONENT_SAFE = "-_.!~*'()"
_BASE64URL = re.compile(r"^[A-Za-z0-9_-]+$")
#: The query parameter §3.1 names; `manifest` is what Mirador and UV links commonly carry.
QUERY_PARAMETERS = ("iiif-content", "manifest")


class ContentStateError(ValueError):
    """Text that claims to be a content state but is not one."""


def encode(text: str) -> str:
    """Content-state-encode `text` (§6.1): encodeURIComponent, base64url, padding removed."""
    uri_encoded = quote(text, safe=_URI_COMPONENT_SAFE)
    return base64.urlsafe_b64encode(uri_encoded.encode("utf-8")).decode("ascii").rstrip("=")


def decode(encoded: str) -> str:
    """The text of a content-state-encoded string. Raises ContentStateError if it is not one."""
    value = encoded.strip()
    if not _BASE64URL.match(value) or len(value) % 4 == 1:
        raise ContentStateError("not a content-state-encoded string (base64url without padding)")
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        return unquote(raw.decode("utf-8"), errors="strict")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise ContentStateError(f"not a content-state-encoded string ({exc})") from None


def encode_json(data: Mapping[str, Any]) -> str:
    """The encoded form of a content state, from its condensed JSON (as §6.3.2 condenses it)."""
    return encode(json.dumps(data, ensure_ascii=False, separators=(",", ":")))


@dataclass(frozen=True)
class Place:
    """What one content state target points at: a canvas (or a whole manifest) and a region.

    `region` is (x, y, w, h) in canvas pixels, or None for the whole canvas.
    """

    manifest: str | None
    canvas: str | None = None
    region: tuple[int, int, int, int] | None = None
    kind: str = "Canvas"


def region_target(
    canvas_id: str, region: tuple[float, float, float, float] | None, manifest_id: str
) -> dict[str, Any]:
    """A content state target (§5.1): the canvas, or a region of it, `partOf` its manifest."""
    fragment = "" if region is None else "#xywh=" + ",".join(str(round(n)) for n in region)
    part_of = [{"id": manifest_id, "type": "Manifest"}]
    if "#" in canvas_id and fragment:
        # A canvas id that already has a fragment cannot take another: select the region instead.
        return {
            "type": "SpecificResource",
            "source": {"id": canvas_id, "type": "Canvas", "partOf": part_of},
            "selector": {"type": "FragmentSelector", "value": fragment[1:]},
        }
    return {"id": canvas_id + fragment, "type": "Canvas", "partOf": part_of}


def content_state(targets: list[dict[str, Any]]) -> dict[str, Any]:
    """A full content state Annotation; inline states may omit `@context` and `id` (§6.2)."""
    return {
        "type": "Annotation",
        "motivation": ["contentState"],
        "target": targets[0] if len(targets) == 1 else targets,
    }


def parse_text(text: str) -> Any:
    """The content state in `text`: JSON (a mapping), or a plain URI (a string).

    `text` may be JSON, a content-state-encoded string, a plain URI, or a viewer link that
    carries one of those in its `iiif-content` parameter. Raises ContentStateError otherwise.
    """
    value = text.strip()
    for _ in range(3):  # a viewer link may carry an encoded state that decodes to a link …
        if value.startswith("{"):
            try:
                return json.loads(value)
            except ValueError as exc:
                raise ContentStateError(f"content state is not valid JSON ({exc})") from None
        if value.startswith(("http://", "https://")):
            carried = _carried_parameter(value)
            if carried is None:
                return value
            value = carried
            continue
        value = decode(value)
    raise ContentStateError("content state nests too deeply")


def _carried_parameter(url: str) -> str | None:
    query = parse_qs(urlsplit(url).query)
    for name in QUERY_PARAMETERS:
        if query.get(name):
            return query[name][0]
    return None


def is_content_state(data: Any) -> bool:
    """A full content state Annotation (motivation `contentState`, §2.2)."""
    if not isinstance(data, Mapping) or type_name(data) != "Annotation":
        return False
    return any(m.rsplit(":", 1)[-1] == "contentState" for m in strings(data.get("motivation")))


def read_places(data: Any) -> list[Place]:
    """Every place a content state points at, in order; [] when it points at nothing usable.

    `data` is a full Annotation, or its target alone (§2.2.3), as parsed JSON.
    """
    targets = as_list(data.get("target")) if is_content_state(data) else as_list(data)
    places = []
    for target in targets:
        place = _place(target)
        if place is not None:
            places.append(place)
    return places


def _place(target: Any) -> Place | None:
    if isinstance(target, str):
        # A bare URI: the client has to fetch it to learn what it is (§2.2.4).
        base, _, fragment = target.partition("#")
        return Place(manifest=None, canvas=base, region=xywh(fragment), kind="unknown")
    if not isinstance(target, Mapping):
        return None
    kind = type_name(target)
    if kind == "SpecificResource":
        source = target.get("source")
        place = _place(source if isinstance(source, Mapping) else {"id": source, "type": "Canvas"})
        if place is None:
            return None
        for selector in as_dicts(target.get("selector")):
            region = xywh(selector.get("value"))
            if region:
                return Place(place.manifest, place.canvas, region, place.kind)
        return place
    target_id = node_id(target)
    if target_id is None:
        return None
    if kind in ("Manifest", "Collection"):
        return Place(manifest=target_id, kind=kind)
    base, _, fragment = target_id.partition("#")
    manifests = [
        node_id(parent)
        for key in ("partOf", "within")  # `within` is how Presentation 2 says partOf
        for parent in as_list(target.get(key))
        if type_name(parent) in (None, "Manifest") and node_id(parent)
    ]
    return Place(
        manifest=manifests[0] if manifests else None,
        canvas=base,
        region=xywh(fragment),
        kind=kind or "Canvas",
    )


def looks_encoded(text: str) -> bool:
    """Whether `text` could be a content-state-encoded string (not a path or a URL)."""
    value = text.strip()
    return len(value) >= 16 and bool(_BASE64URL.match(value)) and as_str(value) is not None


__all__ = [
    "ContentStateError",
    "Place",
    "content_state",
    "decode",
    "encode",
    "encode_json",
    "is_content_state",
    "looks_encoded",
    "parse_text",
    "read_places",
    "region_target",
]
