"""`storiiies import MANIFEST`: an annotated IIIF manifest → a Markdown story.

Each commenting annotation becomes a step, in the manifest's order (a story manifest's ordered
page, else each canvas's pages in canvas order); consecutive annotations with the same text
become one comparison step. The manifest itself is the story's one source, so every reference
is `source/N#xywh=…` against its own canvases. A story's exported manifest imports back into
the story it came from: its step 0 is the title slide (headed by the story's title), a heading
(`<h2>`, or a first paragraph in bold) opens each step and the annotation label is the region's
text alternative.

Manifests made for the Storiiies viewer give regions in the pixels of the image rather than of
the canvas (the viewer zooms to image pixels), and mark points of interest: regions that
overhang a smaller canvas but fit its image are scaled to the canvas, and a point becomes the
100×100 image-pixel region the viewer zooms to around it. A Sound body is the step's narration,
downloaded beside the story when it is written to a file. What a story cannot keep (a point, a
region outside the canvas, a sound that stays a link) is said at the step, as a Markdown comment
the build ignores, and in the `notes` the command prints.

The manifest is someone else's, so its text only ever becomes text (html_to_markdown.py escapes
what Markdown would read as structure, and headings are one escaped line), and its links and
sounds only web addresses: a relative one is resolved against the manifest's URL (or dropped,
for a manifest read from a file), so no link can reach into the project or out of it.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import yaml

from storiiies.config import CONFIG_NAME
from storiiies.errors import NotIIIF
from storiiies.iiif import content_state
from storiiies.iiif.comments import Comment, read_comments
from storiiies.iiif.fetch import Fetcher
from storiiies.iiif.language import pick
from storiiies.iiif.model import Canvas, SourceDocument
from storiiies.iiif.presentation import read_presentation
from storiiies.iiif.sanitize import to_text, web_url
from storiiies.story.narration import AUDIO_FORMATS
from storiiies.story.parse import clean_story_html
from storiiies.tools.html_to_markdown import html_to_markdown

ALIAS = "source"
#: A step's title: `<h2>` (`<h1>` for a title slide), or a first paragraph all in bold, as a
#: story's manifest writes it (headings are not in the Presentation API's HTML subset).
_HEADING = re.compile(r"^\s*(?:<(h[12])>(.*?)</\1>|<p><(b|strong)>(.*?)</\3></p>)", re.DOTALL)
Box = tuple[float, float, float, float]
#: The side, in image pixels, of the region the Storiiies viewer zooms to around a point.
POINT_SIDE = 100
#: The largest sound file `storiiies import` downloads as a step's narration.
MAX_SOUND_BYTES = 200 * 1024 * 1024


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
    #: what this step could not keep exactly, said at the step
    notes: tuple[str, ...] = ()
    #: the sound link that opens the step's text (a narration), if any
    sound: str | None = None


@dataclass
class ImportResult:
    """The story's Markdown and what it could not keep, one line a step ("step 3: …")."""

    text: str
    notes: list[str] = field(default_factory=list)


def import_story(
    text: str, *, lang: str | None = None, offline: bool = False, cwd: Path | None = None
) -> str:
    """The Markdown story made from the manifest at `text` (a URL or a path)."""
    return import_story_notes(text, lang=lang, offline=offline, cwd=cwd).text


def import_story_notes(
    text: str,
    *,
    lang: str | None = None,
    offline: bool = False,
    cwd: Path | None = None,
    media_dir: Path | None = None,
) -> ImportResult:
    """The story made from the manifest at `text`, with notes on what it could not keep.

    With `media_dir` (a folder beside the story file), sounds are downloaded there and become
    the steps' narration; without it they stay links."""
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
            sounds = _Sounds(fetcher, media_dir, offline)
            image_pixels = _image_pixel_canvases(comments, document)
            steps = list(_steps(comments, document, story_lang, sounds, image_pixels, url))
    result = ImportResult(_markdown(text, document, steps, story_lang))
    for canvas in document.canvases:
        if canvas.id in image_pixels:
            width, height = _image_size(canvas) or (0, 0)
            result.notes.append(
                f"canvas {canvas.index}: regions are given in the pixels of its image "
                f"({width}×{height}), as the Storiiies viewer reads them; "
                f"scaled to the canvas ({canvas.width}×{canvas.height})"
            )
    numbered = steps[1:] if steps and steps[0].title_slide else steps
    if steps and steps[0].title_slide:
        result.notes.extend(f"title slide: {note}" for note in steps[0].notes)
    for number, step in enumerate(numbered, start=1):
        result.notes.extend(f"step {number} ({step.title}): {note}" for note in step.notes)
    return result


