"""The story format of docs/authoring.md, parsed into drafts."""

from pathlib import Path

from storiiies.iiif.fragments import Region
from storiiies.model import StorySource
from storiiies.story.parse import parse_story, slugify
from storiiies.story.references import Reference


def parse(text: str, name: str = "stories/coins.md"):
    return parse_story(StorySource(Path(name), name, text))


STORY = """\
---
title: Coins of Pompeii
summary: Four silver coins.
lang: en
tags: coins
sources:
  coins: images/coins.png
  book: https://example.org/iiif/manifest.json
---
Text before the first heading is the title slide.

## Athena on the obverse
![Head of Athena, facing right](coins#xywh=120,80,400,400)
Step text. A [link to the owl](coins#xywh=600,80,300,300) pans the view.

## The second leaf
![Folio 2 recto](book/2#xywh=percent:10,10,50,40)

### A sub-heading stays inside the step
![an ordinary picture](figures/map.png)

## Side by side
![Left](coins#xywh=0,0,10,10)
![Right](book/2)
"""


def test_steps_regions_and_links():
    draft = parse(STORY)
    assert draft.problems == ()
    assert draft.title == "Coins of Pompeii"
    assert draft.meta.tags == ("coins",)
    assert draft.slug == "coins"
    assert "title slide" in draft.intro_html
    assert [s.title for s in draft.steps] == [
        "Athena on the obverse",
        "The second leaf",
        "Side by side",
    ]
    first = draft.steps[0]
    assert first.regions[0].reference == Reference("coins", None, Region(120, 80, 400, 400))
    assert first.regions[0].alt == "Head of Athena, facing right"
    assert str(first.regions[0].location) == "stories/coins.md:13:33"
    assert first.links[0].reference.region == Region(600, 80, 300, 300)
    assert 'href="#step-1"' in first.body_html and 'data-storiiies-link="0"' in first.body_html
    assert (
        "coins#xywh" not in first.body_html
    )  # the region image is shown by the viewer, not inline


def test_ordinary_images_keep_their_markdown_meaning():
    second = parse(STORY).steps[1]
    assert second.regions[0].reference == Reference("book", "2", Region(10, 10, 50, 40, "percent"))
    assert '<img src="figures/map.png" alt="an ordinary picture">' in second.body_html
    assert "<h3>A sub-heading stays inside the step</h3>" in second.body_html


def test_two_region_images_make_a_comparison_step():
    third = parse(STORY).steps[2]
    assert [r.alt for r in third.regions] == ["Left", "Right"]


def test_missing_alt_text_is_an_error_with_its_line():
    draft = parse("---\ntitle: T\nsources:\n  a: x.png\n---\n## S\n![](a#xywh=1,1,5,5)\n")
    assert [str(p) for p in draft.problems] == [
        "stories/coins.md:7:5: error: region 'a#xywh=1,1,5,5' has no text alternative"
        " — describe what it shows between the brackets: ![Head of Athena](...)"
    ]


def test_unknown_source_names_the_declared_ones():
    draft = parse("---\ntitle: T\nsources:\n  coins: x.png\n---\n## S\n![x](coin#xywh=1,1,5,5)\n")
    assert [str(p) for p in draft.problems] == [
        "stories/coins.md:7:6: error: unknown source 'coin'"
        " — declare it under `sources:` in the front matter (declared: coins)"
    ]


def test_bad_yaml_names_its_line():
    draft = parse("---\ntitle: T\nsources:\n  coins: [x.png\n---\n## S\n")
    assert len(draft.problems) >= 1
    problem = draft.problems[0]
    assert problem.location.path == "stories/coins.md"
    assert problem.location.line in (4, 5)
    assert problem.message.startswith("invalid YAML")


def test_unknown_front_matter_key_names_its_line():
    draft = parse("---\ntitle: T\nsorces:\n  coins: x.png\n---\n## S\n![x](coins)\n")
    messages = [str(p) for p in draft.problems]
    assert messages[0] == (
        "stories/coins.md:3:1: error: unknown setting 'sorces' in front matter"
        " — check its spelling; see docs/authoring.md for the settings"
    )


def test_a_kiosk_duration_for_a_step_the_story_lacks_is_a_warning_at_its_line():
    draft = parse(
        "---\ntitle: T\nsources:\n  coins: x.png\nkiosk:\n  durations:\n    0: 5\n    2: 10\n"
        "    9: 20\n---\n## One\n![x](coins)\n\n## Two\n![y](coins)\n"
    )
    assert [str(p) for p in draft.problems] == [
        "stories/coins.md:9:5: warning: kiosk duration for step 9, but the story has 2 steps"
        " — steps count from 1 in the order of their `##` headings (0 is the title slide)"
    ]


def test_no_front_matter():
    draft = parse("# Just a heading\n\n## Step\n")
    assert str(draft.problems[0]).startswith(
        "stories/coins.md:1: error: the story has no front matter"
    )


def test_title_may_come_from_a_leading_h1_so_stories_read_well_on_github():
    draft = parse("---\nsources:\n  a: x.png\n---\n# My title\n\nIntro.\n\n## S\n![x](a)\n")
    assert draft.title == "My title"
    assert "My title" not in draft.intro_html


def test_raw_html_is_cleaned():
    draft = parse(
        "---\ntitle: T\nsources:\n  a: x.png\n---\n## S\n![x](a)\n\n"
        '<p onclick="alert(1)">Hi <script>alert(2)</script>'
        '<a href="javascript:alert(3)">x</a></p>\n'
    )
    html = draft.steps[0].body_html
    assert "onclick" not in html and "script" not in html and "javascript:" not in html
    assert "Hi" in html


def test_slugs_are_safe_file_names():
    assert slugify("Les Très Riches Heures") == "les-tres-riches-heures"
    assert slugify("../../etc/passwd") == "etc-passwd"
    assert slugify("日本") == "story"


def test_long_form_sources_take_url_or_path():
    draft = parse(
        "---\ntitle: T\nsources:\n  a:\n    path: images/a.png\n    label: A\n"
        "  b:\n    url: https://example.org/manifest.json\n---\n## S\n![x](a)\n"
    )
    assert draft.problems == ()
    assert draft.meta.sources["a"].url == "images/a.png"
    assert draft.meta.sources["a"].label == "A"
    assert draft.meta.sources["b"].is_remote
