"""Static JPEG crops of local images (thumbnails, the text version, social previews).

Level-0 services cannot cut regions on request, so local regions are cut once at build time
and cached by name (names derive from the image's content hash and the region).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from storiiies.images.decode import open_image
from storiiies.model import OutputFile, Story, View
from storiiies.resolve.virtual import part_view
from storiiies.site.image_urls import crop_name, is_local
from storiiies.site.render import SOCIAL_WIDTH, TEXT_WIDTH, THUMB_WIDTH, first_region


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


def local_crops(stories: tuple[Story, ...], cache_dir: Path) -> list[OutputFile]:
    outputs: dict[str, OutputFile] = {}
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
                _cut(image.path, image.page, view, width, cached)
            outputs[name] = OutputFile(name, source=cached)
    return list(outputs.values())


def _cut(path: Path, page: int, view: View, width: int, target: Path) -> None:
    # open_image reads through a pyvips.Source, so an image edited on disk is never served
    # from libvips' file cache, and gives upright 8-bit sRGB or grey pixels.
    source = open_image(path, page)
    x, y, w, h = (round(n) for n in view.box)
    x, y = min(max(x, 0), source.width - 1), min(max(y, 0), source.height - 1)
    w, h = max(1, min(w, source.width - x)), max(1, min(h, source.height - y))
    region = source.crop(x, y, w, h)
    if region.width > width:
        region = region.resize(width / region.width)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.stem}.{os.getpid()}.{threading.get_ident()}.jpg")
    region.jpegsave(str(temporary), Q=82, strip=True)
    os.replace(temporary, target)
