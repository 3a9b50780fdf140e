"""A story as a IIIF Presentation 3 manifest, and the site as a Collection of them.

The manifest's canvases keep their sources' ids, sizes and image services, and say which
source manifest they are `partOf`, so any viewer shows the original images and a content state
for a source canvas also finds it here. The steps are annotations (story_annotations.py): all
of them in one ordered AnnotationPage on the manifest, and each canvas's own in step order on
the canvas, which is where viewers such as Mirador and the Storiiies viewer look.
Every document written here validates against the official Presentation 3 schema.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from storiiies.images import crop_url
from storiiies.model import Story

from .model import Canvas, SourceDocument
from .p3json import (
    PRESENTATION_CONTEXT,
    distinct,
    export_rights,
    fragment_target,
    is_http,
    language_map,
    merged_statement,
    painting_body,
    provider,
    statement,
    text_map,
)
from .story_annotations import (
    CanvasKey,
    StepAnnotation,
    canvas_key,
    manifest_id,
    step_annotations,
    step_states,
    step_views,
    story_url,
)

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
    sources = list({id(c.source): c.source for c in canvases}.values())
    manifest: dict[str, Any] = {
        "@context": PRESENTATION_CONTEXT,
        "id": manifest_id(story, base_url),
        "type": "Manifest",
        "label": text_map(story.title, story.lang),
    }
    if story.meta.summary:
        manifest["summary"] = text_map(story.meta.summary, story.lang)
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
    manifest["homepage"] = [
        {
            "id": url,
            "type": "Text",
            "label": text_map(story.title, story.lang),
            "format": "text/html",
        }
    ]
    manifest["rendering"] = [
        {
            "id": f"{url}text.html",
            "type": "Text",
            "label": {"en": ["Text version"]},
            "format": "text/html",
        }
    ]
    manifest["items"] = [
        _canvas(c, index, url, annotations) for index, c in enumerate(canvases, start=1)
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


def _metadata(story: Story, sources: Sequence[SourceDocument]) -> list[dict[str, Any]]:
    entries = []
    if story.meta.author:
        entries.append(
            {"label": {"en": ["Author"]}, "value": text_map(story.meta.author, story.lang)}
        )
    for source in sources:
        label = language_map(source.label) or {"none": [source.id]}
        if is_http(source.homepage or source.id):
            link = source.homepage or source.id
            label = {
                lang: [f'<a href="{link}">{v}</a>' for v in values]
                for lang, values in label.items()
            }
        entries.append({"label": {"en": ["Source"]}, "value": label})
    return entries


def _canvas(
    exported: ExportedCanvas, index: int, url: str, annotations: list[StepAnnotation]
) -> dict[str, Any]:
    canvas, source = exported.canvas, exported.source
    page_id = f"{url}canvas/{index}/painting"
    item: dict[str, Any] = {
        "id": exported.id,
        "type": "Canvas",
        "label": language_map(canvas.label)
        or language_map(source.label)
        or {"none": [f"Canvas {index}"]},
        "width": canvas.width,
        "height": canvas.height,
    }
    if is_http(canvas.thumbnail):
        item["thumbnail"] = [{"id": canvas.thumbnail, "type": "Image", "format": "image/jpeg"}]
    if source.required_statement:
        item["requiredStatement"] = statement(source.required_statement)
    rights = export_rights(source.rights)
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
            ],
        }
    ]
    own = [a.data for a in annotations if a.canvas == canvas_key(canvas)]
    if own:
        item["annotations"] = [
            {"id": f"{url}annotations/canvas-{index}", "type": "AnnotationPage", "items": own}
        ]
    if source.kind == "manifest" and is_http(source.id):
        item["partOf"] = [
            {
                "id": source.id,
                "type": "Manifest",
                "label": language_map(source.label) or {"none": [source.id]},
            }
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
            "label": text_map(story.title, story.lang),
        }
        thumbnail = crop_url(story.cover, story, THUMBNAIL_WIDTH, base_url)
        if is_http(thumbnail):
            item["thumbnail"] = [{"id": thumbnail, "type": "Image", "format": "image/jpeg"}]
        items.append(item)
    return {
        "@context": PRESENTATION_CONTEXT,
        "id": f"{base_url}collection.json",
        "type": "Collection",
        "label": text_map(title, lang),
        "items": items,
    }


def tour_data(story: Story, base_url: str, keys: Mapping[str, str]) -> dict[str, Any]:
    """What the tour page needs to share and open content states (`storiiies.iiif` in JS).

    `keys` maps source canvas ids to the tour's canvas keys. `contentStates[n]` is step n's
    content-state-encoded share string; `canvasIds` gives each tour canvas its manifest id.
    """
    canvases = exported_canvases(story, base_url)
    ids = {canvas_key(c.canvas): c.id for c in canvases}
    states = step_states(story, base_url, ids)
    return {
        "manifest": manifest_id(story, base_url),
        "canvasIds": {keys[c.canvas.id]: c.id for c in canvases if c.canvas.id in keys},
        "contentStates": [states.get(number, "") for number, *_ in step_views(story)],
    }


__all__ = ["canvas_ids", "collection", "exported_canvases", "story_manifest", "tour_data"]
