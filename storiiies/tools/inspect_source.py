"""`storiiies inspect SOURCE`: what a source holds, so an author can write its references.

SOURCE is anything `sources:` accepts. It is read exactly as a build reads it (same fetch,
same readers, same choice of manifest and canvas), so what this prints is what a story gets.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

from storiiies.config import CONFIG_NAME, DEFAULT_BASE_URL
from storiiies.errors import SourceError
from storiiies.iiif.coerce import type_name
from storiiies.iiif.descriptive import text_map
from storiiies.iiif.fetch import Fetcher
from storiiies.iiif.language import pick
from storiiies.iiif.model import Canvas, ImageResource
from storiiies.iiif.presentation import (
    collection_members,
    no_manifests_error,
    presentation_version,
)
from storiiies.iiif.sanitize import to_text
from storiiies.resolve.rights import rights_name
from storiiies.resolve.sources import ResolvedSource, SourceKey, resolve_sources, source_key
from storiiies.story.frontmatter import SourceSpec

KIND_NAMES = {
    "manifest": "Manifest",
    "image-service": "Image service",
    "image": "Canvas",
    "local-image": "Local image",
}


def inspect_source(
    text: str,
    *,
    manifest: str | None = None,
    canvas: str | None = None,
    lang: str = "en",
    offline: bool = False,
    cwd: Path | None = None,
) -> str:
    """The report on `text`. Raises SourceError (with a hint) when it cannot be read."""
    root = (cwd or Path.cwd()).resolve()
    spec = SourceSpec(url=text, manifest=manifest, canvas=canvas)
    key = source_key(spec, root, root)
    with tempfile.TemporaryDirectory() as scratch:
        # Inside a project, share its cache (so --offline works); elsewhere leave nothing behind.
        cache = root / ".storiiies-cache" if (root / CONFIG_NAME).is_file() else Path(scratch)
        with Fetcher(cache, offline=offline) as fetcher:
            listing = _collection_listing(key, fetcher, lang)
            if listing is not None:
                return listing
            result = resolve_sources([key], fetcher, root=root, base_url=DEFAULT_BASE_URL)[key]
    if isinstance(result, SourceError):
        raise result
    return "\n".join(_document_lines(text, result, lang)) + "\n"


def _collection_listing(key: SourceKey, fetcher: Fetcher, lang: str) -> str | None:
    if (
        key.manifest is not None
        or key.error
        or not key.location.startswith(("http://", "https://"))
    ):
        return None
    try:
        data = fetcher.get_json(key.location).data
    except SourceError:
        return None  # the full resolution below reports it, with the same words as a build
    if type_name(data) != "Collection":
        return None
    members = collection_members(data)
    if not members:
        raise no_manifests_error(data)
    version = presentation_version(data) or 3
    lines = [
        f"Collection (IIIF Presentation {version}):"
        f" {pick(text_map(data.get('label')), lang) or '(no label)'}",
        f"  {key.location}",
        f"{_count(len(members), 'manifest')}:",
    ]
    width = len(str(len(members)))
    lines.extend(
        f"  {n:>{width}}  {label or '(no label)'}  {member}"
        for n, (member, label) in enumerate(members, 1)
    )
    lines.append("Choose one with `manifest: N` (or its id) under the source, or look inside it:")
    lines.append(f"  storiiies inspect {key.location} --manifest 1")
    return "\n".join(lines) + "\n"


def _document_lines(text: str, resolved: ResolvedSource, lang: str) -> Iterator[str]:
    document = resolved.document
    kind = KIND_NAMES.get(document.kind, document.kind)
    if document.presentation_version:
        kind += f" (IIIF Presentation {document.presentation_version})"
    yield f"{kind}: {pick(document.label, lang) or '(no label)'}"
    yield f"  {document.id}"
    if document.rights:
        named = rights_name(document.rights)
        yield f"  rights: {document.rights}" + (f" ({named})" if named else "")
    if document.required_statement:
        label = pick(document.required_statement.label, lang) or "Attribution"
        yield f"  {label.lower()}: {to_text(pick(document.required_statement.value, lang))}"
    for agent in document.providers:
        yield f"  provider: {pick(agent.label, lang)}" + (
            f" ({agent.homepage})" if agent.homepage else ""
        )
    for warning in document.warnings:
        yield f"  warning: {warning}"
    canvases = document.canvases
    yield f"{_count(len(canvases), 'canvas')}:"
    width = len(str(max(c.index for c in canvases)))
    for canvas in canvases:
        yield f"  {canvas.index:>{width}}  {_canvas_line(canvas, lang)}"
    if resolved.region is not None:
        region = ",".join(str(round(n)) for n in resolved.region)
        yield (
            f"Region given by the source: xywh={region}"
            " (shown by a reference without its own region)"
        )
    first = canvases[0]
    alias = "source"
    reference = alias if len(canvases) == 1 else f"{alias}/{first.index}"
    yield "Use it in a story:"
    yield "  sources:"
    yield f"    {alias}: {text}"
    if first.duration is not None:
        end = f"{min(first.duration, 10):g}"
        yield f"  ![what the segment holds]({reference}#t=0,{end})"
        return
    width, height = min(first.width, 1000), min(first.height, 1000)
    yield f"  ![what the region shows]({reference}#xywh=0,0,{width},{height})"


def _canvas_line(canvas: Canvas, lang: str) -> str:
    label = pick(canvas.label, lang) or "(no label)"
    if canvas.duration is not None:
        media = "; ".join(f"{m.type} {m.format or ''}: {m.url}" for m in canvas.media)
        captions = "".join(f"\n      captions: {c.url}" for c in canvas.captions)
        size = f"{canvas.width}×{canvas.height}, " if canvas.width else ""
        return f"{label}  {size}{canvas.duration:g} s  {canvas.id}\n      {media}{captions}"
    images = "; ".join(_image_text(image) for image in canvas.images)
    return f"{label}  {canvas.width}×{canvas.height}  {canvas.id}\n      {images}"


def _image_text(image: ImageResource) -> str:
    service = image.service
    if service is None:
        return f"image without a service (no deep zoom): {image.url}"
    size = f" {service.width}×{service.height}" if service.width and service.height else ""
    return f"Image API {service.version} level {service.level}{size}: {service.id}"


def _count(n: int, noun: str) -> str:
    plural = noun + ("es" if noun.endswith("s") else "s")
    return f"{n} {noun if n == 1 else plural}"


__all__ = ["inspect_source"]
