"""Text in an exported manifest reaches other viewers as text (IIIF Presentation 3, §4.4 "HTML
markup in property values"): a value is HTML only when it starts with `<` and ends with `>`,
and then uses only a, b, br, i, img, p, small, span, sub, sup with href, src and alt. Whatever
a story's title, summary, headings and text hold, the manifest validates, holds no other tag,
and another viewer shows the author's words literally."""

from __future__ import annotations

import json
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from storiiies.build import build_site
from tests.conftest import EXAMPLES
from tests.iiif_schema import schema_errors

SUBSET = {"a", "b", "br", "i", "img", "p", "small", "span", "sub", "sup"}
ATTRIBUTES = {"href", "src", "alt"}
IMG = "<img src=x onerror=alert(1)>"
SCRIPT = "<script>alert(2)</script>"
PLAIN = "a < b > c & d"

STORY = f"""---
title: "{IMG}"
summary: "{SCRIPT} {PLAIN} {IMG}"
author: "{IMG}"
sources:
  coins:
    url: images/coins.png
    label: "{IMG}"
---
Intro: {PLAIN}

## {IMG}

![{IMG}](coins#xywh=310,152,72,70)

{IMG} and {SCRIPT} and `{PLAIN}`

- {PLAIN}

## {PLAIN}

> **{PLAIN}** *{PLAIN}*
"""


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, set[str]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {name for name, _ in attrs}))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def read_html(value: str) -> tuple[list[tuple[str, set[str]]], str]:
    parser = _Tags()
    parser.feed(value)
    parser.close()
    return parser.tags, " ".join(" ".join(parser.text).split())


def values(node: Any, key: str) -> Iterator[str]:
    """Every string of every language map under `key`, anywhere in `node`."""
    if isinstance(node, dict):
        for name, child in node.items():
            if name == key and isinstance(child, dict):
                yield from (v for vs in child.values() for v in vs)
            else:
                yield from values(child, key)
    elif isinstance(node, list):
        for child in node:
            yield from values(child, key)


def html_bodies(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if node.get("type") == "TextualBody" and node.get("format") == "text/html":
            yield node["value"]
        for child in node.values():
            yield from html_bodies(child)
    elif isinstance(node, list):
        for child in node:
            yield from html_bodies(child)


def only(language_map: dict[str, list[str]]) -> list[str]:
    (found,) = language_map.values()
    return found


def shown(value: str) -> str:
    """What a viewer following §4.4 shows for a property value that may hold HTML."""
    if value.startswith("<") and value.endswith(">"):
        return read_html(value)[1]
    return value


@pytest.fixture
def manifest(make_project) -> dict:
    root = make_project(
        {
            "stories/hostile.md": STORY,
            "images/coins.png": (EXAMPLES / "images" / "coins.png").read_bytes(),
        }
    )
    build_site(root)
    return json.loads((Path(root) / "_site" / "hostile" / "manifest.json").read_text())


def test_the_manifest_validates(manifest: dict, shared: Path) -> None:
    assert schema_errors(manifest, shared) == []


def test_html_uses_only_the_presentation_subset(manifest: dict) -> None:
    html_values = [
        *values(manifest, "summary"),
        *values(manifest, "value"),
        *html_bodies(manifest),
    ]
    assert len(html_values) >= 8
    for value in html_values:
        is_html = value.startswith("<") and value.endswith(">")
        # A value that is not HTML holds no tag a lenient viewer could render either.
        assert is_html or "<" not in value, value
        tags, _ = read_html(value)
        for tag, attributes in tags:
            assert tag in SUBSET, (tag, value)
            assert attributes <= ATTRIBUTES, (attributes, value)
    for label in values(manifest, "label"):
        assert not (label.startswith("<") and label.endswith(">")), label
    assert "<script" not in json.dumps(manifest)


def test_the_author_s_words_are_shown_literally(manifest: dict) -> None:
    assert [label.lstrip("\u2060") for label in only(manifest["label"])] == [IMG]
    assert [shown(v) for v in only(manifest["summary"])] == [f"{SCRIPT} {PLAIN} {IMG}"]
    author = next(m for m in manifest["metadata"] if m["label"] == {"en": ["Author"]})
    assert [shown(v) for v in only(author["value"])] == [IMG]
    source = next(m for m in manifest["metadata"] if m["label"] == {"en": ["Source"]})
    assert [shown(v) for v in only(source["value"])] == [IMG]
    steps = manifest["annotations"][0]["items"]
    texts = [read_html(step["body"]["value"])[1] for step in steps]
    assert texts[0] == f"{IMG} Intro: {PLAIN}"
    assert texts[1] == f"{IMG} and and {PLAIN} {PLAIN}"
    assert texts[2] == f"{PLAIN} {PLAIN} {PLAIN}"
    assert only(steps[1]["label"])[0].lstrip("\u2060") == IMG
