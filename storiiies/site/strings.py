"""The words a theme shows, per language: `strings/<language tag>.yml` in each theme folder.

A page asks for its own language and gets, key by key, the most specific string there is:
`fr-CA` → `fr` → `en`. Within one language the most specific theme folder wins (the project's
`theme_dir`, then the theme, then the themes it extends), so an override file may hold a few keys
only. The names of the languages (`language_name`) never fall back: a language switch would
otherwise call every language "English".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from storiiies.errors import BuildFailed, Problem, SourceLocation
from storiiies.yaml_lines import YamlSyntaxError, load_yaml

#: The language every theme must carry in full: the last step of every fallback chain.
BASE_LANGUAGE = "en"
STRINGS_FOLDER = "strings"
LANGUAGE_NAME_KEY = "language_name"

#: Names of common languages in themselves, for a language no theme file names.
AUTONYMS = {
    "ar": "العربية",
    "ca": "Català",
    "cy": "Cymraeg",
    "da": "Dansk",
    "de": "Deutsch",
    "el": "Ελληνικά",
    "en": "English",
    "es": "Español",
    "fi": "Suomi",
    "fr": "Français",
    "ga": "Gaeilge",
    "he": "עברית",
    "hi": "हिन्दी",
    "it": "Italiano",
    "ja": "日本語",
    "ko": "한국어",
    "la": "Latina",
    "nl": "Nederlands",
    "no": "Norsk",
    "pl": "Polski",
    "pt": "Português",
    "ru": "Русский",
    "sv": "Svenska",
    "tr": "Türkçe",
    "uk": "Українська",
    "zh": "中文",
}

Strings = dict[str, Any]


def fallback_chain(lang: str) -> list[str]:
    """The languages to try for `lang`, most specific first: `fr-CA` → [fr-ca, fr, en]."""
    parts = lang.strip().lower().replace("_", "-").split("-")
    chain = ["-".join(parts[:n]) for n in range(len(parts), 0, -1) if parts[0]]
    if BASE_LANGUAGE not in chain:
        chain.append(BASE_LANGUAGE)
    return chain


def _merge(base: Mapping[str, Any], top: Mapping[str, Any]) -> Strings:
    """`top` over `base`, key by key, nested mappings (the `js` part) merged the same way."""
    merged = dict(base)
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


@dataclass(frozen=True)
class ThemeStrings:
    """Every strings file of a theme's folders, read once; `for_language` merges on request."""

    #: (folder, {language tag in lower case: strings}), most specific folder first
    files: tuple[tuple[Path, Mapping[str, Strings]], ...]
    _cache: dict[str, Strings] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def read(cls, folders: tuple[Path, ...]) -> ThemeStrings:
        """Read `strings/*.yml` of each theme folder. Raises BuildFailed naming file and line."""
        files = []
        problems: list[Problem] = []
        for folder in folders:
            by_language: dict[str, Strings] = {}
            for path in sorted((folder / STRINGS_FOLDER).glob("*.yml")):
                data, problem = _read_file(path)
                if problem is not None:
                    problems.append(problem)
                else:
                    by_language[path.stem.lower()] = data
            files.append((folder, by_language))
        if problems:
            raise BuildFailed(problems)
        return cls(tuple(files))

    def languages(self) -> set[str]:
        """The language tags that have a strings file in some folder (lower case)."""
        return {lang for _, by_language in self.files for lang in by_language}

    def for_language(self, lang: str) -> Strings:
        """The strings a page in `lang` shows: its own where translated, English elsewhere."""
        key = lang.lower()
        if key not in self._cache:
            merged: Strings = {}
            for language in reversed(fallback_chain(lang)):
                for _, by_language in reversed(self.files):
                    merged = _merge(merged, by_language.get(language, {}))
            merged[LANGUAGE_NAME_KEY] = self.language_name(lang)
            self._cache[key] = merged
        return self._cache[key]

    def language_name(self, lang: str) -> str:
        """`lang`'s name in itself ("Français"), from its own strings file if any."""
        for language in fallback_chain(lang)[:-1] or [BASE_LANGUAGE]:
            for _, by_language in self.files:
                name = by_language.get(language, {}).get(LANGUAGE_NAME_KEY)
                if isinstance(name, str) and name:
                    return name
            if language in AUTONYMS:
                return AUTONYMS[language]
        return lang


def _read_file(path: Path) -> tuple[Strings, Problem | None]:
    shown = str(path)
    try:
        parsed = load_yaml(path.read_text(encoding="utf-8"), shown)
    except YamlSyntaxError as error:
        return {}, error.problem
    except (OSError, UnicodeDecodeError) as error:
        return {}, Problem(SourceLocation(shown), f"cannot read the strings file: {error}")
    data = parsed.data if parsed.data is not None else {}
    if not isinstance(data, dict):
        return {}, Problem(
            parsed.location(shown), "a strings file must be a mapping of 'key: text' lines"
        )
    for key, value in data.items():
        if not isinstance(value, str | dict):
            where = parsed.location(shown, (key,))
            return {}, Problem(where, f"the string '{key}' must be text", 'quote it: key: "text"')
    return data, None
