"""The mirror plan (pure): which tiles of a large remote scan a tour can show."""

from __future__ import annotations

import json
from pathlib import Path

from storiiies.build import load_site
from storiiies.bundle.grid import read_grid
from storiiies.bundle.mirror import remote_images
from storiiies.bundle.plan import full_mirror_count, mirror_plan, overview_levels
from storiiies.config import load_config
from tests.helpers import scan_info

INFO = scan_info("scan")
STORY = """---
title: A large scan
sources:
  scan: scan.json
---
## A small detail
![a seal](scan#xywh=15000,11000,600,400)
"""


def _plan(make_project, screens):  # type: ignore[no-untyped-def]
    project: Path = make_project({"stories/a.md": STORY, "scan.json": json.dumps(INFO)})
    site, problems = load_site(load_config(project), offline=True)
    assert site is not None, problems
    (remote,) = remote_images(site).values()
    grid = read_grid(INFO)
    plan = mirror_plan(site.stories, {remote.key: grid}, {id(remote.image): remote.key}, screens)
    return grid, plan.tiles[remote.key]


def test_the_overview_is_whole_and_full_size_tiles_stay_near_the_detail(make_project):
    grid, tiles = _plan(make_project, [(1920, 1080)])
    for level in overview_levels(grid):
        columns, rows = grid.tile_count(level)
        assert {(level, x, y) for x in range(columns) for y in range(rows)} <= tiles
    full = grid.max_level
    detail = {grid.tile_at(full, x, y) for x in (15000, 15599) for y in (11000, 11399)}
    assert {(full, x, y) for x, y in detail} <= tiles
    # Full size only along the flight from the whole scan into the detail (bottom right).
    sharp = [(x * 256, y * 256) for level, x, y in tiles if level == full]
    assert all(x > 10_000 and y > 7_000 for x, y in sharp)
    columns, rows = grid.tile_count(full)
    assert len(sharp) < columns * rows / 5
    assert len(tiles) < full_mirror_count(grid) / 3


def test_a_smaller_screen_needs_a_subset_of_the_tiles(make_project):
    _, large = _plan(make_project, [(3840, 2160)])
    _, small = _plan(make_project, [(1920, 1080)])
    assert small < large
