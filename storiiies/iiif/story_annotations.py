"""A story's steps as W3C annotations, and each step as a IIIF Content State.

Every step is a `commenting` annotation on its region (the motivation viewers such as Mirador
list), step 0 being the title slide on the cover, its body opening with the title as `<h1>`. A comparison step gives one annotation per region, so
each canvas it shows carries it (viewers list a canvas's annotations by their target). The
annotation's `label` is the region's text alternative, its body the step's HTML.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from storiiies.model import Story, View

from . import content_state
from .model import Canvas
from .p3json import fragment_target, language_key, text_map

CanvasKey = tuple[str, int, int, int]
_REGION_LINK = re.compile(r'<a\b[^>]*\bdata-storiiies-link="(\d+)"[^>]*>')


def canvas_key(canvas: Canvas) -> CanvasKey:
    """Tells canvases apart even when a source reuses an id for different canvases."""
    return (canvas.id, canvas.index, canvas.width, canvas.height)


@dataclass(frozen=True)
class StepAnnotation:
    step: int
    canvas: CanvasKey
    data: dict[str, Any]


def story_url(story: Story, base_url: str) -> str:
    return f"{base_url}{story.slug}/"


def manifest_id(story: Story, base_url: str) -> str:
    return f"{story_url(story, base_url)}manifest.json"


def step_views(story: Story) -> list[tuple[int, str, str, tuple[View, ...], tuple[View, ...]]]:
    """(number, title, body HTML, views, links) of the title slide and every step, in order."""
    steps = [(0, story.title, story.intro_html, (story.cover,), ())]
    steps.extend((s.number, s.title, s.body_html, s.views, s.links) for s in story.steps)
    return steps


def view_state(
    views: tuple[View, ...], ids: Mapping[CanvasKey, str], manifest: str
) -> dict[str, Any]:
    """The content state Annotation that opens `views` (one target per region) in `manifest`."""
    targets = [
        content_state.region_target(ids[canvas_key(v.canvas)], v.region, manifest) for v in views
    ]
    return content_state.content_state(targets)


def step_states(story: Story, base_url: str, ids: Mapping[CanvasKey, str]) -> dict[int, str]:
    """The content-state-encoded string of every step, by step number (0 is the title slide)."""
    manifest = manifest_id(story, base_url)
    return {
        number: content_state.encode_json(view_state(views, ids, manifest))
        for number, _, _, views, _ in step_views(story)
        if views
    }


def step_annotations(
    story: Story, base_url: str, ids: Mapping[CanvasKey, str]
) -> list[StepAnnotation]:
    """Every step's annotations in story order."""
    url = story_url(story, base_url)
    manifest = manifest_id(story, base_url)
    lang = language_key(story.lang)
    result = []
    for number, title, body_html, views, links in step_views(story):
        heading = "h1" if number == 0 else "h2"
        body = f"<{heading}>{html.escape(title, quote=False)}</{heading}>{_shared_links(body_html, number, links, ids, url, manifest)}"
        for k, view in enumerate(views, start=1):
            suffix = f"-{k}" if len(views) > 1 else ""
            annotation = {
                "id": f"{url}annotations/step-{number}{suffix}",
                "type": "Annotation",
                "motivation": "commenting",
                "label": text_map(view.alt or title, story.lang),
                "body": {
                    "type": "TextualBody",
                    "value": body.strip(),
                    "format": "text/html",
                    "language": lang,
                },
                "target": fragment_target(ids[canvas_key(view.canvas)], view.region),
            }
            result.append(StepAnnotation(number, canvas_key(view.canvas), annotation))
    return result


def share_url(url: str, state: str, number: int) -> str:
    return f"{url}?iiif-content={state}#step-{number}"


def _shared_links(
    body_html: str,
    number: int,
    links: tuple[View, ...],
    ids: Mapping[CanvasKey, str],
    url: str,
    manifest: str,
) -> str:
    """In-step region links become links to the tour opened at that region, so they still
    work in another viewer, and keep the region for `storiiies import`."""

    def replace(match: re.Match[str]) -> str:
        index = int(match.group(1))
        if index >= len(links):
            return match.group(0)
        state = content_state.encode_json(view_state((links[index],), ids, manifest))
        return f'<a href="{html.escape(share_url(url, state, number))}">'

    return _REGION_LINK.sub(replace, body_html)
