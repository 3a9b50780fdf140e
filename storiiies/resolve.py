"""RESOLVE (2/2): a StoryDraft plus its resolved sources → a Story with canvases and regions."""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import replace

from storiiies.errors import Problem, SourceError, SourceLocation, has_errors
from storiiies.frontmatter import SourceSpec
from storiiies.iiif.model import LabelValue, SourceDocument
from storiiies.model import LocalImage, RegionDraft, Step, Story, StoryDraft, View
from storiiies.rights import is_restrictive, rights_name
from storiiies.sources import ResolvedSource, SourceKey

# Regions may overshoot the canvas by rounding (percent conversions, scaled canvases).
_TOLERANCE = 1.0


def resolve_story(
    draft: StoryDraft,
    sources: Mapping[str, SourceKey],
    resolved: Mapping[SourceKey, ResolvedSource | SourceError],
    *,
    default_lang: str,
) -> tuple[Story | None, list[Problem]]:
    """Resolve every reference of `draft`; returns the Story, or None when any reference failed."""
    resolver = _Resolver(draft, sources, resolved)
    for alias in draft.meta.sources:
        resolver.check_source(alias)
    cover = resolver.view(draft.cover) if draft.cover else None
    steps: list[Step] = []
    previous: tuple[View, ...] = ()
    for step in draft.steps:
        views = tuple(v for v in (resolver.view(r) for r in step.regions) if v is not None)
        links = tuple(v for v in (resolver.view(r) for r in step.links) if v is not None)
        inherited = not step.regions
        if inherited:
            views = previous or ((cover,) if cover else ())
        previous = views or previous
        steps.append(
            Step(
                number=step.number,
                title=step.title,
                body_html=step.body_html,
                views=views,
                links=links,
                location=step.location,
                inherited=inherited,
            )
        )
    if cover is None:
        first = next((s.views[0] for s in steps if s.views), None)
        cover = View(first.alias, first.canvas, None, draft.title) if first else None
    if has_errors(resolver.problems) or cover is None:
        if cover is None and not has_errors(resolver.problems) and draft.steps:
            resolver.problems.append(
                Problem(
                    draft.steps[0].location,
                    "no step of this story shows a region",
                    "add a region image under a step: ![what it shows](source#xywh=x,y,w,h)",
                )
            )
        return None, resolver.problems
    story = Story(
        source=draft.source,
        slug=draft.slug,
        meta=draft.meta,
        title=draft.title,
        lang=draft.meta.lang or default_lang,
        intro_html=draft.intro_html,
        cover=cover,
        steps=tuple(steps),
        sources=resolver.documents(),
        local_images=tuple(resolver.used_images.values()),
    )
    return story, resolver.problems


