"""Time-based canvases: the sound or video a canvas paints, its duration and its captions.

A Presentation 3 canvas with a `duration` paints Sound or Video bodies (possibly as a Choice
of formats); WebVTT captions come as `supplementing` annotations whose body is `text/vtt`
(the Cookbook's caption recipes). Only what a browser's <audio>/<video> element can play
directly is kept: streaming formats (HLS, DASH) are left out, and named (`streaming_name`) so
the canvas can say why it is not played.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from storiiies.iiif.coerce import (
    as_dicts,
    as_list,
    as_number,
    as_str,
    node_id,
    positive_int,
    strings,
    type_name,
)
from storiiies.iiif.descriptive import text_map
from storiiies.iiif.model import CaptionTrack, MediaResource
from storiiies.iiif.sanitize import web_url

#: Choices inside Choices … deeper than this are junk.
MAX_NESTING = 4
#: Formats a media element cannot play without a streaming library, by the name authors know.
_STREAMING = {
    "application/x-mpegurl": "HLS",
    "application/vnd.apple.mpegurl": "HLS",
    "application/dash+xml": "DASH",
}
_STREAMING_SUFFIXES = {".m3u8": "HLS", ".mpd": "DASH"}
MEDIA_SCHEMES = ("http", "https", "file")


def canvas_duration(raw: Mapping[str, Any]) -> float | None:
    """The canvas's duration in seconds, when it is a positive number."""
    duration = as_number(raw.get("duration"))
    return duration if duration is not None and duration > 0 else None


def media_bodies(
    node: Any, streams: list[str] | None = None, depth: int = 0
) -> list[MediaResource]:
    """The playable Sound and Video bodies in a painting annotation's body, Choices opened.

    Streamed bodies are not playable; their names ("HLS (application/dash+xml)") go to `streams`.
    """
    if depth > MAX_NESTING:
        return []
    streams = streams if streams is not None else []
    found: list[MediaResource] = []
    for body in as_dicts(node):
        kind = type_name(body)
        if kind == "Choice":
            found.extend(media_bodies(body.get("items") or body.get("item"), streams, depth + 1))
        elif kind == "SpecificResource":
            found.extend(media_bodies(body.get("source"), streams, depth + 1))
        elif kind in ("Sound", "Video", "Audio"):
            stream = streaming_name(body)
            if stream is not None:
                streams.append(stream)
                continue
            resource = _media(body, "Video" if kind == "Video" else "Sound")
            if resource is not None:
                found.append(resource)
    return found


def streaming_name(body: Mapping[str, Any]) -> str | None:
    """ "HLS (application/vnd.apple.mpegurl)" when `body` is a stream, named by its format or,
    without one, by its URL's ending; None for anything else."""
    media_format = as_str(body.get("format"))
    if media_format is not None and media_format.lower() in _STREAMING:
        return f"{_STREAMING[media_format.lower()]} ({media_format})"
    path = (node_id(body) or "").split("?", 1)[0].split("#", 1)[0].lower()
    suffix = next((s for s in _STREAMING_SUFFIXES if path.endswith(s)), None)
    return f"{_STREAMING_SUFFIXES[suffix]} ({suffix})" if suffix else None


def _media(body: Mapping[str, Any], kind: str) -> MediaResource | None:
    url = web_url(node_id(body), MEDIA_SCHEMES)
    media_format = as_str(body.get("format"))
    if url is None:
        return None
    duration = as_number(body.get("duration"))
    return MediaResource(
        url=url,
        type="Video" if kind == "Video" else "Sound",
        format=media_format,
        width=positive_int(body.get("width")),
        height=positive_int(body.get("height")),
        duration=duration if duration and duration > 0 else None,
    )


def caption_tracks(raw: Mapping[str, Any]) -> tuple[CaptionTrack, ...]:
    """WebVTT files given by the canvas's `supplementing` annotations."""
    tracks: list[CaptionTrack] = []
    for page in as_dicts(raw.get("annotations")):
        for annotation in as_dicts(page.get("items")):
            motivations = [m.rsplit(":", 1)[-1] for m in strings(annotation.get("motivation"))]
            if "supplementing" not in motivations:
                continue
            tracks.extend(_vtt_bodies(annotation.get("body"), 0))
    return tuple(dict.fromkeys(tracks))


def _vtt_bodies(node: Any, depth: int) -> list[CaptionTrack]:
    if depth > MAX_NESTING:
        return []
    found: list[CaptionTrack] = []
    for body in as_dicts(node):
        if type_name(body) == "Choice":
            found.extend(_vtt_bodies(as_list(body.get("items")), depth + 1))
            continue
        url = web_url(node_id(body), MEDIA_SCHEMES)
        media_format = (as_str(body.get("format")) or "").lower()
        if url is None or not (media_format == "text/vtt" or url.lower().endswith(".vtt")):
            continue
        label = text_map(body.get("label"))
        first_label = next((v for values in label.values() for v in values), None)
        found.append(CaptionTrack(url, as_str(body.get("language")), first_label))
    return found
