"""IIIF Content State 1.0: the encoding exactly as §6 specifies, every form §2.2 allows, and
tour pages that open the step a content state points at."""

from __future__ import annotations

import json

import pytest

from storiiies.iiif.content_state import (
    ContentStateError,
    Place,
    decode,
    encode,
    parse_text,
    read_places,
)

# §6.3.2 of the specification, verbatim: the condensed JSON and its encoded form.
SPEC_CONDENSED = (
    '{"id":"https://example.org/object1/canvas7#xywh=1000,2000,1000,2000","type":"Canvas",'
    '"partOf":[{"id":"https://example.org/object1/manifest","type":"Manifest"}]}'
)
SPEC_ENCODED = (
    "JTdCJTIyaWQlMjIlM0ElMjJodHRwcyUzQSUyRiUyRmV4YW1wbGUub3JnJTJGb2JqZWN0MSUyRmNhbnZhczclMjN4eXdo"
    "JTNEMTAwMCUyQzIwMDAlMkMxMDAwJTJDMjAwMCUyMiUyQyUyMnR5cGUlMjIlM0ElMjJDYW52YXMlMjIlMkMlMjJwYXJ0"
    "T2YlMjIlM0ElNUIlN0IlMjJpZCUyMiUzQSUyMmh0dHBzJTNBJTJGJTJGZXhhbXBsZS5vcmclMkZvYmplY3QxJTJGbWFu"
    "aWZlc3QlMjIlMkMlMjJ0eXBlJTIyJTNBJTIyTWFuaWZlc3QlMjIlN0QlNUQlN0Q"
)
# §3.1 of the specification encodes the whole viewer link, not just the JSON (a known slip in
# the text); a state pasted from there still opens the canvas it names.
SPEC_LINK_ENCODED = (
    "aHR0cHMlM0ElMkYlMkZleGFtcGxlLm9yZyUyRnZpZXdlciUzRmlpaWYtY29udGVudCUzRCU3QiUyMmlkJTIyJTNBJTIy"
    "aHR0cHMlM0ElMkYlMkZkYW1zc3NsLmxsZ2Mub3JnLnVrJTJGaWlpZiUyRjIuMCUyRjQzODk3NjclMkZjYW52YXMlMkY0"
    "Mzg5NzcyLmpzb24lMjIlMkMlMjJ0eXBlJTIyJTNBJTIyQ2FudmFzJTIyJTJDJTIycGFydE9mJTIyJTNBJTVCJTdCJTIy"
    "aWQlMjIlM0ElMjJodHRwcyUzQSUyRiUyRmRhbXNzc2wubGxnYy5vcmcudWslMkZpaWlmJTJGMi4wJTJGNDM4OTc2NyUy"
    "Rm1hbmlmZXN0Lmpzb24lMjIlMkMlMjJ0eXBlJTIyJTNBJTIyTWFuaWZlc3QlMjIlN0QlNUQlN0Q"
)
SPEC_PLACE = Place(
    "https://example.org/object1/manifest",
    "https://example.org/object1/canvas7",
    (1000, 2000, 1000, 2000),
)


def test_encoding_matches_the_specifications_worked_example():
    assert encode(SPEC_CONDENSED) == SPEC_ENCODED
    assert decode(SPEC_ENCODED) == SPEC_CONDENSED


def test_encoding_is_encode_uri_component_then_unpadded_base64url():
    # encodeURIComponent keeps ! ~ * ' ( ) and encodes everything else, UTF-8 first
    assert decode(encode("a!~*'()b")) == "a!~*'()b"
    assert encode("a!~*'()b") == "YSF-KicoKWI"
    assert (
        encode("Æthelflæd 東京 /?&=")
        == "JUMzJTg2dGhlbGZsJUMzJUE2ZCUyMCVFNiU5RCVCMSVFNCVCQSVBQyUyMCUyRiUzRiUyNiUzRA"
    )
    assert "=" not in encode("ab") and "+" not in encode("~~~>>>") and "/" not in encode("???")


