"""Language maps: every IIIF text value, whatever shape it came in, as {language: values}.

Presentation 3 writes `{"en": ["Title"]}`; Presentation 2 writes plain strings, lists of strings,
`{"@value": …, "@language": …}` objects, or lists of those. Both become one `LanguageMap`, so the
rest of storiiies only ever picks a language from a map.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

#: Nesting deeper than this is junk, not a language value; stop rather than recurse forever.
MAX_DEPTH = 4

#: The key P3 uses for values in no particular language. Early P3 drafts wrote "@none".
NO_LANGUAGE = "none"


def to_language_map(value: Any, default_lang: str = NO_LANGUAGE) -> dict[str, tuple[str, ...]]:
    """Read any P2 or P3 text value into a language map. Never raises: junk is dropped."""
    collected: dict[str, list[str]] = {}
    _collect(value, default_lang, collected, 0)
    return {lang: tuple(values) for lang, values in collected.items() if values}


def _collect(value: Any, lang: str, into: dict[str, list[str]], depth: int) -> None:
    if depth > MAX_DEPTH or value is None:
        return
    text = _scalar_text(value)
    if text is not None:
        if text:
            into.setdefault(lang, []).append(text)
        return
    if isinstance(value, list):
        for item in value:
            _collect(item, lang, into, depth + 1)
    elif isinstance(value, Mapping):
        if "@value" in value:
            value_lang = value.get("@language")
            own = value_lang.strip() if isinstance(value_lang, str) and value_lang.strip() else lang
            _collect(value["@value"], own, into, depth + 1)
            return
        for key, item in value.items():
            if not isinstance(key, str) or not key.strip():
                continue
            key = NO_LANGUAGE if key in ("@none", "none") else key.strip()
            if key.startswith("@"):
                continue  # JSON-LD keywords such as @id are not languages
            _collect(item, key, into, depth + 1)


def _scalar_text(value: Any) -> str | None:
    """The text of a string or number; None for anything that is not a scalar value."""
    if isinstance(value, bool):
        return ""  # a boolean is never meant as text: drop it
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, (int, float)):
        return str(value)
    return None


def _primary(tag: str) -> str:
    return tag.split("-", 1)[0].lower()


def _candidates(
    langmap: Mapping[str, Any], lang: str | None, fallback: Iterable[str]
) -> str | None:
    """The key to use: `lang`, then its primary subtag, then "none", then `fallback`, then any."""
    if not langmap:
        return None
    keys = list(langmap)
    wanted: list[str] = []
    if lang:
        wanted.append(lang)
    wanted.append(NO_LANGUAGE)  # values in no language suit every reader
    wanted.extend(fallback)
    for want in wanted:
        exact = [k for k in keys if k.lower() == want.lower()]
        if exact:
            return exact[0]
        if want == NO_LANGUAGE:
            continue
        primary = _primary(want)
        related = [k for k in keys if k.lower() == primary] or [
            k for k in keys if _primary(k) == primary
        ]
        if related:
            return related[0]
    return keys[0]


def pick(
    langmap: Mapping[str, tuple[str, ...]] | None,
    lang: str | None,
    fallback: Iterable[str] = ("en", "none"),
    sep: str = " ",
) -> str:
    """The values of the best language for a reader of `lang`, joined by `sep`; "" when empty."""
    if not langmap:
        return ""
    key = _candidates(langmap, lang, fallback)
    return sep.join(langmap[key]) if key is not None else ""


def pick_lang(
    langmap: Mapping[str, tuple[str, ...]] | None,
    lang: str | None,
    fallback: Iterable[str] = ("en", "none"),
) -> str | None:
    """The language of what `pick` returns, for a `lang=` attribute.

    None when the map is empty or the values are in no language: `lang="none"` is not a language.
    """
    if not langmap:
        return None
    key = _candidates(langmap, lang, fallback)
    return None if key is None or key == NO_LANGUAGE else key
