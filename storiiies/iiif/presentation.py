"""Reading what a story points at: a Presentation 2.1 or 3.0 manifest, or an Image API info.json.

Everything else (collections, annotation pages, HTML, junk) is rejected with a one-line `NotIIIF`
naming what it is, so the author learns which URL to use instead. Nothing else is ever raised.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from typing import Any, Literal

from storiiies.errors import NotIIIF
from storiiies.iiif import presentation2, presentation3
from storiiies.iiif.canvases import Skips, assemble_canvas
from storiiies.iiif.coerce import as_dicts, node_id, strings, type_name
from storiiies.iiif.descriptive import (
    read_homepage,
    read_metadata,
    read_providers,
    read_required_statement,
    read_rights,
    read_summary,
    text_map,
)
from storiiies.iiif.image import image_api_version, read_image_service
from storiiies.iiif.language import pick
from storiiies.iiif.model import Canvas, ImageResource, SourceDocument

_PRESENTATION_CONTEXT = re.compile(r"iiif\.io/api/presentation/([23])\b")
#: Types an info.json may declare: none, Image API 2's "iiif:Image", or Image API 3's.
_INFO_TYPES = (None, "Image", "ImageService1", "ImageService2", "ImageService3")
#: The recoverable errors a reader bug could raise on hostile input; the last safety net.
_READ_ERRORS = (TypeError, ValueError, KeyError, AttributeError, IndexError, RecursionError)


def read_source_json(data: Any, url: str) -> SourceDocument:
    """Read fetched JSON as an image service or a manifest, or raise NotIIIF saying what it is."""
    try:
        if isinstance(data, Mapping) and _looks_like_info(data):
            return _image_service_document(data, url)
        return _read_manifest(data, url)
    except _READ_ERRORS as exc:
        raise NotIIIF(
            f"unreadable IIIF document: {_one_line(str(exc) or type(exc).__name__)}"
        ) from exc


def read_presentation(data: Any, url: str) -> SourceDocument:
    """Read a Presentation 2.1 or 3.0 manifest; anything else raises NotIIIF."""
    try:
        return _read_manifest(data, url)
    except _READ_ERRORS as exc:
        raise NotIIIF(f"unreadable manifest: {_one_line(str(exc) or type(exc).__name__)}") from exc


def presentation_version(data: Mapping[str, Any]) -> Literal[2, 3] | None:
    """The Presentation API version by @context, else by the id style (`@id` is 2, `id` is 3)."""
    for context in strings(data.get("@context")):
        match = _PRESENTATION_CONTEXT.search(context)
        if match:
            return 2 if match.group(1) == "2" else 3
    if any(name.startswith("sc:") for name in strings(data.get("@type"))):
        return 2
    if "type" in data or "items" in data:
        return 3
    if "@type" in data or "@id" in data or "sequences" in data:
        return 2
    return None


def collection_members(data: Any) -> list[tuple[str, str]]:
    """(id, label) of the manifests a collection lists directly, in order."""
    if not isinstance(data, Mapping):
        return []
    members = []
    for key in ("manifests", "members", "items"):
        for member in as_dicts(data.get(key)):
            member_id = node_id(member)
            kind = type_name(member)
            # Presentation 2's `manifests` holds only manifests: many leave out their @type.
            if kind is None and key == "manifests":
                kind = "Manifest"
            if kind == "Manifest" and member_id:
                members.append((member_id, pick(text_map(member.get("label")), None)))
    return members


def _looks_like_info(data: Mapping[str, Any]) -> bool:
    return type_name(data) in _INFO_TYPES and image_api_version(data) is not None


def _image_service_document(data: Mapping[str, Any], url: str) -> SourceDocument:
    service = read_image_service(data, url)
    width, height = service.width or 0, service.height or 0  # read_image_service ensured both
    image = ImageResource(url=None, width=width, height=height, service=service)
    canvas = Canvas(id=service.id, index=1, width=width, height=height, images=(image,))
    return SourceDocument(
        id=url,
        kind="image-service",
        canvases=(canvas,),
        required_statement=read_required_statement(data),
        rights=read_rights(data),
    )


def _read_manifest(data: Any, url: str) -> SourceDocument:
    if not isinstance(data, Mapping):
        raise NotIIIF(f"this is a JSON {_json_kind(data)}, not a IIIF manifest or image service")
    if _looks_like_info(data):
        raise NotIIIF("this is an Image API info.json, not a manifest")
    kind = type_name(data)
    version = presentation_version(data)
    if kind == "Collection":
        raise _collection_error(data)
    if kind is None and version is not None and ("sequences" in data or "items" in data):
        kind = "Manifest"  # some hand-written manifests omit the type; their shape tells
    if kind is None:
        raise NotIIIF("JSON has no @context or type of a IIIF Presentation manifest")
    if kind != "Manifest":
        raise NotIIIF(f"this is a IIIF {_one_line(kind)}, not a manifest or image service")
    reader = presentation3 if version == 3 else presentation2
    skips = Skips()
    canvases: list[Canvas] = []
    legacy = 0
    streams: dict[int, str] = {}
    raw_canvases = reader.raw_canvases(data)
    for index, raw in enumerate(raw_canvases, start=1):
        # Position makes a canvas, not its type: archive.org types its canvases "sc:Sequence".
        if not isinstance(raw, Mapping):
            skips.add(index, "no canvas object")
            continue
        painted = reader.painted(raw)
        legacy += painted.legacy_services
        if (only_streamed := painted.only_streamed()) is not None:
            streams[index] = only_streamed
        canvas = assemble_canvas(raw, index, painted, skips, url)
        if canvas is not None:
            canvases.append(canvas)
    warnings = skips.messages() + _legacy_warning(legacy) + _duplicate_warning(canvases)
    if not canvases:
        hint = "; ".join(warnings[:2]) or "it lists no canvases"
        raise NotIIIF("manifest has no canvases with an image", hint=hint)
    return SourceDocument(
        id=url,
        kind="manifest",
        canvases=tuple(canvases),
        label=text_map(data.get("label")),
        summary=read_summary(data),
        required_statement=read_required_statement(data),
        rights=read_rights(data),
        providers=read_providers(data),
        homepage=read_homepage(data),
        metadata=read_metadata(data),
        presentation_version=3 if reader is presentation3 else 2,
        warnings=tuple(warnings),
        listed=len(raw_canvases),
        streams=tuple(streams.items()),
    )


def sub_collections(data: Any) -> list[str]:
    """The ids of the collections a collection lists directly, in order."""
    if not isinstance(data, Mapping):
        return []
    return [
        node_id(member) or "?"
        for key in ("collections", "members", "items")
        for member in as_dicts(data.get(key))
        # Presentation 2's `collections`, like its `manifests`, often leaves out @type.
        if (type_name(member) or ("Collection" if key == "collections" else None)) == "Collection"
    ]


def no_manifests_error(data: Any) -> NotIIIF:
    """For `manifest:` and `inspect` on a collection that lists no manifest itself: the same
    words and the same way on as `check` gives for the collection alone."""
    return NotIIIF("this IIIF Collection lists no manifests", hint=_no_manifests_hint(data))


def _no_manifests_hint(data: Any) -> str:
    collections = sub_collections(data)
    if collections:
        return f"pick a manifest from one of its collections: {', '.join(collections[:3])}"
    return "use the URL of a manifest instead"


def _collection_error(data: Mapping[str, Any]) -> NotIIIF:
    manifests = collection_members(data)
    collections = sub_collections(data)
    parts = [_count(len(manifests), "manifest")] if manifests else []
    if collections:
        parts.append(_count(len(collections), "collection"))
    contents = f"of {' and '.join(parts)}" if parts else "with no manifests"
    message = f"this is a IIIF Collection {contents}, not a manifest"
    if manifests:
        listed = ", ".join(member_id for member_id, _ in manifests[:3])
        more = " …" if len(manifests) > 3 else ""
        hint = (
            f"pick one of its manifests: {listed}{more} (or keep the collection and add "
            f"`manifest:` with a number from 1 to {len(manifests)} or a manifest id)"
        )
    else:
        hint = _no_manifests_hint(data)
    return NotIIIF(message, hint=hint)


def _legacy_warning(count: int) -> list[str]:
    if not count:
        return []
    subject = "1 image offers" if count == 1 else f"{count} images offer"
    return [
        f"{subject} only an Image API 1 service, which storiiies does not read; "
        "the static image is shown instead, without deep zoom"
    ]


def _duplicate_warning(canvases: list[Canvas]) -> list[str]:
    repeated = [canvas_id for canvas_id, n in Counter(c.id for c in canvases).items() if n > 1]
    if not repeated:
        return []
    return [
        f"canvas ids are reused ({len(repeated)} of them, e.g. {repeated[0]}); "
        "a reference by id finds the first such canvas, so refer to these by number"
    ]


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _json_kind(data: Any) -> str:
    if isinstance(data, list):
        return "list"
    if isinstance(data, str):
        return "string"
    if data is None:
        return "null"
    if isinstance(data, bool):
        return "boolean"
    return "number" if isinstance(data, (int, float)) else type(data).__name__


def _one_line(text: str, limit: int = 80) -> str:
    """Remote text fit for a one-line message: whitespace collapsed, length bounded."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
