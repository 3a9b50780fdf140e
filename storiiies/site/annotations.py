"""A story's steps as W3C annotations, and each step as a IIIF Content State.

Every step is a `commenting` annotation on its region (the motivation viewers such as Mirador
list), step 0 being the title slide on the cover, its body opening with the title.
A comparison step gives one annotation per region, so each canvas it shows carries it (viewers
list a canvas's annotations by their target). The annotation's `label` is the region's text
alternative, its body the step's HTML in the Presentation API's subset (headings and list items
as paragraphs, the title first as `<p><b>…</b></p>`; one TextualBody per language of a
translated story),
followed by a `Sound` body when the step is narrated from a local file, as the Storiiies viewer
reads a narrated step.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from storiiies.iiif import content_state
from storiiies.iiif.model import Canvas
from storiiies.iiif.presentation_json import each, fragment_target, language_key, text_map
from storiiies.iiif.sanitize import presentation_html, text_only
from storiiies.model import Narration, Story, View
from storiiies.site.manifest_media import time_fragment

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
    steps: list[tuple[int, str, str, tuple[View, ...], tuple[View, ...]]] = [
        (0, story.title, story.intro_html, (story.cover,), ())
    ]
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


def step_states(
    story: Story, base_url: str, ids: Mapping[CanvasKey, str], manifest: str | None = None
) -> dict[int, str]:
    """The content-state-encoded string of every step, by step number (0 is the title slide).

    A step showing a canvas the manifest lacks (a translation's own region) has none."""
    manifest = manifest or manifest_id(story, base_url)
    return {
        number: content_state.encode_json(view_state(views, ids, manifest))
        for number, _, _, views, _ in step_views(story)
        if views and all(canvas_key(v.canvas) in ids for v in views)
    }


def step_annotations(
    story: Story, base_url: str, ids: Mapping[CanvasKey, str]
) -> list[StepAnnotation]:
    """Every step's annotations in story order."""
    url = story_url(story, base_url)
    manifest = manifest_id(story, base_url)
    # A translated story's steps carry one body per language (the original's regions are the
    # targets; translations' steps match by position).
    versions = [(v, step_views(v)) for v in story.versions]
    result = []
    narrations = {step.number: step.narration for step in story.steps}
    for number, title, _, views, _ in step_views(story):
        heading = "h1" if number == 0 else "h2"
        bodies: list[dict[str, Any]] = []
        for version, steps in versions:
            if number >= len(steps):
                continue
            _, own_title, own_html, _, own_links = steps[number]
            shared = _shared_links(
                own_html, number, own_links, ids, story_url(version, base_url), manifest
            )
            value = f"<{heading}>{html.escape(own_title, quote=False)}</{heading}>{shared}"
            bodies.append(
                {
                    "type": "TextualBody",
                    "value": presentation_html(value),
                    "format": "text/html",
                    "language": language_key(version.lang),
                }
            )
        sound = _sound_body(narrations.get(number), base_url)
        bodies.extend([sound] if sound else [])
        for k, view in enumerate(views, start=1):
            suffix = f"-{k}" if len(views) > 1 else ""
            annotation = {
                "id": f"{url}annotations/step-{number}{suffix}",
                "type": "Annotation",
                "motivation": "commenting",
                "label": each(_region_label(versions, number, k - 1, view.alt or title), text_only),
                "body": bodies[0] if len(bodies) == 1 else bodies,
                "target": view_target(ids[canvas_key(view.canvas)], view),
            }
            result.append(StepAnnotation(number, canvas_key(view.canvas), annotation))
    return result


def _sound_body(narration: Narration | None, base_url: str) -> dict[str, Any] | None:
    """A narration from a local file as a Sound body (the site copies it under `media/`)."""
    if narration is None or narration.kind != "file":
        return None
    body: dict[str, Any] = {"id": f"{base_url}{narration.url}", "type": "Sound"}
    if narration.format:
        body["format"] = narration.format
    if narration.duration:
        body["duration"] = round(narration.duration, 3)
    return body


def view_target(canvas_id: str, view: View) -> Any:
    """Where a step points: `canvas#xywh=…` for an image region, `canvas#t=start,end` for a
    segment of an audio or video canvas."""
    if view.time is None:
        return fragment_target(canvas_id, view.region)
    fragment = time_fragment(view.time)
    if "#" in canvas_id:
        return {
            "type": "SpecificResource",
            "source": canvas_id,
            "selector": {
                "type": "FragmentSelector",
                "conformsTo": "http://www.w3.org/TR/media-frags/",
                "value": fragment,
            },
        }
    return f"{canvas_id}#{fragment}"


def _region_label(
    versions: list[tuple[Story, list[Any]]], number: int, index: int, fallback: str
) -> dict[str, list[str]]:
    """The region's text alternative in each language that has its own (a translation step
    that reuses the original's regions also reuses its alt text, which is not a translation)."""
    original = versions[0][0]
    label = text_map(fallback, original.lang)
    for version, steps in versions[1:]:
        if number >= len(steps) or index >= len(steps[number][3]):
            continue
        alt = steps[number][3][index].alt
        if alt and alt != fallback:
            label.setdefault(language_key(version.lang), []).append(alt)
    return label


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
        if index >= len(links) or canvas_key(links[index].canvas) not in ids:
            return match.group(0)
        state = content_state.encode_json(view_state((links[index],), ids, manifest))
        return f'<a href="{html.escape(share_url(url, state, number))}">'

    return _REGION_LINK.sub(replace, body_html)
