"""The dynamic Image API server of `storiiies serve`, over real HTTP."""

from __future__ import annotations

import asyncio
import io
import os
import time
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import httpx
import pytest
import pyvips
from PIL import Image
from starlette.applications import Starlette
from starlette.routing import Mount

from storiiies.images.server import image_api_app
from tests.conftest import LiveServer

T = TypeVar("T")


@pytest.fixture(scope="module")
def photo(tmp_path_factory):
    """600×400: red on the left half, blue on the right."""
    left = (pyvips.Image.black(300, 400, bands=3) + [220, 20, 20]).cast("uchar")
    right = (pyvips.Image.black(300, 400, bands=3) + [20, 20, 220]).cast("uchar")
    path = tmp_path_factory.mktemp("images") / "photo.png"
    left.join(right, "horizontal").copy(interpretation="srgb").pngsave(str(path))
    return path


@pytest.fixture(scope="module")
def client(photo):
    """One server for the module: the requests change nothing."""
    server = LiveServer(image_api_app({"photo": photo})).start()
    with httpx.Client(base_url=server.url) as client:
        yield client
    server.stop()


def picture(response: httpx.Response) -> Image.Image:
    assert response.status_code == 200, response.text
    return Image.open(io.BytesIO(response.content))


def test_info_json(client):
    response = client.get("/photo/info.json")

    assert response.headers["content-type"] == "application/json"
    assert response.headers["access-control-allow-origin"] == "*"
    info = response.json()
    assert info["id"] == f"{client.base_url}/photo"
    assert (info["type"], info["profile"], info["width"], info["height"]) == (
        "ImageService3", "level2", 600, 400,
    )  # fmt: skip
    assert info["tiles"] == [{"width": 512, "height": 512, "scaleFactors": [1, 2]}]


def test_info_json_as_json_ld_when_asked(client):
    response = client.get("/photo/info.json", headers={"Accept": "application/ld+json"})

    assert response.headers["content-type"] == (
        'application/ld+json;profile="http://iiif.io/api/image/3/context.json"'
    )


def test_the_id_follows_where_the_service_is_mounted(photo, serve_app):
    app = Starlette(routes=[Mount("/iiif/3", image_api_app({"photo": photo}))])
    server = serve_app(app)

    info = httpx.get(f"{server.url}/iiif/3/photo/info.json").json()

    assert info["id"] == f"{server.url}/iiif/3/photo"
    assert picture(httpx.get(f"{server.url}/iiif/3/photo/full/60,/0/default.jpg")).size == (60, 40)


def test_the_base_uri_redirects_to_info_json(client):
    response = client.get("/photo")

    assert response.status_code == 303
    assert response.headers["location"] == f"{client.base_url}/photo/info.json"


@pytest.mark.parametrize(
    "path, size",
    [
        ("full/max/0/default.jpg", (600, 400)),
        ("0,0,300,200/150,/0/default.png", (150, 100)),
        ("100,100,200,100/,50/0/default.webp", (100, 50)),
        ("full/!100,100/0/default.jpg", (100, 67)),
        ("full/pct:25/0/default.jpg", (150, 100)),
        ("pct:50,50,50,50/max/0/default.jpg", (300, 200)),
        ("square/120,120/0/default.jpg", (120, 120)),
        ("0,0,100,100/^200,/0/default.jpg", (200, 200)),
        ("full/60,40/90/default.jpg", (40, 60)),
        ("550,350,100,100/max/0/default.png", (50, 50)),  # clipped at the image's edge
    ],
)
def test_region_and_size_give_the_right_pixel_dimensions(client, path, size):
    assert picture(client.get(f"/photo/{path}")).size == size


def test_mirroring_rotation_and_qualities(client):
    mirrored = picture(client.get("/photo/full/60,40/!0/default.png")).convert("RGB")
    assert mirrored.getpixel((5, 20))[2] > 200  # blue now on the left
    turned = picture(client.get("/photo/full/60,40/90/default.png")).convert("RGB")
    assert turned.getpixel((20, 5))[0] > 200  # red now on top

    gray = picture(client.get("/photo/full/60,40/0/gray.jpg"))
    assert gray.mode == "L"
    bitonal = picture(client.get("/photo/full/60,40/0/bitonal.png"))
    assert set(bitonal.tobytes()) <= {0, 255}


@pytest.mark.parametrize(
    "path, message",
    [
        ("0,0,0,10/max/0/default.jpg", "region '0,0,0,10' is empty"),
        ("700,0,10,10/max/0/default.jpg", "region '700,0,10,10' is outside the 600×400 image"),
        ("abc/max/0/default.jpg", "region 'abc' is not valid"),
        ("full/0,/0/default.jpg", "size '0,' is empty"),
        ("full/700,/0/default.jpg", "size '700,' is larger than the 600×400 region: write ^700,"),
        (
            "full/!900,900/0/default.jpg",
            "size '!900,900' is larger than the 600×400 region: write ^!900,900",
        ),
        ("full/big/0/default.jpg", "size 'big' is not max, w,, ,h, w,h, !w,h or pct:n"),
        (
            "full/max/-90/default.jpg",
            "rotation must be 0–360 degrees, optionally after !, not '-90'",
        ),
        (
            "full/max/361/default.jpg",
            "rotation must be 0–360 degrees, optionally after !, not '361'",
        ),
        (
            "full/max/0/best.jpg",
            "quality must be one of default, color, gray, bitonal, not 'best.jpg'",
        ),
        ("full/max/0/default.gif", "format must be one of jpg, png, webp, not 'gif'"),
    ],
)
def test_malformed_requests_are_400(client, path, message):
    response = client.get(f"/photo/{path}")

    assert response.status_code == 400
    assert response.text == message + "\n"
    assert response.headers["access-control-allow-origin"] == "*"


@pytest.mark.parametrize("path", ["/nothing/info.json", "/nothing/full/max/0/default.jpg", "/"])
def test_unknown_images_are_404(client, path):
    response = client.get(path)

    assert response.status_code == 404
    assert response.headers["access-control-allow-origin"] == "*"


def test_a_large_image_announces_and_keeps_its_limit(photo, serve_app):
    server = serve_app(image_api_app({"photo": photo}, max_area=60_000))

    info = httpx.get(f"{server.url}/photo/info.json").json()
    largest = picture(httpx.get(f"{server.url}/photo/full/max/0/default.jpg"))
    too_big = httpx.get(f"{server.url}/photo/full/600,400/0/default.jpg")

    assert info["maxArea"] == 60_000
    assert largest.size == (300, 200)
    assert too_big.status_code == 400


def test_an_edited_image_is_seen_at_once(tmp_path, serve_app):
    path = tmp_path / "draft.png"
    pyvips.Image.black(300, 200).cast("uchar").pngsave(str(path))
    server = serve_app(image_api_app({"draft": path}))
    assert httpx.get(f"{server.url}/draft/info.json").json()["width"] == 300

    pyvips.Image.black(500, 200).cast("uchar").pngsave(str(path))
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 1_000_000_000))

    assert httpx.get(f"{server.url}/draft/info.json").json()["width"] == 500
    assert picture(httpx.get(f"{server.url}/draft/full/max/0/default.jpg")).size == (500, 200)


