"""Crops (thumbnails, the text version, link previews) show their region, cut without a full
decode of the image for each crop: from the tile tree, or from one decode shared by all."""

from __future__ import annotations

import shutil
from dataclasses import replace

import pytest
import pyvips
from PIL import Image

from storiiies.build import load_site, tile_images
from storiiies.config import load_config
from storiiies.images.regions import TileReader, cut_from_tiles, region_of, save_crop
from storiiies.images.tiles import tile_image
from storiiies.site.crops import POOL_MINIMUM, _cut_from_tiles, local_crops, wanted_crops
from storiiies.site.image_urls import crop_name, crop_size

STORY = """\
---
title: Pattern
summary: Regions of a patterned image.
sources:
  scan: images/scan.jpg
---
The whole image.

## A detail, at its own size
![A detail](scan#xywh=1700,900,300,200)

## A wide region, made smaller
![A wide region](scan#xywh=200,300,2600,1400)
"""


def make_pattern(path, width=3000, height=2000):
    """Gradients under a fine pattern: a crop of the wrong place, or a blurred one, shows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    xy = pyvips.Image.xyz(width, height)
    x, y = xy[0], xy[1]
    pattern = (x * 9).sin() * (y * 12).cos() * 50  # periods of 40 and 30 pixels (degrees)
    image = (x * (200 / width) + pattern).bandjoin([y * (200 / height) + pattern, pattern + 128])
    image.cast("uchar").copy(interpretation="srgb").jpegsave(str(path), Q=95)


@pytest.fixture
def project(make_project):
    root = make_project({"stories/pattern.md": STORY})
    make_pattern(root / "images" / "scan.jpg")
    return root


def source_region(source, view, width):
    """The region cut straight from the decoded file, as the build once did for each crop."""
    image = pyvips.Image.new_from_file(str(source))
    region = region_of(view.box, width, (image.width, image.height))
    part = image.crop(region.x, region.y, region.width, region.height)
    return part.resize(region.out_width / region.width, vscale=region.out_height / region.height)


def difference(a, b):
    return (a.cast("float") - b.cast("float")).abs().avg()


def check_crops_show_their_regions(site, cache_dir, source):
    """Every crop has the size its page names and the pixels of its region, not a neighbour's."""
    story = site.story_versions[0]
    wanted = wanted_crops(story)
    assert len(wanted) == 6  # the cover thrice, the link preview, and the two steps
    for view, width in wanted:
        crop = pyvips.Image.new_from_file(str(cache_dir / crop_name(view, width)))
        assert (crop.width, crop.height) == crop_size(view, story, width)
        expected = source_region(source, view, width)
        assert difference(crop, expected) < 4, (view.box, width)
        x, y, w, h = view.box
        if w < 1000:  # a detail: the same size a little further right is another picture
            moved = replace(view, region=(x + 20, y, w, h))  # half a period: the opposite
            shifted = source_region(source, moved, width)
            assert difference(crop, shifted) > 20


def test_crops_of_a_tiled_image_are_cut_from_its_tiles_without_reading_the_file(project):
    config = load_config(project)
    site, _ = load_site(config)
    assert site is not None
    tiled, tile_problems = tile_images(site.local_images, config)
    assert tile_problems == []
    kept = project / "kept.jpg"
    (project / "images" / "scan.jpg").rename(kept)  # the tiles are all the crops need
    outputs = local_crops(site.story_versions, config.cache_dir, tiled)
    assert len(outputs) == 6 and all(output.source.is_file() for output in outputs)
    check_crops_show_their_regions(site, config.cache_dir, kept)


def test_crops_without_tiles_are_cut_from_the_file_and_show_their_regions(project):
    config = load_config(project)
    site, _ = load_site(config)
    assert site is not None
    outputs = local_crops(site.story_versions, config.cache_dir)
    assert len(outputs) == 6 and all(output.source.is_file() for output in outputs)
    check_crops_show_their_regions(site, config.cache_dir, project / "images" / "scan.jpg")


