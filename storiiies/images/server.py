"""A dynamic IIIF Image API 3.0 server (compliance level 2) for local images, for `serve`.

    image_api_app({"venice": Path("images/venice.jpg")})

answers `/venice/info.json` and `/venice/{region}/{size}/{rotation}/{quality}.{format}` (see
iiif/imagerequest.py for the syntax), `/venice` with a redirect to its info.json, 400 for a
malformed request and 404 for an unknown image, all with `Access-Control-Allow-Origin: *`.
Pixels come from pyvips in a worker thread, never on the event loop.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import quote

import pyvips
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from storiiies.errors import ImageError
from storiiies.images import decode
from storiiies.images.request import BadRequest, Limits, Plan, plan_request

CONTEXT = "http://iiif.io/api/image/3/context.json"
JSON_LD = f'application/ld+json;profile="{CONTEXT}"'
#: No response is larger than this many pixels; bigger images announce it as maxArea.
MAX_AREA = 4096 * 4096
TILE_SIZE = 512
CORS = {"Access-Control-Allow-Origin": "*"}

ImageSource = Path | tuple[Path, int]  # a file, or a file and a 0-based page


def image_api_app(
    images: Mapping[str, ImageSource],
    *,
    base_url_of: Callable[[Request], str] | None = None,
    max_area: int = MAX_AREA,
) -> Starlette:
    """An ASGI app serving `images` by identifier. `base_url_of(request)` gives the URL the
    service is reached at (for info.json `id`); by default, the request's own base URL."""
    renderer = _Renderer(images, max_area)

    async def answer(request: Request) -> Response:
        parts = request.path_params["path"].split("/")
        if parts and parts[-1] == "":
            parts.pop()
        if not parts:
            return _error(404, "no image identifier given")
        if parts[-1] == "info.json":
            identifier, request_parts = "/".join(parts[:-1]), None
        elif len(parts) >= 5:
            identifier, request_parts = "/".join(parts[:-4]), parts[-4:]
        else:
            identifier, request_parts = "/".join(parts), []
        if identifier not in images:
            return _error(404, f"no image called {identifier!r} here")
        if base_url_of is not None:
            base = base_url_of(request)
        else:  # where this app is mounted (root_path), on the host the client asked
            base = str(request.url.replace(path=request.scope.get("root_path", ""), query=""))
        image_id = base.rstrip("/") + "/" + quote(identifier, safe="")
        try:
            if request_parts is None:
                info = await run_in_threadpool(renderer.info, identifier, image_id)
                wants_ld = "application/ld+json" in request.headers.get("accept", "")
                media_type = JSON_LD if wants_ld else "application/json"
                return JSONResponse(info, media_type=media_type, headers=CORS)
            if not request_parts:
                return RedirectResponse(image_id + "/info.json", status_code=303, headers=CORS)
            body, media_type = await run_in_threadpool(renderer.render, identifier, *request_parts)
        except BadRequest as problem:
            return _error(400, str(problem))
        except ImageError as problem:
            return _error(500, problem.message)
        return Response(body, media_type=media_type, headers=CORS)

    return Starlette(routes=[Route("/{path:path}", answer, methods=["GET", "HEAD"])])


def _error(status: int, message: str) -> Response:
    return PlainTextResponse(message + "\n", status_code=status, headers=CORS)


