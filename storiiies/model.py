"""The values passed between the build stages: load → parse → resolve → assemble → render → write.

Drafts come out of parsing and still hold references as the author wrote them; resolved values
hold canvases and regions in canvas pixels. All are frozen: a stage never edits another's output.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from storiiies.errors import Problem, SourceLocation
from storiiies.frontmatter import StoryMeta
from storiiies.iiif.model import Canvas, SourceDocument
from storiiies.references import Reference


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
class StepDraft:
    number: int
    title: str
    body_html: str
    regions: tuple[RegionDraft, ...]
    links: tuple[RegionDraft, ...]
    location: SourceLocation


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


@dataclass(frozen=True)
class OutputFile:
    """A file of the built site: `content` bytes, or a file/folder on disk to copy (`source`)."""

    path: str
    content: bytes | None = None
    source: Path | None = None
