"""`storiiies import`: annotated manifests become Markdown stories, and a story's own manifest
imports back into a story whose export has exactly the same annotations."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from storiiies.build import build_site, check_site
from storiiies.errors import NotIIIF
from storiiies.tools.importer import import_story, import_story_notes
from tests.iiif_schema import schema_errors

pytestmark = pytest.mark.shared

VIEWER = "documents/storiiies-viewer"
#: The Storiiies viewer's own manifests whose annotations are embedded (the others reference
#: pages on a development server that is not part of the fixtures).
VIEWER_MANIFESTS = [
    "cypress__fixtures__manifests__audio-v3__manifest.json",
    "cypress__fixtures__manifests__mixed-html-plain-summary-v3__manifest.json",
    "cypress__fixtures__manifests__no-label-v3__manifest.json",
    "cypress__fixtures__manifests__plain-text-summary-v3__manifest.json",
    "cypress__fixtures__manifests__points-of-interest-v3__manifest.json",
    "cypress__fixtures__manifests__standard-v3__manifest.json",
    "docs__demo__grande-jatte.json",
]

ROUND_TRIP_STORY = """---
title: Round trip
summary: Every kind of step.
lang: fr
sources:
  coins: images/coins.png
  photo: images/evans-fields-family-a.jpg
---
The *title slide*, with a [link](https://example.org/a_b) & an ampersand.

## One region

![A head](coins#xywh=310,152,72,70)

Text with **strong**, `code` and a [region link](photo#xywh=10,20,300,400).
1936\\. A line that starts with a year.

### A smaller heading

- a list
- kept as it is

## Keeps the view

No region: the previous one stays.

## Two sources side by side

![Ivy](photo#xywh=1300,700,720,720)
![The tray](coins)

Compare.
"""


def step_annotations(site: Path, slug: str) -> list[dict]:
    manifest = json.loads((site / slug / "manifest.json").read_text())
    return manifest["annotations"][0]["items"]


def test_a_story_survives_export_import_export(make_project, serve_dir, shared, tmp_path):
    examples = Path(__file__).resolve().parent.parent / "examples" / "images"
    first = make_project({"stories/trip.md": ROUND_TRIP_STORY})
    shutil.copytree(examples, first / "images")
    build_site(first)
    before = step_annotations(first / "_site", "trip")
    assert [a["id"].rsplit("/", 1)[1] for a in before] == [
        "step-0",
        "step-1",
        "step-2",
        "step-3-1",
        "step-3-2",
    ]
    server = serve_dir(first / "_site")
    story = import_story(f"{server.url}/trip/manifest.json")
    assert "## Keeps the view\n\nNo region: the previous one stays." in story
    assert "[region link](source/2#xywh=10,20,300,400)" in story
    second = tmp_path / "second"
    (second / "stories").mkdir(parents=True)
    (second / "storiiies.yml").write_text("title: Again\n")
    (second / "stories" / "trip.md").write_text(story)
    assert [str(p) for p in check_site(second) if p.is_error] == []
    build_site(second)
    after = step_annotations(second / "_site", "trip")
    assert after == before
    assert (
        schema_errors(json.loads((second / "_site" / "trip" / "manifest.json").read_text()), shared)
        == []
    )


def test_the_example_stories_round_trip(built_examples, serve_dir, tmp_path):
    server = serve_dir(built_examples)
    for slug in ("coins", "fields-family"):
        project = tmp_path / slug
        (project / "stories").mkdir(parents=True)
        (project / "storiiies.yml").write_text("title: Again\n")
        url = f"{server.url}/{slug}/manifest.json"
        # coins.md has a French translation: each language imports as its own file again.
        manifest = json.loads((built_examples / slug / "manifest.json").read_text())
        original, *translations = manifest["label"]
        (project / "stories" / f"{slug}.md").write_text(import_story(url, lang=original))
        for lang in translations:
            (project / "stories" / f"{slug}.{lang}.md").write_text(import_story(url, lang=lang))
        build_site(project)
        assert step_annotations(project / "_site", slug) == step_annotations(built_examples, slug)


@pytest.mark.parametrize("name", VIEWER_MANIFESTS)
def test_storiiies_viewer_manifests_import_as_stories(fixture_server, shared, name, tmp_path):
    url = f"{fixture_server.url}/{VIEWER}/{name}"
    story = import_story(url)
    project = tmp_path / "p"
    (project / "stories").mkdir(parents=True)
    (project / "storiiies.yml").write_text("title: Imported\n")
    (project / "stories" / "imported.md").write_text(story)
    assert [str(p) for p in check_site(project) if p.is_error] == []
    report = build_site(project)
    (built,) = report.site.stories
    source = json.loads((shared / "fixtures" / "manifests" / VIEWER / name).read_text())
    comments = [
        a for c in source["items"] for page in c.get("annotations", []) for a in page["items"]
    ]
    distinct = {json.dumps(a, sort_keys=True) for a in comments}
    assert len(built.steps) == len(distinct)
    exported = json.loads((project / "_site" / "imported" / "manifest.json").read_text())
    assert schema_errors(exported, shared) == []
    html = "".join(a["body"]["value"] for a in exported["annotations"][0]["items"])
    assert "onclick" not in html and "marquee" not in html


def test_points_and_overhanging_regions_become_regions_on_the_canvas(fixture_server):
    story = import_story(
        f"{fixture_server.url}/{VIEWER}/cypress__fixtures__manifests__points-of-interest-v3__manifest.json"
    )
    # The point becomes the 100×100 image-pixel box the Storiiies viewer zooms to around it.
    assert "![This point marks the centre of the image.](source#xywh=974,974,100,100)" in story
    assert (
        "<!-- import: the point of interest at 1024,1024 is shown as the region the Storiiies "
        "viewer zooms to around it (a story has no points) -->"
    ) in story
    assert "(source#xywh=0,242,180,120)" in story  # x=-20 is cut at the canvas edge, and said
    assert (
        "<!-- import: the region -20,242,200,120 reaches outside the canvas (2048×2048): "
        "cut to 0,242,180,120 -->"
    ) in story


def viewer_region(annotation: dict, scale: tuple[float, float]) -> tuple[float, ...] | None:
    """The region the Storiiies viewer zooms to for an annotation, in canvas pixels: it reads
    `xywh` in image pixels, and a point as a 100×100 box kept inside the top and left edges."""
    target = annotation["target"]
    if isinstance(target, dict):
        point = target["selector"]
        x, y = max(0.0, point["x"] - 50.0), max(0.0, point["y"] - 50.0)
        w, h = 100.0, 100.0
    elif "#xywh=" in target:
        x, y, w, h = (float(n) for n in target.split("#xywh=")[1].split(","))
    else:
        return None
    return (x * scale[0], y * scale[1], w * scale[0], h * scale[1])


def test_storiiies_viewer_regions_are_kept_within_half_a_pixel_or_said_at_the_step(
    fixture_server, shared, tmp_path
):
    kept, said = 0, 0
    for name in VIEWER_MANIFESTS:
        result = import_story_notes(f"{fixture_server.url}/{VIEWER}/{name}")
        project = tmp_path / name
        (project / "stories").mkdir(parents=True)
        (project / "storiiies.yml").write_text("title: Imported\n")
        (project / "stories" / "imported.md").write_text(result.text)
        build_site(project)
        exported = step_annotations(project / "_site", "imported")[1:]  # after the title slide
        steps = result.text.split("\n## ")[1:]
        source = json.loads((shared / "fixtures" / "manifests" / VIEWER / name).read_text())
        canvas = source["items"][0]
        image = canvas["items"][0]["items"][0]["body"]
        scale = (canvas["width"] / image["width"], canvas["height"] / image["height"])
        comments = list(
            {
                json.dumps(a, sort_keys=True): a
                for page in canvas["annotations"]
                for a in page["items"]
            }.values()
        )
        assert len(comments) == len(exported) == len(steps)
        for comment, annotation, step in zip(comments, exported, steps, strict=True):
            wanted = viewer_region(comment, scale)
            target = annotation["target"]
            got = (
                tuple(float(n) for n in target.split("#xywh=")[1].split(","))
                if "#xywh=" in target
                else (0, 0, canvas["width"], canvas["height"])
            )
            if wanted is not None and all(
                abs(a - b) <= 0.5 for a, b in zip(got, wanted, strict=True)
            ):
                kept += 1
            else:
                assert "<!-- import: the region " in step, (name, step)
                said += 1
    # 26 regions and points; 6 reach outside their canvas (x=-20 in four, and the demo's last two
    # regions past the painting's edge): each is cut and said at its step.
    assert (kept, said) == (20, 6)


def test_regions_in_image_pixels_are_scaled_to_a_smaller_canvas(fixture_server):
    result = import_story_notes(f"{fixture_server.url}/{VIEWER}/docs__demo__grande-jatte.json")
    # xywh=346,597,8800,4812 on the 9310×6237 image of a 2048×2048 canvas
    assert "(source#xywh=76,196,1936,1580)" in result.text
    assert result.notes[0] == (
        "canvas 1: regions are given in the pixels of its image (9310×6237), as the Storiiies "
        "viewer reads them; scaled to the canvas (2048×2048)"
    )


def test_a_narrated_story_exports_its_sound_and_imports_it_as_narration(
    built_examples, serve_dir, shared, tmp_path
):
    from click.testing import CliRunner

    from storiiies.cli import main

    before = step_annotations(built_examples, "listen")
    sound = before[1]["body"][1]
    assert sound["type"] == "Sound" and sound["format"] == "audio/mpeg"
    assert sound["id"].startswith("http://127.0.0.1:8000/media/")
    assert sound["id"].endswith("-helmet.mp3")
    assert sound["duration"] > 1
    assert (
        schema_errors(json.loads((built_examples / "listen" / "manifest.json").read_text()), shared)
        == []
    )
    server = serve_dir(built_examples)
    # The manifest names the site's published address; serve this copy of it instead.
    manifest = (built_examples / "listen" / "manifest.json").read_text()
    (tmp_path / "listen.json").write_text(
        manifest.replace("http://127.0.0.1:8000/", f"{server.url}/")
    )
    project = tmp_path / "again"
    (project / "stories").mkdir(parents=True)
    (project / "storiiies.yml").write_text("title: Again\nbase_url: http://127.0.0.1:8000/\n")
    story = project / "stories" / "listen.md"
    result = CliRunner().invoke(main, ["import", str(tmp_path / "listen.json"), "-o", str(story)])
    assert result.exit_code == 0, result.output
    assert "[Listen to this step](audio/helmet.mp3)" in story.read_text()
    saved = project / "stories" / "audio" / "helmet.mp3"
    examples = Path(__file__).resolve().parent.parent / "examples"
    assert saved.read_bytes() == (examples / "audio" / "helmet.mp3").read_bytes()
    build_site(project)
    after = step_annotations(project / "_site", "listen")
    assert [a["body"] for a in after] == [
        json.loads(json.dumps(a["body"]).replace(f"{server.url}/", "http://127.0.0.1:8000/"))
        for a in before
    ]


def test_a_sound_stays_a_link_when_the_story_is_printed(fixture_server):
    result = import_story_notes(
        f"{fixture_server.url}/{VIEWER}/cypress__fixtures__manifests__audio-v3__manifest.json"
    )
    assert (
        "[Listen to this step](http://localhost:43110/audio/royalty-free-talking.mp3)"
        in result.text
    )
    assert (
        "<!-- import: its sound stays a link: import with -o FILE to keep it as the narration -->"
        in result.text
    )


def test_presentation_2_annotation_lists_are_read(serve_dir, tmp_path):
    canvas = "https://example.org/iiif/canvas/c0"
    (tmp_path / "list.json").write_text(
        json.dumps(
            {
                "@context": "http://iiif.io/api/presentation/2/context.json",
                "@id": "list",
                "@type": "sc:AnnotationList",
                "resources": [
                    {
                        "@type": "oa:Annotation",
                        "motivation": "oa:commenting",
                        "on": f"{canvas}#xywh=10,10,100,100",
                        "resource": {
                            "@type": "dctypes:Text",
                            "format": "text/html",
                            "chars": "<p>First &amp; best</p>",
                        },
                    },
                    {
                        "@type": "oa:Annotation",
                        "motivation": ["oa:commenting"],
                        "on": {
                            "@type": "oa:SpecificResource",
                            "full": canvas,
                            "selector": {
                                "@type": "oa:Choice",
                                "default": {
                                    "@type": "oa:FragmentSelector",
                                    "value": "xywh=5,6,7,8",
                                },
                            },
                        },
                        "resource": [
                            {
                                "@type": "cnt:ContentAsText",
                                "chars": "Second, plain",
                                "language": "en",
                            }
                        ],
                    },
                ],
            }
        )
    )
    server = serve_dir(tmp_path)
    (tmp_path / "manifest.json").write_text(
        json.dumps(
            {
                "@context": "http://iiif.io/api/presentation/2/context.json",
                "@id": "https://example.org/m",
                "@type": "sc:Manifest",
                "label": "A P2 manifest",
                "sequences": [
                    {
                        "canvases": [
                            {
                                "@id": canvas,
                                "@type": "sc:Canvas",
                                "width": 400,
                                "height": 300,
                                "label": "c0",
                                "images": [
                                    {
                                        "motivation": "sc:painting",
                                        "on": canvas,
                                        "resource": {
                                            "@id": "https://example.org/full.jpg",
                                            "@type": "dctypes:Image",
                                            "width": 400,
                                            "height": 300,
                                        },
                                    }
                                ],
                                "otherContent": [
                                    {"@id": f"{server.url}/list.json", "@type": "sc:AnnotationList"}
                                ],
                            }
                        ]
                    }
                ],
            }
        )
    )
    story = import_story(f"{server.url}/manifest.json")
    assert "title: A P2 manifest\nlang: en\n" in story
    assert (
        "## First & best\n\n![First & best](source#xywh=10,10,100,100)\n\nFirst & best\n" in story
    )
    assert "![Second, plain](source#xywh=5,6,7,8)" in story


def test_a_manifest_without_comments_says_so(fixture_server):
    with pytest.raises(NotIIIF) as error:
        import_story(f"{fixture_server.url}/documents/cookbook/recipe__0009-book-1__manifest.json")
    assert error.value.message == "the manifest has no commenting annotations to make steps of"
