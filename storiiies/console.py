"""What the commands print: problems as `path:line:col: error: message — hint`, counts in words.

Shared by the command line, `serve` and `bundle`, so a problem reads the same wherever it is told.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.console import Console
from rich.markup import escape

from storiiies.errors import Problem, printable


def make_console() -> Console:
    """A console on stderr: problems and progress never mix with a command's output."""
    return Console(stderr=True, highlight=False, soft_wrap=True)


def print_problems(problems: Iterable[Problem], console: Console | None = None) -> None:
    console = console or make_console()
    for problem in problems:
        # Messages quote the author's text (`![alt](…)`, `[[3840, 2160]]`): square brackets
        # must reach the terminal as written, not be read as console markup; and they quote
        # manifests and servers, whose control characters must not reach it at all.
        style = "red" if problem.is_error else "yellow"
        where = shown(f"{problem.location}: {problem.severity}:")
        hint = f" [dim]— {shown(problem.hint)}[/]" if problem.hint else ""
        console.print(f"[{style}]{where}[/] {shown(problem.message)}{hint}", markup=True)


def shown(text: str) -> str:
    """Outside text as console markup: control characters gone, square brackets literal."""
    return escape(printable(text))


def plural(n: int, one: str, many: str | None = None) -> str:
    """'1 image', '2 images'; `many` where adding an 's' is not the plural."""
    return f"{n} {one}" if n == 1 else f"{n} {many or one + 's'}"


def count_problems(problems: Iterable[Problem]) -> str:
    """'2 errors, 1 warning'."""
    problems = list(problems)
    errors = sum(1 for p in problems if p.is_error)
    warnings = len(problems) - errors
    parts = [plural(errors, "error")]
    if warnings:
        parts.append(plural(warnings, "warning"))
    return ", ".join(parts)