def _run(work: Coroutine[Any, Any, T]) -> T:
    """asyncio.run in a thread of its own: Playwright's sync API, used by browser tests in the
    same session, keeps an event loop running in the main thread."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, work).result()


@pytest.fixture(scope="module")
def large(tmp_path_factory):
    """4,200 × 4,200: more than the default maxArea (4,096²), so its limits are announced."""
    path = tmp_path_factory.mktemp("large") / "large.jpg"
    noise = pyvips.Image.gaussnoise(4200, 4200, mean=128, sigma=40).cast("uchar")
    noise.bandjoin([noise, noise]).copy(interpretation="srgb").jpegsave(str(path))  # slow to cut
    return path


def test_max_area_holds_after_rotation(photo, serve_app):
    server = serve_app(image_api_app({"photo": photo}, max_area=60_000))

    turned = picture(httpx.get(f"{server.url}/photo/full/max/45/default.png"))
    too_big = httpx.get(f"{server.url}/photo/full/300,200/45/default.png")

    assert turned.width * turned.height <= 60_000
    assert too_big.status_code == 400
    assert too_big.text == (
        "size '300,200' rotated by 45 gives 354×354 pixels, larger than this server returns\n"
    )


def test_a_request_no_format_can_hold_is_a_400_with_the_reason(large, serve_app):
    server = serve_app(image_api_app({"large": large}))

    response = httpx.get(f"{server.url}/large/0,0,1,5000/^max/0/default.jpg", timeout=60)

    assert response.status_code == 400
    assert response.text == (
        "the answer would be 63×265,451 pixels; a JPEG image holds at most 65,535 pixels a side\n"
    )


def test_upscaling_a_small_image_is_bounded_too(photo, client):
    response = client.get("/photo/full/^100000,100000/0/default.jpg")

    assert response.status_code == 400
    assert response.text.endswith("larger than this server returns\n")


def test_pixel_work_is_bounded_and_info_json_does_not_wait_behind_it(large, serve_app):
    server = serve_app(image_api_app({"large": large}, workers=1, queue=2))

    async def flood() -> tuple[list[httpx.Response], float]:
        async with httpx.AsyncClient(base_url=server.url, timeout=120) as client:
            heavy = [client.get(f"/large/full/^{3000 + n},/{n + 1}/default.png") for n in range(12)]
            tasks = [asyncio.ensure_future(request) for request in heavy]
            await asyncio.sleep(0.3)  # the heavy requests are in: one cut, two waiting
            started = time.monotonic()
            info = await client.get("/large/info.json")
            waited = time.monotonic() - started
            assert info.status_code == 200
            return list(await asyncio.gather(*tasks)), waited

    answers, waited = _run(flood())
    statuses = sorted(response.status_code for response in answers)
    busy = [response for response in answers if response.status_code == 503]
    assert set(statuses) == {200, 503}
    assert statuses.count(200) >= 3  # one at work and two in the queue are answered
    assert busy[0].text == "busy: 2 images are waiting to be cut\n"
    assert busy[0].headers["retry-after"] == "1"
    assert waited < 2.0
    print(
        f"image server: 12 heavy requests, {statuses.count(200)} cut, {len(busy)} told 503; "
        f"info.json answered in {waited:.2f} s meanwhile"
    )


def test_a_request_whose_client_left_before_its_turn_is_not_cut(large, serve_app):
    server = serve_app(image_api_app({"large": large}, workers=1, queue=8))
    heavy = "/large/full/{}0,/0/default.png"  # 4,000 pixels wide and a little less, as PNG

    async def run() -> tuple[float, float, int]:
        async with httpx.AsyncClient(base_url=server.url, timeout=120) as client:
            started = time.monotonic()
            await client.get(heavy.format(400))
            alone = time.monotonic() - started  # one heavy answer with nothing else to do
            first = asyncio.ensure_future(client.get(heavy.format(399)))
            await asyncio.sleep(0.05)
            async with httpx.AsyncClient(base_url=server.url, timeout=0.2) as impatient:
                # these wait behind `first`, then leave
                leaving = [impatient.get(heavy.format(390 + n)) for n in range(2, 8)]
                left = await asyncio.gather(*leaving, return_exceptions=True)
            gave_up = sum(isinstance(answer, httpx.TimeoutException) for answer in left)
            await first
            started = time.monotonic()
            last = await client.get(heavy.format(398))
            assert last.status_code == 200
            return alone, time.monotonic() - started, gave_up

    alone, last, gave_up = _run(run())
    assert gave_up == 6, (alone, gave_up)
    # Had the six been cut after they left, the last request would wait behind six more.
    assert last < 3 * alone
    print(
        f"image server: 6 clients left while queued; the next answer took {last:.2f} s "
        f"(one alone: {alone:.2f} s)"
    )
