"""Small builders shared by tests (not fixtures: plain functions)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pyvips


def make_image(path: Path, width: int = 800, height: int = 600) -> Path:
    """A JPEG with a colour gradient, so tiles and crops have content to compare."""
    path.parent.mkdir(parents=True, exist_ok=True)
    x = pyvips.Image.xyz(width, height)
    red = (x[0] * (255 / max(width - 1, 1))).cast("uchar")
    green = (x[1] * (255 / max(height - 1, 1))).cast("uchar")
    blue = (red * 0 + 96).cast("uchar")
    red.bandjoin([green, blue]).copy(interpretation="srgb").write_to_file(str(path))
    return path


def tree_digest(folder: Path) -> dict[str, str]:
    """Every file under `folder` with the sha256 of its bytes."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }
