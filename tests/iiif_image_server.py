"""A small dynamic IIIF Image API server (versions 2 and 3) for tests and benchmarks, standing
in for a remote institution on 127.0.0.1. It cuts any region at any size from a pyramidal
TIFF, counts what it serves, and can be told to fail some requests."""

from __future__ import annotations

import math
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pyvips
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


@dataclass
class ServedImage:
    path: Path  # a pyramidal TIFF (see make_pyramid)
    tile: int = 256
    level0: bool = False  # level 0: only the advertised tiles and sizes answer
    levels: list[pyvips.Image] = field(default_factory=list)

    @property
    def width(self) -> int:
        return int(self.levels[0].width)

    @property
    def height(self) -> int:
        return int(self.levels[0].height)


def make_pyramid(target: Path, width: int, height: int) -> Path:
    """A pyramidal TIFF with a pattern that differs everywhere, so tiles can be compared."""
    target.parent.mkdir(parents=True, exist_ok=True)
    x = pyvips.Image.xyz(width, height)
    red = (x[0] * 255 / width).cast("uchar")
    green = (x[1] * 255 / height).cast("uchar")
    blue = (((x[0] // 64 + x[1] // 64) % 2) * 160 + 40).cast("uchar")
    image = red.bandjoin([green, blue]).copy(interpretation="srgb")
    image.tiffsave(
        str(target),
        tile=True,
        pyramid=True,
        compression="jpeg",
        Q=80,
        tile_width=256,
        tile_height=256,
    )
    return target


class ImageServer:
    """The Starlette app plus its counters; `app` goes to a LiveServer."""

    def __init__(self, images: dict[str, ServedImage]) -> None:
        self.images = images
        for image in images.values():
            image.levels = _levels(image.path)
        self.requests: Counter[str] = Counter()
        self.fail: dict[str, int] = {}  # path → status to answer instead
        self.fail_times: dict[str, int] = {}  # path → how many more requests get `fail`
        self._lock = threading.Lock()
        self.app = Starlette(
            routes=[
                Route("/{version:int}/{name}/info.json", self.info),
                Route(
                    "/{version:int}/{name}/{region}/{size}/{rotation}/{quality}.{format}",
                    self.image,
                ),
            ]
        )

    def base(self, url: str, version: int, name: str) -> str:
        return f"{url}/{version}/{name}"

    def _count(self, request: Request) -> int | None:
        path = request.url.path
        with self._lock:
            self.requests[path] += 1
            if path in self.fail_times:
                self.fail_times[path] -= 1
                if self.fail_times[path] < 0:
                    return None
            return self.fail.get(path)

    @property
    def tile_requests(self) -> int:
        return sum(n for path, n in self.requests.items() if path.endswith(".jpg"))

    async def info(self, request: Request) -> Response:
        failure = self._count(request)
        version, name = request.path_params["version"], request.path_params["name"]
        if failure or name not in self.images or version not in (2, 3):
            return Response(status_code=failure or 404)
        image = self.images[name]
        image_id = str(request.url).rsplit("/info.json", 1)[0]
        factors = [
            2**n
            for n in range(math.ceil(math.log2(max(image.width, image.height) / image.tile)) + 1)
        ]
        sizes = [
            {"width": math.ceil(image.width / f), "height": math.ceil(image.height / f)}
            for f in factors
            if max(image.width, image.height) / f <= 1024
        ]
        tiles = [{"width": image.tile, "height": image.tile, "scaleFactors": factors}]
        if version == 3:
            profile: object = "level0" if image.level0 else "level2"
            data = {
                "@context": "http://iiif.io/api/image/3/context.json",
                "id": image_id,
                "type": "ImageService3",
                "protocol": "http://iiif.io/api/image",
                "profile": profile,
            }
        else:
            profile = (
                "http://iiif.io/api/image/2/level0.json"
                if image.level0
                else "http://iiif.io/api/image/2/level2.json"
            )
            data = {
                "@context": "http://iiif.io/api/image/2/context.json",
                "@id": image_id,
                "protocol": "http://iiif.io/api/image",
                "profile": [profile],
            }
        data.update({"width": image.width, "height": image.height, "tiles": tiles, "sizes": sizes})
        return JSONResponse(data, headers={"Access-Control-Allow-Origin": "*"})

    def image(self, request: Request) -> Response:
        failure = self._count(request)
        params = request.path_params
        if failure:
            return Response(status_code=failure, headers={"Retry-After": "0"})
        image = self.images.get(params["name"])
        if image is None or params["rotation"] != "0" or params["format"] != "jpg":
            return Response(status_code=404)
        box = _region(params["region"], image)
        size = _size(params["size"], box, params["version"])
        if box is None or size is None:
            return Response(status_code=400)
        x, y, w, h = box
        level = max(
            0, min(len(image.levels) - 1, int(math.floor(math.log2(max(1.0, w / size[0])))))
        )
        source = image.levels[level]
        scale = 2**level
        left, top = x // scale, y // scale
        part = source.crop(
            left,
            top,
            max(1, min(source.width - left, math.ceil(w / scale))),
            max(1, min(source.height - top, math.ceil(h / scale))),
        )
        part = part.resize(size[0] / part.width, vscale=size[1] / part.height)
        return Response(
            part.jpegsave_buffer(Q=80, strip=True),
            media_type="image/jpeg",
            headers={"Access-Control-Allow-Origin": "*"},
        )


def _levels(path: Path) -> list[pyvips.Image]:
    first = pyvips.Image.new_from_file(str(path))
    count = int(first.get("n-pages")) if first.get_typeof("n-pages") else 1
    return [pyvips.Image.new_from_file(str(path), page=n, access="random") for n in range(count)]


def _region(text: str, image: ServedImage) -> tuple[int, int, int, int] | None:
    if text == "full":
        return 0, 0, image.width, image.height
    parts = text.split(",")
    if len(parts) != 4 or not all(p.isdigit() for p in parts):
        return None
    x, y, w, h = map(int, parts)
    if x >= image.width or y >= image.height or w < 1 or h < 1:
        return None
    return x, y, min(w, image.width - x), min(h, image.height - y)


def _size(text: str, box: tuple[int, int, int, int] | None, version: int) -> tuple[int, int] | None:
    if box is None:
        return None
    _, _, w, h = box
    if text in ("max", "full"):
        return w, h
    width, _, height = text.partition(",")
    if width.isdigit() and height.isdigit():
        return int(width), int(height)
    if width.isdigit() and not height:
        return int(width), max(1, round(h * int(width) / w))
    if height.isdigit() and not width:
        return max(1, round(w * int(height) / h)), int(height)
    return None
