"""Translations: `coins.fr.md` is the French version of `coins.md`, beside it.

The file name's last suffix before `.md` is a BCP 47 language tag. A translation shares the
original's sources (its own `sources:` entries override single aliases) and its regions: its
steps correspond to the original's by position, and a step without a region image of its own
shows the original's regions for that step. What a translation's front matter leaves out
(`order`, `tags`, `cover`, `kiosk` …) comes from the original's.

Translations are merged into complete drafts before resolving, so the rest of the pipeline sees
ordinary stories; the Site keeps each one on its original (`Story.translations`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from storiiies.errors import Problem, SourceLocation
from storiiies.model import StepDraft, Story, StoryDraft, StorySource

#: A language tag as a file suffix: `fr`, `pt-BR`, `zh-Hant`, `es-419` (2–3 letters first).
_TAG = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")


@dataclass(frozen=True)
class TranslationName:
    """What a story file's name says about it: the original's path and the language tag."""

    original: Path
    lang: str


def translation_name(path: Path) -> TranslationName | None:
    """`stories/coins.fr.md` → (stories/coins.md, "fr"); None for an ordinary story file."""
    stem = path.name[: -len(path.suffix)] if path.suffix else path.name
    base, dot, tag = stem.rpartition(".")
    if not dot or not base or not _TAG.match(tag):
        return None
    return TranslationName(path.with_name(base + path.suffix), tag)


def same_language(a: str, b: str) -> bool:
    return a.strip().lower() == b.strip().lower()


@dataclass(frozen=True)
class DraftGroups:
    """The drafts of a project sorted out: stories of their own, and translations by original."""

    originals: tuple[StoryDraft, ...]
    translations: tuple[tuple[StoryDraft, StoryDraft, str], ...]  # (original, translation, tag)
    problems: tuple[Problem, ...]


def group_drafts(drafts: Sequence[StoryDraft]) -> DraftGroups:
    """Pair each `name.<tag>.md` with `name.md`; a translation without one stands alone (warned)."""
    by_path = {draft.source.path: draft for draft in drafts}
    originals: list[StoryDraft] = []
    translations: list[tuple[StoryDraft, StoryDraft, str]] = []
    problems: list[Problem] = []
    for draft in drafts:
        name = translation_name(draft.source.path)
        original = by_path.get(name.original) if name else None
        if name is None:
            originals.append(draft)
        elif original is None or translation_name(original.source.path) is not None:
            originals.append(draft)
            expected = name.original.name
            problems.append(
                Problem(
                    SourceLocation(draft.source.name, 1),
                    f"this looks like the '{name.lang}' translation of {expected}, "
                    "which does not exist: it is built as a story of its own",
                    f"add {expected} beside it,"
                    f" or rename the file if '{name.lang}' is not a language",
                    "warning",
                )
            )
        else:
            translations.append((original, draft, name.lang))
    return DraftGroups(tuple(originals), tuple(translations), tuple(problems))


def merge_translation(
    original: StoryDraft, translation: StoryDraft, lang: str, original_lang: str
) -> tuple[StoryDraft, list[Problem]]:
    """The translation as a complete draft: the original's sources, regions and settings where
    the translation has none of its own. Problems name the translation's lines."""
    problems: list[Problem] = []
    where = translation.meta_locations
    if translation.meta.lang and not same_language(translation.meta.lang, lang):
        problems.append(
            Problem(
                where.get(("lang",), SourceLocation(translation.source.name, 1)),
                f"lang: '{translation.meta.lang}' disagrees with the file name,"
                f" which says '{lang}'",
                "remove the `lang:` line (the file name sets it), or rename the file",
            )
        )
    if same_language(lang, original_lang):
        problems.append(
            Problem(
                SourceLocation(translation.source.name, 1),
                f"a translation into '{lang}', the language of {original.source.name} itself",
                "set the original's `lang:` (or the site's `language:`) to the language it is in",
            )
        )
    own = translation.meta
    settings = {key: getattr(own, key) for key in own.model_fields_set if key != "sources"}
    meta = original.meta.model_copy(
        update={**settings, "lang": lang, "sources": {**original.meta.sources, **own.sources}}
    )
    count, expected = len(translation.steps), len(original.steps)
    if count != expected:
        if count > expected:
            at = translation.steps[expected].location
        else:
            at = (
                translation.steps[-1].location
                if translation.steps
                else SourceLocation(translation.source.name, 1)
            )
        problems.append(
            Problem(
                at,
                f"this translation has {count} step{'s' if count != 1 else ''}, "
                f"its original {original.source.name} has {expected}",
                "steps correspond by position: translate every `##` step, in the same order",
            )
        )
    # A step count mismatch is reported above; the steps both have are still merged.
    steps = tuple(
        _merged_step(o, t) for o, t in zip(original.steps, translation.steps, strict=False)
    )
    merged = replace(
        translation,
        slug=original.slug,
        meta=meta,
        steps=steps,
        cover=translation.cover or original.cover,
    )
    return merged, problems


