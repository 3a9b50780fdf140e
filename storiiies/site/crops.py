"""Static JPEG crops of local images (thumbnails, the text version, social previews).

Level-0 services cannot cut regions on request, so local regions are cut once at build time
and cached by name (names derive from the image's content hash and the region). They are cut
from the image's tile tree, or one shared decode of the file (images/regions.py).
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Mapping
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

from storiiies.images.decode import open_image
from storiiies.images.regions import (
    Region,
    TileReader,
    cut,
    cut_from_tiles_into_files,
    region_of,
    save_crop,
    shrink_for,
)
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
    there are enough of them to pay for starting the processes; 0 cuts them all here. Each
    task decodes the tiles it needs once, so one image's crops go in as few tasks as keep
    the workers busy. An `executor` (a cluster whose workers see the cache) takes every task
    instead."""
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
    from_tiles: list[tuple[TiledImage, list[tuple[Region, Path]]]] = []
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
        from_tiles.append((tree, regions))
    workers = (os.cpu_count() or 1) if workers is None else workers
    _cut_from_tiles(from_tiles, workers, executor)
    return list(outputs.values())


#: Fewer crops than this are cut here: starting worker processes (~0.2 s, in parallel) would
#: cost more than they save (a crop from a TileReader takes ~2 ms).
POOL_MINIMUM = 300

#: At most this many crops per task, so a worker done early takes more from a long list.
TASK_MAXIMUM = 2000


def _cut_from_tiles(
    images: list[tuple[TiledImage, list[tuple[Region, Path]]]],
    workers: int,
    executor: Executor | None = None,
) -> None:
    """Cut each image's crops on `executor` (a cluster) when there is one; else here, or in
    worker processes when there are enough to pay for starting them. Each task decodes the
    tiles it needs once (regions.TileReader), so one image's crops go in as few tasks as keep
    the workers busy.

    Processes, not threads, for many crops: a crop spends much of its time in Python and
    pyvips' calls, which threads would take turns at; a few (the crops of one new image) are
    cut in threads, each image's crops shared by level (TileReader.shares). A fresh
    interpreter (spawn) rather than a fork of this one, which holds libvips' threads. The
    task's function lives in images/, so a worker imports libvips and little else. Each task
    is a list of regions and the tiles' folder, so memory stays flat however many stories
    there are."""
    crops = sum(len(regions) for _, regions in images)
    if executor is None and workers < 2:
        for tree, regions in images:
            cut_from_tiles_into_files(tree, regions)
        return
    if executor is None and crops < POOL_MINIMUM:
        # Threads here: pyvips and Pillow let go of Python while they decode and encode.
        shared = [
            (tree, share)
            for tree, regions in images
            for share in TileReader(tree).shares(regions, workers)
        ]
        with ThreadPoolExecutor(min(workers, len(shared) or 1)) as threads:
            _run(threads, shared)
        return
    tasks = [(tree, part) for tree, regions in images for part in _shares(regions, workers)]
    if executor is not None:
        _run(executor, tasks)
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(min(workers, len(tasks)), mp_context=context) as pool:
        _run(pool, tasks)


def _run(executor: Executor, tasks: list[tuple[TiledImage, list[tuple[Region, Path]]]]) -> None:
    for done in [executor.submit(cut_from_tiles_into_files, *task) for task in tasks]:
        done.result()


def _shares(regions: list[tuple[Region, Path]], workers: int) -> list[list[tuple[Region, Path]]]:
    """`regions` in `workers` tasks, or more of at most TASK_MAXIMUM crops each."""
    parts = max(workers, -(-len(regions) // TASK_MAXIMUM))
    size = -(-len(regions) // parts)
    return [regions[start : start + size] for start in range(0, len(regions), size)]


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
                save_crop(cut(pixels, region, image.width, image.height), target)
