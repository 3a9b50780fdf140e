"""`storiiies bundle` against a hostile institution: declared sizes, downloads and time are
bounded, and each refusal is one line at the story's source."""

from __future__ import annotations

import json

import pytest

from storiiies.bundle import bundle_site
from storiiies.errors import BuildFailed

CONFIG = "title: Hostile\nbundle:\n  screens: [[1280, 800]]\n"


def _info(base: str, width: int, height: int, tile: int = 256) -> dict:
    return {
        "@context": "http://iiif.io/api/image/3/context.json",
        "id": f"{base}/huge",
        "type": "ImageService3",
        "protocol": "http://iiif.io/api/image",
        "profile": "level1",
        "width": width,
        "height": height,
        "tiles": [{"width": tile, "scaleFactors": [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]}],
    }


def _story(url: str, alias: str = "huge") -> str:
    return (
        f"---\ntitle: Hostile\nsources:\n  {alias}: {url}\n---\n"
        f"## A corner\n![a corner]({alias}#xywh=0,0,1000,1000)\n"
    )


@pytest.mark.parametrize("side", [10**9, 2 * 10**7])
def test_an_info_json_declaring_a_huge_image_is_refused_at_its_source_line(
    side, make_project, serve_dir, tmp_path
):
    served = tmp_path / "served"
    served.mkdir()
    server = serve_dir(served)
    (served / "info.json").write_text(json.dumps(_info(server.url, side, side)))
    project = make_project({"stories/a.md": _story(f"{server.url}/info.json")}, config=CONFIG)
    with pytest.raises(BuildFailed) as failure:
        bundle_site(project)
    assert [str(p) for p in failure.value.problems if p.is_error] == [
        f"stories/a.md:4:3: error: source 'huge': cannot mirror {server.url}/huge/info.json: "
        f"the info.json declares {side:,}×{side:,} pixels, more than a bundle copies "
        "(200,000 pixels a side, 10 gigapixels) — check the address; a bundle cannot copy this "
        "image: leave this story out of the bundle"
    ]


def test_an_info_json_declaring_one_pixel_tiles_is_refused(make_project, serve_dir, tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    server = serve_dir(served)
    (served / "info.json").write_text(json.dumps(_info(server.url, 40_000, 30_000, tile=1)))
    project = make_project({"stories/a.md": _story(f"{server.url}/info.json")}, config=CONFIG)
    with pytest.raises(BuildFailed) as failure:
        bundle_site(project)
    assert [str(p) for p in failure.value.problems if p.is_error] == [
        f"stories/a.md:4:3: error: source 'huge': cannot mirror {server.url}/huge/info.json: "
        "the info.json declares tiles of 1×1 pixels; a bundle copies tiles of 32 to 8,192 "
        "pixels a side — check the address; a bundle cannot copy this image: leave this story "
        "out of the bundle"
    ]
