"""Static JPEG crops of local images (thumbnails, the text version, social previews).

Level-0 services cannot cut regions on request, so local regions are cut once at build time
and cached by name (names derive from the image's content hash and the region). They are cut
from the image's tile tree, or one shared decode of the file (images/regions.py).
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Mapping
from concurrent.futures import Executor, ProcessPoolExecutor
from pathlib import Path

import pyvips

from storiiies.atomic import replacing
from storiiies.images.decode import open_image
from storiiies.images.regions import Region, cut, cut_from_tiles, region_of, shrink_for
from storiiies.images.tiles import TiledImage, TileJob, cached_tiles
from storiiies.model import LocalImage, OutputFile, Story, View
from storiiies.resolve.virtual import part_view
from storiiies.site.image_urls import (
    SOCIAL_WIDTH,
    TEXT_WIDTH,
    THUMB_WIDTH,
    crop_name,
    first_region,
    is_local,
)


def wanted_crops(story: Story) -> list[tuple[View, int]]:
    """Exactly the crops the templates link to: the cover (index card, kiosk attract loop),
    the first region (link previews), and each step's views (text version)."""
    wanted = [
        (story.cover, THUMB_WIDTH),
        (story.cover, TEXT_WIDTH),
        (story.cover, SOCIAL_WIDTH),
        (first_region(story), SOCIAL_WIDTH),
    ]
    for step in story.steps:
        wanted.extend((view, TEXT_WIDTH) for view in step.views)
    # A view of a virtual canvas is cut from the part it shows most (virtual.part_view).
    parts = [(part_view(view, story), width) for view, width in wanted]
    return [(view, width) for view, width in parts if is_local(view, story)]


def local_crops(
    stories: tuple[Story, ...],
    cache_dir: Path,
    tiled: Mapping[str, TiledImage] | None = None,
    *,
    workers: int | None = None,
    executor: Executor | None = None,
) -> list[OutputFile]:
    """The crops the stories link to, cut where they are not cached yet. `tiled` holds the tile
    trees of this build by image name: a crop is cut from its image's tiles (or, without them,
    from one decode of the file shared by its crops), never from a full decode of its own.

    Crops cut from tiles are shared among `workers` processes (default: one per core) when
    there are enough of them to pay for starting the processes; 0 cuts them all here. An
    `executor` (a cluster whose workers see the cache) takes every batch instead."""
    outputs: dict[str, OutputFile] = {}
    todo: dict[LocalImage, list[tuple[View, int, Path]]] = {}
    for story in stories:
        files = {image.name: image for image in story.local_images}
        for view, width in wanted_crops(story):
            name = crop_name(view, width)
            if name in outputs:
                continue
            service = view.canvas.images[0].service
            image = files[service.id.rstrip("/").rsplit("/", 1)[-1]] if service else None
            if image is None or image.info is not None:
                continue  # a bundle's copy of a remote image comes with its crops cut
            cached = cache_dir / name
            if not cached.is_file():
                todo.setdefault(image, []).append((view, width, cached))
            outputs[name] = OutputFile(name, source=cached)
    batches: list[tuple[TiledImage, list[tuple[Region, Path]]]] = []
    for image, crops in todo.items():
        tree = (tiled or {}).get(image.name) or cached_tiles(
            TileJob(image.path, image.page), cache_dir / "tiles"
        )
        if tree is None:
            _cut_from_file(image, crops)
            continue
        regions = [
            (region_of(view.box, width, (tree.width, tree.height)), target)
            for view, width, target in crops
        ]
        for start in range(0, len(regions), BATCH):
            batches.append((tree, regions[start : start + BATCH]))
    if executor is not None:
        for done in [executor.submit(_cut_batch, *batch) for batch in batches]:
            done.result()
    else:
        _cut_batches(batches, (os.cpu_count() or 1) if workers is None else workers)
    return list(outputs.values())


#: Crops per task handed to a worker process (a crop from tiles takes 5-10 ms).
BATCH = 25


def _cut_batches(batches: list[tuple[TiledImage, list[tuple[Region, Path]]]], workers: int) -> None:
    """Cut the batches here, or in worker processes when there are two batches for each.

    Processes, not threads: a crop spends much of its time in Python and pyvips' calls, which
    threads would take turns at. A fresh interpreter (spawn) rather than a fork of this one,
    which holds libvips' threads. Each task is a handful of regions and the tiles' folder, so
    memory stays flat however many stories there are."""
    if workers < 2 or len(batches) < 2 * workers:
        for batch in batches:
            _cut_batch(*batch)
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        for done in [pool.submit(_cut_batch, *batch) for batch in batches]:
            done.result()


def _cut_batch(tree: TiledImage, regions: list[tuple[Region, Path]]) -> None:
    for region, target in regions:
        _save(cut_from_tiles(tree, region), target)


def _cut_from_file(image: LocalImage, crops: list[tuple[View, int, Path]]) -> None:
    """Cut the crops from the file, decoded once for each shrink-on-load they need."""
    regions = [
        (region_of(view.box, width, (image.width, image.height)), t) for view, width, t in crops
    ]
    for shrink in sorted({shrink_for(region) for region, _ in regions}):
        # open_image reads through a pyvips.Source, so an image edited on disk is never served
        # from libvips' file cache, and gives upright 8-bit sRGB or grey pixels. Its pixels are
        # decoded once, on the first crop, and shared by the rest.
        pixels = open_image(image.path, image.page, shrink=shrink)
        for region, target in regions:
            if shrink_for(region) == shrink:
                _save(cut(pixels, region, image.width, image.height), target)


def _save(region: pyvips.Image, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with replacing(target) as temporary:
        region.jpegsave(str(temporary), Q=82, strip=True)
