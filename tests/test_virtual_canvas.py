"""Reuniting dispersed objects: a virtual canvas composed from parts of a story's sources.

One leaf comes from a IIIF manifest served over HTTP ("paris", a level-0 image service), the
other is a local image ("oxford"); the story lays them side by side as `gathering` and tours it
like any other source.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from storiiies.build import build_site, check_site, load_site
from storiiies.bundle.grid import read_grid
from storiiies.bundle.mirror import remote_images
from storiiies.bundle.plan import mirror_plan
from storiiies.config import load_config
from storiiies.errors import BuildFailed
from storiiies.iiif.model import Canvas, ImageResource
from storiiies.images.tiles import info_json, tile_image
from storiiies.incremental import StageCache
from storiiies.resolve.virtual import Part, compose_canvas
from tests.conftest import LiveServer, require_shared, static_app
from tests.helpers import make_image, scan_info
from tests.iiif_schema import schema_errors
from tests.test_tour_browser import assert_region_fills_view, open_tour, wait_settled

CC_BY = "https://creativecommons.org/licenses/by/4.0/"

STORY = """---
title: The reunited gathering
sources:
  paris: {paris}
  oxford:
    path: images/oxford.jpg
    label: Oxford leaf
    rights: {rights}
    credit: Oxford Library
  gathering:
    label: The gathering, reunited
    compose:
      - paris/2
      - oxford#xywh=100,0,600,1000
---
## Side by side
![Both leaves](gathering)

