"""The official IIIF Image API validator (iiif-validator, `iiif-validate.py`) against our tiles.

Level 0: a tile tree cut by storiiies and served as static files, as a built site serves it.
Levels 1 and 2: the dynamic server of `storiiies serve`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from storiiies.images.server import image_api_app
from storiiies.images.tiles import info_json, publish_tiles, tile_image

pytestmark = pytest.mark.shared

IDENTIFIER = "67352ccc-d1b0-11e1-89ae-279075081939"
VALIDATOR = Path(sys.executable).with_name("iiif-validate.py")


def validate(port: int, prefix: str, level: int) -> str:
    result = subprocess.run(
        [sys.executable, str(VALIDATOR), "-s", f"127.0.0.1:{port}", "-p", prefix]
        + ["-i", IDENTIFIER, "--version=3.0", f"--level={level}"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "FAIL" not in output
    assert " 0 failures)" in output
    return output


@pytest.fixture
def test_image(shared: Path) -> Path:
    return shared / "iiif" / f"{IDENTIFIER}.png"


def test_static_tiles_pass_the_level_0_validator(test_image, tmp_path, serve_dir):
    tiled = tile_image(test_image, tmp_path / "cache")
    site = tmp_path / "site"
    publish_tiles(tiled, site / "iiif" / IDENTIFIER)
    server = serve_dir(site)
    info = info_json(tiled, f"{server.url}/iiif/{IDENTIFIER}")
    (site / "iiif" / IDENTIFIER / "info.json").write_text(json.dumps(info), encoding="utf-8")

    output = validate(server.port, "iiif", level=0)

    # Level 0 for 3.0 is: info.json, the full image at max size, right colours, JPEG, and no
    # answer to the 2.x size `full`.
    for test in ("info_json", "id_basic", "id_squares", "format_jpg", "size_nofull"):
        assert f"test {test} PASS" in output


@pytest.mark.parametrize("level", [1, 2])
def test_dynamic_server_passes_the_validator(test_image, serve_app, level):
    server = serve_app(image_api_app({IDENTIFIER: test_image}))

    output = validate(server.port, "", level=level)

    assert "test region_pixels PASS" in output
    if level == 2:
        for test in ("region_percent", "size_bwh", "rot_full_basic", "quality_bitonal"):
            assert f"test {test} PASS" in output
