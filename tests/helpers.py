"""Small builders shared by tests (not fixtures: plain functions)."""

from __future__ import annotations

import copy
import hashlib
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

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


def json_paths(node: Any, prefix: tuple[Any, ...] = (), limit: int = 400) -> list[tuple[Any, ...]]:
    """Key paths inside a JSON value (at most `limit`), so a mutation can replace any node."""
    found = [prefix]
    children = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else ()
    )
    for key, child in children:
        if len(found) >= limit:
            break
        found += json_paths(child, (*prefix, key), limit - len(found))
    return found


def mutate(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    """A deep copy of `document` with the node at `path` replaced by `value`."""
    if not path:
        return value
    copied = copy.deepcopy(document)
    parent = copied
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    return copied


class _StartTags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def tags(path: Path) -> list[tuple[str, dict[str, str | None]]]:
    """Every start tag of an HTML file, in order, as (name, attributes)."""
    parser = _StartTags()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser.tags


def scan_info(name: str) -> dict[str, Any]:
    """The info.json of a 20,000 × 15,000 scan at a museum's level-1 Image API 3 server."""
    return {
        "@context": "http://iiif.io/api/image/3/context.json",
        "id": f"https://museum.example/iiif/{name}",
        "type": "ImageService3",
        "protocol": "http://iiif.io/api/image",
        "profile": "level1",
        "width": 20000,
        "height": 15000,
        "tiles": [{"width": 256, "scaleFactors": [1, 2, 4, 8, 16, 32, 64, 128]}],
    }


def bomb_jpeg(width: int = 65_000, height: int = 65_000) -> bytes:
    """A JPEG of a few hundred bytes whose header declares width × height pixels (a
    decompression bomb: a decoder that trusts the header allocates and fills all of them)."""
    small = bytes(pyvips.Image.black(16, 16).cast("uchar").jpegsave_buffer(Q=10, strip=True))
    at = small.index(b"\xff\xc0")  # baseline start of frame: length, precision, height, width
    return small[: at + 5] + height.to_bytes(2, "big") + width.to_bytes(2, "big") + small[at + 9 :]
