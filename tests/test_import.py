"""`storiiies import`: annotated manifests become Markdown stories, and a story's own manifest
imports back into a story whose export has exactly the same annotations."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from storiiies.build import build_site, check_site
from storiiies.errors import NotIIIF
from storiiies.tools.importer import import_story
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
    assert "![This point marks the centre of the image.](source#xywh=896,896,256,256)" in story
    assert "(source#xywh=0,242,180,120)" in story  # x=-20 is cut at the canvas edge


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
