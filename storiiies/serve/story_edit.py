"""Add a region reference to a story file, for the preview's region picker.

The edit is a read-modify-write that loses nothing the author saved meanwhile: the step's heading
is found again in the file as it is now (by its line when the file is unchanged since the site
was built, else by the heading's own text), the new file is written beside the old one, and
it replaces the old one only if the file still holds what was read; otherwise it starts over.
The file keeps its line endings, byte-order mark and permissions.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path

from storiiies.atomic import replacing, write_durably
from storiiies.story.references import ALIAS_PATTERN

_SETEXT_UNDERLINE = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_REF = re.compile(r"^(?P<alias>[^/#\s]+)(/(?P<canvas>\d+))?$")
_ATTEMPTS = 5
_lock = threading.Lock()  # one edit at a time from this process


class EditRefused(Exception):
    """The edit cannot be made safely; `message` tells the author why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Inserted:
    line: int  # 1-based line of the new reference in the file
    markdown: str


def reference_parts(ref: str) -> tuple[str, int]:
    """The source name and the canvas number (1 when not given) of a picked `alias[/N]`."""
    match = _REF.match(ref)
    if match is None or not ALIAS_PATTERN.match(match["alias"]):
        raise EditRefused(f"'{ref}' is not a source name with an optional canvas number")
    return match["alias"], int(match["canvas"] or 1)


def reference_markdown(alt: str, ref: str, region: tuple[int, int, int, int]) -> str:
    """`![alt](ref#xywh=x,y,w,h)` with the text alternative escaped to stay one Markdown image."""
    reference_parts(ref)
    x, y, w, h = region
    if min(x, y) < 0 or min(w, h) < 1:
        raise EditRefused("the region must have a positive width and height inside the canvas")
    return f"![{escape_alt(alt)}]({ref}#xywh={x},{y},{w},{h})"


def escape_alt(alt: str) -> str:
    """A text alternative on one line, escaped to stay inside `![...]`; backticks too, since
    two of them, in this image and the next, would make a code span of everything between."""
    text = " ".join(alt.split())
    for special in ("\\", "[", "]", "`"):
        text = text.replace(special, "\\" + special)
    return text


def insert_after_heading(path: Path, built_text: str, heading_line: int, markdown: str) -> Inserted:
    """Insert `markdown` as its own line right after the step heading at `heading_line` of
    `built_text` (the file as the shown site read it). A story that is a symbolic link is
    edited where the link points: the author's link stays a link."""
    path = path.resolve()
    with _lock:
        for _ in range(_ATTEMPTS):
            raw = path.read_bytes()
            new_raw, line = _edited(raw, built_text, heading_line, markdown)
            if _replace_if_unchanged(path, raw, new_raw):
                return Inserted(line, markdown)
    raise EditRefused(f"{path.name} keeps changing; try again when it is saved")


def _edited(raw: bytes, built_text: str, heading_line: int, markdown: str) -> tuple[bytes, int]:
    bom = raw.startswith(b"\xef\xbb\xbf")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise EditRefused("the story file is not UTF-8 text any more") from None
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.replace("\r\n", "\n").split("\n")
    index = _heading_index(lines, built_text.split("\n"), heading_line - 1)
    at = index + 1
    if (
        not lines[index].lstrip().startswith("#")
        and at < len(lines)
        and _SETEXT_UNDERLINE.match(lines[at])
    ):
        at += 1  # a `Title` / `-----` heading spans two lines
    lines.insert(at, markdown)
    result = newline.join(lines)
    return (b"\xef\xbb\xbf" if bom else b"") + result.encode("utf-8"), at + 1


def _heading_index(lines: list[str], built: list[str], index: int) -> int:
    if lines == built:
        return index
    if not 0 <= index < len(built):
        raise EditRefused("the step is no longer in the file; reload the page")
    heading = built[index]
    # The same heading text may occur more than once: take the occurrence with the same rank.
    rank = sum(1 for line in built[:index] if line == heading)
    found = [i for i, line in enumerate(lines) if line == heading]
    if len(found) <= rank:
        raise EditRefused(
            f"the heading '{heading.strip()}' is no longer in the file; reload the page"
        )
    return found[rank]


def _replace_if_unchanged(path: Path, expected: bytes, content: bytes) -> bool:
    try:
        # A hidden temporary name: the watcher ignores it, and the rename is atomic.
        with replacing(path) as temporary:
            write_durably(temporary, content, mode_of=path)
            if path.read_bytes() != expected:
                raise _ChangedMeanwhile  # saved by the editor: start over from the new content
    except _ChangedMeanwhile:
        return False
    return True


class _ChangedMeanwhile(Exception):
    """The file changed on disk while its new content was being written."""
