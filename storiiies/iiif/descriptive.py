"""Descriptive and rights properties of a manifest, read the same way for P2 and P3.

One reader serves both versions because real P3 manifests still carry P2 names (`description`,
`attribution`, `license`, `related`), and a P2 name never means anything else in P3. The P3 name
wins when both are present.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from storiiies.iiif.coerce import as_dicts, first_id, node_id
from storiiies.iiif.language import to_language_map
from storiiies.iiif.model import Agent, LabelValue
from storiiies.iiif.sanitize import clean_html, to_text, web_url

ATTRIBUTION_LABEL: dict[str, tuple[str, ...]] = {"en": ("Attribution",)}
#: The label of an author's `credit:` line. Pages show these two labels in their own language
#: (theme strings `attribution` and `credit`); the exported manifests keep them in English.
CREDIT_LABEL: dict[str, tuple[str, ...]] = {"en": ("Credit",)}


def _mapped(value: Any, clean: Callable[[str], str]) -> dict[str, tuple[str, ...]]:
    result: dict[str, tuple[str, ...]] = {}
    for lang, values in to_language_map(value).items():
        kept = tuple(text for text in (clean(v) for v in values) if text)
        if kept:
            result[lang] = kept
    return result


def text_map(value: Any) -> dict[str, tuple[str, ...]]:
    """A language map of plain text (labels): any markup is stripped."""
    return _mapped(value, to_text)


def html_map(value: Any) -> dict[str, tuple[str, ...]]:
    """A language map of sanitised HTML (summaries, statement and metadata values)."""
    return _mapped(value, clean_html)


def read_summary(data: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    return html_map(data.get("summary")) or html_map(data.get("description"))


def read_required_statement(data: Mapping[str, Any]) -> LabelValue | None:
    for statement in as_dicts(data.get("requiredStatement")):
        value = html_map(statement.get("value"))
        if value:
            return LabelValue(
                label=text_map(statement.get("label")) or ATTRIBUTION_LABEL, value=value
            )
    attribution = html_map(data.get("attribution"))
    return LabelValue(label=ATTRIBUTION_LABEL, value=attribution) if attribution else None


def read_rights(data: Mapping[str, Any]) -> str | None:
    # P3 `rights` is one URI; P2 `license` may be a list, of which the first is the main one.
    rights = first_id(data.get("rights")) or first_id(data.get("license"))
    if rights is not None and rights.startswith("<"):
        # Some P2 manifests wrap the license URI in a link: keep the URI, not the markup.
        rights = to_text(rights) or None
    return web_url(rights)


def read_homepage(data: Mapping[str, Any]) -> str | None:
    return web_url(first_id(data.get("homepage")) or first_id(data.get("related")))


def read_providers(data: Mapping[str, Any]) -> tuple[Agent, ...]:
    agents = []
    for provider in as_dicts(data.get("provider")):
        label = text_map(provider.get("label"))
        homepage = web_url(first_id(provider.get("homepage")))
        if label or homepage:
            agents.append(Agent(label=label, homepage=homepage, id=node_id(provider)))
    return tuple(agents)


def read_metadata(data: Mapping[str, Any]) -> tuple[LabelValue, ...]:
    pairs = []
    for entry in as_dicts(data.get("metadata")):
        value = html_map(entry.get("value"))
        if value:
            pairs.append(LabelValue(label=text_map(entry.get("label")), value=value))
    return tuple(pairs)
