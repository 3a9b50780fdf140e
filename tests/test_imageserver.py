"""The dynamic Image API server of `storiiies serve`, over real HTTP."""

from __future__ import annotations

import io
import os
import time

import httpx
import pytest
import pyvips
from PIL import Image
from starlette.applications import Starlette
from starlette.routing import Mount

from storiiies.images.server import image_api_app
from tests.conftest import LiveServer


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
