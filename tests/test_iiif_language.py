"""Language maps: every P2 and P3 text shape in, one map out; then picking a reader's language."""

from __future__ import annotations

import pytest

from storiiies.iiif.language import pick, pick_lang, to_language_map


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, {}),
        ("A title", {"none": ("A title",)}),
        (["One", "Two"], {"none": ("One", "Two")}),
        ({"@value": "Ich bin", "@language": "de"}, {"de": ("Ich bin",)}),
        ({"@value": "No language"}, {"none": ("No language",)}),
        (
            [{"@value": "Yo", "@language": "es"}, {"@value": "Moi", "@language": "fr"}, "plain"],
            {"es": ("Yo",), "fr": ("Moi",), "none": ("plain",)},
        ),
        ({"en": ["Title"], "fr": ["Titre", "Nom"]}, {"en": ("Title",), "fr": ("Titre", "Nom")}),
        ({"en": "not a list"}, {"en": ("not a list",)}),
        ({"@none": ["early draft"]}, {"none": ("early draft",)}),
        ({"none": ["  padded  "]}, {"none": ("padded",)}),
    ],
)
def test_every_shape_becomes_a_language_map(
    value: object, expected: dict[str, tuple[str, ...]]
) -> None:
    assert to_language_map(value) == expected


def test_default_language_applies_to_untagged_values() -> None:
    assert to_language_map("Titel", default_lang="de") == {"de": ("Titel",)}


def test_values_in_the_same_language_are_merged_in_order() -> None:
    value = [{"@value": "a", "@language": "en"}, {"@value": "b", "@language": "en"}]
    assert to_language_map(value) == {"en": ("a", "b")}


@pytest.mark.parametrize(
    "junk",
    [
        42,
        3.5,
        True,
        {"en": [1, None, {"x": "y"}, ["deep", ["deeper"]]]},
        [[[[[[["too deep"]]]]]]],
        {"@id": "https://example.org/x"},
        {1: "int key"},
        {"": ["empty key"]},
        {"en": [""]},
        {"@value": {"nested": "object"}, "@language": 7},
    ],
)
def test_junk_never_raises(junk: object) -> None:
    result = to_language_map(junk)
    assert all(isinstance(k, str) and v for k, v in result.items())
    assert all(isinstance(text, str) for values in result.values() for text in values)


def test_numbers_become_text() -> None:
    assert to_language_map(1780) == {"none": ("1780",)}
    assert to_language_map({"en": [3.5, True]}) == {"en": ("3.5",)}


LABEL = {"en": ("Letter",), "fr": ("Lettre",), "fr-CA": ("Lettre (Québec)",), "none": ("L",)}


@pytest.mark.parametrize(
    ("lang", "text", "key"),
    [
        ("fr-CA", "Lettre (Québec)", "fr-CA"),
        ("fr-BE", "Lettre", "fr"),
        ("FR", "Lettre", "fr"),
        ("en-GB", "Letter", "en"),
        ("de", "L", None),
        (None, "L", None),
    ],
)
def test_pick_prefers_the_reader_then_the_primary_subtag_then_none(
    lang: str | None, text: str, key: str | None
) -> None:
    assert pick(LABEL, lang) == text
    assert pick_lang(LABEL, lang) == key


def test_pick_matches_any_regional_variant_of_the_primary_subtag() -> None:
    assert pick({"pt-BR": ("Carta",), "en": ("Letter",)}, "pt") == "Carta"


def test_pick_falls_back_to_english_then_the_first_language() -> None:
    assert pick({"de": ("Brief",), "en": ("Letter",)}, "ja") == "Letter"
    assert pick_lang({"de": ("Brief",), "en": ("Letter",)}, "ja") == "en"
    assert pick({"de": ("Brief",), "it": ("Lettera",)}, "ja") == "Brief"
    # Real data: a Mirador fixture uses "true" as its language key.
    assert pick({"true": ("Hamilton Letter",)}, "en") == "Hamilton Letter"


def test_pick_joins_multiple_values() -> None:
    assert pick({"en": ("One", "Two")}, "en") == "One Two"
    assert pick({"en": ("One", "Two")}, "en", sep="\n") == "One\nTwo"


def test_pick_of_nothing_is_empty() -> None:
    assert pick({}, "en") == ""
    assert pick(None, "en") == ""
    assert pick_lang({}, "en") is None
