"""The editor's write path: a story file as steps, and new steps written back with minimal changes.

`read_story_file(raw)` splits a story into its head (front matter and title slide, never
touched) and its steps. Each step is a heading, its *region lines* (a line that is only a region
image, `![alt](coins#xywh=1,2,3,4)`) and its text (every other line, blank lines at either end
left out). `write_steps(story, edits)` writes a new list of steps back:

- a step that is unchanged and keeps its place is copied byte for byte, so opening and saving
  without a change gives the same file;
- a changed step keeps every line that did not change: a new heading keeps the `##` style
  (closing hashes, setext underline), a changed region replaces only its own line, and a new text
  is applied as a line diff, so comments, HTML and anything the editor does not know stay;
- the blank lines between steps stay with the position, and the file keeps its byte-order
  mark and line endings (a new line gets the file's own).

`save_story(path, loaded, content)` replaces the file atomically (a temporary sibling, fsynced,
renamed over it), and only if it still holds the bytes the editor loaded: otherwise it raises
`SaveConflict` and writes nothing.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml
from markdown_it.token import Token

from storiiies.atomic import create_new, replacing, write_durably
from storiiies.serve.story_edit import EditRefused, escape_alt
from storiiies.story.parse import make_markdown
from storiiies.story.references import ReferenceSyntaxError, looks_like_reference, parse_reference

_MD = make_markdown()
# A whole line that is one Markdown image: `![alt](target)`, the alt with backslash escapes.
_REGION_LINE = re.compile(
    r"^ {0,3}!\[(?P<alt>(?:[^\[\]\\]|\\.)*)\]\((?P<target>[^\s()<>]+)\)[ \t]*$"
)
_ATX = re.compile(r"^(?P<open> {0,3}##(?:[ \t]+|$))(?P<text>.*?)(?P<close>(?:[ \t]+#+)?[ \t]*)$")
_UNESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
_BLOCK_CODE = {"fence", "code_block", "html_block"}
_lock = threading.Lock()  # one save at a time from this process


class SaveConflict(EditRefused):
    """The file on disk is not the one the editor loaded."""


@dataclass(frozen=True)
class Region:
    alt: str  # as shown to the author: backslash escapes undone
    target: str  # `coins/2#xywh=10,20,30,40`


@dataclass(frozen=True)
class Step:
    heading: str
    regions: tuple[Region, ...]
    text: str


@dataclass(frozen=True)
class StepEdit:
    """A step as the editor sends it back: `origin` is its index in the loaded file, None for
    a new step."""

    origin: int | None
    step: Step


@dataclass(frozen=True)
class _Block:
    lines: tuple[str, ...]  # the heading's first line to the last non-blank line
    heading_lines: int  # 1 for `## Title`, 2 or more for a setext heading
    region_lines: tuple[int, ...]  # indexes into `lines`
    text_lines: tuple[int, ...]  # indexes into `lines`, blank lines at either end left out
    step: Step


@dataclass(frozen=True)
class StoryFile:
    raw: bytes
    bom: bool
    crlf: bool
    head: tuple[str, ...]  # front matter and title slide, without the blank lines after it
    blocks: tuple[_Block, ...]
    gaps: tuple[tuple[str, ...], ...]  # blank lines after the head and after each step
    aliases: frozenset[str]
    block_lines: tuple[tuple[int, int], ...] = ()  # each step's first and last line, 1-based

    @property
    def steps(self) -> tuple[Step, ...]:
        return tuple(block.step for block in self.blocks)

    @property
    def version(self) -> str:
        return version_of(self.raw)


def version_of(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def read_story_file(raw: bytes, aliases: Iterable[str] | None = None) -> StoryFile:
    """The steps of a story file. `aliases` are the sources its regions may name (a
    translation's are its original's); by default those of its own front matter."""
    bom = raw.startswith(b"\xef\xbb\xbf")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise EditRefused("the story file is not UTF-8 text any more") from None
    lines = text.split("\n")  # each line keeps its "\r": a file with mixed endings stays so
    # markdown-it also ends a line at a lone "\r": blank it out so its lines are these lines.
    tokens = _MD.parse(text.replace("\r", " "))
    known = frozenset(aliases) if aliases is not None else _front_matter_aliases(tokens)
    code = _lines_of(t for t in tokens if t.type in _BLOCK_CODE)
    paragraphs = _lines_of(t for t in tokens if t.type == "paragraph_open" and t.level == 0)
    starts = [
        (t.map[0], t.map[1])
        for t in tokens
        if t.type == "heading_open" and t.tag == "h2" and t.level == 0 and t.map
    ]
    bounds = [start for start, _ in starts] + [len(lines)]
    head, head_gap = _trailing_blanks(lines[: bounds[0]])
    blocks = []
    gaps = [head_gap]
    block_lines = []
    for (start, heading_end), end in zip(starts, bounds[1:], strict=True):
        content, gap = _trailing_blanks(lines[start:end])
        regions = tuple(
            i
            for i in range(heading_end - start, len(content))
            if start + i in paragraphs
            and start + i not in code
            and _region(content[i], known) is not None
        )
        blocks.append(_block(tuple(content), heading_end - start, regions, known))
        gaps.append(gap)
        block_lines.append((start + 1, start + len(content)))
    return StoryFile(
        raw,
        bom,
        "\r\n" in text,
        tuple(head),
        tuple(blocks),
        tuple(gaps),
        known,
        tuple(block_lines),
    )


def write_steps(story: StoryFile, edits: Sequence[StepEdit]) -> bytes:
    """The file with `edits` as its steps, changing as few lines as it can."""
    for number, edit in enumerate(edits, start=1):
        known = edit.origin is not None and 0 <= edit.origin < len(story.blocks)
        if not known or edit.step != story.blocks[edit.origin].step:  # type: ignore[index]
            _validate(number, edit.step, story.aliases)  # what was there already, check reports
    newline_tail = "\r" if story.crlf else ""
    out: list[str] = list(story.head)
    last = len(story.blocks)
    for position, edit in enumerate(edits):
        out.extend(_gap(story, position, newline_tail))
        if edit.origin is None:
            block = _new_block(edit.step)
            out.extend(line + newline_tail for line in block)
            continue
        if not 0 <= edit.origin < last:
            raise EditRefused("this story or step is not in the preview any more; reload the page")
        original = story.blocks[edit.origin]
        lines = list(_edited_block(original, edit.step, newline_tail))
        moved_last = edit.origin == last - 1 and position != len(edits) - 1
        if story.crlf and moved_last and lines and not lines[-1].endswith("\r"):
            lines[-1] += "\r"  # the file's last line had no line ending: it needs one now
        out.extend(lines)
    out.extend(story.gaps[-1] if story.blocks or not edits else ("",))
    text = "\n".join(out)
    return (b"\xef\xbb\xbf" if story.bom else b"") + text.encode("utf-8")


def save_story(path: Path, loaded: bytes, content: bytes) -> None:
    """Replace `path` with `content` in one step, if it still holds `loaded`; else SaveConflict.
    The file keeps its permissions; the rename is made durable before this returns."""
    with _lock:
        try:
            current = path.read_bytes()
        except FileNotFoundError:
            current = None
        if current != loaded:
            raise SaveConflict(
                f"{path.name} changed on disk since the editor opened it; reload it to see"
                " the new version (your unsaved changes are shown beside it)"
            )
        with replacing(path) as temporary:
            write_durably(temporary, content, mode_of=path)
            if path.read_bytes() != loaded:  # saved by another program while this one wrote
                raise SaveConflict(
                    f"{path.name} changed on disk while it was being saved; reload it"
                    " and save again"
                )
        _sync_folder(path.parent)


def create_story(path: Path, content: bytes) -> None:
    """Write a new story file; never over an existing one."""
    with _lock:
        if create_new([path], content) is None:
            raise EditRefused(f"{path.name} already exists; choose another file name")
        _sync_folder(path.parent)


def region_markdown(region: Region) -> str:
    """`![alt](target)` as a person writes it, the alt escaped to stay one Markdown image."""
    return f"![{escape_alt(region.alt)}]({region.target})"


# --- reading ----------------------------------------------------------------------------------


def _front_matter_aliases(tokens: list[Token]) -> frozenset[str]:
    front = next((t for t in tokens if t.type == "front_matter"), None)
    if front is None:
        return frozenset()
    try:
        data = yaml.safe_load(front.content)
    except yaml.YAMLError:
        return frozenset()
    sources = data.get("sources") if isinstance(data, dict) else None
    return frozenset(str(key) for key in sources) if isinstance(sources, dict) else frozenset()


def _lines_of(tokens: Iterable[Token]) -> set[int]:
    return {line for token in tokens if token.map for line in range(*token.map)}


def _trailing_blanks(lines: Sequence[str]) -> tuple[list[str], tuple[str, ...]]:
    end = len(lines)
    while end and not lines[end - 1].strip():
        end -= 1
    return list(lines[:end]), tuple(lines[end:])


def _region(line: str, aliases: frozenset[str]) -> Region | None:
    match = _REGION_LINE.match(line.rstrip("\r"))
    if match is None or not looks_like_reference(match["target"], set(aliases)):
        return None
    return Region(_UNESCAPE.sub(r"\1", match["alt"]), match["target"])


def _block(
    lines: tuple[str, ...], heading_lines: int, regions: tuple[int, ...], aliases: frozenset[str]
) -> _Block:
    text_lines = [i for i in range(heading_lines, len(lines)) if i not in regions]
    while text_lines and not lines[text_lines[0]].strip():
        del text_lines[0]
    while text_lines and not lines[text_lines[-1]].strip():
        del text_lines[-1]
    step = Step(
        _heading_text(lines, heading_lines),
        tuple(r for r in (_region(lines[i], aliases) for i in regions) if r is not None),
        "\n".join(lines[i].rstrip("\r") for i in text_lines),
    )
    return _Block(lines, heading_lines, regions, tuple(text_lines), step)


def _heading_text(lines: Sequence[str], heading_lines: int) -> str:
    if heading_lines == 1:
        match = _ATX.match(lines[0].rstrip("\r"))
        return match["text"] if match else lines[0].strip()
    return " ".join(line.strip() for line in lines[: heading_lines - 1])


# --- writing ----------------------------------------------------------------------------------


def _validate(number: int, step: Step, aliases: frozenset[str]) -> None:
    if not step.heading.strip():
        raise EditRefused(f"step {number} has no heading; give it a short title")
    if "\n" in step.heading or "\r" in step.heading:
        raise EditRefused(f"the heading of step {number} must be one line")
    for region in step.regions:
        if not region.alt.strip():
            raise EditRefused(
                f"a region of step {number} has no text alternative; describe what it shows"
            )
        try:
            reference = parse_reference(region.target)
        except ReferenceSyntaxError as error:
            raise EditRefused(f"step {number}: {error.message}") from None
        if aliases and reference.alias not in aliases:
            raise EditRefused(f"step {number}: unknown source '{reference.alias}'")
    for token in _MD.parse(step.text):
        if token.type == "heading_open" and token.tag == "h2" and token.level == 0:
            raise EditRefused(
                f"the text of step {number} has a `##` heading, which would start a new step;"
                " add a step instead, or use `###`"
            )


def _gap(story: StoryFile, position: int, newline_tail: str) -> tuple[str, ...]:
    """The blank lines before the step at `position`: those the file had there."""
    if position < len(story.blocks):
        return story.gaps[position]
    return (newline_tail,)


def _new_block(step: Step) -> list[str]:
    lines = [f"## {step.heading.strip()}"]
    if step.regions:
        lines.append("")
        lines.extend(region_markdown(region) for region in step.regions)
    text = _text_lines(step.text)
    if text:
        lines.append("")
        lines.extend(text)
    return lines


def _text_lines(text: str) -> list[str]:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    while lines and not lines[0].strip():
        del lines[0]
    while lines and not lines[-1].strip():
        del lines[-1]
    return lines


def _edited_block(block: _Block, step: Step, newline_tail: str) -> list[str]:
    if step == block.step:
        return list(block.lines)
    lines: list[str | None] = list(block.lines)  # None: removed
    # New lines to put before or after a line of the block, or at its end: (line, is text).
    before: dict[int, list[tuple[str, bool]]] = {}
    after: dict[int, list[tuple[str, bool]]] = {}
    tail: list[tuple[str, bool]] = []

    def new(text: str) -> str:
        return text + newline_tail

    # The heading keeps its style.
    if step.heading != block.step.heading:
        if block.heading_lines == 1:
            match = _ATX.match(block.lines[0].rstrip("\r"))
            opening, closing = (match["open"], match["close"]) if match else ("## ", "")
            if not opening.endswith((" ", "\t")):
                opening += " "
            lines[0] = new(opening + step.heading.strip() + closing)
        else:
            lines[0] = new(step.heading.strip())
            for i in range(1, block.heading_lines - 1):
                lines[i] = None

    # Regions: each changed one replaces its own line.
    old_regions = block.step.regions
    matcher = difflib.SequenceMatcher(None, old_regions, step.regions, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        written = [(new(region_markdown(r)), False) for r in step.regions[j1:j2]]
        for k in range(i1, i2):
            index = block.region_lines[k]
            lines[index] = written.pop(0)[0] if written else None
        if not written:
            continue
        if i2 > 0:
            after.setdefault(block.region_lines[i2 - 1], []).extend(written)
        elif old_regions:
            before.setdefault(block.region_lines[0], []).extend(written)
        else:  # the step had no region: under its heading, after one blank line
            after.setdefault(block.heading_lines - 1, []).extend([(new(""), False), *written])

    # Text: a line diff, so lines that did not change stay as they were.
    old_text = block.step.text.split("\n") if block.text_lines else []
    new_text = _text_lines(step.text)
    text_matcher = difflib.SequenceMatcher(None, old_text, new_text, autojunk=False)
    for tag, i1, i2, j1, j2 in text_matcher.get_opcodes():
        if tag == "equal":
            continue
        written = [(new(line), True) for line in new_text[j1:j2]]
        for k in range(i1, i2):
            lines[block.text_lines[k]] = None
        if not written:
            continue
        if i1 < len(old_text):
            before.setdefault(block.text_lines[i1], []).extend(written)
        elif old_text:
            after.setdefault(block.text_lines[-1], []).extend(written)
        else:  # the step had no text: after everything, after one blank line
            tail.extend([(new(""), False), *written])

    text_lines = set(block.text_lines)
    result: list[_Line] = []
    for index, line in enumerate(lines):
        result.extend(_Line(text, None, is_text) for text, is_text in before.get(index, ()))
        if line is not None:
            kept = index if line == block.lines[index] else None
            result.append(_Line(line, kept, index in text_lines))
        result.extend(_Line(text, None, is_text) for text, is_text in after.get(index, ()))
    result.extend(_Line(text, None, is_text) for text, is_text in tail)
    return _tidy_blank_lines(result)


@dataclass(frozen=True)
class _Line:
    text: str
    origin: int | None  # its index in the old block, if it is unchanged
    is_text: bool  # a line of the step's text (not its heading, a region, or a separator)


def _tidy_blank_lines(lines: list[_Line]) -> list[str]:
    """Blank lines that an edit brought together become one (a run the author wrote stays, and
    so does every line between the first and last line of the text, which is the author's),
    and the block ends on its last non-blank line (the blank lines after it are the gap)."""
    text_at = [i for i, line in enumerate(lines) if line.is_text and line.text.strip()]
    first, last = (text_at[0], text_at[-1]) if text_at else (len(lines), -1)
    tidy: list[str] = []
    run: list[_Line] = []

    def flush() -> None:
        numbers = [line.origin for line in run if line.origin is not None]
        authored = len(numbers) == len(run) and numbers == list(
            range(numbers[0], numbers[0] + len(numbers)) if numbers else []
        )
        tidy.extend(line.text for line in (run if authored else run[:1]))
        run.clear()

    for index, line in enumerate(lines):
        if first < index < last or line.text.strip():
            flush()
            tidy.append(line.text)
        else:
            run.append(line)
    run.clear()  # trailing blank lines: dropped
    return tidy


def _sync_folder(folder: Path) -> None:
    """Make a rename in `folder` survive a power cut (POSIX: fsync the directory)."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # not possible on this system (Windows): the rename is still atomic
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