class _Resolver:
    def __init__(
        self,
        draft: StoryDraft,
        sources: Mapping[str, SourceKey],
        resolved: Mapping[SourceKey, ResolvedSource | SourceError],
    ) -> None:
        self.draft = draft
        self.sources = sources
        self.resolved = resolved
        self.problems: list[Problem] = []
        self.used_images: dict[str, LocalImage] = {}
        self.failed_aliases: set[str] = set()

    def source_location(self, alias: str) -> SourceLocation:
        locations = self.draft.meta_locations
        return locations.get(("sources", alias)) or SourceLocation(self.draft.source.name, 1)

    def check_source(self, alias: str) -> None:
        result = self.resolved[self.sources[alias]]
        if isinstance(result, SourceError):
            self.failed_aliases.add(alias)
            self.problems.append(
                Problem(
                    self.source_location(alias), f"source '{alias}': {result.message}", result.hint
                )
            )
            return
        document = with_overrides(result.document, self.draft.meta.sources[alias])
        for message, hint in rights_warnings(document):
            self.problems.append(
                Problem(self.source_location(alias), f"source '{alias}' {message}", hint, "warning")
            )

    def documents(self) -> dict[str, SourceDocument]:
        return {
            alias: with_overrides(result.document, self.draft.meta.sources[alias])
            for alias, key in self.sources.items()
            if isinstance(result := self.resolved[key], ResolvedSource)
        }

    def view(self, region: RegionDraft) -> View | None:
        reference = region.reference
        alias = reference.alias
        if alias in self.failed_aliases or alias not in self.sources:
            return None  # already reported once, at the source's line
        result = self.resolved[self.sources[alias]]
        assert isinstance(result, ResolvedSource)
        document = result.document
        canvases = document.canvases
        canvas = None
        if reference.canvas is None:
            canvas = canvases[0]
        elif reference.canvas.isdecimal():
            index = int(reference.canvas)
            # Canvas numbers are positions in the source, so skipped (non-image) canvases
            # keep their numbers and the author's count matches what other viewers show.
            canvas = next((c for c in canvases if c.index == index), None)
            last = max(c.index for c in canvases)
            if canvas is None and index <= last:
                self.problems.append(
                    Problem(
                        region.location,
                        f"canvas {index} of '{alias}' has no image storiiies can show",
                        "pick another canvas; `storiiies inspect` lists them",
                    )
                )
                return None
            if canvas is None:
                self.problems.append(
                    Problem(
                        region.location,
                        f"canvas {index} of '{alias}' does not exist ({_count(last)})",
                        f"use a number from 1 to {last}; `storiiies inspect` lists them",
                    )
                )
                return None
        else:
            canvas = document.canvas_by_id(reference.canvas)
            if canvas is None:
                self.problems.append(
                    Problem(
                        region.location,
                        f"'{alias}' has no canvas with id {reference.canvas}",
                        "use the canvas's 1-based number or its exact id",
                    )
                )
                return None
        # A source pasted as a content state or an image URL brings its own region.
        box = result.region if reference.region is None and canvas is canvases[0] else None
        if reference.region is not None:
            box = reference.region.in_pixels(canvas.width, canvas.height)
            x, y, w, h = box
            if x + w > canvas.width + _TOLERANCE or y + h > canvas.height + _TOLERANCE:
                hint = (
                    "did you mean percent:?"
                    if max(
                        reference.region.x,
                        reference.region.y,
                        reference.region.w,
                        reference.region.h,
                    )
                    <= 100
                    else f"the canvas is {canvas.width}×{canvas.height} pixels"
                )
                self.problems.append(
                    Problem(
                        region.location,
                        f"region {reference.region} is outside canvas {canvas.index} of '{alias}' "
                        f"({canvas.width}×{canvas.height})",
                        hint,
                    )
                )
                return None
        if canvas.index in result.images:
            image = result.images[canvas.index]
            self.used_images[image.name] = image
        return View(alias, canvas, box, region.alt)


def _count(n: int) -> str:
    return f"it has {n} canvas" + ("" if n == 1 else "es")


def with_overrides(document: SourceDocument, spec: SourceSpec) -> SourceDocument:
    """The source as the credits should show it: the author's label, rights and credit win."""
    changes: dict[str, object] = {}
    if spec.label:
        changes["label"] = {"none": (spec.label,)}
    if spec.rights:
        changes["rights"] = spec.rights
    if spec.credit:
        # Required statement values are HTML (the Presentation API allows a subset); the
        # author's credit is plain text.
        credit = html.escape(spec.credit, quote=False)
        changes["required_statement"] = LabelValue({"en": ("Credit",)}, {"none": (credit,)})
    return replace(document, **changes) if changes else document  # type: ignore[arg-type]


def rights_warnings(document: SourceDocument) -> list[tuple[str, str]]:
    """Warnings an author should see before publishing someone else's image."""
    if document.rights and is_restrictive(document.rights):
        return [
            (
                f"is marked '{rights_name(document.rights)}' ({document.rights})",
                "make sure you have permission to show it, or choose another image",
            )
        ]
    if not document.rights and document.required_statement is None:
        if document.kind == "local-image":
            return [
                (
                    "has no rights statement or credit",
                    "add `rights:` (a licence URI) and `credit:` to the source"
                    " so the credits are complete",
                )
            ]
        return [
            (
                "has no rights statement",
                "check that it may be reused;"
                " add `rights:` and `credit:` to the source if you know them",
            )
        ]
    return []
