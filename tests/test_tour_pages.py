"""What the theme writes, read as files: link previews, the embed and text pages, credits,
kiosk settings, theme choice and an author's overrides (docs/themes.md, docs/kiosk.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from storiiies.build import build_site, check_site
from storiiies.errors import BuildFailed
from tests.conftest import EXAMPLES
from tests.helpers import tags

COINS = (EXAMPLES / "images" / "coins.png").read_bytes()

STORY = """---
title: Coins <of> "Pompeii"
summary: Two coins & a tray.
sources:
  coins: images/coins.png
{extra}---
Intro.

## A helmet

![A helmeted head](coins#xywh=310,152,72,70)

Text.

## Two figures

![A striding figure](coins#xywh=300,12,68,64)
![A seated figure](coins#xywh=188,26,56,52)

## Same view

No region: keeps the previous step's view.
"""


def meta(path: Path) -> dict[str, str | None]:
    return {
        attrs.get("property") or attrs.get("name") or "": attrs.get("content")
        for tag, attrs in tags(path)
        if tag == "meta"
    }


def build(
    make_project,
    config: str = "title: Test exhibit\nbase_url: https://example.org/tours/\n",
    extra: str = "",
    files: dict | None = None,
) -> Path:
    root = make_project(
        {"stories/coins.md": STORY.format(extra=extra), "images/coins.png": COINS, **(files or {})},
        config=config,
    )
    build_site(root)
    return root / "_site"


def test_link_previews_show_the_first_region_with_absolute_urls(make_project):
    site = build(make_project)
    page = site / "coins" / "index.html"
    tags_of = meta(page)
    assert (
        tags_of["og:title"] == 'Coins <of> "Pompeii"'
    )  # escaped in the file, read back by the parser
    assert tags_of["og:url"] == "https://example.org/tours/coins/"
    image = tags_of["og:image"]
    assert image.startswith("https://example.org/tours/crops/") and image.endswith(".jpg")
    # The file exists, and is the first region (72 × 70 px, never enlarged), as the tags say.
    crop = site / image.removeprefix("https://example.org/tours/")
    assert crop.is_file()
    import pyvips

    cut = pyvips.Image.new_from_file(str(crop))
    assert (cut.width, cut.height) == (72, 70)
    assert (tags_of["og:image:width"], tags_of["og:image:height"]) == ("72", "70")
    assert tags_of["og:image:alt"] == tags_of["twitter:image:alt"] == "A helmeted head"
    assert tags_of["twitter:card"] == "summary"  # too small for the large card
    html = page.read_text().split('<script type="application/json"')[
        0
    ]  # JSON may hold `<`, never `</`
    assert (
        "<of>" not in html
        and '<meta property="og:title" content="Coins &lt;of&gt; &#34;Pompeii&#34;">' in html
    )


def test_every_story_has_an_embed_page_and_a_text_page(make_project):
    site = build(make_project)
    embed = site / "coins" / "embed.html"
    assert embed.is_file()
    names = [attrs.get("class") for _, attrs in tags(embed)]
    assert "st-tour st-embed" in names and "st-site-bar" not in names
    assert ("meta", {"name": "robots", "content": "noindex"}) in tags(embed)
    story = site / "coins" / "index.html"
    textarea = story.read_text().split('id="st-embed-code"')[1].split("</textarea>")[0]
    # The snippet is text in the field: its markup escaped once more, so the title survives intact.
    assert (
        ">&lt;iframe src=&#34;https://example.org/tours/coins/embed.html&#34; "
        "title=&#34;Coins &amp;lt;of&amp;gt;" in textarea
    )

    text = site / "coins" / "text.html"
    images = [attrs for tag, attrs in tags(text) if tag == "img"]
    # The cover, then one crop per region; the step without a region shows none.
    assert [i["alt"] for i in images][1:] == [
        "A helmeted head",
        "A striding figure",
        "A seated figure",
    ]
    for attrs in images:
        assert (text.parent / attrs["src"]).resolve().is_file(), attrs["src"]
        assert int(attrs["width"]) > 0 and int(attrs["height"]) > 0
    assert 'id="step-3"' in text.read_text()


def test_interface_strings_come_from_one_template(make_project):
    site = build(make_project)
    page = (site / "coins" / "index.html").read_text()
    strings = json.loads(page.split('id="st-strings">')[1].split("</script>")[0])
    assert strings["announce"] == "Step {n} of {total}: {title}"
    assert "Copy link to this step" in page and "Skip to the story" in page


def test_kiosk_settings_reach_the_pages(make_project):
    config = (
        "title: Gallery\nkiosk:\n  enabled: true\n  step_seconds: 7\n  idle_seconds: 40\n"
        "  attract_seconds: 5\n  autoplay: false\n"
    )
    site = build(
        make_project, config=config, extra="kiosk:\n  step_seconds: 9\n  durations: {2: 20}\n"
    )
    page = (site / "coins" / "index.html").read_text()
    assert '<html lang="en" dir="ltr" class="st-kiosk">' in page
    settings = json.loads(page.split('id="st-kiosk-settings">')[1].split("</script>")[0])
    assert settings == {
        "enabled": True,
        "autoplay": False,
        "idleSeconds": 40.0,
        "attract": True,
        "attractSeconds": 5.0,
        "stepSeconds": 9.0,
        "durations": {"2": 20.0},
    }
    home = (site / "index.html").read_text()
    loop = json.loads(home.split('id="st-kiosk-settings">')[1].split("</script>")[0])
    assert [(s["url"], s["title"]) for s in loop["stories"]] == [("coins/", 'Coins <of> "Pompeii"')]
    assert (site / loop["stories"][0]["image"]).is_file()  # the attract loop never leaves the site
    assert 'src="../assets/storiiies/kiosk.js"' in page and "storiiies/kiosk.js" in home


def test_pages_of_a_site_without_the_kiosk_do_not_load_its_script(make_project):
    site = build(make_project)
    for page in (site / "index.html", site / "coins" / "index.html", site / "coins" / "text.html"):
        assert "kiosk.js" not in page.read_text(), page


def test_kiosk_settings_are_checked_with_their_line(make_project):
    root = make_project(
        {
            "stories/coins.md": STORY.format(extra="kiosk:\n  durations: {2: -1}\n"),
            "images/coins.png": COINS,
        },
        config="title: Gallery\nkiosk:\n  enabled: true\n  idle_seconds: 0\n  autoplay: maybe\n",
    )
    with pytest.raises(BuildFailed) as failure:
        build_site(root)
    shown = [f"{p.location.path}:{p.location.line}: {p.message}" for p in failure.value.problems]
    assert any(line.startswith("storiiies.yml:4: ") and "idle_seconds" in line for line in shown), (
        shown
    )
    assert any(line.startswith("storiiies.yml:5: ") and "autoplay" in line for line in shown), shown
    root = make_project(
        {
            "stories/coins.md": STORY.format(extra="kiosk:\n  durations: {2: -1}\n"),
            "images/coins.png": COINS,
        },
        config="title: Gallery\n",
    )
    shown = [f"{p.location.path}:{p.location.line}: {p.message}" for p in check_site(root)]
    assert any(line.startswith("stories/coins.md:") and "durations" in line for line in shown), (
        shown
    )


def test_kiosk_theme_extends_the_default(make_project):
    site = build(make_project, config="title: Gallery\ntheme: kiosk\n")
    page = (site / "coins" / "index.html").read_text()
    assert (
        'href="../assets/storiiies/tour.css"' in page
        and 'href="../assets/storiiies/kiosk-theme.css"' in page
    )
    assert (site / "assets" / "storiiies" / "kiosk-theme.css").is_file()
    assert (site / "assets" / "storiiies" / "tour.js").is_file()


def test_theme_dir_overrides_a_template_a_block_and_a_stylesheet(make_project):
    files = {
        # One interface string: a strings file with just that key.
        "overrides/strings/en.yml": "next: Weiter\n",
        # One block of the theme's own template, through the `!default/` prefix.
        "overrides/templates/index.html": '{% extends "!default/index.html" %}'
        "{% block body_class %}st-index house-style{% endblock %}",
        "overrides/static/storiiies/tour.css": "body { color: rebeccapurple; }\n",
    }
    site = build(make_project, config="title: Gallery\ntheme_dir: overrides\n", files=files)
    assert "<span>Weiter</span>" in (site / "coins" / "index.html").read_text()
    assert 'class="st-index house-style"' in (site / "index.html").read_text()
    assert (
        site / "assets" / "storiiies" / "tour.css"
    ).read_text() == "body{color:rebeccapurple}"  # the override, minified
    assert (
        site / "assets" / "storiiies" / "tour.js"
    ).is_file()  # the rest still comes from the theme


def test_unknown_theme_lists_the_bundled_ones(make_project):
    root = make_project(
        {"stories/coins.md": STORY.format(extra=""), "images/coins.png": COINS},
        config="title: Gallery\ntheme: dark\n",
    )
    with pytest.raises(BuildFailed) as failure:
        build_site(root)
    (problem,) = failure.value.problems
    assert problem.message == "unknown theme 'dark'"
    assert problem.hint == "use one of: default, kiosk"


@pytest.mark.shared
def test_credits_show_label_provider_statement_rights_and_a_link_back(make_project, fixture_server):
    url = f"{fixture_server.url}/documents/clover/public__manifest__annotations__paged-gh.json"
    story = f"""---
title: A notebook
sources:
  notebook: {url}
---
Intro.

## A page

![The first page](notebook#xywh=0,0,1000,1000)
"""
    root = make_project({"stories/notebook.md": story})
    build_site(root)
    for name in ("index.html", "text.html", "embed.html"):
        page = (root / "_site" / "notebook" / name).read_text()
        credits = page.split('class="st-credits"')[1].split("</section>")[0]
        assert "[Manuscript notebook]." in credits
        assert "Provided by: Northwestern University Libraries" in credits
        assert "Attribution:</span> Courtesy of Northwestern University Libraries" in credits
        assert (
            '<a href="http://rightsstatements.org/vocab/NoC-NC/1.0/" rel="license">'
            "No Copyright – Non-Commercial Use Only</a>" in credits
        )
        assert (
            'href="https://dc.library.northwestern.edu/items/b52d5d93-a117-43e9-90c7-434fa1212b60"'
            in credits
        )
