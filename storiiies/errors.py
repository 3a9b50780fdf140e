"""What can go wrong, and how it is told to the author.

    StoriiiesError
     ├── SourceError          a remote or local IIIF resource could not be used (no location yet;
     │    ├── FetchError      the stage that asked for it attaches the story line that named it)
     │    ├── NotIIIF
     │    └── ImageError
     └── BuildFailed          a build stopped; carries every Problem found

Author mistakes are not raised one at a time: each stage appends a `Problem` (location, message,
hint) so the author sees all of them at once. Tracebacks are only for our own bugs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Severity = Literal["error", "warning"]

#: C0 controls but tab and newline, DEL, and C1 controls: what a terminal obeys instead of
#: showing (ESC starts sequences that set the window title, write the clipboard with OSC 52,
#: clear the screen; CSI U+009B does the same in one character; CR overwrites the line).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """`text` without the control characters a terminal obeys, for printing text that came
    from outside (manifests, servers, files): newlines and tabs are kept."""
    return _CONTROL.sub("", text)


@dataclass(frozen=True)
class SourceLocation:
    """A place in an author's file: `path` as shown to the author, 1-based line and column."""

    path: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        text = self.path
        if self.line is not None:
            text += f":{self.line}"
            if self.column is not None:
                text += f":{self.column}"
        return text


@dataclass(frozen=True)
class Problem:
    """One thing the author should fix (error) or know about (warning)."""

    location: SourceLocation
    message: str
    hint: str | None = None
    severity: Severity = "error"
    #: The alias of the source this problem is about (`sources:` in front matter), if any:
    #: a translation that borrows the source leaves it to the original to tell.
    source_alias: str | None = None

    def __str__(self) -> str:
        text = f"{self.location}: {self.severity}: {self.message}"
        if self.hint:
            text += f" — {self.hint}"
        return text

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


class StoriiiesError(Exception):
    """Base of every error storiiies raises on purpose."""


class SourceError(StoriiiesError):
    """A source could not be used. `hint` says what the author can do about it."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class FetchError(SourceError):
    """A URL could not be fetched (network failure, HTTP error status, too large)."""


class NotIIIF(SourceError):
    """A document was fetched but is not a IIIF resource storiiies can read."""


class ImageError(SourceError):
    """A local image file cannot be read or tiled."""


class BuildFailed(StoriiiesError):
    """A build stopped because of author errors; the previous output is left untouched."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        errors = sum(1 for p in self.problems if p.is_error)
        super().__init__(f"build failed with {errors} error{'s' if errors != 1 else ''}")


def has_errors(problems: Iterable[Problem]) -> bool:
    return any(p.is_error for p in problems)


def shown_path(path: Path | str, root: Path) -> str:
    """A path as the author sees it in a message: relative to the project when it is inside."""
    path = Path(path)
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