class _Sounds:
    """Sound bodies as narration links: downloaded into `folder` when there is one."""

    def __init__(self, fetcher: Fetcher, folder: Path | None, offline: bool) -> None:
        self.fetcher = fetcher
        self.folder = folder
        self.offline = offline
        self.saved: dict[str, str] = {}

    def link(self, url: str) -> tuple[str, str | None]:
        """The link to write for the sound at `url`, and a note when it stays a remote link."""
        if url in self.saved:
            return self.saved[url], None
        name = _sound_name(url)
        if self.folder is None:
            return url, "its sound stays a link: import with -o FILE to keep it as the narration"
        if PurePosixPath(name).suffix.lower() not in AUDIO_FORMATS:
            return url, (
                f"its sound {url} is not a file a narration can be "
                f"({', '.join(AUDIO_FORMATS)}): it stays a link"
            )
        try:
            body = self._download(url)
        except (OSError, ValueError) as error:
            return url, f"its sound {url} could not be downloaded ({error}): it stays a link"
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / name
        stem, n = path.stem, 2
        while path.exists() and path.read_bytes() != body:
            path, n = self.folder / f"{stem}-{n}{path.suffix}", n + 1
        path.write_bytes(body)
        self.saved[url] = f"{self.folder.name}/{path.name}"
        return self.saved[url], None

    def _download(self, url: str) -> bytes:
        if url.startswith("file:"):
            return Path(unquote(urlsplit(url).path)).read_bytes()
        if self.offline:
            raise ValueError("offline")
        import httpx

        try:
            with self.fetcher.client.stream("GET", url) as response:
                if response.status_code != 200:
                    raise ValueError(f"HTTP {response.status_code}")
                body = bytearray()
                for chunk in response.iter_bytes():
                    body.extend(chunk)
                    if len(body) > MAX_SOUND_BYTES:
                        raise ValueError(f"larger than {MAX_SOUND_BYTES // 2**20} MB")
                return bytes(body)
        except httpx.HTTPError as error:
            raise ValueError(str(error) or type(error).__name__) from None


def _sound_name(url: str) -> str:
    name = PurePosixPath(unquote(urlsplit(url).path)).name
    name = re.sub(r"^[0-9a-f]{12}-", "", name)  # a storiiies site's media/ name: the file's own
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-.") or "sound"


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
    comments: list[Comment],
    document: SourceDocument,
    lang: str | None,
    sounds: _Sounds,
    image_pixels: dict[str, tuple[float, float]],
    base: str,
) -> Iterator[ImportedStep]:
    story_title = (pick(document.label, lang) or "").lstrip("\u2060")  # sanitize.text_only
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
        heading_text = to_text(heading.group(2) or heading.group(4)) if heading else ""
        title = heading_text or to_text(first.label or "") or _title_from(body, number)
        rest = body[heading.end() :] if heading else body
        # A story's manifest opens with its title slide, headed by the story's title.
        title_slide = (
            number == 1
            and heading is not None
            and (heading.group(1) == "h1" or heading_text == to_text(story_title))
        )
        notes: list[str] = []
        views = tuple(
            v
            for v in (_view(c, document, title, lang, image_pixels, notes) for c, _ in group)
            if v is not None
        )
        if not views:
            continue
        markdown = html_to_markdown(
            clean_story_html(
                rest.strip(),
                lambda href: href if _is_reference(href, document) else _absolute(href, base),
            ),
            lambda href: _link_target(href, document),
        )
        urls: list[str] = []
        for given in dict.fromkeys(u for c, _ in group for u in c.sounds):
            sound_url = _sound_url(given, base)
            if sound_url is None:
                notes.append(f"its sound {given} was left out: it is not a web address")
            else:
                urls.append(sound_url)
        sound = None
        if urls and title_slide:
            left_out = "was left out: a title slide has no narration"
            notes.extend(f"its sound {u} {left_out}" for u in urls)
        elif urls:
            sound, note = sounds.link(urls[0])
            notes.extend([note] if note else [])
            notes.extend(f"its sound {u} was left out: a step plays one sound" for u in urls[1:])
        yield ImportedStep(title, views, markdown, title_slide, tuple(notes), sound)