def _merged_step(original: StepDraft, translation: StepDraft) -> StepDraft:
    if translation.regions:
        return translation
    return replace(translation, regions=original.regions)


def with_translations(story: Story, translations: Sequence[Story]) -> Story:
    """The original story carrying its translations, each at `<slug>/<tag>/`."""
    if not translations and not story.translations:
        return story  # the very object the stage cache kept: the preview compares by identity
    placed = tuple(
        replace(t, slug=f"{story.slug}/{t.lang.lower()}")
        for t in sorted(translations, key=lambda t: t.lang.lower())
        if not t.meta.draft  # `draft: true` keeps an unfinished translation off the site
    )
    return replace(story, translations=placed)


def parse_drafts(
    sources: Sequence[StorySource],
    parse: Callable[[StorySource, frozenset[str]], StoryDraft],
) -> list[StoryDraft]:
    """Parse every story file, originals first, so a translation may use its original's sources."""
    paths = {source.path for source in sources}
    names = {source.path: translation_name(source.path) for source in sources}
    # A translation's original, when that file is among the stories (else it stands alone).
    originals = {
        path: name.original
        for path, name in names.items()
        if name is not None and name.original in paths
    }
    drafts = {s.path: parse(s, frozenset()) for s in sources if s.path not in originals}
    for source in sources:
        if source.path in originals:
            original = drafts.get(originals[source.path])
            inherited = frozenset(original.meta.sources) if original else frozenset()
            drafts[source.path] = parse(source, inherited)
    return [drafts[source.path] for source in sources]


def inherited_source_problem(
    problem: Problem, translation: StoryDraft, original: StoryDraft
) -> bool:
    """A problem of a source the translation only borrows: already told at the original's line.

    `translation` may be merged already: what it declares itself is what its front matter
    has a line for."""
    own = {
        keys[1] for keys in translation.meta_locations if len(keys) == 2 and keys[0] == "sources"
    }
    borrowed = set(original.meta.sources) - own
    return any(problem.message.startswith(f"source '{alias}'") for alias in borrowed)


@dataclass(frozen=True)
class LanguageLink:
    """One language version of a page, for `<link hreflang>` and the language switch."""

    lang: str
    name: str  # the language's name in itself: "Français"
    href: str  # from the page being rendered
    url: str  # absolute, for search engines
    current: bool


def language_links(
    original: Story,
    shown: Story,
    *,
    base_url: str,
    root: str,
    page_file: str,
    name_of: Callable[[str], str],
) -> list[LanguageLink]:
    """The same page (`page_file`: "", "text.html" …) in every language of `original`."""
    if not original.translations:
        return []
    return [
        LanguageLink(
            lang=version.lang,
            name=name_of(version.lang),
            href=f"{root}{version.slug}/{page_file}",
            url=f"{base_url}{version.slug}/{page_file}",
            current=version.slug == shown.slug,
        )
        for version in original.versions
    ]


def shown_version(story: Story, lang: str) -> Story:
    """The version of `story` a reader of `lang` (the site's language) is offered first."""
    versions = story.versions
    for wanted in (lang.lower(), lang.lower().split("-")[0]):
        for version in versions:
            if version.lang.lower() == wanted:
                return version
    return story
