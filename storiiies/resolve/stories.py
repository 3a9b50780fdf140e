"""RESOLVE (2/2): a StoryDraft plus its resolved sources → a Story with canvases and regions."""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import replace

from storiiies.errors import Problem, SourceError, SourceLocation, has_errors
from storiiies.iiif.descriptive import CREDIT_LABEL
from storiiies.iiif.model import Canvas, LabelValue, SourceDocument
from storiiies.model import (
    LocalImage,
    Narration,
    NarrationDraft,
    RegionDraft,
    Step,
    Story,
    StoryDraft,
    View,
)
from storiiies.resolve.rights import is_restrictive, rights_name
from storiiies.resolve.sources import ResolvedSource, SourceKey
from storiiies.resolve.virtual import Part, compose_canvas
from storiiies.story.frontmatter import SourceSpec
from storiiies.story.references import Reference, ReferenceSyntaxError, parse_reference

#: The tour magnifies an image at most this many times its own pixels (tour.js's
#: maxZoomPixelRatio), and a desktop tour's image panel is about this wide (CSS px).
MAX_ZOOM = 2
TYPICAL_PANEL = 752
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
    # Virtual canvases last: they are made of parts of the other sources.
    for alias in sorted(draft.meta.sources, key=lambda a: draft.meta.sources[a].is_virtual):
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
                narration=resolver.narration(step.narration) if step.narration else None,
            )
        )
    if cover is None:
        first = next((s.views[0] for s in steps if s.views), None)
        cover = View(first.alias, first.canvas, None, draft.title) if first else None
    if has_errors(resolver.problems) or cover is None:
        # A region that failed to parse is the cause: "no step shows a region" only echoes it.
        echo = has_errors(resolver.problems) or has_errors(draft.problems)
        if cover is None and not echo and draft.steps:
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
        self.virtual: dict[str, SourceDocument] = {}

    def source_location(self, alias: str) -> SourceLocation:
        locations = self.draft.meta_locations
        return locations.get(("sources", alias)) or SourceLocation(self.draft.source.name, 1)

    def check_source(self, alias: str) -> None:
        spec = self.draft.meta.sources[alias]
        if spec.is_virtual:
            document = self.compose(alias, spec)
            if document is None:
                self.failed_aliases.add(alias)
                return
            self.virtual[alias] = document
            for message, hint in rights_warnings(document) if document.rights else ():
                where = self.source_location(alias)
                self.problems.append(
                    Problem(where, f"source '{alias}' {message}", hint, "warning", alias)
                )
            return
        result = self.resolved[self.sources[alias]]
        if isinstance(result, SourceError):
            self.failed_aliases.add(alias)
            self.problems.append(
                Problem(
                    self.source_location(alias),
                    f"source '{alias}': {result.message}",
                    result.hint,
                    source_alias=alias,
                )
            )
            return
        if result.stale:
            self.problems.append(
                Problem(
                    self.source_location(alias),
                    f"source '{alias}': {result.stale};"
                    " the copy saved by an earlier build was used",
                    "the story may show an out-of-date manifest: build again when the server"
                    " answers (or build with --offline to use the saved copies on purpose)",
                    "warning",
                    alias,
                )
            )
        document = with_overrides(result.document, self.draft.meta.sources[alias])
        for message, hint in rights_warnings(document):
            self.problems.append(
                Problem(
                    self.source_location(alias),
                    f"source '{alias}' {message}",
                    hint,
                    "warning",
                    alias,
                )
            )
        # What the reader noticed (skipped canvases, streams …) is said once, at the source.
        for warning in document.warnings:
            self.problems.append(
                Problem(
                    self.source_location(alias),
                    f"source '{alias}': {warning}",
                    "`storiiies inspect` lists the source's canvases",
                    "warning",
                    alias,
                )
            )

    def compose(self, alias: str, spec: SourceSpec) -> SourceDocument | None:
        """The virtual canvas `alias` composes (`compose:`), or None when a part is wrong."""
        parts: list[Part] = []
        for number, text in enumerate(spec.compose or (), start=1):
            where = self.draft.meta_locations.get(("sources", alias, "compose", number - 1))
            where = where or self.source_location(alias)
            what = f"part {number} of '{alias}'"
            try:
                reference = parse_reference(str(text))
            except ReferenceSyntaxError as error:
                self.problems.append(Problem(where, f"{what}: {error.message}", error.hint))
                continue
            part_spec = self.draft.meta.sources.get(reference.alias)
            if part_spec is None:
                known = ", ".join(a for a, s in self.draft.meta.sources.items() if not s.is_virtual)
                self.problems.append(
                    Problem(
                        where,
                        f"{what}: '{reference.alias}' is not a source of this story",
                        f"a part names another source of this story: {known}"
                        if known
                        else "declare the sources of the parts under `sources:` first",
                    )
                )
                continue
            if part_spec.is_virtual:
                self.problems.append(
                    Problem(
                        where,
                        f"{what}: '{reference.alias}' is itself a virtual canvas",
                        f"name its parts here instead: {', '.join(part_spec.compose or ())}",
                    )
                )
                continue
            reported = len(self.problems)
            view = self.view(RegionDraft(reference, "", where))
            self.problems[reported:] = [
                replace(problem, message=f"{what}: {problem.message}")
                for problem in self.problems[reported:]
            ]
            if view is None:
                if reference.alias in self.failed_aliases:
                    return None  # its source's own problem says why
                continue  # the wrong canvas or region was reported at the part's line
            parts.append(Part(reference.alias, view.canvas, view.box))
        if not parts or len(parts) != len(spec.compose or ()):
            return None
        label = {"none": (spec.label or alias,)}
        canvas = compose_canvas(parts, spec.layout or "row", label)
        documents = self.documents()
        document = SourceDocument(
            id=f"{self.draft.source.name}#{alias}",
            kind="virtual",
            canvases=(canvas,),
            label=label,
            parts=tuple({id(d): d for d in (documents[p.alias] for p in parts)}.values()),
        )
        return with_overrides(document, spec)

    def documents(self) -> dict[str, SourceDocument]:
        documents = {
            alias: with_overrides(result.document, self.draft.meta.sources[alias])
            for alias, key in self.sources.items()
            if isinstance(result := self.resolved[key], ResolvedSource)
        }
        return {**documents, **self.virtual}

    def view(self, region: RegionDraft) -> View | None:
        reference = region.reference
        alias = reference.alias
        if alias in self.failed_aliases or alias not in self.sources and alias not in self.virtual:
            return None  # already reported once, at the source's line
        if alias in self.virtual:
            result = ResolvedSource(self.virtual[alias], {})
        else:
            result = self.resolved[self.sources[alias]]  # type: ignore[assignment]
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
            last = document.last_index
            stream = document.stream_of(index)
            if canvas is None and stream is not None:
                self.problems.append(
                    Problem(
                        region.location,
                        f"canvas {index} of '{alias}' is offered only as {stream}, which"
                        " storiiies does not play, and it has no image to show instead",
                        "pick another canvas, or ask the source's publisher for a file a browser"
                        " plays (MP4, WebM, MP3, Ogg) in the manifest",
                    )
                )
                return None
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
                        "use the canvas's 1-based number or its exact id;"
                        " `storiiies inspect` lists them",
                    )
                )
                return None
        stream = document.stream_of(canvas.index)
        if stream is not None:
            self.problems.append(
                Problem(
                    region.location,
                    f"canvas {canvas.index} of '{alias}' is offered only as {stream}, which"
                    " storiiies does not play; the step shows the canvas's thumbnail,"
                    " without sound",
                    "ask the source's publisher for a file a browser plays (MP4, WebM, MP3, Ogg)",
                    "warning",
                )
            )
            if reference.time is not None:
                return View(alias, canvas, None, region.alt)
        if canvas.duration is not None or reference.time is not None:
            return self.timed_view(region, canvas)
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
            self.small_region(region, canvas, box)
        if canvas.index in result.images:
            image = result.images[canvas.index]
            self.used_images[image.name] = image
        return View(alias, canvas, box, region.alt)

    def small_region(
        self, region: RegionDraft, canvas: Canvas, box: tuple[float, float, float, float]
    ) -> None:
        """A warning when the tour cannot make a region fill even a quarter of a typical
        panel: it magnifies an image at most MAX_ZOOM× its own pixels (tour.js)."""
        scale = (
            max(
                (
                    (image.width or (image.service.width if image.service else None) or 0)
                    / (image.target[2] if image.target else canvas.width)
                    for image in canvas.images
                ),
                default=0.0,
            )
            or 1.0
        )
        shown = round(MAX_ZOOM * max(box[2], box[3]) * scale)
        if shown * 4 >= TYPICAL_PANEL:
            return
        self.problems.append(
            Problem(
                region.location,
                f"region {region.reference.region} is small for its image: the tour magnifies "
                f"at most {MAX_ZOOM}×, so it fills about {shown} px of a {TYPICAL_PANEL} px panel",
                "choose a larger region around the detail, or an image with more pixels"
                " (see Small regions in docs/authoring.md)",
                "warning",
            )
        )

    def timed_view(self, region: RegionDraft, canvas: Canvas) -> View | None:
        """A view of an audio or video canvas: a segment in time, never a rectangle."""
        reference = region.reference
        where = f"canvas {canvas.index} of '{reference.alias}'"
        if canvas.duration is None:
            self.problems.append(
                Problem(
                    region.location,
                    f"{where} is an image, so it has no time range",
                    "#t=start,end picks a segment of an audio or video canvas;"
                    " for an image, write #xywh=x,y,w,h",
                )
            )
            return None
        if reference.region is not None:
            self.problems.append(
                Problem(
                    region.location,
                    f"{where} is audio or video, so it has no region",
                    "pick a segment with #t=start,end (seconds)",
                )
            )
            return None
        duration = canvas.duration
        start = reference.time.start if reference.time else 0.0
        end = reference.time.end if reference.time and reference.time.end is not None else duration
        if start >= duration or end > duration + _TOLERANCE:
            self.problems.append(
                Problem(
                    region.location,
                    f"time range {reference.time} goes past the end of {where}"
                    f" ({_seconds(duration)} long)",
                    f"use times from 0 to {_seconds(duration)} seconds",
                )
            )
            return None
        return View(reference.alias, canvas, None, region.alt, (start, min(end, duration)))

    def stream(self, reference: Reference) -> tuple[int, str] | None:
        """(canvas number, stream name) when `reference` names a canvas offered only as a
        stream storiiies does not play."""
        result = (
            self.resolved.get(self.sources[reference.alias])
            if (reference.alias in self.sources and reference.alias not in self.failed_aliases)
            else None
        )
        if not isinstance(result, ResolvedSource):
            return None
        document = result.document
        if reference.canvas is None:
            index = document.canvases[0].index
        elif reference.canvas.isdecimal():
            index = int(reference.canvas)
        else:
            canvas = document.canvas_by_id(reference.canvas)
            if canvas is None:
                return None
            index = canvas.index
        stream = document.stream_of(index)
        return (index, stream) if stream is not None else None

    def narration(self, draft: NarrationDraft) -> Narration | None:
        """A local file is only noted here (narration.py reads it); a canvas segment plays
        the canvas's own sound or video, with its captions."""
        if draft.reference is None:
            return Narration("file", draft.target, None, None, location=draft.location)
        stream = self.stream(draft.reference)
        if stream is not None:
            self.problems.append(
                Problem(
                    draft.location,
                    f"canvas {stream[0]} of '{draft.reference.alias}' is offered only as"
                    f" {stream[1]}, which storiiies does not play; the step has no narration",
                    "ask the source's publisher for a file a browser plays (MP4, WebM, MP3, Ogg),"
                    " or narrate the step with a local audio file",
                    "warning",
                )
            )
            return None
        view = self.view(RegionDraft(draft.reference, "", draft.location))
        if view is None or view.time is None:
            return None
        media = view.canvas.media[0]
        start, end = view.time
        captions = view.canvas.captions[0] if view.canvas.captions else None
        return Narration(
            "canvas",
            media.url,
            media.format,
            round(end - start, 3),
            start=start,
            end=end,
            captions=captions.url if captions else None,
            captions_language=captions.language if captions else None,
            location=draft.location,
        )


def _seconds(value: float) -> str:
    return f"{value:g}"


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
        changes["required_statement"] = LabelValue(CREDIT_LABEL, {"none": (credit,)})
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
