"""Stories exported as IIIF Presentation 3: valid against the official schema, steps in order."""

from __future__ import annotations

import json

import pytest

from storiiies.build import build_site
from storiiies.iiif.content_state import decode
from tests.iiif_schema import schema_errors

pytestmark = pytest.mark.shared

DOCS = "documents"
MDZ = f"{DOCS}/manifesto/test__fixtures__attribution-without-label.json"  # P2, https licence
BOOK = f"{DOCS}/cookbook/recipe__0009-book-1__manifest.json"  # P3, Image API 3
PLAIN = f"{DOCS}/clover/public__manifest__annotations__multiple-languages.json"  # image, no service
NOTEBOOK = (
    f"{DOCS}/clover/public__manifest__annotations__paged-gh.json"  # provider, rights, P2 services
)
JATTE = f"{DOCS}/storiiies-viewer/docs__demo__grande-jatte.json"  # image larger than its canvas


def test_every_example_story_and_the_collection_validate(built_examples, shared):
    collection = json.loads((built_examples / "collection.json").read_text())
    assert schema_errors(collection, shared) == []
    assert [item["id"] for item in collection["items"]] == [
        "http://127.0.0.1:8000/coins/manifest.json",
        "http://127.0.0.1:8000/fields-family/manifest.json",
        "http://127.0.0.1:8000/listen/manifest.json",
    ]
    for item in collection["items"]:
        slug = item["id"].split("/")[-2]
        manifest = json.loads((built_examples / slug / "manifest.json").read_text())
        assert schema_errors(manifest, shared) == [], slug
        assert manifest["id"] == item["id"]


def test_steps_are_one_ordered_annotation_page(built_examples):
    manifest = json.loads((built_examples / "coins" / "manifest.json").read_text())
    (page,) = manifest["annotations"]
    ids = [a["id"].rsplit("/", 1)[1] for a in page["items"]]
    assert ids == ["step-0", "step-1", "step-2", "step-3-1", "step-3-2", "step-4"]
    first = page["items"][1]
    assert first["motivation"] == "commenting"
    # coins.md has a French translation (coins.fr.md): a label and a body in each language
    assert first["label"] == {
        "en": ["A helmeted head in profile, facing right, on a large bronze coin"],
        "fr": [
            "Une tête casquée de profil, tournée vers la droite, sur une grande pièce de bronze"
        ],
    }
    english, french = first["body"]
    assert english["format"] == "text/html" and english["language"] == "en"
    # Headings are not in the Presentation API's HTML subset: the title is a bold paragraph.
    assert english["value"].startswith("<p><b>A god in a helmet</b></p><p>The largest coin")
    assert french["language"] == "fr" and french["value"].startswith("<p><b>Un dieu casqué</b></p>")
    canvas = manifest["items"][0]["id"]
    assert first["target"] == f"{canvas}#xywh=310,152,72,70"
    assert page["items"][0]["body"][0]["value"].startswith("<p><b>Coins of Pompeii</b></p>")
    assert page["items"][0]["target"] == canvas
    # the canvas carries the same annotations, in the same order, for viewers that look there
    assert manifest["items"][0]["annotations"][0]["items"] == page["items"]


def test_an_in_step_link_opens_the_tour_at_its_region(built_examples):
    manifest = json.loads((built_examples / "coins" / "manifest.json").read_text())
    body = manifest["annotations"][0]["items"][1]["body"][0]["value"]  # English, of en and fr
    href = body.split('<a href="')[1].split('"')[0]
    assert href.startswith("http://127.0.0.1:8000/coins/?iiif-content=") and href.endswith(
        "#step-1"
    )
    state = json.loads(decode(href.split("=", 1)[1].split("#")[0]))
    assert state["target"]["id"].endswith("/canvas#xywh=14,228,66,66")
    assert state["target"]["partOf"] == [
        {"id": "http://127.0.0.1:8000/coins/manifest.json", "type": "Manifest"}
    ]


