"""The interface strings of the themes: one YAML file per language, complete translations, a
fallback chain and theme_dir overrides (docs/themes.md, "Translating the interface")."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from storiiies.build import build_site
from storiiies.errors import BuildFailed
from storiiies.site.strings import ThemeStrings, fallback_chain
from storiiies.site.themes import load_theme, themes_root
from tests.conftest import EXAMPLES

COINS = (EXAMPLES / "images" / "coins.png").read_bytes()
BUNDLED = sorted(themes_root().glob("*/strings/*.yml"))
TRANSLATIONS = [path for path in BUNDLED if path.stem != "en"]

STORY = """---
title: {title}
{lang}sources:
  coins: images/coins.png
---
## One

![A helmeted head](coins#xywh=310,152,72,70)
"""


def flat(data: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """`{"js": {"copied": …}}` → `{"js.copied": …}`."""
    result: dict[str, str] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            result.update(flat(value, f"{prefix}{key}."))
        else:
            result[prefix + key] = value
    return result


def english(path: Path) -> dict[str, str]:
    return flat(yaml.safe_load((path.parent / "en.yml").read_text(encoding="utf-8")))


def test_french_is_shipped() -> None:
    assert any(path.stem == "fr" for path in TRANSLATIONS)


@pytest.mark.parametrize("path", TRANSLATIONS, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_a_translation_has_every_english_key_and_no_other(path: Path) -> None:
    translated = flat(yaml.safe_load(path.read_text(encoding="utf-8")))
    assert sorted(set(english(path)) - set(translated)) == [], "untranslated keys"
    assert sorted(set(translated) - set(english(path))) == [], "keys English does not have"


@pytest.mark.parametrize("path", TRANSLATIONS, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_a_translation_keeps_each_strings_placeholders(path: Path) -> None:
    translated = flat(yaml.safe_load(path.read_text(encoding="utf-8")))
    for key, text in english(path).items():
        assert set(re.findall(r"\{\w+\}", translated[key])) == set(re.findall(r"\{\w+\}", text)), (
            key
        )


def test_fallback_chain_goes_from_region_to_language_to_english() -> None:
    assert fallback_chain("fr-CA") == ["fr-ca", "fr", "en"]
    assert fallback_chain("en-GB") == ["en-gb", "en"]
    assert fallback_chain("de") == ["de", "en"]


def test_a_regional_variant_gets_its_language_and_english_fills_the_gaps(tmp_path: Path) -> None:
    (tmp_path / "strings").mkdir()
    (tmp_path / "strings" / "fr-ca.yml").write_text("close: Fermer ça\n", encoding="utf-8")
    (tmp_path / "strings" / "de.yml").write_text("next: Weiter\n", encoding="utf-8")
    strings = ThemeStrings.read(load_theme("default", tmp_path).dirs)
    canadian = strings.for_language("fr-CA")
    assert canadian["close"] == "Fermer ça"  # its own file
    assert canadian["next"] == "Suivante"  # fr.yml
    assert canadian["js"]["copied"] == "Lien copié"  # nested keys fall back key by key
    german = strings.for_language("de")
    assert german["next"] == "Weiter"
    assert german["previous"] == "Previous"  # no German file in the theme: English
    assert german["language_name"] == "Deutsch"  # never "English"
    assert strings.for_language("fr")["language_name"] == "Français"


def test_a_french_story_shows_french_interface_strings(make_project) -> None:
    root = make_project(
        {
            "stories/coins.md": STORY.format(title="Pièces", lang="lang: fr\n"),
            "stories/other.md": STORY.format(title="Coins", lang=""),
            "images/coins.png": COINS,
        }
    )
    build_site(root)
    french = (root / "_site" / "coins" / "index.html").read_text(encoding="utf-8")
    assert '<html lang="fr"' in french
    assert "<span>Suivante</span>" in french and 'aria-label="Étape suivante"' in french
    assert r'"copied": "Lien copi\u00e9"' in french  # the strings the scripts announce (tojson)
    assert "Visite guidée" in (root / "_site" / "coins" / "text.html").read_text(encoding="utf-8")
    english_page = (root / "_site" / "other" / "index.html").read_text(encoding="utf-8")
    assert "<span>Next</span>" in english_page and "Suivant" not in english_page


def test_the_site_language_sets_the_home_pages_strings(make_project) -> None:
    root = make_project(
        {"stories/coins.md": STORY.format(title="Pièces", lang=""), "images/coins.png": COINS},
        config="title: Exposition\nlanguage: fr\n",
    )
    build_site(root)
    home = (root / "_site" / "index.html").read_text(encoding="utf-8")
    assert '<html lang="fr"' in home and "1 étape" in home
    # A story without `lang:` is in the site's language.
    assert "<span>Suivante</span>" in (root / "_site" / "coins" / "index.html").read_text()


def test_a_theme_dir_overrides_one_string_of_one_language(make_project) -> None:
    root = make_project(
        {
            "stories/coins.md": STORY.format(title="Pièces", lang="lang: fr\n"),
            "images/coins.png": COINS,
            "overrides/strings/fr.yml": "next: Continuer\n",
        },
        config="title: Exposition\ntheme_dir: overrides\n",
    )
    build_site(root)
    page = (root / "_site" / "coins" / "index.html").read_text(encoding="utf-8")
    assert "<span>Continuer</span>" in page and "<span>Précédente</span>" in page


def test_a_broken_strings_file_names_its_line(make_project) -> None:
    root = make_project(
        {
            "stories/coins.md": STORY.format(title="Coins", lang=""),
            "images/coins.png": COINS,
            "overrides/strings/en.yml": "next: Next\nprevious: [unclosed\n",
        },
        config="title: Gallery\ntheme_dir: overrides\n",
    )
    with pytest.raises(BuildFailed) as failure:
        build_site(root)
    (problem,) = failure.value.problems
    assert problem.location.path.endswith("overrides/strings/en.yml")
    assert problem.location.line in (2, 3) and "invalid YAML" in problem.message