def _pick_body(comment: Comment, lang: str | None) -> str:
    by_language = dict(reversed(comment.bodies))
    return pick({k: (v,) for k, v in by_language.items()}, lang) or comment.bodies[0][1]


def _title_from(body: str, number: int) -> str:
    words = to_text(body).split()
    if not words:
        return f"Step {number}"
    return " ".join(words[:8]) + (" …" if len(words) > 8 else "")


def _view(
    comment: Comment,
    document: SourceDocument,
    title: str,
    lang: str | None,
    image_pixels: dict[str, tuple[float, float]],
    notes: list[str],
) -> ImportedView | None:
    canvas = document.canvas_by_id(comment.canvas)
    if canvas is None:
        return None  # a comment on a canvas this manifest does not paint with an image
    region = _clamped(comment, canvas, image_pixels.get(canvas.id), notes)
    alt = to_text(pick(comment.labels, lang) or comment.label or "") or title
    return ImportedView(_reference(canvas, region, document), alt, (canvas.id, region))


def _image_size(canvas: Canvas) -> tuple[int, int] | None:
    image = canvas.images[0] if len(canvas.images) == 1 else None
    if image is None or image.target is not None:
        return None
    width = image.width or (image.service.width if image.service else None)
    height = image.height or (image.service.height if image.service else None)
    return (width, height) if width and height else None


def _image_pixel_canvases(
    comments: list[Comment], document: SourceDocument
) -> dict[str, tuple[float, float]]:
    """The canvases whose comments give regions in image pixels, and the image-to-canvas
    scale of each: those whose regions overhang the canvas more than they overhang its
    (larger or smaller) image, as the Storiiies viewer's manifests do."""
    scales = {}
    for canvas in document.canvases:
        size = _image_size(canvas)
        if size is None or size == (canvas.width, canvas.height) or not canvas.width:
            continue
        boxes = [c.region for c in comments if c.canvas == canvas.id and c.region is not None]
        if boxes and sum(_overhang(b, *size) for b in boxes) < sum(
            _overhang(b, canvas.width, canvas.height) for b in boxes
        ):
            scales[canvas.id] = (canvas.width / size[0], canvas.height / size[1])
    return scales


def _overhang(box: Box, width: float, height: float) -> float:
    """How much of `box` lies outside a width × height rectangle, as a fraction of its area."""
    x, y, w, h = box
    inside = max(0.0, min(x + w, width) - max(x, 0.0)) * max(0.0, min(y + h, height) - max(y, 0.0))
    return 1 - inside / (w * h) if w * h else 1.0


def _numbers(box: Box) -> str:
    return ",".join(f"{n:g}" for n in box)


