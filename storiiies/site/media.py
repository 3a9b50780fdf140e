"""What the tour page needs to play sound and video: a time-based canvas's media and
captions, and a step's narration (JSON beside `story_data`)."""

from __future__ import annotations

from typing import Any

from storiiies.iiif.model import Canvas
from storiiies.model import Narration, Story

#: Seconds a kiosk waits after a narration ends before it moves on.
NARRATION_PAUSE = 1.5


def canvas_media_data(canvas: Canvas) -> dict[str, Any]:
    """The `duration`, `media` and `captions` of a time-based canvas ({} for an image)."""
    if canvas.duration is None:
        return {}
    return {
        "duration": canvas.duration,
        "media": [{"url": m.url, "type": m.type, "format": m.format} for m in canvas.media],
        "captions": [
            {"url": c.url, "language": c.language, "label": c.label} for c in canvas.captions
        ],
    }


def narration_data(narration: Narration | None) -> dict[str, Any] | None:
    """A step's narration for the player. A local file's `url` is relative to the site root."""
    if narration is None:
        return None
    return {
        "url": narration.url,
        "local": narration.kind == "file",
        "format": narration.format,
        "start": narration.start,
        "end": narration.end,
        "duration": narration.duration,
        "captions": narration.captions,
        "captionsLanguage": narration.captions_language,
    }


def media_seconds(story: Story) -> dict[str, float]:
    """How long sound plays with each step (its narration, or its canvas segment), by step
    number, so a kiosk does not move on in the middle of it."""
    result: dict[str, float] = {}
    for step in story.steps:
        seconds = [step.narration.duration] if step.narration and step.narration.duration else []
        seconds += [v.time[1] - v.time[0] for v in step.views if v.time and not step.inherited]
        if seconds:
            result[str(step.number)] = round(max(seconds) + NARRATION_PAUSE, 3)
    return result