@pytest.mark.parametrize("bad", ["not base64!", "abcde", "%%%", "////"])
def test_a_string_that_is_not_encoded_is_rejected(bad):
    with pytest.raises(ContentStateError):
        decode(bad)


def test_every_form_of_section_2_2_reads_to_the_same_place():
    full = {
        "type": "Annotation",
        "motivation": ["contentState"],
        "target": json.loads(SPEC_CONDENSED),
    }
    for text in (SPEC_CONDENSED, SPEC_ENCODED, json.dumps(full), encode(json.dumps(full))):
        assert read_places(parse_text(text)) == [SPEC_PLACE]
    viewer_link = f"https://viewer.example.org/?iiif-content={SPEC_ENCODED}"
    assert read_places(parse_text(viewer_link)) == [SPEC_PLACE]
    assert parse_text("https://example.org/state.json") == "https://example.org/state.json"
    assert read_places(parse_text(SPEC_LINK_ENCODED)) == [
        Place(
            "https://damsssl.llgc.org.uk/iiif/2.0/4389767/manifest.json",
            "https://damsssl.llgc.org.uk/iiif/2.0/4389767/canvas/4389772.json",
        )
    ]


@pytest.mark.shared
@pytest.mark.parametrize(
    ("fragment", "expected"),
    [
        (
            "cookbook/recipe__0485-contentstate-canvas-region__annotation.json",
            [
                Place(
                    "https://iiif.io/api/cookbook/recipe/0009-book-1/manifest.json",
                    "https://iiif.io/api/cookbook/recipe/0009-book-1/canvas/p2",
                    (1528, 3024, 344, 408),
                )
            ],
        ),
        (
            "clover/public__manifest__content-state__specific-resource.json",
            [
                Place(
                    "https://api.artic.edu/api/v1/artworks/89503/manifest.json",
                    "https://www.artic.edu/iiif/2/2fa24f36-cc26-41b6-4b49-12bba2a6c1c8",
                    (3450, 2500, 1600, 1200),
                )
            ],
        ),
        (
            "cookbook/recipe__0599-drag-and-drop__manifest.json",
            [
                Place(
                    "https://iiif.io/api/cookbook/recipe/0006-text-language/manifest.json",
                    kind="Manifest",
                )
            ],
        ),
    ],
)
def test_published_content_states_are_read(shared, fragment, expected):
    data = json.loads((shared / "fixtures" / "manifests" / "fragments" / fragment).read_text())
    assert read_places(data) == expected


@pytest.mark.shared
def test_a_comparison_content_state_has_one_place_per_target(shared):
    path = (
        shared
        / "fixtures/manifests/fragments/cookbook"
        / "recipe__0540-link-for-opening-multiple-canvases__annotation.json"
    )
    places = read_places(json.loads(path.read_text()))
    assert [p.canvas.rsplit("/", 1)[1] for p in places] == ["2", "p2"]
    assert places[0].manifest.endswith("manifest-2.json")


def test_each_step_of_a_built_story_carries_its_content_state(built_examples):
    page = (built_examples / "coins" / "index.html").read_text()
    data = json.loads(page.split('id="story-data">')[1].split("</script>")[0])
    states = data["iiif"]["contentStates"]
    assert len(states) == len(data["steps"])
    comparison = json.loads(decode(states[3]))
    assert comparison["type"] == "Annotation" and comparison["motivation"] == ["contentState"]
    canvas = data["iiif"]["canvasIds"]["c1"]
    assert [t["id"] for t in comparison["target"]] == [
        f"{canvas}#xywh=300,12,68,64",
        f"{canvas}#xywh=188,26,56,52",
    ]
    assert comparison["target"][0]["partOf"] == [
        {"id": "http://127.0.0.1:8000/coins/manifest.json", "type": "Manifest"}
    ]
    assert json.loads(decode(states[4]))["target"]["id"] == canvas  # the whole tray: no fragment