def _clamped(
    comment: Comment, canvas: Canvas, scale: tuple[float, float] | None, notes: list[str]
) -> Box | None:
    sx, sy = scale or (1.0, 1.0)
    if comment.point is not None and comment.region is None:
        x, y = comment.point
        side = POINT_SIDE * sx  # the viewer's box: image pixels, kept inside the top-left edges
        region: Box = (max(0.0, x - side / 2), max(0.0, y - side / 2), side, side)
        notes.append(
            f"the point of interest at {x:g},{y:g} is shown as the region the Storiiies viewer "
            "zooms to around it (a story has no points)"
        )
    elif comment.region is not None:
        x, y, w, h = comment.region
        region = (x * sx, y * sy, w * sx, h * sy)
    else:
        return None
    x, y, w, h = region
    left, top = max(0.0, x), max(0.0, y)
    right, bottom = min(float(canvas.width), x + w), min(float(canvas.height), y + h)
    if right <= left or bottom <= top:
        notes.append(
            f"the region {_numbers(comment.region or region)} lies outside the canvas "
            f"({canvas.width}×{canvas.height}): the step shows the whole canvas"
        )
        return None
    box = (round(left), round(top), round(right - left), round(bottom - top))
    whole = box == (0, 0, canvas.width, canvas.height)
    if (left, top, right, bottom) != (x, y, x + w, y + h):
        given = comment.region or (round(x), round(y), round(w), round(h))
        kept = "the whole canvas" if whole else _numbers(box)
        notes.append(
            f"the region {_numbers(given)} reaches outside the canvas "
            f"({canvas.width}×{canvas.height}): cut to {kept}"
        )
    return None if whole else box


def _reference(canvas: Canvas, region: Box | None, document: SourceDocument) -> str:
    reference = ALIAS if len(document.canvases) == 1 else f"{ALIAS}/{canvas.index}"
    if region is not None:
        reference += "#xywh=" + ",".join(str(round(n)) for n in region)
    return reference


def _absolute(url: str, base: str) -> str | None:
    """A relative URL in the manifest as a web address, resolved against the manifest's; None
    for a manifest read from a file, whose neighbours are not the story's."""
    if not base.startswith(("http://", "https://")):
        return None
    try:
        return web_url(urljoin(base, url))
    except ValueError:
        return None


def _sound_url(url: str, base: str) -> str | None:
    """Where to fetch a Sound body from: the web, or beside a manifest read from a file."""
    if base.startswith("file:") and urlsplit(url).scheme in ("", "file"):
        return urljoin(base, url)
    return web_url(url) or _absolute(url, base)


def _is_reference(href: str, document: SourceDocument) -> bool:
    return _reference_of_link(href, document) != href


def _link_target(href: str, document: SourceDocument) -> str:
    """A region link's reference, a web or mail address as it is, else "" (the words stay)."""
    reference = _reference_of_link(href, document)
    if reference != href:
        return reference
    return web_url(href, ("http", "https", "mailto")) or ""


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
        intro = "".join(f"<!-- import: {_comment(n)} -->\n" for n in title_slide.notes)
        intro += ("\n" if intro else "") + title_slide.markdown
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
        lines = [f"## {_heading(step.title)}\n"]
        if boxes != previous:  # the same regions as the step before: the view stays
            lines.append("".join(f"![{_alt(view.alt)}]({view.reference})\n" for view in step.views))
        previous = boxes
        if step.notes:
            lines.append("".join(f"<!-- import: {_comment(n)} -->\n" for n in step.notes))
        if step.sound:
            lines.append(f"[Listen to this step]({_destination(step.sound)})\n")
        if step.markdown.strip():
            lines.append(step.markdown)
        parts.append("\n".join(lines))
    return "\n".join(parts)


def _destination(url: str) -> str:
    return f"<{url}>" if re.search(r"[\s()<>]", url) else url


def _comment(text: str) -> str:
    return " ".join(text.replace("--", "–").split())


def _heading(text: str) -> str:
    """A step title as the text of one `## ` line: on one line, its Markdown escaped, and a
    closing run of `#` kept (Markdown would drop it)."""
    text = re.sub(r"([\\`*_\[\]<]|&(?=#?\w+;))", r"\\\1", " ".join(text.split()))
    return re.sub(r"(#+)$", r"\\\1", text)


def _alt(text: str) -> str:
    return re.sub(r"([\\\[\]])", r"\\\1", " ".join(text.split()))
