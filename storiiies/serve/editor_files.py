"""What `serve --edit` reads from and writes to the project (the endpoints are editor.py).

Story files are read as steps and saved through story_write (minimal change, atomic, refused if
the file changed on disk since it was read); new stories are made only from a source that
resolves as a build would resolve it; uploads are typed by their first bytes and appear whole,
never over another file. Paths are checked here: `stories/NAME.md` and `images/NAME.EXT` only.
"""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from storiiies.atomic import create_new
from storiiies.config import load_config
from storiiies.errors import BuildFailed, SourceError
from storiiies.iiif.fetch import Fetcher
from storiiies.iiif.model import Canvas, SourceDocument
from storiiies.resolve.sources import resolve_sources, source_key
from storiiies.serve.guard import WriteGuard
from storiiies.serve.state import Preview
from storiiies.serve.story_edit import EditRefused
from storiiies.serve.story_write import (
    Region,
    SaveConflict,
    Step,
    StepEdit,
    StoryFile,
    create_story,
    read_story_file,
    region_markdown,
    save_story,
    write_steps,
)
from storiiies.story.frontmatter import SourceSpec
from storiiies.story.parse import make_markdown, slugify

THUMBNAIL_WIDTH = 200
#: What the first bytes of an upload must be, and the suffix its file gets.
IMAGE_SIGNATURES = (
    (b"\xff\xd8\xff", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", ".png"),
    (b"II*\x00", ".tif"),
    (b"MM\x00*", ".tif"),
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n", ".jp2"),
    (b"\xff\x4f\xff\x51", ".j2k"),
)
ALT_HINT = (
    "describe what the region shows for someone who cannot see it, in a short sentence:"
    " what is there, not 'image of' (for example 'A helmeted head facing right')"
)
_FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,120}$")
_LANGUAGE = re.compile(r"^(?P<stem>.+)\.(?P<lang>[a-z]{2,3}(?:-[A-Za-z0-9]+)?)$")
_MD = make_markdown()


class Invalid(EditRefused):
    """A request the editor understood but cannot write (422): `hint` says what to do."""

    def __init__(self, message: str, hint: str = "", step: int | None = None) -> None:
        super().__init__(message)
        self.hint = hint
        self.step = step


@dataclass
class EditorState:
    preview: Preview
    guard: WriteGuard

    @property
    def project(self) -> Path:
        return self.preview.project


# --- paths ------------------------------------------------------------------------------------


def story_path(editor: EditorState, file: str) -> Path:
    """The story file `stories/NAME.md`, never anything outside `stories/`."""
    refused = EditRefused(f"'{file}' is not a story file of this project (stories/NAME.md)")
    parts = file.split("/")
    if len(parts) != 2 or parts[0] != "stories" or not _FILE_NAME.match(parts[1]):
        raise refused
    if not parts[1].endswith(".md") or ".." in parts[1]:
        raise refused
    folder = (editor.project / "stories").resolve()
    path = folder / parts[1]
    if path.is_symlink() or path.resolve().parent != folder:
        raise refused
    return path


def image_suffix(data: bytes) -> str:
    """The file suffix of an upload, from its first bytes; Invalid if it is no image we take."""
    for signature, suffix in IMAGE_SIGNATURES:
        if data.startswith(signature):
            return suffix
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return ".webp"
    raise Invalid(
        "this file is not a JPEG, PNG, TIFF, WebP or JPEG 2000 image",
        "export the image in one of these formats and upload it again",
    )


# --- reading ----------------------------------------------------------------------------------


def story_list(editor: EditorState) -> list[dict[str, Any]]:
    found = []
    for path in sorted((editor.project / "stories").glob("*.md")):
        if not _FILE_NAME.match(path.name) or path.is_symlink():
            continue
        title = path.stem
        with contextlib.suppress(OSError, UnicodeDecodeError):  # the build reports it
            title = str(_front_matter(path.read_text(encoding="utf-8-sig")).get("title") or title)
        found.append({"file": f"stories/{path.name}", "title": title})
    return found


def _front_matter(text: str) -> dict[str, Any]:
    for token in _MD.parse(text):
        if token.type == "front_matter":
            try:
                data = yaml.safe_load(token.content)
            except yaml.YAMLError:
                return {}
            return data if isinstance(data, dict) else {}
    return {}


