"""Reading real manifests from the shared corpus, fetched over HTTP from a server on 127.0.0.1."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from storiiies.errors import NotIIIF
from storiiies.iiif.model import SourceDocument
from storiiies.iiif.presentation import collection_members, read_presentation, read_source_json

if TYPE_CHECKING:
    from tests.conftest import LiveServer

pytestmark = pytest.mark.shared

ANZAC = "documents/manifesto/test__fixtures__anzacbulletin.json"  # P2, British Library
PAGED = "documents/clover/public__manifest__annotations__paged-gh.json"  # P3, Northwestern
RIGHTS = "documents/cookbook/recipe__0008-rights__manifest.json"
COMPOSITION = "documents/cookbook/recipe__0036-composition-from-multiple-images__manifest.json"
CHOICE = "documents/cookbook/recipe__0033-choice__manifest.json"
HAMILTON_P2 = "documents/mirador/__tests____fixtures__version-2__hamilton.json"
STREAMING_AUDIO = "documents/clover/src__fixtures__viewer__player__manifest-streaming-audio.json"
COLLECTION = "documents/clover/public__manifest__annotations__annotations.json"
ANNOTATION_PAGE = "fragments/presentation-validator/fixtures__3__annoPage.json"


def fetch(server: LiveServer, name: str) -> tuple[Any, str]:
    url = f"{server.url}/{name}"
    response = httpx.get(url, timeout=10)
    response.raise_for_status()
    return response.json(), url


def read(server: LiveServer, name: str) -> SourceDocument:
    data, url = fetch(server, name)
    return read_presentation(data, url)


def index_canvases(shared: Path, name: str) -> int:
    with (shared / "fixtures/manifests/INDEX.tsv").open(encoding="utf-8", newline="") as index:
        rows = {row["file"]: row for row in csv.DictReader(index, delimiter="\t")}
    return int(rows[name]["canvases"])


def test_presentation_2_manifest(fixture_server: LiveServer, shared: Path) -> None:
    doc = read(fixture_server, ANZAC)
    assert doc.kind == "manifest" and doc.presentation_version == 2
    assert doc.id == f"{fixture_server.url}/{ANZAC}"
    assert len(doc.canvases) == index_canvases(shared, ANZAC) == 20
    assert [c.index for c in doc.canvases] == list(range(1, 21))
    assert doc.label == {"none": ("Anzac bulletin. Number 24(1917:Jun.)",)}
    # The British Library wraps its license URI in a link; the URI is what rights need.
    assert doc.rights == "http://creativecommons.org/about/pdm"
    assert doc.required_statement is not None
    assert doc.required_statement.label == {"en": ("Attribution",)}
    first = doc.canvases[0]
    assert (first.width, first.height) == (2503, 3375)
    service = first.images[0].service
    assert service is not None
    assert (service.id, service.version, service.level) == (
        "http://api.bl.uk/image/iiif/ark:/81055/vdc_100022545676.0x000001",
        2,
        1,
    )


def test_presentation_3_manifest(fixture_server: LiveServer, shared: Path) -> None:
    doc = read(fixture_server, PAGED)
    assert doc.presentation_version == 3
    assert len(doc.canvases) == index_canvases(shared, PAGED) == 6
    assert doc.label == {"none": ("[Manuscript notebook].",)}
    assert doc.rights == "http://rightsstatements.org/vocab/NoC-NC/1.0/"
    assert doc.summary == {"none": ("Enochian calls and texts",)}
    assert [(p.label, p.homepage) for p in doc.providers] == [
        ({"none": ("Northwestern University Libraries",)}, "https://dc.library.northwestern.edu/")
    ]
    assert doc.homepage == (
        "https://dc.library.northwestern.edu/items/b52d5d93-a117-43e9-90c7-434fa1212b60"
    )
    first = doc.canvases[0]
    assert first.label == {"none": ("crowley_073.tif",)}
    assert first.thumbnail is not None and first.thumbnail.endswith("/full/!300,300/0/default.jpg")
    # A P2-style `@id` + ImageService2 reference inside a P3 manifest.
    service = first.images[0].service
    assert service is not None
    assert (service.id, service.version) == (
        "https://iiif.dc.library.northwestern.edu/iiif/3/4b760e6f-b76d-4855-bc2c-8d4fb0b7b0a5",
        2,
    )


def test_image_service_3_and_rights(fixture_server: LiveServer) -> None:
    doc = read(fixture_server, RIGHTS)
    assert doc.rights == "http://creativecommons.org/licenses/by-sa/3.0/"
    service = doc.canvases[0].images[0].service
    assert service is not None
    assert (service.version, service.level) == (3, 1)
    assert service.info_url == (
        "https://iiif.io/api/image/3.0/example/reference/"
        "918ecd18c2592080851777620de9bcb5-gottingen/info.json"
    )
    statement = doc.required_statement
    assert statement is not None
    value = statement.value["en"][0]
    assert 'title="' not in value  # only href on a, src and alt on img
    assert '<img src="https://licensebuttons.net/l/by-sa/3.0/88x31.png">' in value


def test_xywh_painting_target(fixture_server: LiveServer) -> None:
    canvas = read(fixture_server, COMPOSITION).canvases[0]
    assert (canvas.width, canvas.height) == (7216, 5412)
    background, miniature = canvas.images
    assert background.target is None
    assert miniature.target == (3949, 994, 1091, 1232)
    assert (miniature.width, miniature.height) == (2138, 2414)


def test_choice_body_takes_the_first_option(fixture_server: LiveServer) -> None:
    image = read(fixture_server, CHOICE).canvases[0].images[0]
    assert image.url is not None and "dee-natural" in image.url  # not the x-ray option


def test_p2_choice_takes_the_default_and_on_fragments_become_targets(
    fixture_server: LiveServer,
) -> None:
    canvas = read(fixture_server, HAMILTON_P2).canvases[0]
    assert canvas.images[0].url is not None and "HL_524_1r_00_PSC" in canvas.images[0].url
    assert canvas.images[1].target == (552, 1584, 3360, 2368)


def test_summary_html_is_sanitised(fixture_server: LiveServer) -> None:
    doc = read(fixture_server, HAMILTON_P2)
    summary = doc.summary["none"][0]
    assert summary.startswith("<p>When the Library of Congress recently digitized")
    assert 'rel="noopener noreferrer"' in summary


def test_a_streamed_audio_canvas_is_skipped_naming_its_format(
    fixture_server: LiveServer,
) -> None:
    doc = read(fixture_server, STREAMING_AUDIO)
    assert doc.warnings == (
        "canvas 1 has media offered only as HLS (application/x-mpegurl),"
        " which storiiies does not play, and was skipped",
    )
    assert doc.streams == ((1, "HLS (application/x-mpegurl)"),)
    assert [c.index for c in doc.canvases] == [2]  # indexes stay the manifest's positions


def test_a_collection_is_rejected_naming_its_manifests(fixture_server: LiveServer) -> None:
    data, url = fetch(fixture_server, COLLECTION)
    with pytest.raises(NotIIIF) as caught:
        read_presentation(data, url)
    assert caught.value.message == "this is a IIIF Collection of 13 manifests, not a manifest"
    assert caught.value.hint is not None
    assert caught.value.hint.startswith(
        "pick one of its manifests: "
        "https://iiif.io/api/cookbook/recipe/0219-using-caption-file/manifest.json, "
    )
    members = collection_members(data)
    assert len(members) == 13
    assert members[1] == (
        "https://iiif.io/api/cookbook/recipe/0266-full-canvas-annotation/manifest.json",
        "0266 - Simplest annotation",
    )


def test_an_annotation_page_is_rejected(fixture_server: LiveServer) -> None:
    data, url = fetch(fixture_server, ANNOTATION_PAGE)
    with pytest.raises(
        NotIIIF, match="^this is a IIIF AnnotationPage, not a manifest or image service$"
    ):
        read_source_json(data, url)


def test_an_info_json_is_an_image_service_source(fixture_server: LiveServer) -> None:
    name = "fragments/storiiies-viewer/cypress__fixtures__manifests__not-a-manifest__manifest.json"
    data, url = fetch(fixture_server, name)
    doc = read_source_json(data, url)
    assert doc.kind == "image-service"
    (canvas,) = doc.canvases
    assert (canvas.id, canvas.width, canvas.height) == (
        "http://localhost:43110/images/exact-tiles",
        2048,
        2048,
    )
    (image,) = canvas.images
    assert image.url is None and image.service is not None and image.service.info == data


def test_string_sizes_are_read_and_relative_image_urls_resolved(fixture_server: LiveServer) -> None:
    doc = read(fixture_server, "documents/manifesto/test__fixtures__get-resource.json")
    canvas = doc.canvases[0]
    assert (canvas.width, canvas.height) == (200, 287)  # written as "200" and "287"
    assert canvas.images[0].url == (
        f"{fixture_server.url}/documents/manifesto/50b5e49b-ade7-4278-8265-4f72081f26a5"
    )


def test_a_zero_sized_canvas_leaves_no_usable_canvas(fixture_server: LiveServer) -> None:
    data, url = fetch(
        fixture_server, "documents/mirador/__tests____fixtures__version-2__zeroWidthCanvas.json"
    )
    with pytest.raises(NotIIIF) as caught:
        read_presentation(data, url)
    assert caught.value.message == "manifest has no canvases with an image"
    assert caught.value.hint == "canvas 1 has no usable width and height and was skipped"


def test_image_api_1_services_fall_back_to_the_static_image(fixture_server: LiveServer) -> None:
    doc = read(fixture_server, "documents/mirador/__tests____fixtures__version-2__Osbornfa1.json")
    image = doc.canvases[0].images[0]
    assert image.service is None and image.url is not None and image.url.endswith("native.jpg")
    assert doc.warnings == (
        "1 image offers only an Image API 1 service, which storiiies does not read; "
        "the static image is shown instead, without deep zoom",
    )


def test_canvases_typed_wrongly_are_still_canvases(
    fixture_server: LiveServer, shared: Path
) -> None:
    # archive.org types every canvas "sc:Sequence" and gives the manifest an Image API context.
    name = "documents/manifesto/test__fixtures__plato.json"
    assert len(read(fixture_server, name).canvases) == index_canvases(shared, name) == 547


def test_many_skipped_canvases_make_one_warning(fixture_server: LiveServer) -> None:
    doc = read(fixture_server, "documents/mirador/__tests____fixtures__version-2__emptyCanvas.json")
    assert len(doc.canvases) == 322 - 84
    assert doc.warnings[0] == "canvases 3, 4, 5, 6, 7 … (84 in all) have no image and were skipped"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "JSON has no @context or type of a IIIF Presentation manifest"),
        ([], "this is a JSON list, not a IIIF manifest or image service"),
        ("<html>", "this is a JSON string, not a IIIF manifest or image service"),
        ({"type": "Manifest", "items": []}, "manifest has no canvases with an image"),
        ({"@type": "sc:Manifest", "sequences": "nope"}, "manifest has no canvases with an image"),
        (
            {"type": "Canvas\nwith a newline"},
            "this is a IIIF Canvas with a newline, not a manifest or image service",
        ),
    ],
)
def test_other_json_is_rejected_in_one_line(data: object, message: str) -> None:
    with pytest.raises(NotIIIF) as caught:
        read_source_json(data, "https://example.org/x.json")
    assert caught.value.message == message
