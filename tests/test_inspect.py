"""`storiiies inspect`: what a source holds, as the author needs it to write references."""

from __future__ import annotations

import json

import pytest

from storiiies.errors import FetchError
from storiiies.iiif.content_state import encode
from storiiies.tools.inspect_source import inspect_source
from tests.test_cli import storiiies

pytestmark = pytest.mark.shared

MDZ = "documents/manifesto/test__fixtures__attribution-without-label.json"
COLLECTION = "documents/cookbook/recipe__0032-collection__collection.json"


def test_a_manifest_lists_its_canvases_with_numbers_sizes_and_services(fixture_server, tmp_path):
    result = storiiies("inspect", f"{fixture_server.url}/{MDZ}", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Manifest (IIIF Presentation 2): ")
    assert (
        "  rights: https://rightsstatements.org/vocab/NoC-NC/1.0/ (No Copyright – Non-Commercial Use Only)"
        in lines
    )
    assert "4 canvases:" in lines
    canvas = next(line for line in lines if line.startswith("  2  "))
    assert "1500×1738" in canvas and canvas.endswith("/canvas/10")
    assert (
        "Image API 2 level 2: https://api.digitale-sammlungen.de/iiif/image/v2/bsb10502296_00010"
        in result.stdout
    )
    assert lines[-1] == "  ![what the region shows](source/1#xywh=0,0,1000,1000)"


def test_a_collection_lists_its_manifests(fixture_server, tmp_path):
    text = inspect_source(f"{fixture_server.url}/{COLLECTION}", cwd=tmp_path)
    assert text.startswith("Collection (IIIF Presentation 3): ")
    assert "\n  1  " in text and "--manifest 1" in text


def test_a_content_state_shows_its_canvas_and_region(fixture_server, tmp_path):
    book = f"{fixture_server.url}/documents/cookbook/recipe__0009-book-1__manifest.json"
    state = {
        "id": "https://iiif.io/api/cookbook/recipe/0009-book-1/canvas/p2#xywh=10,20,30,40",
        "type": "Canvas",
        "partOf": [{"id": book, "type": "Manifest"}],
    }
    text = inspect_source(encode(json.dumps(state)), cwd=tmp_path)
    assert (
        "1 canvas:\n  1  Frontispiece  3186×4612  https://iiif.io/api/cookbook/recipe/0009-book-1/canvas/p2"
        in text
    )
    assert "Region given by the source: xywh=10,20,30,40" in text


def test_an_unreachable_source_is_one_line_with_a_hint(fixture_server, tmp_path):
    with pytest.raises(FetchError):
        inspect_source(f"{fixture_server.url}/nothing.json", cwd=tmp_path)
    result = storiiies("inspect", f"{fixture_server.url}/nothing.json", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"error: {fixture_server.url}/nothing.json answered HTTP 404 Not Found"
        " — check the URL: the server has no document there"
    )