class _Renderer:
    """Opens images (a few kept open, least recently used dropped) and cuts responses from them.

    What is kept is keyed by the file's size and mtime too, so an edited image is seen at once.
    """

    def __init__(self, images: Mapping[str, ImageSource], max_area: int, keep: int = 4) -> None:
        self.images = images
        self.max_area = max_area
        self.keep = keep
        self.open_images: OrderedDict[tuple[Stamp, int], pyvips.Image] = OrderedDict()
        self.sizes: dict[Stamp, tuple[int, int]] = {}
        self.lock = threading.Lock()

    def stamp(self, identifier: str) -> Stamp:
        source = self.images[identifier]
        path, page = source if isinstance(source, tuple) else (source, 0)
        try:
            status = path.stat()
            changed = status.st_mtime_ns, status.st_size
        except OSError:
            changed = 0, 0  # opening it will say what is wrong
        return Stamp(identifier, path, page, *changed)

    def size(self, identifier: str) -> tuple[int, int]:
        stamp = self.stamp(identifier)
        if stamp not in self.sizes:
            self.sizes[stamp] = decode.read_image_size(stamp.path, stamp.page, label=identifier)
        return self.sizes[stamp]

    def limits(self, identifier: str) -> Limits:
        width, height = self.size(identifier)
        return Limits(max_area=self.max_area) if width * height > self.max_area else Limits()

    def info(self, identifier: str, image_id: str) -> dict[str, Any]:
        width, height = self.size(identifier)
        factors = [1]
        while max(width, height) / factors[-1] > TILE_SIZE:
            factors.append(factors[-1] * 2)
        info: dict[str, Any] = {
            "@context": CONTEXT,
            "id": image_id,
            "type": "ImageService3",
            "protocol": "http://iiif.io/api/image",
            "profile": "level2",
            "width": width,
            "height": height,
        }
        if self.limits(identifier) != Limits():
            info["maxArea"] = self.max_area
        info["tiles"] = [{"width": TILE_SIZE, "height": TILE_SIZE, "scaleFactors": factors}]
        info["extraQualities"] = ["color", "gray", "bitonal"]
        info["extraFormats"] = ["webp"]
        info["extraFeatures"] = ["mirroring", "rotationArbitrary", "sizeUpscaling"]
        return info

    def render(
        self, identifier: str, region: str, size: str, rotation: str, last: str
    ) -> tuple[bytes, str]:
        width, height = self.size(identifier)
        plan = plan_request(region, size, rotation, last, width, height, self.limits(identifier))
        try:
            return _encode(self.cut(identifier, plan, width), plan), plan.media_type
        except pyvips.Error as error:
            raise decode.image_error(identifier, error) from None

    def cut(self, identifier: str, plan: Plan, full_width: int) -> pyvips.Image:
        # A JPEG can decode at 1/2, 1/4 or 1/8 size: far quicker when the answer is small.
        reduction = min(plan.width / plan.out_width, plan.height / plan.out_height)
        shrink = next((n for n in (8, 4, 2) if reduction >= n), 1)
        image = self.opened(identifier, shrink)
        scale = image.width / full_width
        left, top = math.floor(plan.x * scale), math.floor(plan.y * scale)
        right = min(image.width, max(left + 1, math.ceil((plan.x + plan.width) * scale)))
        bottom = min(image.height, max(top + 1, math.ceil((plan.y + plan.height) * scale)))
        cut = image.crop(left, top, right - left, bottom - top)
        if (cut.width, cut.height) != (plan.out_width, plan.out_height):
            cut = cut.resize(plan.out_width / cut.width, vscale=plan.out_height / cut.height)
            cut = _exactly(cut, plan.out_width, plan.out_height)
        if plan.mirror:
            cut = cut.flip("horizontal")
        if plan.rotation in (90.0, 180.0, 270.0):
            cut = getattr(cut, f"rot{int(plan.rotation)}")()
        elif plan.rotation:
            cut = cut.rotate(plan.rotation, background=[255] * cut.bands)
        return _quality(cut, plan.quality)

    def opened(self, identifier: str, shrink: int) -> pyvips.Image:
        key = (self.stamp(identifier), shrink)
        with self.lock:
            if key in self.open_images:
                self.open_images.move_to_end(key)
                return self.open_images[key]
        image = decode.open_image(key[0].path, key[0].page, label=identifier, shrink=shrink)
        with self.lock:
            self.open_images[key] = image
            while len(self.open_images) > self.keep:
                self.open_images.popitem(last=False)
        return image


class Stamp(NamedTuple):
    """An image file as it is now: a changed file gets a new stamp."""

    identifier: str
    path: Path
    page: int
    mtime_ns: int
    size: int


def _exactly(image: pyvips.Image, width: int, height: int) -> pyvips.Image:
    """Trim or pad (by repeating the edge) the pixel that resize's rounding can be off by."""
    image = image.crop(0, 0, min(width, image.width), min(height, image.height))
    if (image.width, image.height) != (width, height):
        image = image.embed(0, 0, width, height, extend="copy")
    return image


def _quality(image: pyvips.Image, quality: str) -> pyvips.Image:
    if quality in ("gray", "bitonal") and image.bands != 1:
        image = image.colourspace("b-w")
    if quality == "bitonal":
        return image > 127
    if quality == "color" and image.bands == 1:
        return image.colourspace("srgb")
    return image


def _encode(image: pyvips.Image, plan: Plan) -> bytes:
    if plan.format == "png":
        return bytes(image.pngsave_buffer(compression=6))
    if plan.format == "webp":
        return bytes(image.webpsave_buffer(Q=80))
    return bytes(image.jpegsave_buffer(Q=85))
