"""Audio and video canvases (docs/authoring.md, "Narration, audio and video"): a P3 canvas
with a duration and a Sound or Video body is a source a step can play a segment of
(`alias#t=start,end`), in the tour, the text version and the exported manifest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from storiiies.build import build_site, check_site
from storiiies.iiif.fragments import TimeRange
from storiiies.story.references import Reference, ReferenceSyntaxError, parse_reference
from tests.conftest import EXAMPLES
from tests.iiif_schema import schema_errors
from tests.test_narration import page_json, tone

#: The Cookbook's caption recipe: a 572 s film with a WebVTT file as a supplementing annotation.
FILM = "documents/cookbook/recipe__0219-using-caption-file__manifest.json"
FILM_CANVAS = "https://iiif.io/api/cookbook/recipe/0219-using-caption-file/canvas"

STORY = """---
title: Manners
sources:
  film: {film}
  coins: images/coins.png
---
## Lunch begins

![Children sit down to lunch](film#t=10,20.5)

The film opens in a school lunchroom.

## Coins

![A helmeted head](coins#xywh=310,152,72,70)

[Listen to the film's narrator](film#t=30,35)

Not a film at all.
"""


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("talk#t=12,40", Reference("talk", None, None, TimeRange(12, 40))),
        ("talk/2#t=12", Reference("talk", "2", None, TimeRange(12, None))),
        ("talk#t=npt:1.5,3", Reference("talk", None, None, TimeRange(1.5, 3))),
    ],
)
def test_time_ranges_parse_and_round_trip(target: str, expected: Reference) -> None:
    assert parse_reference(target) == expected
    assert str(parse_reference(target)) == target.replace("npt:", "")


def test_a_backwards_time_range_is_refused() -> None:
    with pytest.raises(ReferenceSyntaxError, match="ends before it starts"):
        parse_reference("talk#t=40,12")


def film_project(make_project, fixture_server, story: str = STORY) -> Path:
    return make_project(
        {
            "stories/manners.md": story.format(film=f"{fixture_server.url}/{FILM}"),
            "images/coins.png": (EXAMPLES / "images" / "coins.png").read_bytes(),
        }
    )


@pytest.fixture
def film_site(make_project, fixture_server) -> Path:
    root = film_project(make_project, fixture_server)
    build_site(root)
    return root / "_site"


def test_a_step_on_a_video_canvas_plays_its_segment(film_site: Path) -> None:
    page = (film_site / "manners" / "index.html").read_text()
    data = page_json(page, "story-data")
    view = data["steps"][1]["views"][0]
    canvas = data["canvases"][view["canvas"]]
    assert view["time"] == [10, 20.5]
    assert canvas["duration"] == 572.034
    assert canvas["images"] == []
    assert canvas["media"] == [
        {
            "url": "https://fixtures.iiif.io/video/indiana/lunchroom_manners/high/lunchroom_manners_1024kb.mp4",
            "type": "Video",
            "format": "video/mp4",
        }
    ]
    assert canvas["captions"][0]["url"].endswith("lunchroom_manners.vtt")
    # A narration can be a segment of the same canvas, with the canvas's captions.
    narration = data["steps"][2]["narration"]
    assert (narration["start"], narration["end"], narration["duration"]) == (30, 35, 5)
    assert narration["local"] is False and narration["captions"].endswith(".vtt")
    kiosk = page_json(page, "st-kiosk-settings")
    assert kiosk["mediaSeconds"] == {"1": 12.0, "2": 6.5}


def test_the_text_version_shows_the_video_segment(film_site: Path) -> None:
    text = (film_site / "manners" / "text.html").read_text()
    assert (
        '<video class="st-segment" controls preload="metadata" data-start="10.0" data-end="20.5"'
        in text
    )
    assert 'lunchroom_manners_1024kb.mp4#t=10,20.5" type="video/mp4"' in text
    assert 'lunchroom_manners.vtt" srclang="en" label="Captions in WebVTT format" default>' in text
    assert "The film opens in a school lunchroom." in text


def test_the_exported_manifest_targets_the_segment(film_site: Path, shared: Path) -> None:
    manifest = json.loads((film_site / "manners" / "manifest.json").read_text())
    assert schema_errors(manifest, shared) == []
    film = next(c for c in manifest["items"] if c["id"] == FILM_CANVAS)
    assert film["duration"] == 572.034 and (film["width"], film["height"]) == (480, 360)
    painting = film["items"][0]["items"][0]
    assert painting["body"]["type"] == "Video" and painting["body"]["duration"] == 572.034
    steps = {a["id"].rsplit("/", 1)[-1]: a for a in manifest["annotations"][0]["items"]}
    assert steps["step-1"]["target"] == f"{FILM_CANVAS}#t=10,20.5"
    captions = [a for a in film["annotations"][0]["items"] if a["motivation"] == "supplementing"]
    assert captions[0]["body"]["format"] == "text/vtt"


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        (
            "film#t=500,600",
            "time range 500,600 goes past the end of canvas 1 of 'film' (572.034 long)",
        ),
        ("film#xywh=0,0,10,10", "canvas 1 of 'film' is audio or video, so it has no region"),
        ("coins#t=1,2", "canvas 1 of 'coins' is an image, so it has no time range"),
    ],
)
def test_time_range_mistakes_name_the_story_line(
    make_project, fixture_server, reference: str, message: str
) -> None:
    story = STORY.replace("film#t=10,20.5", reference)
    problems = [
        p for p in check_site(film_project(make_project, fixture_server, story)) if p.is_error
    ]
    assert [(p.location.path, p.location.line, p.message) for p in problems] == [
        ("stories/manners.md", 9, message)
    ]
    assert problems[0].hint


MANIFEST = """{{
  "@context": "http://iiif.io/api/presentation/3/context.json",
  "id": "{url}/manifest.json",
  "type": "Manifest",
  "label": {{"en": ["A tone"]}},
  "items": [{{
    "id": "{url}/canvas/1",
    "type": "Canvas",
    "duration": 6,
    "items": [{{
      "id": "{url}/canvas/1/page",
      "type": "AnnotationPage",
      "items": [{{
        "id": "{url}/canvas/1/page/1",
        "type": "Annotation",
        "motivation": "painting",
        "body": {{"id": "{url}/tone.wav", "type": "Sound", "format": "audio/wav", "duration": 6}},
        "target": "{url}/canvas/1"
      }}]
    }}]
  }}]
}}"""

TONE_STORY = """---
title: A tone
sources:
  tone:
    url: {url}/manifest.json
    rights: http://creativecommons.org/publicdomain/zero/1.0/
  coins: images/coins.png
---
## The middle

![A steady tone](tone#t=1,2)

One second of it.

## Coins

![A helmeted head](coins#xywh=310,152,72,70)
"""


@pytest.mark.browser
def test_an_audio_step_seeks_to_its_start_and_pauses_at_its_end(
    new_page, make_project, serve_dir, tmp_path: Path
) -> None:
    media = tmp_path / "media-server"
    media.mkdir()
    (media / "tone.wav").write_bytes(tone(6.0))
    media_server = serve_dir(media)
    (media / "manifest.json").write_text(MANIFEST.format(url=media_server.url))
    root = make_project(
        {
            "stories/tone.md": TONE_STORY.format(url=media_server.url),
            "images/coins.png": (EXAMPLES / "images" / "coins.png").read_bytes(),
        }
    )
    build_site(root)
    site = serve_dir(root / "_site")
    page = new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{site.url}/tone/#step-1")
    page.wait_for_function("() => window.storiiies?.media && window.storiiies?.media.segment")
    # The segment takes the viewer's place, ready at its start, silent until asked.
    page.wait_for_function("() => Math.abs(window.storiiies?.media.segment.currentTime - 1) < 0.05")
    assert page.locator(".st-viewers").is_hidden()
    assert page.get_by_role("region", name="Image viewer").get_attribute("data-media") == "audio"
    assert page.evaluate("window.storiiies?.media.segment.paused") is True
    page.get_by_role("button", name="Play narration with each step").click()
    page.wait_for_function("() => !window.storiiies?.media.segment.paused")
    page.wait_for_function("() => window.storiiies?.media.segment.paused")
    stopped = page.evaluate("window.storiiies?.media.segment.currentTime")
    assert 1.9 <= stopped <= 2.3, stopped
    # The next step is an image again, and the sound stays stopped.
    page.keyboard.press("ArrowRight")
    page.wait_for_function("() => window.storiiies.current === 2")
    assert page.locator(".st-viewers").is_visible()
    assert page.locator(".st-media").is_hidden()
    assert errors == []


def test_inspect_lists_the_duration_media_and_captions(fixture_server, tmp_path: Path) -> None:
    from storiiies.tools.inspect_source import inspect_source

    text = inspect_source(f"{fixture_server.url}/{FILM}", cwd=tmp_path)
    assert f"480×360, 572.034 s  {FILM_CANVAS}" in text
    assert "Video video/mp4: https://fixtures.iiif.io/video/indiana/lunchroom_manners/" in text
    assert (
        "captions: https://fixtures.iiif.io/video/indiana/lunchroom_manners/lunchroom_manners.vtt"
        in text
    )
    assert "![what the segment holds](source#t=0,10)" in text
