"""Finding stories and crediting their images: the home page's search and tag filter, and the
site's credits page and file.

The build writes `search.json` (plain text of every story) and the home page searches it in the
browser; `credits.html` and `credits.txt` list every source once with its rights and the stories
that use it. The browser tests run the real page in headless Chromium over 127.0.0.1.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Route

from storiiies.build import build_site
from tests.conftest import LiveServer, static_app
from tests.helpers import make_image

IN_COPYRIGHT = "http://rightsstatements.org/vocab/InC/1.0/"
CC_BY = "https://creativecommons.org/licenses/by/4.0/"

CATHEDRAL = """\
---
title: The West Front
summary: Statues of the Église Notre-Dame, one by one.
tags: [architecture, Sculpture]
order: 1
sources:
  front:
    url: images/front.png
    label: West front, photographed in 1890
    rights: https://creativecommons.org/licenses/by/4.0/
    credit: Photograph by A. Example
---
A façade with <em>many</em> figures.

## The portal

![The central portal](front#xywh=10,10,100,100)

Above the door sits a tympanum carved with the Last Judgement.

## Kings in a row

![A row of crowned statues](front#xywh=100,10,100,50)

Twenty-eight kings stand in the gallery, each with a crown.
"""

CROWNS = """\
---
title: Crowns
summary: Who wore what.
tags: [sculpture, metalwork]
order: 2
sources:
  front:
    url: images/front.png
    label: West front, photographed in 1890
    rights: https://creativecommons.org/licenses/by/4.0/
    credit: Photograph by A. Example
  chest:
    url: images/chest.png
    label: A treasury chest
    rights: http://rightsstatements.org/vocab/InC/1.0/
---
## A crown of lilies

![A crowned head](front#xywh=100,10,50,50)

The lilies mark a king of France.

## The chest

![The lid of the chest](chest)

It held the crowns between coronations.
"""

CROWNS_FR = """\
---
title: Couronnes
summary: Qui portait quoi.
---
## Une couronne de lys

Les fleurs de lys désignent un roi de France.

## Le coffre

Il gardait les couronnes entre deux sacres.
"""

MAPS = """\
---
title: Old Maps
tags: [cartography]
order: 3
sources:
  map: images/map.png
---
## The coast

![A coastline](map)

Sandbanks and a lighthouse.
"""


def write_project(root: Path) -> Path:
    (root / "stories").mkdir(parents=True)
    (root / "storiiies.yml").write_text("title: Discovery\n", encoding="utf-8")
    for name in ("front", "chest", "map"):
        make_image(root / "images" / f"{name}.png", 300, 200)
    stories = (
        ("west-front", CATHEDRAL),
        ("crowns", CROWNS),
        ("crowns.fr", CROWNS_FR),
        ("maps", MAPS),
    )
    for name, text in stories:
        (root / "stories" / f"{name}.md").write_text(text, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = write_project(tmp_path_factory.mktemp("discovery") / "project")
    build_site(root)
    return root / "_site"


@pytest.fixture(scope="module")
def server(site: Path) -> Iterator[LiveServer]:
    live = LiveServer(static_app(site)).start()
    yield live
    live.stop()


# --- the search index ---------------------------------------------------------------------


def test_the_search_index_holds_the_plain_text_of_every_story(site: Path) -> None:
    index = json.loads((site / "search.json").read_text(encoding="utf-8"))
    # In the site's order (front matter `order`), each at its story's address.
    assert [story["url"] for story in index["stories"]] == ["west-front/", "crowns/", "maps/"]
    assert index["stories"][0]["tags"] == ["architecture", "Sculpture"]
    [front] = index["stories"][0]["versions"]  # no translations: one version, the story itself
    assert front["url"] == "west-front/" and front["lang"] == "en"
    assert front["summary"] == "Statues of the Église Notre-Dame, one by one."
    assert front["intro"] == "A façade with many figures."  # markup reduced to its words
    assert [step["title"] for step in front["steps"]] == ["The portal", "Kings in a row"]
    # The step text and the alt text of its region: both are words a reader searches for.
    assert "tympanum carved with the Last Judgement" in front["steps"][0]["text"]
    assert "The central portal" in front["steps"][0]["text"]
    assert "<" not in json.dumps(index)


def test_the_home_page_offers_every_tag_once(site: Path) -> None:
    html = (site / "index.html").read_text(encoding="utf-8")
    tags = [part.split('"', 1)[0] for part in html.split('data-tag="')[1:]]
    # "Sculpture" and "sculpture" are one tag; the first spelling met is kept.
    assert tags == ["architecture", "cartography", "metalwork", "Sculpture"]


# --- the credits ----------------------------------------------------------------------------


def test_the_credits_file_lists_each_source_once_with_the_stories_that_use_it(site: Path) -> None:
    text = (site / "credits.txt").read_text(encoding="utf-8")
    assert text.count("West front, photographed in 1890") == 1
    front = text.split("West front, photographed in 1890", 1)[1].split("\n\n", 1)[0]
    assert f"Rights: CC BY 4.0 <{CC_BY}>" in front
    assert "Credit: Photograph by A. Example" in front
    assert "Used in: The West Front (west-front/), Crowns (crowns/)" in front
    chest = text.split("A treasury chest", 1)[1].split("\n\n", 1)[0]
    assert f"Rights: In Copyright <{IN_COPYRIGHT}>" in chest
    maps = text.split("map", 1)[1].split("\n\n", 1)[0]
    assert "Rights: not stated by the source" in maps


def test_the_credits_page_names_licences_and_flags_what_needs_permission(site: Path) -> None:
    html = (site / "credits.html").read_text(encoding="utf-8")
    assert f'<a href="{CC_BY}" rel="license">CC BY 4.0</a>' in html
    chest = html.split("A treasury chest", 1)[1].split("</li>", 1)[0]
    assert (
        'In Copyright</a> <strong class="st-rights-note">(reuse needs the holder&#39;s permission)'
        in chest
    )
    maps = html.split("Old Maps", 1)[0].rsplit("<li", 1)[1]
    assert "Not stated by the source" in maps
    # Every story page leads to it, and so does the home page.
    assert 'href="../credits.html"' in (site / "crowns" / "index.html").read_text(encoding="utf-8")
    assert 'href="credits.html"' in (site / "index.html").read_text(encoding="utf-8")


# --- in the browser -------------------------------------------------------------------------


def visible_cards(page) -> list[str]:
    return page.eval_on_selector_all(
        ".st-story-card:not([hidden]) .st-card-link",
        "links => links.map(a => a.textContent.trim())",
    )


@pytest.fixture
def page(new_page, server: LiveServer):
    page = new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    assert errors == []


def test_searching_shows_matching_stories_with_links_to_their_steps(
    page, server: LiveServer
) -> None:
    page.goto(server.url + "/")
    assert visible_cards(page) == ["The West Front", "Crowns", "Old Maps"]
    page.fill("#st-search-input", "crown")
    page.wait_for_function("document.querySelector('.st-search-status').textContent.includes('2')")
    # The story titled "Crowns" ranks above one that only mentions crowns in a step.
    assert visible_cards(page) == ["Crowns", "The West Front"]
    assert page.text_content(".st-search-status") == "2 stories match."
    hit = page.locator(".st-story-card", has_text="The West Front").locator(".st-hits a")
    assert hit.all_text_contents() == ["Step 2: Kings in a row"]
    assert hit.get_attribute("href") == "west-front/#step-2"
    # "each with a crown. A row of crowned statues": both marked, in the words as written.
    marks = page.locator(".st-story-card", has_text="The West Front").locator(".st-hits mark")
    assert marks.all_text_contents() == ["crown", "crown"]
    # The query is in the address, so the search can be shared.
    assert page.url.endswith("/?q=crown")


def test_search_ignores_case_and_accents_and_needs_every_word(page, server: LiveServer) -> None:
    page.goto(server.url + "/?q=EGLISE")
    page.wait_for_function("document.querySelector('.st-search-status').textContent !== ''")
    assert visible_cards(page) == ["The West Front"]
    page.fill("#st-search-input", "kings lighthouse")
    page.wait_for_function(
        "document.querySelector('.st-search-status').textContent === 'No story matches.'"
    )
    assert visible_cards(page) == []
    page.fill("#st-search-input", "")
    page.wait_for_function("document.querySelector('.st-search-status').textContent === ''")
    assert visible_cards(page) == ["The West Front", "Crowns", "Old Maps"]


def test_tags_filter_the_stories_and_combine_with_a_search(page, server: LiveServer) -> None:
    page.goto(server.url + "/")
    sculpture = page.locator(".st-tag", has_text="Sculpture")
    sculpture.click()
    assert sculpture.get_attribute("aria-pressed") == "true"
    assert visible_cards(page) == ["The West Front", "Crowns"]
    assert page.url.endswith("/?tag=Sculpture")
    page.fill("#st-search-input", "lilies")
    page.wait_for_function(
        "document.querySelector('.st-search-status').textContent === '1 story matches.'"
    )
    assert visible_cards(page) == ["Crowns"]
    # A shared address brings the same selection back; Tab order follows the shown order.
    page.goto(server.url + "/?tag=cartography")
    assert visible_cards(page) == ["Old Maps"]
    assert page.locator(".st-tag", has_text="cartography").get_attribute("aria-pressed") == "true"


def test_search_works_with_no_network_beyond_the_site(page, server: LiveServer) -> None:
    requests: list[str] = []

    def record(route: Route) -> None:
        requests.append(route.request.url)
        route.continue_()

    page.route("**/*", record)
    page.goto(server.url + "/")
    page.fill("#st-search-input", "tympanum")
    page.wait_for_function(
        "document.querySelector('.st-search-status').textContent === '1 story matches.'"
    )
    assert requests and all(url.startswith(server.url) for url in requests)
    assert any(url.endswith("/search.json") for url in requests)


def test_a_story_is_found_through_its_translation(page, server: LiveServer) -> None:
    page.goto(server.url + "/?q=sacres")
    page.wait_for_function(
        "document.querySelector('.st-search-status').textContent === '1 story matches.'"
    )
    assert visible_cards(page) == ["Crowns"]
    hits = page.locator(".st-story-card", has_text="Crowns").locator(".st-hits")
    assert hits.get_attribute("lang") == "fr"
    assert hits.locator("a").get_attribute("href") == "crowns/fr/#step-2"
    assert hits.locator("a").text_content() == "Step 2: Le coffre"


def test_credit_labels_storiiies_writes_are_in_the_page_language(site: Path) -> None:
    english = (site / "crowns" / "index.html").read_text(encoding="utf-8")
    french = (site / "crowns" / "fr" / "index.html").read_text(encoding="utf-8")
    assert "<span>Credit:</span> Photograph by A. Example" in english
    assert "<span>Crédit\u00a0:</span> Photograph by A. Example" in french