@pytest.mark.browser
class TestTourOpensContentStates:
    @pytest.fixture
    def page(self, new_page):
        page = new_page(viewport={"width": 1280, "height": 800})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        yield page
        assert errors == []

    def open(self, page, url: str) -> None:
        page.goto(url)
        page.wait_for_function("() => window.storiiies?.go && window.storiiies.contentState")
        assert page.evaluate("() => window.storiiies.contentState.opened") is True

    def states(self, page) -> list[str]:
        return page.evaluate("() => window.storiiies.story.iiif.contentStates")

    def test_a_steps_content_state_opens_that_step(self, page, examples_server):
        page.goto(f"{examples_server.url}/coins/")
        page.wait_for_function("() => window.storiiies?.go && window.storiiies.contentState")
        state = self.states(page)[3]
        share = page.locator("#step-3 .st-share a").get_attribute("href")
        assert share == f"/coins/?iiif-content={state}#step-3"
        self.open(page, f"{examples_server.url}/coins/?iiif-content={state}")
        assert page.evaluate("() => window.storiiies.current") == 3
        assert page.evaluate("() => location.hash") == "#step-3"

    def test_every_share_link_opens_its_own_step_even_when_its_region_repeats(
        self, page, examples_server
    ):
        # The last step of coins shows the whole tray again, as the title slide does.
        page.goto(f"{examples_server.url}/coins/")
        page.wait_for_function("() => window.storiiies?.go && window.storiiies.contentState")
        links = page.eval_on_selector_all(".st-share a", "links => links.map(a => a.href)")
        assert self.states(page)[0] == self.states(page)[-1] != ""
        opened = []
        for link in links:
            self.open(page, link)
            opened.append(page.evaluate("() => [window.storiiies.current, location.hash]"))
        assert opened == [[n, f"#step-{n}"] for n in range(len(links))]

    def test_the_javascript_encoding_is_the_pythons(self, page, examples_server):
        page.goto(f"{examples_server.url}/coins/")
        page.wait_for_function("() => window.storiiies?.go && window.storiiies.contentState")
        text = "Æthelflæd 東京 !~*'() /?&= " + SPEC_CONDENSED
        assert page.evaluate("t => window.storiiies.contentState.encode(t)", text) == encode(text)
        assert (
            page.evaluate("s => window.storiiies.contentState.decode(s)", SPEC_ENCODED)
            == SPEC_CONDENSED
        )

    def test_a_region_of_the_canvas_opens_the_step_on_it_zoomed_there(self, page, examples_server):
        page.goto(f"{examples_server.url}/coins/")
        page.wait_for_function("() => window.storiiies?.go && window.storiiies.contentState")
        canvas = page.evaluate("() => window.storiiies.story.iiif.canvasIds.c1")
        state = {
            "type": "Annotation",
            "motivation": "contentState",
            "target": {
                "id": f"{canvas}#xywh=14,228,66,66",
                "type": "Canvas",
                "partOf": [{"id": "https://elsewhere.example/manifest", "type": "Manifest"}],
            },
        }
        self.open(page, f"{examples_server.url}/coins/?iiif-content={encode(json.dumps(state))}")
        # that region is the in-step link of step 1: the step opens and the link is followed
        assert page.evaluate("() => window.storiiies.current") == 1
        page.wait_for_function(
            "() => { const v = window.storiiies.views()[0];"
            " return v.region && v.region[0] === 14 && v.region[1] === 228; }"
        )
        odd = {"id": f"{canvas}#xywh=100,100,40,30", "type": "Canvas"}
        self.open(page, f"{examples_server.url}/coins/?iiif-content={encode(json.dumps(odd))}")
        assert page.evaluate("() => window.storiiies.current") == 0
        bounds = page.evaluate(
            "() => { const b = window.storiiies.views()[0].bounds; return [b.x, b.y, b.w, b.h]; }"
        )
        centre = (bounds[0] + bounds[2] / 2, bounds[1] + bounds[3] / 2)
        assert abs(centre[0] - 120) < 5 and abs(centre[1] - 115) < 5
