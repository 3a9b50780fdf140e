"""`storiiies import MANIFEST`: an annotated IIIF manifest → a Markdown story.

Each commenting annotation becomes a step, in the manifest's order (a story manifest's ordered
page, else each canvas's pages in canvas order); consecutive annotations with the same text
become one comparison step. The manifest itself is the story's one source, so every reference
is `source/N#xywh=…` against its own canvases. A story's exported manifest imports back into
the story it came from: its step 0 is the title slide, `<h2>` opens each step and the
annotation label is the region's text alternative.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from storiiies.config import CONFIG_NAME
from storiiies.errors import NotIIIF
from storiiies.iiif import content_state
from storiiies.iiif.comments import Comment, read_comments
from storiiies.iiif.fetch import Fetcher
from storiiies.iiif.language import pick
from storiiies.iiif.model import Canvas, SourceDocument
from storiiies.iiif.presentation import read_presentation
from storiiies.iiif.sanitize import to_text
from storiiies.story.parse import clean_story_html
from storiiies.tools.html_to_markdown import html_to_markdown

ALIAS = "source"
_HEADING = re.compile(r"^\s*<(h[12])>(.*?)</\1>", re.DOTALL)
Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class ImportedView:
    reference: str
    alt: str
    box: tuple[str, Box | None]  # canvas id and region, to tell steps that keep the view


@dataclass(frozen=True)
class ImportedStep:
    title: str
    views: tuple[ImportedView, ...]
    markdown: str
    title_slide: bool


def import_story(
    text: str, *, lang: str | None = None, offline: bool = False, cwd: Path | None = None
) -> str:
    """The Markdown story made from the manifest at `text` (a URL or a path)."""
    root = (cwd or Path.cwd()).resolve()
    with tempfile.TemporaryDirectory() as scratch:
        cache = root / ".storiiies-cache" if (root / CONFIG_NAME).is_file() else Path(scratch)
        with Fetcher(cache, offline=offline) as fetcher:
            data, url = _load(text, fetcher, root)
            document = read_presentation(data, url)
            comments, warnings = read_comments(data, lambda page: fetcher.get_json(page).data)
    if not comments:
        raise NotIIIF(
            "the manifest has no commenting annotations to make steps of",
            "; ".join(warnings)
            or "`storiiies import` needs a manifest whose canvases carry comments",
        )
    story_lang = lang or _body_language(comments)
    steps = list(_steps(comments, document, story_lang))
    return _markdown(text, document, steps, story_lang)


def _load(text: str, fetcher: Fetcher, root: Path) -> tuple[Any, str]:
    if text.startswith(("http://", "https://")):
        return fetcher.get_json(text).data, text
    path = (root / text).resolve()
    try:
        return json.loads(path.read_text(encoding="utf-8-sig")), path.as_uri()
    except OSError as exc:
        raise NotIIIF(
            f"cannot read {text}: {exc.strerror}",
            "give a manifest URL or a path to a manifest file",
        ) from None
    except ValueError as exc:
        raise NotIIIF(f"{text} is not readable JSON ({exc})") from None


def _body_language(comments: list[Comment]) -> str | None:
    for comment in comments:
        for language, _ in comment.bodies:
            if language != "none":
                return language
    return None


def _steps(
    comments: list[Comment], document: SourceDocument, lang: str | None
) -> Iterator[ImportedStep]:
    groups: list[list[tuple[Comment, str]]] = []
    for comment in comments:
        body = _pick_body(comment, lang)
        if (
            groups
            and groups[-1][0][1] == body
            and groups[-1][0][0].motivation == comment.motivation
        ):
            groups[-1].append((comment, body))  # the same text on several regions: a comparison
        else:
            groups.append([(comment, body)])
    for number, group in enumerate(groups, start=1):
        first, body = group[0]
        heading = _HEADING.match(body)
        title = (
            to_text(heading.group(2))
            if heading
            else (to_text(first.label or "") or _title_from(body, number))
        )
        rest = body[heading.end() :] if heading else body
        title_slide = number == 1 and heading is not None and heading.group(1) == "h1"
        views = tuple(
            v for v in (_view(c, document, title, lang) for c, _ in group) if v is not None
        )
        if not views:
            continue
        markdown = html_to_markdown(
            clean_story_html(rest.strip()), lambda href: _reference_of_link(href, document)
        )
        yield ImportedStep(title, views, markdown, title_slide)


def _pick_body(comment: Comment, lang: str | None) -> str:
    by_language = dict(reversed(comment.bodies))
    return pick({k: (v,) for k, v in by_language.items()}, lang) or comment.bodies[0][1]


def _title_from(body: str, number: int) -> str:
    words = to_text(body).split()
    if not words:
        return f"Step {number}"
    return " ".join(words[:8]) + (" …" if len(words) > 8 else "")


def _view(
    comment: Comment, document: SourceDocument, title: str, lang: str | None = None
) -> ImportedView | None:
    canvas = document.canvas_by_id(comment.canvas)
    if canvas is None:
        return None  # a comment on a canvas this manifest does not paint with an image
    region = _clamped(comment, canvas)
    alt = to_text(pick(comment.labels, lang) or comment.label or "") or title
    return ImportedView(_reference(canvas, region, document), alt, (canvas.id, region))


def _clamped(comment: Comment, canvas: Canvas) -> Box | None:
    if comment.point is not None and comment.region is None:
        side = min(canvas.width, canvas.height) / 8  # a point of interest: a detail around it
        x, y = comment.point
        region: Box = (x - side / 2, y - side / 2, side, side)
    elif comment.region is not None:
        region = comment.region
    else:
        return None
    x, y, w, h = region
    left, top = max(0.0, x), max(0.0, y)
    right, bottom = min(float(canvas.width), x + w), min(float(canvas.height), y + h)
    if right <= left or bottom <= top:
        return None
    box = (round(left), round(top), round(right - left), round(bottom - top))
    return None if box == (0, 0, canvas.width, canvas.height) else box


def _reference(canvas: Canvas, region: Box | None, document: SourceDocument) -> str:
    reference = ALIAS if len(document.canvases) == 1 else f"{ALIAS}/{canvas.index}"
    if region is not None:
        reference += "#xywh=" + ",".join(str(round(n)) for n in region)
    return reference


def _reference_of_link(href: str, document: SourceDocument) -> str:
    """A link that opens a tour at a region (an exported in-step link) → that region's reference."""
    if "iiif-content=" not in href:
        return href
    try:
        places = content_state.read_places(content_state.parse_text(href.split("#", 1)[0]))
    except content_state.ContentStateError:
        return href
    canvas = document.canvas_by_id(places[0].canvas or "") if places else None
    if canvas is None:
        return href
    region = places[0].region
    full = region == (0, 0, canvas.width, canvas.height)
    if full or region is None:
        return _reference(canvas, None, document)
    x, y, w, h = (float(n) for n in region)
    return _reference(canvas, (x, y, w, h), document)


