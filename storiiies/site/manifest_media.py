"""The Presentation 3 JSON of a time-based canvas: its sound or video painted on it, and its
WebVTT captions as `supplementing` annotations (the Cookbook's caption recipe)."""

from __future__ import annotations

from typing import Any

from storiiies.iiif.model import Canvas, MediaResource


def media_body(media: MediaResource, canvas: Canvas) -> dict[str, Any]:
    body: dict[str, Any] = {"id": media.url, "type": media.type}
    if media.format:
        body["format"] = media.format
    if media.type == "Video" and media.width and media.height:
        body["width"], body["height"] = media.width, media.height
    body["duration"] = media.duration or canvas.duration
    return body


def media_paintings(canvas: Canvas, canvas_id: str, page_id: str) -> list[dict[str, Any]]:
    """One painting annotation for the canvas's media; several formats become a Choice."""
    if not canvas.media:
        return []
    bodies = [media_body(m, canvas) for m in canvas.media]
    body = bodies[0] if len(bodies) == 1 else {"type": "Choice", "items": bodies}
    return [
        {
            "id": f"{page_id}/media",
            "type": "Annotation",
            "motivation": "painting",
            "body": body,
            "target": canvas_id,
        }
    ]


def caption_annotations(canvas: Canvas, canvas_id: str, base_id: str) -> list[dict[str, Any]]:
    result = []
    for n, track in enumerate(canvas.captions, start=1):
        body: dict[str, Any] = {"id": track.url, "type": "Text", "format": "text/vtt"}
        if track.language:
            body["language"] = track.language
        if track.label:
            body["label"] = {track.language or "none": [track.label]}
        result.append(
            {
                "id": f"{base_id}/{n}",
                "type": "Annotation",
                "motivation": "supplementing",
                "body": body,
                "target": canvas_id,
            }
        )
    return result


def time_fragment(time: tuple[float, float]) -> str:
    return "t=" + ",".join(f"{value:g}" for value in time)
