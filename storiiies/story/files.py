"""LOAD: find the story files of a project and read them."""

from __future__ import annotations

from pathlib import Path

from storiiies.config import SiteConfig
from storiiies.errors import Problem, SourceLocation
from storiiies.model import StorySource


def find_story_files(config: SiteConfig) -> list[Path]:
    folder = config.stories_dir
    if not folder.is_dir():
        return []
    return sorted(
        path
        for path in folder.rglob("*.md")
        if path.is_file()
        and not any(part.startswith((".", "_")) for part in path.relative_to(folder).parts)
        and path.name.lower() != "readme.md"
    )


def read_story(path: Path, root: Path) -> StorySource | Problem:
    name = path.relative_to(root).as_posix()
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        return Problem(
            SourceLocation(name),
            f"the file is not UTF-8 text (byte {exc.start})",
            "save it as UTF-8 in your editor",
        )
    except OSError as exc:
        return Problem(SourceLocation(name), f"cannot read the file: {exc.strerror}")
    return StorySource(path=path, name=name, text=text.replace("\r\n", "\n"))


def read_stories(config: SiteConfig) -> tuple[list[StorySource], list[Problem]]:
    sources: list[StorySource] = []
    problems: list[Problem] = []
    files = find_story_files(config)
    if not files:
        problems.append(
            Problem(
                SourceLocation(config.settings.stories_dir + "/"),
                "no stories found",
                f"add a Markdown file such as {config.settings.stories_dir}/my-story.md",
            )
        )
    for path in files:
        result = read_story(path, config.root)
        (sources if isinstance(result, StorySource) else problems).append(result)  # type: ignore[arg-type]
    return sources, problems