def _markdown(
    source: str, document: SourceDocument, steps: list[ImportedStep], lang: str | None
) -> str:
    meta: dict[str, Any] = {"title": pick(document.label, lang) or "Imported story"}
    summary = to_text(pick(document.summary, lang))
    if summary:
        meta["summary"] = summary
    if lang and lang != "none":
        meta["lang"] = lang
    meta["sources"] = {ALIAS: source}
    intro = ""
    if steps and steps[0].title_slide:
        title_slide, steps = steps[0], steps[1:]
        intro = title_slide.markdown
        first_canvas = next((s.views[0].box[0] for s in steps if s.views), None)
        cover = title_slide.views[0]
        if cover.box != (first_canvas, None):
            meta["cover"] = cover.reference
    parts = [
        "---\n" + yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=1000) + "---\n"
    ]
    if intro.strip():
        parts.append(intro)
    previous: tuple[tuple[str, Box | None], ...] = ()
    for step in steps:
        boxes = tuple(view.box for view in step.views)
        lines = [f"## {step.title}\n"]
        if boxes != previous:  # the same regions as the step before: the view stays
            lines.append("".join(f"![{_alt(view.alt)}]({view.reference})\n" for view in step.views))
        previous = boxes
        if step.markdown.strip():
            lines.append(step.markdown)
        parts.append("\n".join(lines))
    return "\n".join(parts)


def _alt(text: str) -> str:
    return re.sub(r"([\\\[\]])", r"\\\1", " ".join(text.split()))