def test_crops_cut_by_worker_processes_are_the_same_as_crops_cut_in_turn(make_project):
    boxes = [(5 * n % 1500, 3 * n % 900, 300 + n, 200 + n // 2) for n in range(POOL_MINIMUM)]
    steps = "".join(
        f"## Step {n}\n![Part {n}](scan#xywh={x},{y},{w},{h})\n\n"
        for n, (x, y, w, h) in enumerate(boxes)
    )
    root = make_project({"stories/many.md": STORY.split("## A detail")[0] + steps})
    make_pattern(root / "images" / "scan.jpg")
    config = load_config(root)
    site, _ = load_site(config)
    assert site is not None
    tiled, _ = tile_images(site.local_images, config)
    in_turn = local_crops(site.story_versions, root / "in-turn", tiled, workers=0)
    shared = local_crops(site.story_versions, root / "shared", tiled, workers=2)
    assert len(in_turn) == len(shared) == POOL_MINIMUM + 4  # enough to start the workers
    for one, other in zip(in_turn, shared, strict=True):
        assert one.path == other.path
        assert one.source.read_bytes() == other.source.read_bytes()


def many_regions(width, height):
    """Regions of every size, so crops come from every level (whole and tile by tile)."""
    regions = []
    for n in range(40):
        w, h = 60 + 71 * n, 40 + 47 * n
        x, y = (37 * n) % (width - w), (23 * n) % (height - h)
        for out in (200, 480, 1200):
            regions.append(region_of((x, y, w, h), out, (width, height)))
    return regions


@pytest.mark.parametrize("budget", [64 * 2**20, 2 * 2**20, 300_000])
def test_a_tile_reader_cuts_the_crops_a_decode_for_each_crop_cuts_byte_for_byte(tmp_path, budget):
    make_pattern(tmp_path / "scan.jpg")
    tree = tile_image(tmp_path / "scan.jpg", tmp_path / "tiles", threads=0)
    reader = TileReader(tree, budget=budget)
    for region in many_regions(tree.width, tree.height):
        kept = reader.cut(region).jpegsave_buffer(Q=82, strip=True)
        alone = cut_from_tiles(tree, region).jpegsave_buffer(Q=82, strip=True)
        assert kept == alone, region
        assert reader.held_bytes <= max(budget, 256 * 256 * 3)


def test_a_tile_reader_decodes_each_tile_once_for_all_its_crops(tmp_path):
    make_pattern(tmp_path / "scan.jpg")
    tree = tile_image(tmp_path / "scan.jpg", tmp_path / "tiles", threads=0)
    regions = many_regions(tree.width, tree.height)
    reader = TileReader(tree)
    first = [reader.cut(region).jpegsave_buffer(Q=82, strip=True) for region in regions]
    shutil.rmtree(tree.path)  # every tile these crops need is in the reader's memory
    again = [reader.cut(region).jpegsave_buffer(Q=82, strip=True) for region in regions]
    assert again == first
    with pytest.raises(FileNotFoundError):
        cut_from_tiles(tree, regions[0])


@pytest.mark.parametrize("budget", [64 * 2**20, 300_000])
def test_a_crop_copied_by_pillow_is_the_crop_libvips_cuts_byte_for_byte(tmp_path, budget):
    """`TileReader.picture` copies pixels in Pillow only where no resizing is needed, and the
    saved crop is the one `cut` gives, whichever path made it."""
    make_pattern(tmp_path / "scan.jpg", 1000, 800)
    tree = tile_image(tmp_path / "scan.jpg", tmp_path / "tiles", threads=0)
    reader = TileReader(tree, budget=budget)
    copied = 0
    for number, region in enumerate(many_regions(tree.width, tree.height)):
        picture, cut = tmp_path / f"p{number}.jpg", tmp_path / f"c{number}.jpg"
        shown = reader.picture(region)
        save_crop(shown, picture)
        save_crop(reader.cut(region), cut)
        assert picture.read_bytes() == cut.read_bytes(), region
        copied += isinstance(shown, Image.Image)
    # A level held whole (the large budget) gives Pillow copies for the regions at their own
    # size; tile by tile (the small one), libvips cuts them all.
    assert (copied > 0) == (budget > 1_000_000), copied


def grey(value, bands=1, interpretation="b-w", format="uchar"):
    return (
        (pyvips.Image.black(120, 80, bands=bands) + value)
        .cast(format)
        .copy(interpretation=interpretation)
    )


@pytest.mark.parametrize(
    "pixels",
    [
        grey(90, 3, "srgb"),
        grey(90),
        # Not 8-bit grey or sRGB: libvips converts (alpha flattened, 16 bits brought to 8).
        grey(90, 3, "srgb").bandjoin(255),
        grey(90 * 256, 1, "grey16", "ushort"),
    ],
    ids=["srgb", "grey", "srgb with alpha", "16-bit grey"],
)
def test_a_crop_of_any_kind_of_pixels_is_a_jpeg_of_its_pixels(tmp_path, pixels):
    target = tmp_path / "crops" / "a.jpg"
    save_crop(pixels, target)
    assert target.read_bytes()[:3] == b"\xff\xd8\xff"
    saved = pyvips.Image.new_from_file(str(target))
    assert (saved.width, saved.height) == (120, 80)
    assert abs(saved.avg() - 90) < 2
    assert list(tmp_path.joinpath("crops").iterdir()) == [target]  # no temporary file left


def test_a_few_crops_are_shared_among_threads_by_level_and_cut_as_in_one(tmp_path):
    make_pattern(tmp_path / "scan.jpg", 3000, 2000)
    tree = tile_image(tmp_path / "scan.jpg", tmp_path / "tiles", threads=0)
    boxes = [(0, 0, 3000, 2000)] * 3 + [(1000, 600, 900, 700), (1000, 600, 900, 700)]
    widths = [200, 400, 800, 800, 300]
    crops = [
        (region_of(box, width, (3000, 2000)), tmp_path / f"c{n}.jpg")
        for n, (box, width) in enumerate(zip(boxes, widths, strict=True))
    ]
    reader = TileReader(tree)

    shares = reader.shares(crops, 2)

    assert len(shares) == 2
    assert sorted(c[1] for share in shares for c in share) == sorted(c[1] for c in crops)
    levels = [{reader._level(region) for region, _ in share} for share in shares]
    assert not levels[0] & levels[1]  # a level's crops stay together
    # The crops cut by two readers at once are those one reader cuts.
    alone = {}
    for region, target in crops:
        save_crop(TileReader(tree).picture(region), target.with_suffix(".one.jpg"))
        alone[target] = target.with_suffix(".one.jpg").read_bytes()
    _cut_from_tiles([(tree, crops)], workers=2)
    assert {target: target.read_bytes() for _, target in crops} == alone
