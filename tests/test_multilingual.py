"""One story in several languages: `coins.md` and its translation `coins.fr.md`
(docs/authoring.md, "Translations")."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest

from storiiies.build import build_site, check_site
from storiiies.tools.importer import import_story
from tests.conftest import EXAMPLES, LiveServer, static_app
from tests.helpers import tags
from tests.iiif_schema import schema_errors

COINS = (EXAMPLES / "images" / "coins.png").read_bytes()

ORIGINAL = """---
title: Coins of Pompeii
summary: Three coins.
tags: [coins]
sources:
  coins: images/coins.png
---
A tray of coins.

## A helmet

![A helmeted head](coins#xywh=310,152,72,70)

Compare the [smaller head](coins#xywh=14,228,66,66).

## Two figures

![A striding figure](coins#xywh=300,12,68,64)
![A seated figure](coins#xywh=188,26,56,52)

## The tray

![The whole tray](coins)
"""

# Step 2 has no region of its own: it shows the original's two figures.
FRENCH = """---
title: Les monnaies de Pompéi
summary: Trois pièces.
---
Un plateau de pièces.

## Un casque

![Une tête casquée](coins#xywh=310,152,72,70)

Comparez avec la [petite tête](coins#xywh=14,228,66,66).

## Deux figures

Une figure debout et une figure assise.

## Le plateau

![Le plateau entier](coins)
"""


def alternates(path: Path) -> dict[str, str | None]:
    return {
        str(a["hreflang"]): a["href"]
        for name, a in tags(path)
        if name == "link" and a.get("rel") == "alternate" and a.get("hreflang")
    }


def story_data(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    found = re.search(r'id="story-data">(.*?)</script>', text, re.S)
    assert found is not None, f"{path} has no story data"
    return json.loads(found.group(1))


def write_project(root: Path, files: dict[str, str | bytes], config: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "storiiies.yml").write_text(config, encoding="utf-8")
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content) if isinstance(content, bytes) else path.write_text(
            content, "utf-8"
        )
    return root


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The two-language story, built once for the module."""
    root = write_project(
        tmp_path_factory.mktemp("multilingual") / "project",
        {"stories/coins.md": ORIGINAL, "stories/coins.fr.md": FRENCH, "images/coins.png": COINS},
        "title: Gallery\nbase_url: https://example.org/tours/\n",
    )
    build_site(root)
    return root / "_site"


def test_a_translation_gets_its_pages_inside_the_originals_folder(site: Path) -> None:
    for name in ("index.html", "text.html", "embed.html"):
        assert (site / "coins" / "fr" / name).is_file()
    assert not (site / "coins" / "fr" / "manifest.json").exists()  # one manifest per story
    assert not (site / "coins-fr").exists()


@pytest.mark.parametrize("page", ["index.html", "text.html", "embed.html"])
def test_every_page_says_its_language_and_names_the_others(site: Path, page: str) -> None:
    file = "" if page == "index.html" else page
    for folder, lang in (("coins", "en"), ("coins/fr", "fr")):
        html_tag = next(a for name, a in tags(site / folder / page) if name == "html")
        assert html_tag["lang"] == lang
        assert alternates(site / folder / page) == {
            "en": f"https://example.org/tours/coins/{file}",
            "fr": f"https://example.org/tours/coins/fr/{file}",
            "x-default": f"https://example.org/tours/coins/{file}",
        }


def test_the_language_switch_links_each_language_named_in_itself(site: Path) -> None:
    links = [
        a
        for name, a in tags(site / "coins" / "fr" / "index.html")
        if name == "a" and a.get("hreflang")
    ]
    assert [(a["lang"], a["hreflang"], a["href"], a.get("aria-current")) for a in links] == [
        ("en", "en", "../../coins/", None),
        ("fr", "fr", "../../coins/fr/", "page"),
    ]
    page = (site / "coins" / "fr" / "index.html").read_text(encoding="utf-8")
    switch = page.split('class="st-languages"')[1].split("</nav>")[0]
    assert 'aria-label="Ce récit dans d&#39;autres langues"' in page
    assert ">English</a>" in switch and ">Français</a>" in switch
    text_version = (site / "coins" / "text.html").read_text(encoding="utf-8")
    assert 'href="../coins/fr/text.html" lang="fr" hreflang="fr">Français</a>' in text_version


def test_a_story_in_one_language_has_no_switch(make_project) -> None:
    root = make_project({"stories/coins.md": ORIGINAL, "images/coins.png": COINS})
    build_site(root)
    page = (root / "_site" / "coins" / "index.html").read_text(encoding="utf-8")
    assert "st-languages" not in page and "hreflang" not in page


def test_a_translation_shows_its_own_text_over_the_originals_regions(site: Path) -> None:
    original, french = (story_data(site / f / "index.html") for f in ("coins", "coins/fr"))
    assert french["lang"] == "fr"
    assert [s["title"] for s in french["steps"]] == [
        "Les monnaies de Pompéi",
        "Un casque",
        "Deux figures",
        "Le plateau",
    ]
    regions = lambda data: [[v["region"] for v in s["views"]] for s in data["steps"]]  # noqa: E731
    assert regions(french) == regions(original)
    # Step 2 borrowed the original's two regions, with their text alternatives.
    assert [v["alt"] for v in french["steps"][2]["views"]] == [
        "A striding figure",
        "A seated figure",
    ]
    assert french["steps"][1]["views"][0]["alt"] == "Une tête casquée"
    # Its share links point into the story's one manifest.
    assert french["iiif"]["manifest"] == "https://example.org/tours/coins/manifest.json"
    assert all(french["iiif"]["contentStates"])
    assert 'href="../../coins/manifest.json"' in (site / "coins" / "fr" / "index.html").read_text()


def test_the_page_interface_is_in_the_pages_language(site: Path) -> None:
    french = (site / "coins" / "fr" / "index.html").read_text(encoding="utf-8")
    assert "<span>Suivante</span>" in french and "<span>Crédits</span>" in french
    english = (site / "coins" / "index.html").read_text(encoding="utf-8")
    assert "<span>Next</span>" in english and "Suivant" not in english


def test_the_home_page_lists_the_story_once_with_its_languages(site: Path) -> None:
    home = (site / "index.html").read_text(encoding="utf-8")
    assert home.count('class="st-story-card"') == 1
    assert '<a href="coins/fr/" lang="fr" hreflang="fr">Français' in home
    collection = json.loads((site / "collection.json").read_text())
    assert [item["label"] for item in collection["items"]] == [
        {"en": ["Coins of Pompeii"], "fr": ["Les monnaies de Pompéi"]}
    ]


def test_a_french_site_offers_the_french_version_first(make_project) -> None:
    root = make_project(
        {"stories/coins.md": ORIGINAL, "stories/coins.fr.md": FRENCH, "images/coins.png": COINS},
        config="title: Galerie\nlanguage: fr\n",
    )
    # The original says which language it is in, since the site's is French.
    (root / "stories" / "coins.md").write_text(ORIGINAL.replace("tags:", "lang: en\ntags:"))
    build_site(root)
    home = (root / "_site" / "index.html").read_text(encoding="utf-8")
    card = home.split('class="st-story-card"')[1]
    assert 'href="coins/fr/">Les monnaies de Pompéi</a>' in card
    assert "Aussi en\u00a0: " in card and '<a href="coins/" lang="en" hreflang="en">English' in card


def test_the_manifest_has_every_language_and_validates(site: Path, shared: Path) -> None:
    manifest = json.loads((site / "coins" / "manifest.json").read_text())
    assert schema_errors(manifest, shared) == []
    assert manifest["label"] == {"en": ["Coins of Pompeii"], "fr": ["Les monnaies de Pompéi"]}
    assert manifest["summary"] == {"en": ["Three coins."], "fr": ["Trois pièces."]}
    assert [(h["id"], h["language"]) for h in manifest["homepage"]] == [
        ("https://example.org/tours/coins/", ["en"]),
        ("https://example.org/tours/coins/fr/", ["fr"]),
    ]
    steps = manifest["annotations"][0]["items"]
    first = next(a for a in steps if a["id"].endswith("/step-1"))
    # Headings are not in the Presentation API's HTML subset: the title is a bold paragraph.
    assert [(b["language"], b["value"].split("</b></p>")[0]) for b in first["body"]] == [
        ("en", "<p><b>A helmet"),
        ("fr", "<p><b>Un casque"),
    ]
    # The French region link opens the French tour.
    assert "https://example.org/tours/coins/fr/?iiif-content=" in first["body"][1]["value"]
    assert first["label"] == {"en": ["A helmeted head"], "fr": ["Une tête casquée"]}
    borrowed = next(a for a in steps if a["id"].endswith("/step-2-1"))
    assert borrowed["label"] == {
        "en": ["A striding figure"]
    }  # the French step has no alt of its own


def test_storiiies_import_reads_either_language(site: Path) -> None:
    server = LiveServer(static_app(site)).start()
    try:
        url = f"{server.url}/coins/manifest.json"
        french = import_story(url, lang="fr")
        english = import_story(url, lang="en")
    finally:
        server.stop()
    assert "title: Les monnaies de Pompéi" in french and "## Un casque" in french
    assert "title: Coins of Pompeii" in english and "## A helmet" in english
    assert "Un casque" not in english


def test_the_example_exhibit_has_a_french_coins(built_examples: Path) -> None:
    page = built_examples / "coins" / "fr" / "index.html"
    assert 'lang="fr"' in page.read_text(encoding="utf-8")
    steps = story_data(page)["steps"]
    assert len(steps) == len(story_data(built_examples / "coins" / "index.html")["steps"])


# -- mistakes ---------------------------------------------------------------------------------


def shown(root: Path) -> list[str]:
    return [str(p) for p in check_site(root)]


def test_a_missing_step_is_told_at_the_translations_line(make_project) -> None:
    short = FRENCH.split("## Le plateau")[0]
    root = make_project(
        {"stories/coins.md": ORIGINAL, "stories/coins.fr.md": short, "images/coins.png": COINS}
    )
    problems = [p for p in check_site(root) if p.is_error]
    (problem,) = problems
    assert problem.location.path == "stories/coins.fr.md"
    assert problem.location.line == short.split("\n").index("## Deux figures") + 1
    assert "has 2 steps, its original stories/coins.md has 3" in problem.message


def test_an_extra_step_is_told_where_it_starts(make_project) -> None:
    longer = FRENCH + "\n## En trop\n\nTexte.\n"
    root = make_project(
        {"stories/coins.md": ORIGINAL, "stories/coins.fr.md": longer, "images/coins.png": COINS}
    )
    (line,) = [s for s in shown(root) if "error" in s]
    assert line.startswith(f"stories/coins.fr.md:{longer.split(chr(10)).index('## En trop') + 1}: ")
    assert "has 4 steps" in line


def test_a_lang_that_disagrees_with_the_file_name_is_an_error(make_project) -> None:
    wrong = FRENCH.replace("summary:", "lang: de\nsummary:")
    root = make_project(
        {"stories/coins.md": ORIGINAL, "stories/coins.fr.md": wrong, "images/coins.png": COINS}
    )
    (line,) = [s for s in shown(root) if "error" in s]
    assert line.startswith("stories/coins.fr.md:3:") and "'de' disagrees" in line


def test_a_translation_into_the_originals_own_language_is_an_error(make_project) -> None:
    root = make_project(
        {"stories/coins.md": ORIGINAL, "stories/coins.en.md": FRENCH, "images/coins.png": COINS}
    )
    (line,) = [s for s in shown(root) if "error" in s]
    assert line.startswith("stories/coins.en.md:1:") and "the language of stories/coins.md" in line


def test_a_translation_may_relabel_a_source_and_stay_a_draft(make_project) -> None:
    relabelled = FRENCH.replace(
        "summary: Trois pièces.\n",
        "summary: Trois pièces.\nsources:\n  coins:\n    url: images/coins.png\n"
        "    label: Monnaies de Pompéi\n",
    )
    files = {"stories/coins.md": ORIGINAL, "stories/coins.fr.md": relabelled}
    root = make_project(
        {
            **files,
            "stories/coins.de.md": FRENCH.replace("---\n", "---\ndraft: true\n", 1),
            "images/coins.png": COINS,
        }
    )
    site = build_site(root).output
    credit = (site / "coins" / "fr" / "index.html").read_text().split('class="st-credits"')[1]
    assert "Monnaies de Pompéi" in credit
    original = (site / "coins" / "index.html").read_text().split('class="st-credits"')[1]
    assert "Monnaies de Pompéi" not in original  # the original keeps its own label
    assert not (site / "coins" / "de").exists()  # `draft: true`


def test_a_translation_without_its_original_is_a_story_of_its_own_with_a_warning(
    make_project,
) -> None:
    alone = FRENCH.replace("---\n", "---\nsources:\n  coins: images/coins.png\n", 1)
    root = make_project({"stories/notes.fr.md": alone, "images/coins.png": COINS})
    problems = check_site(root)
    assert [str(p) for p in problems if p.is_error] == []
    (warning,) = [p for p in problems if "translation" in p.message]
    assert warning.location.path == "stories/notes.fr.md" and warning.location.line == 1
    assert "notes.md, which does not exist" in warning.message
    assert (build_site(root).output / "notes-fr" / "index.html").is_file()


def test_a_borrowed_sources_warnings_are_told_once(make_project) -> None:
    # The source has no rights statement: a warning at the original's line, not the translation's.
    root = make_project(
        {"stories/coins.md": ORIGINAL, "stories/coins.fr.md": FRENCH, "images/coins.png": COINS}
    )
    warnings = [p for p in check_site(root) if "rights" in p.message]
    assert [p.location.path for p in warnings] == ["stories/coins.md"]


def test_source_labels_follow_each_pages_language(make_project, fixture_server) -> None:
    url = f"{fixture_server.url}/documents/cookbook/recipe__0006-text-language__manifest.json"
    story = f"---\ntitle: Mother\nsources:\n  m: {url}\n---\n## One\n\n![A portrait](m)\n"
    translation = "---\ntitle: Mère\n---\n## Un\n\n![Un portrait](m)\n"
    root = make_project({"stories/m.md": story, "stories/m.fr.md": translation})
    site = build_site(root).output
    credit = lambda page: page.read_text().split('class="st-credits"')[1]  # noqa: E731
    assert "La Mère de Whistler" in credit(site / "m" / "fr" / "index.html")
    assert "Whistler&#39;s Mother" in credit(site / "m" / "index.html")


# -- preview and browser ----------------------------------------------------------------------


def test_the_preview_serves_and_rebuilds_a_translation(make_project, preview_server) -> None:
    import os
    import time

    root = make_project(
        {"stories/coins.md": ORIGINAL, "stories/coins.fr.md": FRENCH, "images/coins.png": COINS}
    )
    server = preview_server(root)
    assert "Un casque" in httpx.get(f"{server.url}/coins/fr/").text
    path = root / "stories" / "coins.fr.md"
    temporary = path.with_name(".coins.fr.md.saving")
    temporary.write_text(FRENCH.replace("Un casque", "Un heaume"), encoding="utf-8")
    os.replace(temporary, path)
    deadline = time.monotonic() + 10
    while "Un heaume" not in httpx.get(f"{server.url}/coins/fr/").text:
        assert time.monotonic() < deadline, "the translation was not rebuilt"
        time.sleep(0.05)
    assert sum(r.parsed for r in server.rebuilds) == 1  # only the translation was parsed again


@pytest.mark.browser
def test_the_language_switch_keeps_the_step(new_page, site: Path) -> None:
    server = LiveServer(static_app(site)).start()
    try:
        page = new_page(viewport={"width": 1280, "height": 800}, reduced_motion="reduce")
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{server.url}/coins/#step-1")
        page.wait_for_function("() => window.storiiies !== undefined")
        page.click(".st-next")  # to step 2: the switch follows the step shown
        page.wait_for_function("() => location.hash === '#step-2'")
        page.click(".st-languages a[hreflang=fr]")
        page.wait_for_url(f"{server.url}/coins/fr/#step-2")
        page.wait_for_function(
            "() => window.storiiies !== undefined && document.body.dataset.step === '2'"
        )
        assert page.evaluate("document.documentElement.lang") == "fr"
        assert page.locator("#step-2-title").inner_text() == "Deux figures"
        assert page.locator("#step-2-title").is_visible()
        assert page.get_attribute(".st-next", "aria-label") == "Étape suivante"
        assert page.get_attribute(".st-languages a[hreflang=en]", "href").endswith("#step-2")
        # "Précédente · Étape 2 sur 4 · Suivante" is wider than the panel: the button labels
        # give way to the counter instead of running over it.
        prev, counter, next_ = (
            page.locator(selector).bounding_box()
            for selector in (".st-prev", ".st-progress-text", ".st-next")
        )
        assert prev["x"] + prev["width"] <= counter["x"]
        assert counter["x"] + counter["width"] <= next_["x"]
        assert page.locator(".st-next span").is_hidden()
        assert errors == []
    finally:
        server.stop()
