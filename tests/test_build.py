"""`storiiies build`: stories with local images and remote manifests become a static site."""

from __future__ import annotations

import json
import shutil

import pytest

from storiiies.build import build_site, check_site
from storiiies.errors import BuildFailed
from tests.conftest import EXAMPLES
from tests.helpers import make_image, tree_digest

LOCAL_STORY = """\
---
title: Gradient
summary: A story about a gradient.
sources:
  grad: images/grad.jpg
---
The title slide.

## Top left
![The dark top-left corner](grad#xywh=0,0,200,150)
Look [further right](grad#xywh=400,0,200,150).

## Both corners
![Top left](grad#xywh=0,0,200,150)
![Bottom right](grad#xywh=percent:75,75,25,25)
"""


@pytest.fixture
def local_project(make_project, tmp_path):
    root = make_project({"stories/gradient.md": LOCAL_STORY})
    make_image(root / "images" / "grad.jpg")
    return root


def test_local_story_builds_a_complete_site(local_project):
    report = build_site(local_project)
    site = local_project / "_site"
    assert report.output == site
    assert {
        "index.html",
        "collection.json",
        "gradient/index.html",
        "gradient/text.html",
        "gradient/manifest.json",
        "assets/openseadragon/openseadragon.min.js",
        "assets/storiiies/tour.js",
    } <= set(tree_digest(site))
    (image_dir,) = (site / "images").iterdir()
    info = json.loads((image_dir / "info.json").read_text())
    assert info["id"] == f"http://127.0.0.1:8000/images/{image_dir.name}"
    assert (info["width"], info["height"]) == (800, 600)
    page = (site / "gradient" / "index.html").read_text()
    data = json.loads(
        page.split('<script type="application/json" id="story-data">')[1].split("</script>")[0]
    )
    assert [s["number"] for s in data["steps"]] == [0, 1, 2]
    assert data["steps"][1]["views"][0]["region"] == [0, 0, 200, 150]
    assert data["steps"][1]["links"][0]["region"] == [400, 0, 200, 150]
    assert data["steps"][2]["views"][1]["region"] == [600, 450, 200, 150]
    assert "The dark top-left corner" in page or "The dark top-left corner" in json.dumps(data)
    index = (site / "index.html").read_text()
    assert "Gradient" in index and "A story about a gradient." in index


def test_same_input_gives_byte_identical_output(local_project):
    build_site(local_project)
    first = tree_digest(local_project / "_site")
    report = build_site(local_project)
    assert tree_digest(local_project / "_site") == first
    assert (report.images_tiled, report.images_cached) == (0, 1)


def test_failed_build_leaves_previous_site_untouched(local_project):
    build_site(local_project)
    before = tree_digest(local_project / "_site")
    story = local_project / "stories" / "gradient.md"
    story.write_text(
        story.read_text().replace("#xywh=0,0,200,150)\nLook", "#xywh=0,0,9000,150)\nLook")
    )
    with pytest.raises(BuildFailed) as failure:
        build_site(local_project)
    assert [str(p) for p in failure.value.problems if p.is_error] == [
        "stories/gradient.md:10:29: error: region 0,0,9000,150 is outside canvas 1 of 'grad'"
        " (800×600) — the canvas is 800×600 pixels"
    ]
    assert tree_digest(local_project / "_site") == before
    assert not [p for p in local_project.iterdir() if p.name.startswith("._site")]


def test_example_exhibit_builds(tmp_path):
    project = tmp_path / "examples"
    shutil.copytree(EXAMPLES, project, ignore=shutil.ignore_patterns("_site", ".storiiies-cache"))
    report = build_site(project)
    assert [s.slug for s in report.site.stories] == ["coins", "fields-family", "listen"]
    narrated = report.site.stories[2]
    assert all(step.narration and step.narration.captions for step in narrated.steps)
    comparison = [s for s in report.site.stories[1].steps if len(s.views) == 2]
    assert comparison, "the example has a comparison step"