def test_remote_sources_keep_their_images_rights_and_credits(
    make_project, fixture_server, serve_dir, shared, tmp_path
):
    info = tmp_path / "iiif" / "img1" / "info.json"
    info.parent.mkdir(parents=True)
    info.write_text(
        json.dumps(
            {
                "@context": "http://iiif.io/api/image/2/context.json",
                "@id": "https://images.example.org/iiif/img1",
                "protocol": "http://iiif.io/api/image",
                "width": 4000,
                "height": 3000,
                "profile": ["http://iiif.io/api/image/2/level1.json"],
            }
        )
    )
    images = serve_dir(tmp_path)
    url = fixture_server.url
    root = make_project(
        {
            "stories/mixed.md": (
                "---\ntitle: Mixed <sources> & more\nsummary: A story across five sources.\n"
                "lang: es-419\nauthor: A. Curator\nsources:\n"
                f"  mdz: {url}/{MDZ}\n  book: {url}/{BOOK}\n  plain: {url}/{PLAIN}\n"
                f"  notebook: {url}/{NOTEBOOK}\n  jatte: {url}/{JATTE}\n"
                f"  img: {images.url}/iiif/img1/info.json\n---\n"
                "Intro.\n\n"
                "## A newspaper\n![The front page](mdz/2#xywh=percent:0,0,50,30)\n\n"
                "## Two pages\n![Page 2](book/2#xywh=100,100,1000,800)\n"
                "![A notebook page](notebook/3)\n\n"
                "Compare [the corner](book/2#xywh=0,0,300,300).\n\n"
                "## Still the two pages\nNo new region: the view stays.\n\n"
                "## A plain image\n![No image service](plain#xywh=0,0,500,500)\n\n"
                "## A painting\n![Seurat](jatte#xywh=0,0,1000,1000)\n\n"
                "## A detail\n![A detail](img#xywh=10,10,100,100)\n"
            )
        }
    )
    build_site(root)
    manifest = json.loads((root / "_site" / "mixed" / "manifest.json").read_text())
    assert schema_errors(manifest, shared) == []
    assert manifest["label"] == {"es": ["Mixed <sources> & more"]}
    canvases = {c["id"]: c for c in manifest["items"]}
    assert len(canvases) == 6
    mdz = next(c for c in manifest["items"] if "bsb10502296" in c["id"])
    assert mdz["partOf"][0]["id"] == f"{url}/{MDZ}"
    assert mdz["rights"].startswith("http://rightsstatements.org/vocab/NoC-NC/")
    notebook = next(c for c in manifest["items"] if "b52d5d93" in c["id"])
    service = notebook["items"][0]["items"][0]["body"]["service"][0]
    assert service["@type"] == "ImageService2" and service["profile"].endswith("level2.json")
    assert manifest["provider"][0]["id"] == "https://www.library.northwestern.edu/"
    assert "rights" not in manifest  # the sources disagree, so each canvas says its own
    plain = next(c for c in manifest["items"] if "language-columns" in c["id"])
    assert "service" not in plain["items"][0]["items"][0]["body"]
    img = next(c for c in manifest["items"] if c["id"].startswith("https://images.example.org"))
    assert (
        img["items"][0]["items"][0]["body"]["id"]
        == "https://images.example.org/iiif/img1/full/full/0/default.jpg"
    )
    steps = manifest["annotations"][0]["items"]
    names = [a["id"].rsplit("/", 1)[1] for a in steps]
    assert names == [
        "step-0",
        "step-1",
        "step-2-1",
        "step-2-2",
        "step-3-1",
        "step-3-2",
        "step-4",
        "step-5",
        "step-6",
    ]
    # a comparison step targets each canvas it shows; a step that keeps the view, the same ones
    assert [a["target"].split("#")[0] for a in steps[2:4]] == [
        a["target"].split("#")[0] for a in steps[4:6]
    ]
    assert steps[2]["target"].split("#")[0] != steps[3]["target"].split("#")[0]
    assert steps[1]["body"]["language"] == "es"
    for canvas in manifest["items"]:
        own = [a["id"] for page in canvas.get("annotations", []) for a in page["items"]]
        assert own == [a["id"] for a in steps if a["target"].split("#")[0] == canvas["id"]]


def test_odd_canvas_ids_get_ids_the_schema_accepts(make_project, shared, tmp_path):
    manifest_file = tmp_path / "project" / "local.json"
    manifest_file.parent.mkdir(parents=True)
    canvas = {
        "id": "urn:example:canvas-1",
        "type": "Canvas",
        "width": 800,
        "height": 600,
        "label": {"x-private-1": ["Odd language"]},
        "items": [
            {
                "id": "urn:p",
                "type": "AnnotationPage",
                "items": [
                    {
                        "id": "urn:a",
                        "type": "Annotation",
                        "motivation": "painting",
                        "target": "urn:example:canvas-1",
                        "body": {
                            "id": "https://example.org/image.png",
                            "type": "Image",
                            "width": 800,
                            "height": 600,
                        },
                    }
                ],
            }
        ],
    }
    twin = {**canvas, "id": "https://example.org/c#1"}
    manifest_file.write_text(
        json.dumps(
            {
                "@context": "http://iiif.io/api/presentation/3/context.json",
                "id": "urn:example:m",
                "type": "Manifest",
                "label": {"en": ["Local"]},
                "rights": "https://creativecommons.org/licenses/by/4.0",
                "items": [canvas, twin],
            }
        )
    )
    root = make_project(
        {
            "stories/odd.md": (
                "---\ntitle: Odd\nsources:\n  m: local.json\n---\n"
                "## One\n![One](m/1#xywh=1,2,3,4)\n\n## Two\n![Two](m/2#xywh=5,6,7,8)\n"
            )
        }
    )
    build_site(root)
    manifest = json.loads((root / "_site" / "odd" / "manifest.json").read_text())
    assert schema_errors(manifest, shared) == []
    assert manifest["items"][0]["id"] == "http://127.0.0.1:8000/odd/canvas/1"
    assert manifest["items"][0]["label"] == {"x": ["Odd language"]}
    assert manifest["rights"] == "http://creativecommons.org/licenses/by/4.0/"
    steps = manifest["annotations"][0]["items"]
    assert steps[1]["target"] == "http://127.0.0.1:8000/odd/canvas/1#xywh=1,2,3,4"
    assert steps[2]["target"] == {
        "type": "SpecificResource",
        "source": "https://example.org/c#1",
        "selector": {
            "type": "FragmentSelector",
            "conformsTo": "http://www.w3.org/TR/media-frags/",
            "value": "xywh=5,6,7,8",
        },
    }
