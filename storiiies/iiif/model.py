"""One internal model of what a IIIF source holds, whatever version or shape it came in.

Presentation 2.1 and 3.0 manifests, bare Image API services and local images are all read into
these frozen values, so the rest of storiiies never looks at raw IIIF JSON again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

#: A IIIF language map: language code (or "none") → values. Values may hold sanitised HTML
#: only where the Presentation API allows it (summary, requiredStatement values, metadata values).
LanguageMap = Mapping[str, tuple[str, ...]]

#: "virtual": a canvas a story composes from parts of its other sources (resolve/virtual.py).
SourceKind = Literal["manifest", "image-service", "image", "local-image", "virtual"]


@dataclass(frozen=True)
class ImageService:
    """A IIIF Image API service. `info` is the info.json when it was fetched or made here."""

    id: str
    version: Literal[2, 3]
    level: int = 0
    width: int | None = None
    height: int | None = None
    info: Mapping[str, Any] | None = None

    @property
    def info_url(self) -> str:
        return self.id.rstrip("/") + "/info.json"


@dataclass(frozen=True)
class ImageResource:
    """An image painted on a canvas: a static image URL, an image service, or both.

    `target` is where on the canvas it is painted, (x, y, w, h) in canvas pixels;
    None means the whole canvas. `region` is the part of the image that is painted there,
    (x, y, w, h) in image pixels; None means all of it (a virtual canvas paints parts).
    """

    url: str | None
    width: int | None = None
    height: int | None = None
    format: str | None = None
    service: ImageService | None = None
    target: tuple[int, int, int, int] | None = None
    region: tuple[int, int, int, int] | None = None


@dataclass(frozen=True)
class MediaResource:
    """A sound or video painted on a time-based canvas (`type` is "Sound" or "Video")."""

    url: str
    type: Literal["Sound", "Video"]
    format: str | None = None
    width: int | None = None
    height: int | None = None
    duration: float | None = None


@dataclass(frozen=True)
class CaptionTrack:
    """A WebVTT file that supplements a time-based canvas (captions or subtitles)."""

    url: str
    language: str | None = None
    label: str | None = None


@dataclass(frozen=True)
class Canvas:
    """A canvas; `index` is 1-based, as authors write it in references.

    A time-based canvas has a `duration` in seconds and paints `media` (sound or video)
    instead of images; an audio-only canvas may have no width and height (0).
    """

    id: str
    index: int
    width: int
    height: int
    label: LanguageMap = field(default_factory=dict)
    images: tuple[ImageResource, ...] = ()
    thumbnail: str | None = None
    duration: float | None = None
    media: tuple[MediaResource, ...] = ()
    captions: tuple[CaptionTrack, ...] = ()


@dataclass(frozen=True)
class Agent:
    """A provider (P3) or the institution behind an attribution (P2)."""

    label: LanguageMap
    homepage: str | None = None
    id: str | None = None


@dataclass(frozen=True)
class LabelValue:
    label: LanguageMap
    value: LanguageMap


@dataclass(frozen=True)
class SourceDocument:
    """What a story source resolved to: its canvases plus the descriptive and rights metadata
    that the credits need. `id` is the URL (or project path) the author gave."""

    id: str
    kind: SourceKind
    canvases: tuple[Canvas, ...]
    label: LanguageMap = field(default_factory=dict)
    summary: LanguageMap = field(default_factory=dict)
    required_statement: LabelValue | None = None
    rights: str | None = None
    providers: tuple[Agent, ...] = ()
    homepage: str | None = None
    metadata: tuple[LabelValue, ...] = ()
    presentation_version: Literal[2, 3] | None = None
    warnings: tuple[str, ...] = ()
    #: For a virtual canvas: the sources its parts come from, credited and linked as theirs.
    parts: tuple[SourceDocument, ...] = ()
    #: How many canvases the source lists, counting those it skipped (0: as many as `canvases`).
    listed: int = 0
    #: Canvases whose sound or video is offered only as a stream storiiies does not play
    #: (number, "HLS (application/vnd.apple.mpegurl)"); shown by their thumbnail, or skipped.
    streams: tuple[tuple[int, str], ...] = ()

    def stream_of(self, index: int) -> str | None:
        """The stream canvas `index` is offered only as, or None."""
        return dict(self.streams).get(index)

    @property
    def last_index(self) -> int:
        """The number of the source's last canvas, shown or skipped."""
        return max(self.listed, *(canvas.index for canvas in self.canvases))

    def canvas_by_id(self, canvas_id: str) -> Canvas | None:
        for canvas in self.canvases:
            if canvas.id == canvas_id:
                return canvas
        return None
