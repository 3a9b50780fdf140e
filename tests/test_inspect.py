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
        "  rights: https://rightsstatements.org/vocab/NoC-NC/1.0/"
        " (No Copyright – Non-Commercial Use Only)" in lines
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


# Set the terminal's title, write its clipboard (OSC 52), clear the screen, move the cursor.
ESCAPES = "\x1b]0;pwned\x07\x1b]52;c;ZXZpbA==\x07\x1b[2J\x1b[1;1H\x9b31m\r"


def test_terminal_escape_sequences_from_a_remote_document_are_never_printed(serve_dir, tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    server = serve_dir(served)
    (served / "m.json").write_text(json.dumps({
        "@context": "http://iiif.io/api/presentation/3/context.json",
        "id": f"{server.url}/m.json",
        "type": "Manifest",
        "label": {"en": [f"Evil{ESCAPES} title\n  rights: forged"]},
        "requiredStatement": {"label": {"en": ["Attribution"]}, "value": {"en": [f"By{ESCAPES}"]}},
        "items": [{
            "id": f"{server.url}/c1", "type": "Canvas", "label": {"en": [f"Page{ESCAPES}"]},
            "width": 100, "height": 100,
            "items": [{"id": f"{server.url}/p1", "type": "AnnotationPage", "items": [{
                "id": f"{server.url}/a1", "type": "Annotation", "motivation": "painting",
                "target": f"{server.url}/c1",
                "body": {"id": f"{server.url}/i.jpg", "type": "Image", "width": 100, "height": 100},
            }]}],
        }],
    }))  # fmt: skip
    (served / "odd.json").write_text(json.dumps({"type": f"Odd{ESCAPES}", "id": "x"}))
    result = storiiies("inspect", f"{server.url}/m.json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert (
        lines[0] == "Manifest (IIIF Presentation 3): "
        "Evil]0;pwned]52;c;ZXZpbA==[2J[1;1H31m title rights: forged"
    )
    assert "  attribution: By]0;pwned]52;c;ZXZpbA==[2J[1;1H31m" in lines
    assert f"  1  Page]0;pwned]52;c;ZXZpbA==[2J[1;1H31m  100×100  {server.url}/c1" in lines
    failed = storiiies("inspect", f"{server.url}/odd.json", cwd=tmp_path)
    assert failed.returncode == 1
    for output in (result.stdout, result.stderr, failed.stdout, failed.stderr):
        assert not any(ch in output for ch in "\x1b\x07\x9b\r"), repr(output)
    assert "Odd]0;pwned]52;c;ZXZpbA==[2J[1;1H31m" in failed.stderr
