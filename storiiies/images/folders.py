"""A folder of images is a multi-page source: its files in the order a person would number them."""

from __future__ import annotations

import re
from pathlib import Path

IMAGE_SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".jp2", ".j2k", ".gif"}
)


def natural_sort_key(name: str) -> tuple[object, ...]:
    """Sort key that puts page2 before page10 (and ignores case); ties fall back to the name."""
    parts = re.split(r"(\d+)", name.casefold())
    # re.split with a group alternates text and digits, so like is always compared with like.
    return (*(int(part) if index % 2 else part for index, part in enumerate(parts)), name)


def list_folder_images(folder: Path) -> list[Path]:
    """The image files directly in `folder`, hidden files skipped, in natural order."""
    images = [
        path
        for path in folder.iterdir()
        if not path.name.startswith(".")
        and path.suffix.lower() in IMAGE_SUFFIXES
        and path.is_file()
    ]
    return sorted(images, key=lambda path: natural_sort_key(path.name))
