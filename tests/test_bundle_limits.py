"""`storiiies bundle` against a hostile institution: declared sizes, downloads and time are
bounded, and each refusal is one line at the story's source."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from storiiies.bundle import bundle_site
from storiiies.bundle.download import Download, DownloadPolicy, download_all
from storiiies.cli import main
from storiiies.errors import BuildFailed, Problem
from tests.conftest import LiveServer
from tests.helpers import bomb_jpeg

CONFIG = "title: Hostile\nbundle:\n  screens: [[1280, 800]]\n"


def _info(base: str, width: int, height: int, tile: int = 256) -> dict:
    return {
        "@context": "http://iiif.io/api/image/3/context.json",
        "id": f"{base}/huge",
        "type": "ImageService3",
        "protocol": "http://iiif.io/api/image",
        "profile": "level1",
        "width": width,
        "height": height,
        "tiles": [{"width": tile, "scaleFactors": [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]}],
    }


def failed_bundle(project: Path) -> list[Problem]:
    """The errors of a bundle of `project` that must fail."""
    with pytest.raises(BuildFailed) as failure:
        bundle_site(project)
    return [p for p in failure.value.problems if p.is_error]


def bundle_errors(project: Path) -> list[str]:
    return [str(p) for p in failed_bundle(project)]


def _story(url: str, alias: str = "huge") -> str:
    return (
        f"---\ntitle: Hostile\nsources:\n  {alias}: {url}\n---\n"
        f"## A corner\n![a corner]({alias}#xywh=0,0,1000,1000)\n"
    )


@pytest.mark.parametrize("side", [10**9, 2 * 10**7])
def test_an_info_json_declaring_a_huge_image_is_refused_at_its_source_line(
    side, make_project, serve_dir, tmp_path
):
    served = tmp_path / "served"
    served.mkdir()
    server = serve_dir(served)
    (served / "info.json").write_text(json.dumps(_info(server.url, side, side)))
    project = make_project({"stories/a.md": _story(f"{server.url}/info.json")}, config=CONFIG)
    assert bundle_errors(project) == [
        f"stories/a.md:4:3: error: source 'huge': cannot mirror {server.url}/huge/info.json: "
        f"the info.json declares {side:,}×{side:,} pixels, more than a bundle copies "
        "(200,000 pixels a side, 10 gigapixels) — check the address; a bundle cannot copy this "
        "image: leave this story out of the bundle"
    ]


def test_an_info_json_declaring_one_pixel_tiles_is_refused(make_project, serve_dir, tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    server = serve_dir(served)
    (served / "info.json").write_text(json.dumps(_info(server.url, 40_000, 30_000, tile=1)))
    project = make_project({"stories/a.md": _story(f"{server.url}/info.json")}, config=CONFIG)
    assert bundle_errors(project) == [
        f"stories/a.md:4:3: error: source 'huge': cannot mirror {server.url}/huge/info.json: "
        "the info.json declares tiles of 1×1 pixels; a bundle copies tiles of 32 to 8,192 "
        "pixels a side — check the address; a bundle cannot copy this image: leave this story "
        "out of the bundle"
    ]


JPEG_START = b"\xff\xd8\xff\xe0"
MB = 2**20


class Hostile:
    """An institution whose tiles declare 3 GB and whose plain image never ends."""

    def __init__(self) -> None:
        self.sent = 0  # body bytes the streaming answers produced
        self.requests = 0
        self.bomb: bytes | None = None  # what tiles and the plain image are instead, if set
        self.app = Starlette(
            routes=[
                Route("/huge/info.json", self.info),
                Route("/manifest.json", self.manifest),
                Route("/plain.jpg", self.plain),
                Route("/huge/{tile:path}", self.tile),
            ]
        )
        self.url = ""

    async def info(self, request: Request) -> Response:
        return JSONResponse(_info(self.url, 2000, 1500))

    async def manifest(self, request: Request) -> Response:
        canvas = f"{self.url}/canvas/1"
        body = {
            "id": f"{self.url}/plain.jpg",
            "type": "Image",
            "format": "image/jpeg",
            "width": 2000,
            "height": 1500,
        }
        annotation: dict[str, object] = {"id": f"{canvas}/a", "type": "Annotation"}
        annotation.update({"motivation": "painting", "target": canvas, "body": body})
        page = {"id": f"{canvas}/p", "type": "AnnotationPage", "items": [annotation]}
        return JSONResponse(
            {
                "@context": "http://iiif.io/api/presentation/3/context.json",
                "id": f"{self.url}/manifest.json",
                "type": "Manifest",
                "label": {"en": ["Hostile"]},
                "items": [
                    {"id": canvas, "type": "Canvas", "width": 2000, "height": 1500, "items": [page]}
                ],
            }
        )

    async def endless(self, limit: int) -> AsyncIterator[bytes]:
        chunk = JPEG_START + bytes(MB - len(JPEG_START))
        while self.sent < limit:
            self.sent += len(chunk)
            yield chunk
            await asyncio.sleep(0)

    async def tile(self, request: Request) -> Response:
        self.requests += 1
        if self.bomb is not None:
            return Response(self.bomb, media_type="image/jpeg")
        # 3 GB declared, 4 bytes sent: only the header can stop a client in time.
        return Response(JPEG_START, headers={"Content-Length": str(3 * 10**9)})

    async def plain(self, request: Request) -> Response:
        self.requests += 1
        if self.bomb is not None:
            return Response(self.bomb, media_type="image/jpeg")
        # No length at all, and more than any limit: only counting while reading stops it.
        return StreamingResponse(self.endless(64 * MB), media_type="image/jpeg")


@pytest.fixture
def hostile(serve_app) -> Hostile:  # type: ignore[no-untyped-def]
    server = Hostile()
    server.url = serve_app(server.app).url
    return server


def test_a_tile_declaring_3_gb_is_refused_from_its_header(hostile, make_project):
    project = make_project({"stories/a.md": _story(f"{hostile.url}/huge/info.json")}, config=CONFIG)
    errors = failed_bundle(project)
    assert len(errors) == hostile.requests  # one line per tile, each asked for once
    print(f"bundle limits: {len(errors)} tiles declaring 3 GB, {hostile.requests} requests")
    first = errors[0]
    assert str(first.location) == "bundle"
    assert first.message.endswith(
        ": it declares 3,000,000,000 bytes, more than the 32 MB a bundle fetches for one tile"
    )
    assert first.hint == (
        "the server does not send tiles at this address: check it, or leave this story out of "
        "the bundle"
    )
    assert not list((project / ".storiiies-cache" / "mirror").rglob("*.part"))


def test_a_plain_image_streamed_without_end_is_cut_off_at_the_limit(hostile, make_project):
    config = CONFIG + "  max_image_mb: 4\n"
    story = _story(f"{hostile.url}/manifest.json", alias="photo").replace("(photo#", "(photo/1#")
    project = make_project({"stories/a.md": story}, config=config)
    assert bundle_errors(project) == [
        f"stories/a.md:4:3: error: source 'photo': cannot fetch {hostile.url}/plain.jpg: it sent "
        "more than the 4 MB a bundle fetches for one image — check the address; if the image "
        "really is this large, raise bundle.max_image_mb in storiiies.yml"
    ]
    assert hostile.requests == 1  # a file over the limit is not asked for again
    assert hostile.sent < 16 * MB  # the server stopped soon after the client did
    print(f"bundle limits: an endless plain image cut off; {hostile.sent / MB:g} MB produced")


def test_a_remote_plain_image_declaring_65000_pixels_a_side_is_refused_before_decoding(
    hostile, make_project
):
    hostile.bomb = bomb_jpeg()
    story = _story(f"{hostile.url}/manifest.json", alias="photo").replace("(photo#", "(photo/1#")
    project = make_project({"stories/a.md": story}, config=CONFIG)
    assert bundle_errors(project) == [
        f"stories/a.md:4:3: error: source 'photo': {hostile.url}/plain.jpg says it is "
        "65,000×65,000 pixels (4,225 megapixels), more than the 1,000 that "
        "max_image_megapixels allows — a small or damaged file can claim any size; if the "
        "image really is this large, raise max_image_megapixels in storiiies.yml"
    ]


def test_a_tile_declaring_65000_pixels_a_side_is_refused_before_decoding(hostile, make_project):
    hostile.bomb = bomb_jpeg()
    project = make_project({"stories/a.md": _story(f"{hostile.url}/huge/info.json")}, config=CONFIG)
    # One line for the image, at its first tile (the smallest level, which the viewer would
    # have decoded as it is), however many of its tiles are bombs.
    assert bundle_errors(project) == [
        f"stories/a.md:4:3: error: source 'huge': cannot mirror {hostile.url}/huge/info.json: "
        "its tile full/4,3/0/default.jpg says it is 65,000×65,000 pixels, where the image "
        "service's grid has 4×3 — the server does not send tiles at this address: check it, "
        "or leave this story out of the bundle"
    ]
    assert not (project / "_bundle").exists()


def test_a_tile_server_dripping_a_byte_at_a_time_is_stopped_at_the_deadline(tmp_path):
    async def drip(request: Request) -> Response:
        async def body() -> AsyncIterator[bytes]:
            yield JPEG_START
            for _ in range(600):  # one byte every 0.5 s: each read is well inside its timeout
                await asyncio.sleep(0.5)
                yield b"\0"

        return StreamingResponse(body(), media_type="image/jpeg")

    server = LiveServer(Starlette(routes=[Route("/{tile:path}", drip)])).start()
    try:
        started = time.monotonic()
        result = download_all(
            [Download(f"{server.url}/t{n}.jpg", tmp_path / f"t{n}.jpg") for n in range(3)],
            DownloadPolicy(deadline=2.0),
        )
        seconds = time.monotonic() - started
    finally:
        server.stop()
    assert [str(error) for error in result.errors] == [
        f"{server.url}/t{n}.jpg: did not answer completely within 2 s" for n in range(3)
    ]
    assert seconds < 6  # the three in parallel, each within its 2 s
    assert not list(tmp_path.iterdir())  # no .part file left behind
    print(f"bundle limits: 3 dripping tiles stopped at a 2 s deadline in {seconds:.1f} s")


def test_bundle_says_what_it_fetches_when_its_output_is_a_log(hostile, make_project):
    project = make_project({"stories/a.md": _story(f"{hostile.url}/huge/info.json")}, config=CONFIG)
    result = CliRunner().invoke(main, ["bundle", str(project)])
    assert result.exit_code == 1
    assert result.output.startswith("Fetching 71 tiles (at most 60 s each)…\n")
