"""The bundle's Grid names every tile exactly as OpenSeadragon's IIIFTileSource does: checked
against the real OpenSeadragon from node_modules in Chromium, for each shape of info.json."""

from __future__ import annotations

import json

import pytest

from storiiies.bundle.grid import UnusableService, read_grid
from tests.conftest import REPO

OSD = REPO / "node_modules" / "openseadragon" / "build" / "openseadragon" / "openseadragon.js"
V2, V3 = "http://iiif.io/api/image/2/context.json", "http://iiif.io/api/image/3/context.json"


def _v3(width: int, height: int, **extra: object) -> dict:
    return {
        "@context": V3,
        "id": "https://example.org/iiif/3/img",
        "type": "ImageService3",
        "protocol": "http://iiif.io/api/image",
        "profile": "level2",
        "width": width,
        "height": height,
        **extra,
    }


def _v2(width: int, height: int, profile: object = None, **extra: object) -> dict:
    return {
        "@context": V2,
        "@id": "https://example.org/iiif/2/img",
        "protocol": "http://iiif.io/api/image",
        "profile": profile or ["http://iiif.io/api/image/2/level2.json"],
        "width": width,
        "height": height,
        **extra,
    }


INFOS = {
    "v3 tiles 256": _v3(6000, 4000, tiles=[{"width": 256, "scaleFactors": [1, 2, 4, 8, 16, 32]}]),
    "v2 tiles 512": _v2(6001, 3999, tiles=[{"width": 512, "scaleFactors": [1, 2, 4, 8, 16]}]),
    "v3 non-square tiles": _v3(
        3000, 2000, tiles=[{"width": 512, "height": 256, "scaleFactors": [1, 2, 4, 8]}]
    ),
    "v2 level 0": _v2(
        2500,
        1700,
        ["http://iiif.io/api/image/2/level0.json"],
        tiles=[{"width": 256, "scaleFactors": [1, 2, 4, 8, 16]}],
    ),
    "v3 level 0 with a size per level": _v3(
        1000,
        700,
        profile="level0",
        tiles=[{"width": 256, "scaleFactors": [1, 2, 4]}],
        sizes=[{"width": 250, "height": 175}, {"width": 500, "height": 350}],
    ),
    "v2 without tiles": _v2(3000, 2000),
    "v3 without tiles, small": _v3(300, 200),
    "v3 two tile sizes": _v3(
        4000,
        3000,
        tiles=[{"width": 512, "scaleFactors": [1, 2]}, {"width": 256, "scaleFactors": [4, 8, 16]}],
    ),
    "v2 level 0, sizes only": _v2(
        1600,
        1200,
        ["http://iiif.io/api/image/2/level0.json"],
        sizes=[
            {"width": 400, "height": 300},
            {"width": 800, "height": 600},
            {"width": 1600, "height": 1200},
        ],
    ),
}

TILE_URLS = """
(info) => {
  const $ = OpenSeadragon;
  const data = $.IIIFTileSource.prototype.configure(info, "x/info.json");
  const source = new $.IIIFTileSource(data);
  const levels = [];
  for (let level = 0; level <= source.maxLevel; level++) {
    const n = source.getNumTiles(level);
    const urls = [];
    for (let y = 0; y < n.y; y++) {
      for (let x = 0; x < n.x; x++) urls.push(source.getTileUrl(level, x, y));
    }
    levels.push({columns: n.x, rows: n.y, urls});
  }
  return {maxLevel: source.maxLevel, levels, cutoff: source.getClosestLevel()};
}
"""


def _python_urls(info: dict) -> dict:
    grid = read_grid(info)
    levels = []
    for level in range(grid.max_level + 1):
        columns, rows = grid.tile_count(level)
        urls = [grid.tile_url(level, x, y) for y in range(rows) for x in range(columns)]
        levels.append({"columns": columns, "rows": rows, "urls": urls})
    return {"maxLevel": grid.max_level, "levels": levels, "cutoff": grid.cutoff_level()}


@pytest.mark.browser
def test_every_tile_url_matches_openseadragon(new_page):
    page = new_page()
    page.set_content("<!doctype html><title>grid</title>")
    page.add_script_tag(content=OSD.read_text(encoding="utf-8"))
    for name, info in INFOS.items():
        expected = page.evaluate(TILE_URLS, json.loads(json.dumps(info)))
        assert _python_urls(info) == expected, name


def test_a_level0_service_without_tiles_or_sizes_cannot_be_mirrored():
    with pytest.raises(UnusableService, match="neither tiles nor sizes"):
        read_grid(_v2(100, 100, ["http://iiif.io/api/image/2/level0.json"]))


def test_image_api_1_is_refused():
    with pytest.raises(UnusableService, match="not Image API 2 or 3"):
        read_grid(
            {
                "@context": "http://iiif.io/api/image/1/context.json",
                "@id": "x",
                "width": 1,
                "height": 1,
            }
        )


def test_a_tile_is_found_by_the_pixel_it_holds():
    grid = read_grid(INFOS["v3 tiles 256"])
    full = grid.max_level
    assert grid.tile_at(full, 0, 0) == (0, 0)
    assert grid.tile_at(full, 256, 255) == (1, 0)
    columns, rows = grid.tile_count(full)
    assert grid.tile_at(full, 10_000, 10_000) == (columns - 1, rows - 1)
    assert grid.tile_region(full - 1, 1, 1) == (512, 512, 512, 512)
    assert grid.tile_pixels(full - 1, 11, 7) == (
        3000 - 11 * 256,
        2000 - 7 * 256,
    )  # the last, cut short
