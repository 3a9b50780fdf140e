"""Anything found in the IIIF world is a source with one paste: a canvas URI, an Image API image
URL, a content state (JSON, encoded, or its URL), a viewer link, a collection member."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from storiiies.build import build_site, check_site
from storiiies.iiif.content_state import encode

pytestmark = pytest.mark.shared

BOOK = "documents/cookbook/recipe__0009-book-1__manifest.json"
BOOK_ID = "https://iiif.io/api/cookbook/recipe/0009-book-1/manifest.json"
P2_CANVAS = "https://iiif.io/api/cookbook/recipe/0009-book-1/canvas/p2"


def story(source: str, reference: str = "s") -> str:
    return f"---\ntitle: T\nsources:\n  s: {source}\n---\n## A\n![x]({reference})\n"


def first_view(root: Path):
    report = build_site(root)
    return report.site.stories[0].steps[0].views[0]


@pytest.fixture
def served(serve_dir, shared, tmp_path):
    """The book manifest and a canvas document that points back at it, over HTTP."""
    folder = tmp_path / "served"
    folder.mkdir()
    book = (shared / "fixtures" / "manifests" / BOOK).read_text()
    server = serve_dir(folder)
    (folder / "book.json").write_text(book)
    (folder / "canvas-p2.json").write_text(
        json.dumps(
            {
                "id": P2_CANVAS,
                "type": "Canvas",
                "partOf": [{"id": f"{server.url}/book.json", "type": "Manifest"}],
            }
        )
    )
    (folder / "state.json").write_text(
        json.dumps(
            {
                "@context": "http://iiif.io/api/presentation/3/context.json",
                "id": "x",
                "type": "Annotation",
                "motivation": ["contentState"],
                "target": {
                    "id": f"{P2_CANVAS}#xywh=100,200,300,400",
                    "type": "Canvas",
                    "partOf": [{"id": f"{server.url}/book.json", "type": "Manifest"}],
                },
            }
        )
    )
    info = folder / "iiif" / "img" / "info.json"
    info.parent.mkdir(parents=True)
    info.write_text(
        json.dumps(
            {
                "@context": "http://iiif.io/api/image/3/context.json",
                "id": "https://images.example.org/iiif/img",
                "type": "ImageService3",
                "protocol": "http://iiif.io/api/image",
                "profile": "level0",
                "width": 2000,
                "height": 1000,
            }
        )
    )
    return server


def test_a_canvas_document_finds_its_manifest_through_part_of(make_project, served):
    view = first_view(make_project({"stories/a.md": story(f"{served.url}/canvas-p2.json")}))
    assert view.canvas.id == P2_CANVAS and view.canvas.index == 1 and view.region is None


def test_a_canvas_uri_that_answers_nothing_gets_a_hint(make_project, served):
    root = make_project({"stories/a.md": story(f"{served.url}/canvas/p9")})
    (problem,) = [p for p in check_site(root) if p.is_error]
    assert str(problem) == (
        f"stories/a.md:4:3: error: source 's': {served.url}/canvas/p9 answered HTTP 404 Not Found;"
        " canvas URIs often cannot be fetched — give the manifest's URL as `url:`"
        " and this canvas as `canvas:`"
    )


def test_canvas_picks_one_canvas_of_a_manifest(make_project, served):
    for canvas in ("2", P2_CANVAS):
        source = f"\n    url: {served.url}/book.json\n    canvas: {canvas}"
        root = make_project({"stories/a.md": story(source)})
        assert first_view(root).canvas.id == P2_CANVAS
    root = make_project(
        {"stories/a.md": story(f"\n    url: {served.url}/book.json\n    canvas: 9")}
    )
    assert [p.message for p in check_site(root) if p.is_error] == [
        "source 's': the manifest has no canvas 9 (it has 5)"
    ]


@pytest.mark.parametrize("form", ["json", "encoded", "url", "viewer-link"])
def test_a_content_state_is_a_source_with_its_region(make_project, served, form):
    target = {
        "id": f"{P2_CANVAS}#xywh=100,200,300,400",
        "type": "Canvas",
        "partOf": [{"id": f"{served.url}/book.json", "type": "Manifest"}],
    }
    text = {
        "json": json.dumps(target),
        "encoded": encode(
            json.dumps({"type": "Annotation", "motivation": "contentState", "target": target})
        ),
        "url": f"{served.url}/state.json",
        "viewer-link": f"https://viewer.example.org/?iiif-content={encode(json.dumps(target))}",
    }[form]
    view = first_view(make_project({"stories/a.md": story(json.dumps(text))}))
    assert view.canvas.id == P2_CANVAS
    assert view.region == (100, 200, 300, 400)  # the region of the state, for a bare reference


def test_a_content_state_pasted_as_yaml_json_works_too(make_project, served):
    target = {
        "id": P2_CANVAS,
        "type": "Canvas",
        "partOf": [{"id": f"{served.url}/book.json", "type": "Manifest"}],
    }
    view = first_view(
        make_project(
            {
                "stories/a.md": story(json.dumps(target)).replace(
                    f"'{json.dumps(target)}'", json.dumps(target)
                )
            }
        )
    )
    assert view.canvas.id == P2_CANVAS


def test_an_image_api_image_url_is_its_service(make_project, served):
    view = first_view(
        make_project(
            {"stories/a.md": story(f"{served.url}/iiif/img/100,50,400,300/max/0/default.jpg")}
        )
    )
    assert view.canvas.images[0].service.id == "https://images.example.org/iiif/img"
    assert view.region == (100, 50, 400, 300)
    view = first_view(
        make_project(
            {"stories/a.md": story(f"{served.url}/iiif/img/pct:10,10,50,50/max/0/default.jpg")}
        )
    )
    assert view.region == (200, 100, 1000, 500)
    view = first_view(
        make_project(
            {
                "stories/a.md": story(
                    f"{served.url}/iiif/img/full/max/0/default.jpg", "s#xywh=1,2,3,4"
                )
            }
        )
    )
    assert view.region == (1, 2, 3, 4)


def test_a_broken_content_state_is_reported(make_project):
    root = make_project({"stories/a.md": story("'{\"id\": 1'")})
    (problem,) = [p for p in check_site(root) if p.is_error]
    assert problem.message.startswith(
        "source 's': not a readable content state: content state is not valid JSON"
    )


def test_multilingual_labels_follow_the_story_language(make_project, fixture_server):
    url = f"{fixture_server.url}/documents/cookbook/recipe__0006-text-language__manifest.json"
    for lang, expected in (("fr", "fr"), ("de", "en")):
        root = make_project(
            {"stories/a.md": story(url).replace("title: T\n", f"title: T\nlang: {lang}\n")}
        )
        page = (build_site(root).output / "a" / "index.html").read_text()
        credit = page.split('class="st-credits"')[1]
        french = "La Mère de Whistler" in credit
        assert french == (expected == "fr"), lang
