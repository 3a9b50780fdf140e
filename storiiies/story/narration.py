"""Step narration from local audio files: finding the file, its length and its captions, and
copying both into the site's `media/` folder.

A narration link is written in the step (`[Listen](audio/athena.mp3)`), so a story still reads
well on GitHub. Paths are relative to the project folder or, failing that, to the story's
folder. A WebVTT file with the same name beside the audio (`audio/athena.vtt`) is its
captions. The length is read here, at build time, so a kiosk can wait for the narration.
"""

from __future__ import annotations

import hashlib
import re
import wave
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path, PurePosixPath
from urllib.parse import unquote

from storiiies.errors import Problem
from storiiies.model import Narration, OutputFile, Story

#: Audio files a narration link may point at, and the media type each is served as.
AUDIO_FORMATS = {
    ".mp3": "audio/mpeg",
    ".ogg": "audio/ogg",
    ".oga": "audio/ogg",
    ".opus": "audio/ogg",
    ".m4a": "audio/mp4",
    ".wav": "audio/wav",
}
MEDIA_FOLDER = "media"
_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def _path_part(target: str) -> str:
    return target.split("#", 1)[0].split("?", 1)[0]


def is_audio_path(target: str) -> bool:
    """True for a link to a local audio file (not a URL), by its extension."""
    path = _path_part(target.strip())
    if not path or "://" in path or path.startswith(("mailto:", "/", "data:")):
        return False
    return PurePosixPath(path).suffix.lower() in AUDIO_FORMATS


def audio_length(path: Path) -> float | None:
    """The length of an audio file in seconds, or None when it cannot be read."""
    if path.suffix.lower() == ".wav":
        try:
            with wave.open(str(path), "rb") as audio:
                rate = audio.getframerate()
                return audio.getnframes() / rate if rate else None
        except (wave.Error, EOFError, OSError):
            pass  # not plain PCM: let mutagen try
    import mutagen

    try:
        audio_file = mutagen.File(path)  # type: ignore[attr-defined]
    except (mutagen.MutagenError, OSError, ValueError):
        return None
    length = getattr(getattr(audio_file, "info", None), "length", None)
    return float(length) if length else None


def find_file(target: str, story_path: Path, root: Path) -> Path | None:
    """The file a narration link names: in the project folder first, then the story's.
    Files outside the project folder are never copied into the site."""
    relative = unquote(_path_part(target.strip()))
    project = root.resolve()
    for base in (root, story_path.parent):
        candidate = (base / relative).resolve()
        if candidate.is_file() and candidate.is_relative_to(project):
            return candidate
    return None


def media_name(path: Path) -> str:
    """A stable, safe name under media/: the file's name after a short hash of its content,
    so two files called `intro.mp3` never collide and an edited file gets a fresh URL."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    return f"{MEDIA_FOLDER}/{digest}-{_SAFE.sub('-', path.name)}"


def read_local_narration(story: Story, root: Path) -> tuple[Story, list[Problem]]:
    """`story` with each local narration's file found and measured; a missing or unreadable
    file is a Problem at its link. A story without one is returned as it is (the preview
    tells unchanged stories by identity)."""
    if not any(step.narration and step.narration.kind == "file" for step in story.steps):
        return story, []
    problems: list[Problem] = []
    steps = []
    for step in story.steps:
        narration = step.narration
        if narration is None or narration.kind != "file":
            steps.append(step)
            continue
        found = _read(narration, story, root, problems)
        steps.append(replace(step, narration=found))
    return replace(story, steps=tuple(steps)), problems


def _read(
    narration: Narration, story: Story, root: Path, problems: list[Problem]
) -> Narration | None:
    location = narration.location
    assert location is not None
    path = find_file(narration.url, story.source.path, root)
    if path is None:
        problems.append(
            Problem(
                location,
                f"narration file '{narration.url}' not found",
                "paths are relative to the project folder (where storiiies.yml is)"
                " or to the story's folder, and stay inside the project",
            )
        )
        return None
    length = audio_length(path)
    if length is None:
        problems.append(
            Problem(
                location,
                f"narration file '{narration.url}' is not audio storiiies can read",
                "use an MP3, Ogg/Opus, M4A or WAV file",
            )
        )
        return None
    captions = path.with_suffix(".vtt")
    has_captions = captions.is_file()
    if has_captions and not captions.read_bytes().lstrip(b"\xef\xbb\xbf").startswith(b"WEBVTT"):
        problems.append(
            Problem(
                location,
                f"captions file '{captions.name}' is not WebVTT",
                "a WebVTT file starts with the line WEBVTT",
            )
        )
        has_captions = False
    return replace(
        narration,
        url=media_name(path),
        format=AUDIO_FORMATS[path.suffix.lower()],
        duration=round(length, 3),
        file=path,
        captions=media_name(captions) if has_captions else None,
        captions_file=captions if has_captions else None,
    )


def media_files(stories: Iterable[Story], *, inline: bool = False) -> list[OutputFile]:
    """The `media/` part of the site: every local narration and its captions.

    `inline` reads them into memory (the preview serves nothing from the project folder)."""
    files: dict[str, OutputFile] = {}
    for story in stories:
        for step in story.steps:
            narration = step.narration
            if narration is None or narration.file is None:
                continue
            pairs = [(narration.url, narration.file)]
            if narration.captions and narration.captions_file:
                pairs.append((narration.captions, narration.captions_file))
            for name, path in pairs:
                if name not in files:
                    files[name] = (
                        OutputFile(name, content=path.read_bytes())
                        if inline
                        else OutputFile(name, source=path)
                    )
    return list(files.values())
