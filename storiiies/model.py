"""The values passed between the build stages: load → parse → resolve → assemble → render → write.

Drafts come out of parsing and still hold references as the author wrote them; resolved values
hold canvases and regions in canvas pixels. All are frozen: a stage never edits another's output.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from storiiies.errors import Problem, SourceLocation
from storiiies.iiif.model import Canvas, SourceDocument
from storiiies.story.frontmatter import StoryMeta
from storiiies.story.references import Reference


@dataclass(frozen=True)
class StorySource:
    """A story file as read from disk. `name` is its project-relative path, as authors see it."""

    path: Path
    name: str
    text: str


@dataclass(frozen=True)
class RegionDraft:
    """A region reference in a story, with its text alternative and where it was written."""

    reference: Reference
    alt: str
    location: SourceLocation


@dataclass(frozen=True)
class NarrationDraft:
    """A step's narration link as written: a local audio file (`reference` None) or an audio
    or video canvas with a time range."""

    target: str
    reference: Reference | None
    location: SourceLocation


@dataclass(frozen=True)
class StepDraft:
    number: int
    title: str
    body_html: str
    regions: tuple[RegionDraft, ...]
    links: tuple[RegionDraft, ...]
    location: SourceLocation
    narration: NarrationDraft | None = None


@dataclass(frozen=True)
class StoryDraft:
    source: StorySource
    slug: str
    meta: StoryMeta
    title: str
    intro_html: str
    steps: tuple[StepDraft, ...]
    cover: RegionDraft | None
    problems: tuple[Problem, ...] = ()
    meta_locations: Mapping[tuple[str | int, ...], SourceLocation] = field(default_factory=dict)


@dataclass(frozen=True)
class View:
    """What a viewer panel shows: a canvas of a source, and a region of it (None = whole canvas)."""

    alias: str
    canvas: Canvas
    region: tuple[float, float, float, float] | None
    alt: str
    #: The segment (start, end) in seconds of a time-based canvas; None for images.
    time: tuple[float, float] | None = None

    @property
    def box(self) -> tuple[float, float, float, float]:
        return self.region or (0, 0, self.canvas.width, self.canvas.height)


@dataclass(frozen=True)
class Step:
    number: int
    title: str
    body_html: str
    views: tuple[View, ...]
    links: tuple[View, ...]
    location: SourceLocation
    #: True when the step has no region of its own and keeps the previous step's view.
    inherited: bool = False
    narration: Narration | None = None


@dataclass(frozen=True)
class Narration:
    """What plays with a step: a local audio file the site copies to `url` (site-relative,
    `media/…`), or a segment of an audio or video canvas (`url` is the media's own URL).

    `duration` is how long it plays, in seconds (None when unknown); `captions` a WebVTT.
    """

    kind: Literal["file", "canvas"]
    url: str
    format: str | None
    duration: float | None
    start: float = 0.0
    end: float | None = None
    captions: str | None = None
    captions_language: str | None = None
    file: Path | None = None
    captions_file: Path | None = None
    location: SourceLocation | None = None

    @property
    def local(self) -> bool:
        return self.file is not None


@dataclass(frozen=True)
class LocalImage:
    """An image the site serves itself from images/`name`: a local file that the build tiles,
    or, with `info`, a ready level-0 tile tree at `path` (a remote image copied into an
    offline bundle) whose info.json that is."""

    path: Path
    name: str
    page: int
    width: int
    height: int
    info: Mapping[str, Any] | None = field(default=None, hash=False)


@dataclass(frozen=True)
class Story:
    source: StorySource
    slug: str
    meta: StoryMeta
    title: str
    lang: str
    intro_html: str
    cover: View
    steps: tuple[Step, ...]
    sources: Mapping[str, SourceDocument]
    local_images: tuple[LocalImage, ...] = ()
    #: The same story in other languages (`coins.fr.md`, at `<slug>/fr/`); see translations.py.
    translations: tuple[Story, ...] = ()

    @property
    def versions(self) -> tuple[Story, ...]:
        """The story in every language: itself first, then its translations."""
        return (self, *self.translations)

    @property
    def has_sound(self) -> bool:
        """Whether any step has narration or plays audio or video (the page then needs a
        player and the sound switch)."""
        views = [self.cover, *(v for step in self.steps for v in (*step.views, *step.links))]
        return any(step.narration for step in self.steps) or any(v.time for v in views)


@dataclass(frozen=True)
class OutputFile:
    """A file of the built site: `content` bytes, or a file/folder on disk to copy (`source`).

    With `tiles`, `source` is a tile folder of the cache (images/tiles.py), which the site
    holds as the IIIF tree of its tiles."""

    path: str
    content: bytes | None = None
    source: Path | None = None
    tiles: bool = False
