"""A story as a IIIF Presentation 3 manifest, and the site as a Collection of them.

The manifest's canvases keep their sources' ids, sizes and image services, and say which
source manifest they are `partOf`, so any viewer shows the original images and a content state
for a source canvas also finds it here. The steps are annotations (annotations.py): all
of them in one ordered AnnotationPage on the manifest, and each canvas's own in step order on
the canvas, which is where viewers such as Mirador and the Storiiies viewer look.
Every document written here validates against the official Presentation 3 schema.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from storiiies.iiif.model import Canvas, SourceDocument
from storiiies.iiif.presentation_json import (
    PRESENTATION_CONTEXT,
    distinct,
    each,
    export_rights,
    fragment_target,
    is_http,
    language_key,
    language_map,
    merged_statement,
    painting_body,
    provider,
    statement,
    text_map,
)
from storiiies.iiif.sanitize import text_as_html, text_only
from storiiies.model import Story
from storiiies.resolve.virtual import credited_sources
from storiiies.site.annotations import (
    CanvasKey,
    StepAnnotation,
    canvas_key,
    manifest_id,
    step_annotations,
    step_states,
    step_views,
    story_url,
)
from storiiies.site.image_urls import crop_url
from storiiies.site.manifest_media import caption_annotations, media_paintings

THUMBNAIL_WIDTH = 480  # the index page's card size, so a local crop of it exists


@dataclass(frozen=True)
class ExportedCanvas:
    id: str
    canvas: Canvas
    source: SourceDocument


def exported_canvases(story: Story, base_url: str) -> list[ExportedCanvas]:
    """The story's canvases in order of first use, each with the id it has in the manifest.

    A source canvas keeps its id when that is an http(s) URI used once; otherwise (a local
    file's canvas, a reused id) it gets one under the story's URL, as the schema requires.
    """
    url = story_url(story, base_url)
    result: dict[CanvasKey, ExportedCanvas] = {}
    taken: set[str] = set()
    for _, _, _, views, links in step_views(story):
        for view in (*views, *links):
            key = canvas_key(view.canvas)
            if key in result:
                continue
            canvas_id = view.canvas.id
            if not is_http(canvas_id) or canvas_id in taken:
                canvas_id = f"{url}canvas/{len(result) + 1}"
            taken.add(canvas_id)
            result[key] = ExportedCanvas(canvas_id, view.canvas, story.sources[view.alias])
    return list(result.values())


def canvas_ids(story: Story, base_url: str) -> dict[CanvasKey, str]:
    return {canvas_key(c.canvas): c.id for c in exported_canvases(story, base_url)}


def story_manifest(story: Story, base_url: str) -> dict[str, Any]:
    """The Presentation 3 manifest of `story`, with absolute ids under `base_url`."""
    url = story_url(story, base_url)
    canvases = exported_canvases(story, base_url)
    ids = {canvas_key(c.canvas): c.id for c in canvases}
    annotations = step_annotations(story, base_url, ids)
    sources = list({id(s): s for c in canvases for s in credited_sources(c.source)}.values())
    manifest: dict[str, Any] = {
        "@context": PRESENTATION_CONTEXT,
        "id": manifest_id(story, base_url),
        "type": "Manifest",
        "label": versions_map(story, lambda version: text_only(version.title)),
    }
    if story.meta.summary:
        manifest["summary"] = versions_map(
            story, lambda version: text_as_html(version.meta.summary or "")
        )
    metadata = _metadata(story, sources)
    if metadata:
        manifest["metadata"] = metadata
    required = merged_statement(
        (s.required_statement for s in sources if s.required_statement), story.lang
    )
    if required:
        manifest["requiredStatement"] = required
    rights = {export_rights(s.rights) for s in sources}
    if len(rights) == 1 and None not in rights:
        manifest["rights"] = rights.pop()
    providers = distinct(provider(agent) for s in sources for agent in s.providers)
    if providers:
        manifest["provider"] = providers
    thumbnail = crop_url(story.cover, story, THUMBNAIL_WIDTH, base_url)
    if is_http(thumbnail):
        manifest["thumbnail"] = [{"id": thumbnail, "type": "Image", "format": "image/jpeg"}]
    # The tour and the text version of every language (a story without translations has one).
    versions = story.versions

    def language(version: Story) -> dict[str, Any]:
        return {"language": [language_key(version.lang)]} if story.translations else {}

    manifest["homepage"] = [
        {
            "id": story_url(version, base_url),
            "type": "Text",
            "label": text_map(text_only(version.title), version.lang),
            "format": "text/html",
            **language(version),
        }
        for version in versions
    ]
    manifest["rendering"] = [
        {
            "id": f"{story_url(version, base_url)}text.html",
            "type": "Text",
            "label": {"en": ["Text version"]},
            "format": "text/html",
            **language(version),
        }
        for version in versions
    ]
    manifest["items"] = [
        _canvas(c, index, url, annotations, story.lang) for index, c in enumerate(canvases, start=1)
    ]
    manifest["annotations"] = [
        {
            "id": f"{url}annotations/steps",
            "type": "AnnotationPage",
            "label": {"en": ["Steps"]},
            "items": [a.data for a in annotations],
        }
    ]
    return manifest


def versions_map(story: Story, text: Callable[[Story], str]) -> dict[str, list[str]]:
    """A language map with the value of the story and of each of its translations."""
    result: dict[str, list[str]] = {}
    for version in story.versions:
        if value := text(version):
            result.setdefault(language_key(version.lang), []).append(value)
    return result


def _metadata(story: Story, sources: Sequence[SourceDocument]) -> list[dict[str, Any]]:
    entries = []
    if story.meta.author:
        entries.append(
            {
                "label": {"en": ["Author"]},
                "value": text_map(text_as_html(story.meta.author), story.lang),
            }
        )
    for source in sources:
        label = language_map(source.label) or {"none": [source.id]}
        if is_http(source.homepage or source.id):
            label = each(label, partial(_link, html.escape(source.homepage or source.id)))
        else:
            label = each(label, text_as_html)
        entries.append({"label": {"en": ["Source"]}, "value": label})
    return entries


def _link(href: str, text: str) -> str:
    return f'<a href="{href}">{html.escape(text, quote=False)}</a>'


def _canvas(
    exported: ExportedCanvas, index: int, url: str, annotations: list[StepAnnotation], lang: str
) -> dict[str, Any]:
    canvas, source = exported.canvas, exported.source
    page_id = f"{url}canvas/{index}/painting"
    item: dict[str, Any] = {
        "id": exported.id,
        "type": "Canvas",
        "label": each(
            language_map(canvas.label)
            or language_map(source.label)
            or {"none": [f"Canvas {index}"]},
            text_only,
        ),
    }
    # A canvas of sound alone has a duration and no size.
    if canvas.width and canvas.height:
        item["width"], item["height"] = canvas.width, canvas.height
    if canvas.duration is not None:
        item["duration"] = canvas.duration
    if is_http(canvas.thumbnail):
        item["thumbnail"] = [{"id": canvas.thumbnail, "type": "Image", "format": "image/jpeg"}]
    # A virtual canvas (storiiies/resolve/virtual.py) shows the images of its parts' sources.
    credited = credited_sources(source)
    if source.required_statement:
        item["requiredStatement"] = statement(source.required_statement)
    elif len(credited) > 1 or credited[0] is not source:
        statements = (s.required_statement for s in credited if s.required_statement)
        merged = merged_statement(statements, lang)
        if merged:
            item["requiredStatement"] = merged
    all_rights = {export_rights(s.rights) for s in credited}
    rights = export_rights(source.rights) or (all_rights.pop() if len(all_rights) == 1 else None)
    if rights:
        item["rights"] = rights
    item["items"] = [
        {
            "id": page_id,
            "type": "AnnotationPage",
            "items": [
                {
                    "id": f"{page_id}/{n}",
                    "type": "Annotation",
                    "motivation": "painting",
                    "body": painting_body(image),
                    "target": fragment_target(exported.id, image.target),
                }
                for n, image in enumerate(canvas.images, start=1)
            ]
            + media_paintings(canvas, exported.id, page_id),
        }
    ]
    own = [a.data for a in annotations if a.canvas == canvas_key(canvas)]
    own += caption_annotations(canvas, exported.id, f"{url}canvas/{index}/captions")
    if own:
        item["annotations"] = [
            {"id": f"{url}annotations/canvas-{index}", "type": "AnnotationPage", "items": own}
        ]
    manifests = [s for s in source.parts or (source,) if s.kind == "manifest" and is_http(s.id)]
    if manifests:
        item["partOf"] = [
            {
                "id": manifest.id,
                "type": "Manifest",
                "label": each(language_map(manifest.label) or {"none": [manifest.id]}, text_only),
            }
            for manifest in manifests
        ]
    # An offline bundle's local copy of a remote image names the original service it was made
    # from (storiiies.bundle); the canvas keeps that link.
    originals = [
        dict(link)
        for image in canvas.images
        if image.service is not None and image.service.level == 0 and image.service.info is not None
        for link in image.service.info.get("seeAlso") or ()
        if isinstance(link, Mapping) and link.get("type") == "Dataset" and is_http(link.get("id"))
    ]
    if originals:
        item["seeAlso"] = originals
    return item


def collection(stories: Sequence[Story], base_url: str, title: str, lang: str) -> dict[str, Any]:
    """A Presentation 3 Collection of every story of the site."""
    items = []
    for story in stories:
        item: dict[str, Any] = {
            "id": manifest_id(story, base_url),
            "type": "Manifest",
            "label": versions_map(story, lambda version: text_only(version.title)),
        }
        thumbnail = crop_url(story.cover, story, THUMBNAIL_WIDTH, base_url)
        if is_http(thumbnail):
            item["thumbnail"] = [{"id": thumbnail, "type": "Image", "format": "image/jpeg"}]
        items.append(item)
    return {
        "@context": PRESENTATION_CONTEXT,
        "id": f"{base_url}collection.json",
        "type": "Collection",
        "label": text_map(text_only(title), lang),
        "items": items,
    }


def tour_data(
    story: Story, base_url: str, keys: Mapping[str, str], original: Story | None = None
) -> dict[str, Any]:
    """What the tour page needs to share and open content states (`storiiies.iiif` in JS).

    `keys` maps source canvas ids to the tour's canvas keys. `contentStates[n]` is step n's
    content-state-encoded share string; `canvasIds` gives each tour canvas its manifest id.
    A translation's page points into its `original`'s manifest, the one of the story.
    """
    owner = original or story
    canvases = exported_canvases(owner, base_url)
    ids = {canvas_key(c.canvas): c.id for c in canvases}
    states = step_states(story, base_url, ids, manifest_id(owner, base_url))
    return {
        "manifest": manifest_id(owner, base_url),
        "canvasIds": {keys[c.canvas.id]: c.id for c in canvases if c.canvas.id in keys},
        "contentStates": [states.get(number, "") for number, *_ in step_views(story)],
    }


__all__ = ["canvas_ids", "collection", "exported_canvases", "story_manifest", "tour_data"]
