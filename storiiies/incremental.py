"""What `serve` remembers between rebuilds, so an edit redoes only the work it affects.

`build.load_site` asks a StageCache for every parsed story, resolved source and resolved story.
A plain build passes a fresh cache (every lookup misses, so it does all the work once); the
preview server keeps one for its whole run. Entries are keyed by their inputs, never by time:

- a draft by the story file's text, so an unchanged story is not parsed again;
- a local source by its files' size and modification time (measuring an image reads it
  whole to name it by content); a remote one (or one on object storage) for the run, since
  the Fetcher also keeps it;
- a resolved story by its draft and the very source results it was resolved against (a
  virtual canvas has no result of its own: it is composed then, from its parts' sources).

Failed remote fetches are not kept: the next rebuild tries the network again.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from storiiies.errors import Problem, SourceError
from storiiies.images.stored import is_stored
from storiiies.model import Story, StoryDraft, StorySource
from storiiies.resolve.sources import ResolvedSource, SourceKey, SourceResult
from storiiies.resolve.stories import resolve_story
from storiiies.story.parse import parse_story
from storiiies.story.translations import merge_translation

ResolveSources = Callable[[list[SourceKey]], Mapping[SourceKey, SourceResult]]


@dataclass(frozen=True)
class _ResolvedStory:
    draft: StoryDraft
    keys: tuple[tuple[str, SourceKey], ...]
    inputs: tuple[SourceResult, ...]
    default_lang: str
    story: Story | None
    problems: tuple[Problem, ...]


class StageCache:
    """Parse and resolve results, reused while their inputs are unchanged."""

    def __init__(self) -> None:
        self._drafts: dict[str, tuple[str, StoryDraft]] = {}
        self._sources: dict[SourceKey, tuple[Hashable, SourceResult]] = {}
        self._stories: dict[str, _ResolvedStory] = {}
        self._merged: dict[str, tuple[tuple[object, ...], StoryDraft, tuple[Problem, ...]]] = {}
        self.parsed = 0  # how many stories were parsed (not reused) by the last `load_site`
        self.resolved = 0  # how many stories were resolved (not reused) by the last `load_site`

    def begin(self, story_names: Iterable[str]) -> None:
        """Start a rebuild: reset the counters and forget story files that are gone."""
        self.parsed = self.resolved = 0
        alive = set(story_names)
        for table in (self._drafts, self._stories, self._merged):
            for name in [n for n in table if n not in alive]:
                del table[name]

    def draft(
        self, source: StorySource, inherited_aliases: frozenset[str] = frozenset()
    ) -> StoryDraft:
        # A translation's parse also depends on its original's source names.
        key = source.text + "\0" + "\0".join(sorted(inherited_aliases))
        digest = hashlib.sha256(key.encode()).hexdigest()
        cached = self._drafts.get(source.name)
        if cached is not None and cached[0] == digest and cached[1].source.path == source.path:
            return cached[1]
        draft = parse_story(source, inherited_aliases)
        self._drafts[source.name] = (digest, draft)
        self.parsed += 1
        return draft

    def translation(
        self, original: StoryDraft, translation: StoryDraft, lang: str, original_lang: str
    ) -> tuple[StoryDraft, list[Problem]]:
        """The translation merged with its original (translations.py), the same object while
        both drafts are, so an unchanged translation is not resolved again."""
        inputs = (original, translation, lang, original_lang)
        cached = self._merged.get(translation.source.name)
        if cached is not None and all(a is b for a, b in zip(cached[0], inputs, strict=True)):
            return cached[1], list(cached[2])
        merged, problems = merge_translation(original, translation, lang, original_lang)
        self._merged[translation.source.name] = (inputs, merged, tuple(problems))
        return merged, problems

    def sources(
        self, keys: Iterable[SourceKey], resolve: ResolveSources
    ) -> dict[SourceKey, SourceResult]:
        wanted = set(keys)
        prints = {key: _fingerprint(key) for key in wanted}
        stale = [
            key
            for key in wanted
            if key not in self._sources or self._sources[key][0] != prints[key]
        ]
        fresh = dict(resolve(sorted(stale, key=str))) if stale else {}
        for key, result in fresh.items():
            if isinstance(result, SourceError) and _is_remote(key):
                self._sources.pop(key, None)
            else:
                self._sources[key] = (prints[key], result)
        return {key: fresh[key] if key in fresh else self._sources[key][1] for key in wanted}

    def local_sources(self) -> list[str]:
        """The files and folders of the local sources read so far (absolute paths)."""
        return sorted(
            key.location
            for key in self._sources
            if not _is_remote(key) and key.error is None and Path(key.location).is_absolute()
        )

    def stored_sources(self) -> dict[str, list[list[str]]]:
        """Each object-storage source read so far: the [URL, stamp] of every object in it."""
        return {
            key.location: [list(pair) for pair in result.stored]
            for key, (_, result) in sorted(self._sources.items(), key=lambda item: str(item[0]))
            if isinstance(result, ResolvedSource) and result.stored
        }

    def story(
        self,
        draft: StoryDraft,
        keys: Mapping[str, SourceKey],
        resolved: Mapping[SourceKey, SourceResult],
        *,
        default_lang: str,
    ) -> tuple[Story | None, list[Problem]]:
        key_items = tuple(keys.items())
        inputs = tuple(resolved[key] for _, key in key_items)
        cached = self._stories.get(draft.source.name)
        if (
            cached is not None
            and cached.draft is draft
            and cached.keys == key_items
            and cached.default_lang == default_lang
            and len(cached.inputs) == len(inputs)
            and all(a is b for a, b in zip(cached.inputs, inputs, strict=True))
        ):
            return cached.story, list(cached.problems)
        story, problems = resolve_story(draft, keys, resolved, default_lang=default_lang)
        self._stories[draft.source.name] = _ResolvedStory(
            draft, key_items, inputs, default_lang, story, tuple(problems)
        )
        self.resolved += 1
        return story, problems


def _is_remote(key: SourceKey) -> bool:
    """A source on a server or a store: read again only by a new StageCache (a new build)."""
    return key.location.startswith(("http://", "https://")) or is_stored(key.location)


def _fingerprint(key: SourceKey) -> Hashable:
    """What, on disk, a source's result depends on: enough to notice an edit, cheap to read."""
    if _is_remote(key):
        return "remote"
    path = Path(key.location)
    try:
        if path.is_dir():
            return tuple(_stat(entry) for entry in sorted(path.iterdir()))
        return _stat(path)
    except OSError:
        return "missing"


def _stat(path: Path) -> tuple[str, int, int, int]:
    info = os.stat(path)
    return (path.name, info.st_size, info.st_mtime_ns, info.st_ino)