def test_rights_warnings_and_author_credits(make_project):
    root = make_project(
        {
            "stories/a.md": "---\ntitle: A\nsources:\n  mine: images/a.jpg\n"
            "  theirs:\n    url: images/b.jpg\n"
            "    rights: http://rightsstatements.org/vocab/InC/1.0/\n"
            "    credit: Photo <b>Studio</b> & Co\n"
            "---\n## One\n![x](mine)\n![y](theirs)\n"
        }
    )
    make_image(root / "images" / "a.jpg", 300, 200)
    make_image(root / "images" / "b.jpg", 300, 200)
    problems = [str(p) for p in check_site(root)]
    assert problems == [
        "stories/a.md:4:3: warning: source 'mine' has no rights statement or credit"
        " — add `rights:` (a licence URI) and `credit:` to the source so the credits are complete",
        "stories/a.md:5:3: warning: source 'theirs' is marked 'In Copyright'"
        " (http://rightsstatements.org/vocab/InC/1.0/) — make sure you have permission to show it,"
        " or choose another image",
    ]
    story = build_site(root).site.stories[0]
    assert story.sources["theirs"].required_statement.value == {
        "none": ("Photo &lt;b&gt;Studio&lt;/b&gt; &amp; Co",)
    }


def test_theme_symlinks_out_of_the_theme_are_not_published(local_project, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("private")
    static = local_project / "overrides" / "static"
    static.mkdir(parents=True)
    (static / "leak.txt").symlink_to(secret)
    (static / "extra.css").write_text("body { color: #111; }")
    config = local_project / "storiiies.yml"
    config.write_text(config.read_text() + "theme_dir: overrides\n")
    build_site(local_project)
    assets = local_project / "_site" / "assets"
    assert (assets / "extra.css").is_file()
    assert not (assets / "leak.txt").exists()


def test_theme_scripts_and_stylesheets_are_minified_in_the_built_site(local_project):
    static = local_project / "overrides" / "static"
    static.mkdir(parents=True)
    script = (
        "/*! Extra 1.0, MIT */\n// Greets the reader.\n"
        "function greet ( name ) {\n  return 'hi ' + name;\n}\n"
    )
    (static / "extra.js").write_text(script)
    (static / "extra.css").write_text("/* Dark text. */\nbody {\n  color : #111;\n}\n")
    latin1 = "// caf\xe9\nvar a = 1;\n".encode("latin-1")
    (static / "old.js").write_bytes(latin1)
    config = local_project / "storiiies.yml"
    config.write_text(config.read_text() + "theme_dir: overrides\n")
    build_site(local_project)
    assets = local_project / "_site" / "assets"
    assert (
        assets / "extra.js"
    ).read_text() == "/*! Extra 1.0, MIT */function greet(name){return'hi '+name;}"
    assert (assets / "extra.css").read_text() == "body{color:#111}"
    # Not UTF-8: copied as it is rather than garbled.
    assert (assets / "old.js").read_bytes() == latin1
    # The theme's own scripts too: no comment survives, and they shrink.
    tour = (assets / "storiiies" / "tour.js").read_text()
    assert "\n//" not in tour and len(tour) < 0.8 * len(
        (EXAMPLES.parent / "themes" / "default" / "static" / "storiiies" / "tour.js").read_text()
    )


def test_the_site_carries_openseadragon_without_the_parts_the_tour_never_uses(local_project):
    build_site(local_project)
    carried = (
        local_project / "_site" / "assets" / "openseadragon" / "openseadragon.min.js"
    ).read_text()
    npm_build = EXAMPLES.parent / "node_modules" / "openseadragon" / "build" / "openseadragon"
    whole = (npm_build / "openseadragon.min.js").read_text()
    assert carried.splitlines()[:5] == whole.splitlines()[:5]  # version, date, commit, licence
    assert "//! Left out by storiiies: WebGLDrawer, Mat3, HTMLDrawer, Navigator" in carried
    assert "IIIFTileSource" in carried and "CanvasDrawer" in carried
    assert len(carried) < 0.85 * len(whole)


def test_a_region_the_zoom_cap_keeps_small_is_a_warning_at_its_line(make_project):
    root = make_project(
        {
            "stories/a.md": "---\ntitle: A\nsources:\n  sky:\n    url: images/sky.jpg\n"
            "    rights: http://creativecommons.org/publicdomain/mark/1.0/\n    credit: NASA\n"
            "---\n## Small\n\n![A galaxy](sky#xywh=460,460,80,80)\n\n"
            "## Large enough\n\n![Two galaxies](sky#xywh=400,400,100,60)\n"
        }
    )
    make_image(root / "images" / "sky.jpg", 1000, 1000)
    assert [str(p) for p in check_site(root)] == [
        "stories/a.md:11:13: warning: region 460,460,80,80 is small for its image: the tour"
        " magnifies at most 2×, so it fills about 160 px of a 752 px panel — choose a larger"
        " region around the detail, or an image with more pixels (see Small regions in"
        " docs/authoring.md)"
    ]