def _original(path: Path) -> Path | None:
    """The original of a translation (`coins.fr.md` → `coins.md`), if there is one."""
    match = _LANGUAGE.match(path.stem)
    original = path.with_name(f"{match['stem']}.md") if match else None
    return original if original is not None and original.is_file() else None


def _read(path: Path) -> StoryFile:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise EditRefused(f"{path.name} is not in stories/ any more") from None
    original = _original(path)
    if original is None:
        return read_story_file(raw)
    # A translation may use its original's sources as well as its own.
    own = read_story_file(raw).aliases
    return read_story_file(raw, own | read_story_file(original.read_bytes()).aliases)


def story_data(editor: EditorState, path: Path) -> dict[str, Any]:
    story_file = _read(path)
    name = f"stories/{path.name}"
    snapshot = editor.preview.snapshot
    versions = snapshot.site.story_versions if snapshot.site else ()
    shown = next((s for s in versions if s.source.name == name), None)
    problems: list[list[dict[str, Any]]] = [[] for _ in story_file.blocks]
    general: list[dict[str, Any]] = []
    for problem in snapshot.problems:
        if problem.location.path != name:
            continue
        item = {
            "location": str(problem.location),
            "severity": problem.severity,
            "message": problem.message,
            "hint": problem.hint,
        }
        line = problem.location.line or 0
        index = next(
            (i for i, (first, last) in enumerate(story_file.block_lines) if first <= line <= last),
            -1,
        )
        (problems[index] if index >= 0 else general).append(item)
    original = _original(path)
    return {
        "file": name,
        "version": story_file.version,
        "mtime_ns": path.stat().st_mtime_ns,
        "title": str(_front_matter(story_file.raw.decode("utf-8-sig")).get("title") or ""),
        "tour": f"{shown.slug}/" if shown is not None else None,
        "sources": sorted(story_file.aliases),
        "steps": [
            {**_step_data(step), "origin": i, "lines": list(lines), "problems": problems[i]}
            for i, (step, lines) in enumerate(
                zip(story_file.steps, story_file.block_lines, strict=True)
            )
        ],
        "problems": general,
        "original": [_step_data(s) for s in _read(original).steps] if original else None,
    }


def _step_data(step: Step) -> dict[str, Any]:
    return {
        "heading": step.heading,
        "regions": [{"alt": r.alt, "target": r.target} for r in step.regions],
        "text": step.text,
    }


def canvas_list(editor: EditorState, path: Path) -> list[dict[str, Any]]:
    """Each source of the story as the preview resolved it: its canvases with a thumbnail."""
    snapshot = editor.preview.snapshot
    versions = snapshot.site.story_versions if snapshot.site else ()
    shown = next((s for s in versions if s.source.name == f"stories/{path.name}"), None)
    if shown is None:
        return []
    return [
        {
            "alias": alias,
            "canvases": [
                {
                    "ref": f"{alias}/{canvas.index}",
                    "index": canvas.index,
                    "label": _label(canvas) or f"{alias} {canvas.index}",
                    "width": canvas.width,
                    "height": canvas.height,
                    "thumbnail": thumbnail_url(document, canvas),
                }
                for canvas in document.canvases
            ],
        }
        for alias, document in shown.sources.items()
    ]


def _label(canvas: Canvas) -> str:
    for values in canvas.label.values():
        if values:
            return str(values[0])
    return ""


def thumbnail_url(document: SourceDocument, canvas: Canvas) -> str | None:
    """A small image of the canvas: its own thumbnail, or one from its image service (a local
    image's comes from the preview's own Image API, /iiif/3/NAME)."""
    if canvas.thumbnail:
        return canvas.thumbnail
    image = canvas.images[0] if canvas.images else None
    if image is None:
        return None
    if image.service is not None:
        service = image.service.id.rstrip("/")
        if document.kind == "local-image" or not service.startswith(("http://", "https://")):
            service = "/iiif/3/" + service.rsplit("/", 1)[-1]
        return f"{service}/full/{THUMBNAIL_WIDTH},/0/default.jpg"
    return image.url


# --- writing ----------------------------------------------------------------------------------


