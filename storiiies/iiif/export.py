"""A story as a IIIF Presentation 3 manifest: its canvases, painted with the original images,
and its steps as commenting annotations, so any IIIF viewer can play it."""

from __future__ import annotations

from typing import Any

from storiiies.iiif.language import pick
from storiiies.iiif.model import Canvas, ImageResource, LanguageMap
from storiiies.model import Story, View

PRESENTATION_CONTEXT = "http://iiif.io/api/presentation/3/context.json"


def _langmap(value: str, lang: str) -> dict[str, list[str]]:
    return {lang or "none": [value]}


def _plain_map(langmap: LanguageMap) -> dict[str, list[str]]:
    return {key: list(values) for key, values in langmap.items() if values}


def _xywh(box: tuple[float, float, float, float]) -> str:
    return ",".join(str(round(n)) for n in box)


def story_manifest(story: Story, base_url: str) -> dict[str, Any]:
    """The Presentation 3 manifest of `story`, with absolute ids under `base_url`."""
    story_url = f"{base_url}{story.slug}/"
    lang = story.lang
    canvases: list[tuple[str, Canvas]] = []
    for view in _all_views(story):
        if all(c.id != view.canvas.id for _, c in canvases):
            canvases.append((view.alias, view.canvas))
    annotations: dict[str, list[dict[str, Any]]] = {canvas.id: [] for _, canvas in canvases}
    for step in story.steps:
        body = f"<h2>{_escape(step.title)}</h2>{step.body_html}".strip()
        for number, view in enumerate(step.views if not step.inherited else (), start=1):
            annotations[view.canvas.id].append(
                {
                    "id": f"{story_url}annotations/step-{step.number}-{number}",
                    "type": "Annotation",
                    "motivation": "commenting",
                    "label": _langmap(step.title, lang),
                    "body": {
                        "type": "TextualBody",
                        "value": body,
                        "format": "text/html",
                        "language": lang,
                    },
                    "target": _target(view),
                }
            )
    manifest: dict[str, Any] = {
        "@context": PRESENTATION_CONTEXT,
        "id": f"{story_url}manifest.json",
        "type": "Manifest",
        "label": _langmap(story.title, lang),
    }
    if story.meta.summary:
        manifest["summary"] = _langmap(story.meta.summary, lang)
    metadata = _credits(story)
    if metadata:
        manifest["metadata"] = metadata
    statement = _required_statement(story)
    if statement:
        manifest["requiredStatement"] = statement
    rights = {doc.rights for doc in story.sources.values() if doc.rights}
    if len(rights) == 1:
        manifest["rights"] = rights.pop()
    manifest["homepage"] = [
        {"id": story_url, "type": "Text", "label": _langmap(story.title, lang), "format": "text/html"}
    ]
    manifest["items"] = [
        _canvas(alias, canvas, story, story_url, index, annotations[canvas.id])
        for index, (alias, canvas) in enumerate(canvases, start=1)
    ]
    return manifest


def _all_views(story: Story) -> list[View]:
    views = [story.cover]
    for step in story.steps:
        views.extend(step.views)
        views.extend(step.links)
    return views


def _target(view: View) -> str:
    if view.region is None:
        return view.canvas.id
    return f"{view.canvas.id}#xywh={_xywh(view.region)}"


def _canvas(
    alias: str,
    canvas: Canvas,
    story: Story,
    story_url: str,
    index: int,
    annotations: list[dict[str, Any]],
) -> dict[str, Any]:
    document = story.sources[alias]
    page_id = f"{story_url}canvas/{index}/painting"
    item: dict[str, Any] = {
        "id": canvas.id,
        "type": "Canvas",
        "width": canvas.width,
        "height": canvas.height,
    }
    if canvas.label:
        item["label"] = _plain_map(canvas.label)
    item["items"] = [
        {
            "id": page_id,
            "type": "AnnotationPage",
            "items": [
                _painting(image, canvas, f"{page_id}/{n}")
                for n, image in enumerate(canvas.images, start=1)
            ],
        }
    ]
    if annotations:
        item["annotations"] = [
            {"id": f"{story_url}canvas/{index}/steps", "type": "AnnotationPage", "items": annotations}
        ]
    if document.kind == "manifest" and document.id.startswith("http"):
        item["partOf"] = [{"id": document.id, "type": "Manifest"}]
    return item


def _painting(image: ImageResource, canvas: Canvas, anno_id: str) -> dict[str, Any]:
    service = image.service
    body: dict[str, Any] = {
        "id": image.url or (f"{service.id.rstrip('/')}/full/max/0/default.jpg" if service else ""),
        "type": "Image",
        "format": image.format or "image/jpeg",
    }
    if image.width and image.height:
        body["width"], body["height"] = image.width, image.height
    if service is not None:
        body["service"] = [
            {
                "id": service.id,
                "type": "ImageService3" if service.version == 3 else "ImageService2",
                "profile": f"level{service.level}",
            }
        ]
    target = canvas.id if image.target is None else f"{canvas.id}#xywh={_xywh(image.target)}"
    return {"id": anno_id, "type": "Annotation", "motivation": "painting", "body": body, "target": target}


def _credits(story: Story) -> list[dict[str, Any]]:
    lines = []
    for alias, document in story.sources.items():
        label = pick(document.label, story.lang) or alias
        parts = [label]
        if document.required_statement:
            parts.append(pick(document.required_statement.value, story.lang))
        lines.append({"label": _langmap("Source", "en"), "value": _langmap(" — ".join(p for p in parts if p), "none")})
    return lines


def _required_statement(story: Story) -> dict[str, Any] | None:
    values = [
        pick(doc.required_statement.value, story.lang)
        for doc in story.sources.values()
        if doc.required_statement
    ]
    values = [v for v in dict.fromkeys(values) if v]
    if not values:
        return None
    return {"label": _langmap("Attribution", "en"), "value": {"none": values}}


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def collection(stories: list[Story], base_url: str, title: str, lang: str) -> dict[str, Any]:
    """A Presentation 3 Collection of every story of the site."""
    return {
        "@context": PRESENTATION_CONTEXT,
        "id": f"{base_url}collection.json",
        "type": "Collection",
        "label": _langmap(title, lang),
        "items": [
            {
                "id": f"{base_url}{story.slug}/manifest.json",
                "type": "Manifest",
                "label": _langmap(story.title, story.lang),
            }
            for story in stories
        ],
    }


__all__ = ["collection", "story_manifest"]