## Across the join
![The lines that cross from one leaf to the other](gathering#xywh=500,200,400,300)

## Paris alone
![The first leaf](paris/1#xywh=0,0,300,300)
"""


def paris_manifest(base: str) -> dict:
    """A Presentation 3 manifest of two 600×900 leaves, each a level-0 image service."""
    canvases = []
    for number in (1, 2):
        service = f"{base}/iiif/leaf{number}"
        canvas = f"{base}/paris/canvas/{number}"
        canvases.append(
            {
                "id": canvas,
                "type": "Canvas",
                "label": {"en": [f"Leaf {number}"]},
                "width": 600,
                "height": 900,
                "items": [
                    {
                        "id": f"{canvas}/page",
                        "type": "AnnotationPage",
                        "items": [
                            {
                                "id": f"{canvas}/page/1",
                                "type": "Annotation",
                                "motivation": "painting",
                                "target": canvas,
                                "body": {
                                    "id": f"{service}/full/max/0/default.jpg",
                                    "type": "Image",
                                    "format": "image/jpeg",
                                    "width": 600,
                                    "height": 900,
                                    "service": [
                                        {
                                            "id": service,
                                            "type": "ImageService3",
                                            "profile": "level0",
                                        }
                                    ],
                                },
                            }
                        ],
                    }
                ],
            }
        )
    return {
        "@context": "http://iiif.io/api/presentation/3/context.json",
        "id": f"{base}/paris/manifest.json",
        "type": "Manifest",
        "label": {"en": ["Paris leaves"]},
        "rights": "http://creativecommons.org/publicdomain/mark/1.0/",
        "requiredStatement": {
            "label": {"en": ["Attribution"]},
            "value": {"en": ["Bibliothèque de Paris"]},
        },
        "items": canvases,
    }


@pytest.fixture(scope="module")
def paris(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The Paris manifest and its two level-0 image trees over HTTP on 127.0.0.1."""
    folder = tmp_path_factory.mktemp("paris-server")
    server = LiveServer(static_app(folder)).start()
    cache = tmp_path_factory.mktemp("paris-tiles")
    for number in (1, 2):
        tiled = tile_image(make_image(cache / f"leaf{number}.jpg", 600, 900), cache)
        tree = folder / "iiif" / f"leaf{number}"
        shutil.copytree(tiled.path, tree)
        info = info_json(tiled, f"{server.url}/iiif/leaf{number}")
        (tree / "info.json").write_text(json.dumps(info))
    (folder / "paris").mkdir()
    (folder / "paris" / "manifest.json").write_text(json.dumps(paris_manifest(server.url)))
    yield server
    server.stop()


def write_project(root: Path, story: str) -> Path:
    (root / "storiiies.yml").write_text("title: Virtual canvases\n", encoding="utf-8")
    (root / "stories").mkdir(parents=True, exist_ok=True)
    (root / "stories" / "gathering.md").write_text(story, encoding="utf-8")
    make_image(root / "images" / "oxford.jpg", 800, 1000)
    return root


@pytest.fixture(scope="module")
def built(paris: LiveServer, tmp_path_factory: pytest.TempPathFactory):
    root = write_project(
        tmp_path_factory.mktemp("project"),
        STORY.format(paris=f"{paris.url}/paris/manifest.json", rights=CC_BY),
    )
    return build_site(root)


def test_parts_are_scaled_to_a_common_height_and_laid_side_by_side(built):
    story = built.site.stories[0]
    canvas = story.sources["gathering"].canvases[0]
    # Paris leaf 2 (600×900) is scaled to the 1000 pixels of the Oxford region (600×1000).
    assert (canvas.width, canvas.height) == (1267, 1000)
    paris, oxford = canvas.images
    assert paris.target == (0, 0, 667, 1000) and paris.region == (0, 0, 600, 900)
    assert paris.service is not None and paris.service.id.endswith("/iiif/leaf2")
    assert oxford.target == (667, 0, 600, 1000) and oxford.region == (100, 0, 600, 1000)
    first, across, alone = story.steps
    assert first.views[0].canvas is canvas and first.views[0].region is None
    assert across.views[0].region == (500, 200, 400, 300)
    assert alone.views[0].canvas.id.endswith("/paris/canvas/1")


def test_exported_manifest_has_one_canvas_painted_by_each_part(built, paris):
    shared = require_shared()
    manifest = json.loads((built.output / "gathering" / "manifest.json").read_text())
    assert schema_errors(manifest, shared) == []
    composed = manifest["items"][0]
    assert (composed["width"], composed["height"]) == (1267, 1000)
    painting = composed["items"][0]["items"]
    assert [a["target"] for a in painting] == [
        f"{composed['id']}#xywh=0,0,667,1000",
        f"{composed['id']}#xywh=667,0,600,1000",
    ]
    # Each body is the part's image with its service; the region is cut by the Image API.
    assert painting[0]["body"]["type"] == "SpecificResource"
    assert painting[0]["body"]["source"]["service"][0]["id"] == f"{paris.url}/iiif/leaf2"
    assert painting[1]["body"]["selector"] == {
        "type": "ImageApiSelector",
        "region": "100,0,600,1000",
    }
    assert composed["partOf"] == [
        {
            "id": f"{paris.url}/paris/manifest.json",
            "type": "Manifest",
            "label": {"en": ["Paris leaves"]},
        }
    ]
    # Both parts' attributions travel with the composed canvas.
    assert composed["requiredStatement"]["value"] == {
        "en": ["Bibliothèque de Paris"],
        "none": ["Oxford Library"],
    }
    # Steps on the composed canvas are regions of it, in its own pixels.
    steps = [a["target"] for a in manifest["annotations"][0]["items"]]
    assert steps[1:3] == [composed["id"], f"{composed['id']}#xywh=500,200,400,300"]


def test_credits_name_each_part_and_not_the_composition(built):
    page = (built.output / "gathering" / "index.html").read_text()
    credits = page.split('class="st-credits"', 1)[1].split("</section>", 1)[0]
    assert "Paris leaves" in credits and "Oxford leaf" in credits
    assert "The gathering, reunited" not in credits


def test_text_version_shows_the_part_a_region_overlaps_most(built):
    text = (built.output / "gathering" / "text.html").read_text()
    figures = text.split("<section", 1)[1]
    sources = [chunk.split('"', 1)[0] for chunk in figures.split('<img src="')[1:]]
    assert len(sources) == 3
    # "Across the join" lies mostly on the local Oxford leaf: a crop cut from it at build.
    assert sources[1].startswith("../crops/")
    assert (built.output / sources[1].removeprefix("../")).is_file()
    # The whole composition is shown by its first part, straight from its image service.
    assert sources[0].endswith("/iiif/leaf2/full/max/0/default.jpg")


@pytest.mark.parametrize(
    ("sources", "message", "line"),
    [
        (
            "  gathering:\n    compose:\n      - paris\n      - oxfrd/1\n",
            "part 2 of 'gathering': 'oxfrd' is not a source of this story",
            9,
        ),
        (
            "  gathering:\n    compose: [paris]\n  again:\n    compose:\n      - gathering\n",
            "part 1 of 'again': 'gathering' is itself a virtual canvas",
            10,
        ),
        (
            "  gathering:\n    compose:\n      - paris\n      - oxford#xywh=0,0,900,100\n",
            "part 2 of 'gathering': region 0,0,900,100 is outside canvas 1 of 'oxford' (800×1000)",
            9,
        ),
        (
            "  gathering:\n    compose: []\n",
            "'sources.gathering' in front matter: `compose:` lists no parts",
            6,
        ),
        (
            "  gathering:\n    url: images/oxford.jpg\n    compose: [paris]\n",
            "'sources.gathering' in front matter: give either `url:`",
            6,
        ),
    ],
)
def test_mistakes_in_a_composition_name_the_story_file_and_line(tmp_path, sources, message, line):
    story = (
        "---\ntitle: T\nsources:\n  paris: images/oxford.jpg\n  oxford: images/oxford.jpg\n"
        + sources
        + "---\n## A\n![x](paris)\n"
    )
    # Line 1 is the opening `---`: the lines above start at line 6.
    problems = [p for p in check_site(write_project(tmp_path, story)) if p.severity == "error"]
    assert [(p.location.path, p.location.line) for p in problems] == [
        ("stories/gathering.md", line)
    ]
    assert problems[0].message.startswith(message)
    assert problems[0].hint


def test_a_failed_composition_stops_the_build_without_a_traceback(tmp_path):
    story = "---\ntitle: T\nsources:\n  g:\n    compose: [nowhere]\n---\n## A\n![x](g)\n"
    with pytest.raises(BuildFailed) as failure:
        build_site(write_project(tmp_path, story))
    [problem] = failure.value.problems
    assert problem.location.line == 5
    assert problem.message == "part 1 of 'g': 'nowhere' is not a source of this story"
    assert problem.hint == "declare the sources of the parts under `sources:` first"


@pytest.fixture(scope="module")
def site_server(built) -> Iterator[LiveServer]:
    server = LiveServer(static_app(built.output)).start()
    yield server
    server.stop()


ITEMS = """
() => {
  const view = window.storiiies.views()[0];
  const width = window.storiiies.story.canvases[view.canvas].width;
  const items = view.items.map(({ bounds: b }) => [b.x, b.y, b.w, b.h].map(n => n / width));
  return items.sort((a, b) => a[0] - b[0]);
}
"""


@pytest.mark.browser
def test_the_tour_shows_the_parts_as_one_deep_zoom_image(new_page, site_server):
    page, errors = open_tour(
        new_page, f"{site_server.url}/gathering/#step-1", reduced_motion="reduce"
    )
    [panel] = wait_settled(page)
    assert_region_fills_view(panel)
    width = 1267  # viewport units are canvas pixels / canvas width
    expected = [(0, 0, 667, 1000), (667, 0, 600, 1000)]
    for got, want in zip(page.evaluate(ITEMS), expected, strict=True):
        assert got == pytest.approx([n / width for n in want], abs=1e-3)
    # Every tile in view arrives: the Paris server's and the site's own (Oxford) alike.
    page.wait_for_function(
        "() => { const items = window.storiiies.views()[0].items;"
        " return [0, 1].every(i => items[i].loaded); }"
    )
    assert page.get_attribute(".st-viewer", "data-error") is None
    # A step on the composed canvas fills the viewer as any region does.
    page.evaluate("() => window.storiiies.go(2)")
    [panel] = wait_settled(page)
    assert panel["region"] == pytest.approx([n / width for n in (500, 200, 400, 300)])
    assert_region_fills_view(panel)
    assert errors == []


def test_an_offline_bundle_fetches_the_tiles_of_each_clipped_part_where_it_is_shown(make_project):
    story = (
        "---\ntitle: Two scans\nsources:\n  left: left.json\n  right: right.json\n"
        "  joined:\n    compose:\n      - left#xywh=15000,11000,2000,1000\n"
        "      - right#xywh=0,0,2000,1000\n---\n"
        "## A detail of the left part\n![a seal](joined#xywh=0,0,600,400)\n"
    )
    project = make_project(
        {
            "stories/a.md": story,
            "left.json": json.dumps(scan_info("left")),
            "right.json": json.dumps(scan_info("right")),
        }
    )
    site, problems = load_site(load_config(project), offline=True)
    assert site is not None, problems
    found = remote_images(site)
    by_name = {remote.image.service.id.rsplit("/", 1)[-1]: remote for remote in found.values()}
    left, right = by_name["left"], by_name["right"]
    assert [source.id for source in left.sources] == [(project / "left.json").as_uri()]
    grids = {remote.key: read_grid(scan_info(name)) for name, remote in by_name.items()}
    keys = {id(remote.image): remote.key for remote in found.values()}
    plan = mirror_plan(site.stories, grids, keys, [(1920, 1080)])
    full = grids[left.key].max_level

    def sharp(remote) -> set[tuple[int, int]]:  # type: ignore[no-untyped-def]
        return {(x * 256, y * 256) for level, x, y in plan.tiles[remote.key] if level == full}

    # The detail is at (15000, 11000) of the left scan, not at the composed canvas's origin;
    # the viewer loads (and so the bundle keeps) the tiles around it, clipped or not.
    assert (15104, 11008) in sharp(left)
    assert all(x > 14_000 and y > 8_000 for x, y in sharp(left))
    # The right part is the top left corner of its scan.
    assert (0, 0) in sharp(right)
    assert all(x < 3_000 and y < 3_000 for x, y in sharp(right))


def test_a_column_scales_parts_to_a_common_width_and_stacks_them_top_to_bottom():
    def leaf(name: str, width: int, height: int) -> Canvas:
        image = ImageResource(
            url=f"https://example.org/{name}.jpg", width=width * 2, height=height * 2
        )
        return Canvas(f"https://example.org/{name}", 1, width, height, images=(image,))

    top = Part("a", leaf("a", 400, 300), (0, 0, 400, 300))
    bottom = Part("b", leaf("b", 1000, 1000), (200, 500, 800, 400))
    canvas = compose_canvas([top, bottom], "column", {"none": ("Stacked",)})
    assert (canvas.width, canvas.height) == (800, 1000)
    first, second = canvas.images
    assert first.target == (0, 0, 800, 600) and first.region == (0, 0, 800, 600)
    # Region in image pixels: the image is twice the size of its canvas.
    assert second.target == (0, 600, 800, 400) and second.region == (400, 1000, 1600, 800)
    # The same composition has the same id; another layout of it does not.
    assert compose_canvas([top, bottom], "column", {}).id == canvas.id
    assert compose_canvas([top, bottom], "row", {}).id != canvas.id


def test_the_preview_recomposes_a_virtual_canvas_when_a_part_changes(tmp_path):
    story = (
        "---\ntitle: T\nsources:\n  a: images/a.jpg\n  b: images/b.jpg\n"
        "  both:\n    compose: [a, b]\n---\n## A\n![x](both)\n"
    )
    root = write_project(tmp_path, story)
    make_image(root / "images" / "a.jpg", 400, 300)
    make_image(root / "images" / "b.jpg", 300, 300)
    config, cache = load_config(root), StageCache()

    def composed_width() -> int:
        site, problems = load_site(config, cache=cache)
        assert site is not None, problems
        return site.stories[0].sources["both"].canvases[0].width

    assert composed_width() == 700
    assert composed_width() == 700 and cache.resolved == 0  # nothing changed: nothing redone
    make_image(root / "images" / "b.jpg", 600, 300)
    assert composed_width() == 1000 and cache.resolved == 1