def step_edit(item: dict[str, Any]) -> StepEdit:
    origin = item.get("origin")
    if origin is not None and (not isinstance(origin, int) or isinstance(origin, bool)):
        raise TypeError("origin")
    regions = tuple(Region(str(r["alt"]), str(r["target"])) for r in item["regions"])
    return StepEdit(origin, Step(str(item["heading"]), regions, str(item["text"])))


def save_steps(path: Path, version: str, edits: list[StepEdit]) -> dict[str, Any]:
    story_file = _read(path)
    if story_file.version != version:
        raise SaveConflict(
            f"{path.name} changed on disk since the editor opened it; reload it to see"
            " the new version (your unsaved changes are shown beside it)"
        )
    for number, edit in enumerate(edits, start=1):
        for region in edit.step.regions:
            if not region.alt.strip():
                raise Invalid(
                    f"a region of step {number} ('{edit.step.heading.strip()}') has no text"
                    " alternative",
                    ALT_HINT,
                    number,
                )
    content = write_steps(story_file, edits)
    if content != story_file.raw:
        save_story(path, story_file.raw, content)
    return {
        "file": f"stories/{path.name}",
        "version": read_story_file(content).version,
        "changed": content != story_file.raw,
    }


def new_story_file(
    editor: EditorState, title: str, summary: str, source: str, alt: str
) -> dict[str, Any]:
    if not title:
        raise Invalid("a new story needs a title", "a few words: it is the story's heading")
    if not source:
        raise Invalid(
            "a new story needs a source",
            "paste a manifest, canvas, image or info.json address or a content state,"
            " or upload an image",
        )
    if not alt:
        raise Invalid("the whole image needs a text alternative", ALT_HINT)
    if "\n" in title + summary + source + alt:
        raise Invalid("the title, summary, source and text alternative must each be one line")
    path = (editor.project / "stories").resolve() / f"{slugify(title)}.md"
    if path.exists():
        raise Invalid(f"{path.name} already exists", "choose another title")
    _check_source(editor, source)
    lines = ["---", f"title: {_yaml_text(title)}"]
    if summary:
        lines.append(f"summary: {_yaml_text(summary)}")
    lines += ["sources:", f"  image: {_yaml_text(source)}", "---", ""]
    lines += [f"## {title}", "", region_markdown(Region(alt, "image")), ""]
    path.parent.mkdir(exist_ok=True)
    create_story(path, "\n".join(lines).encode("utf-8"))
    return {"file": f"stories/{path.name}"}


def _check_source(editor: EditorState, source: str) -> None:
    """Resolve the source as a build would, so a story is only made from one that works."""
    try:
        config = load_config(editor.project)
    except BuildFailed:
        raise Invalid(
            "storiiies.yml has a problem; fix it first", "the preview page lists it"
        ) from None
    root = config.root
    key = source_key(SourceSpec(url=source), root / "stories", root)
    fetcher = Fetcher(config.cache_dir, offline=editor.preview.offline)
    result = resolve_sources([key], fetcher, root=root, base_url="")[key]
    if isinstance(result, SourceError):
        raise Invalid(f"the source cannot be used: {result.message}", result.hint or "")


def _yaml_text(value: str) -> str:
    """`value` as a person writes it in front matter: plain when YAML reads it back the same,
    else in double quotes."""
    try:
        plain = yaml.safe_load(f"key: {value}")
    except yaml.YAMLError:
        plain = None
    if isinstance(plain, dict) and plain.get("key") == value and " #" not in value:
        return value
    return json.dumps(value, ensure_ascii=False)


def write_image(editor: EditorState, name: str, suffix: str, data: bytes) -> Path:
    """`images/<name>` with the suffix of its real type, never over another file: a name
    already taken gets `-2`, `-3`... The file appears whole (a hard link of a finished
    temporary file, which fails rather than replace a file of that name)."""
    stem = slugify(Path(name).stem) if name else "image"
    folder = (editor.project / "images").resolve()
    folder.mkdir(exist_ok=True)
    names = (
        folder / (f"{stem}{suffix}" if number == 1 else f"{stem}-{number}{suffix}")
        for number in range(1, 1000)
    )
    target = create_new(names, data)
    if target is not None:
        return target
    raise Invalid(f"too many images named {stem}", "rename the file and upload it again")
