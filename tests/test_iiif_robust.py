"""Hostile input: whatever JSON comes back from a URL, the reader returns a document or NotIIIF."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storiiies.errors import NotIIIF, SourceError
from storiiies.iiif.model import SourceDocument
from storiiies.iiif.presentation import read_source_json
from tests.helpers import json_paths, mutate

KEYS = st.sampled_from(
    [
        "@context", "@id", "@type", "id", "type", "label", "items", "sequences", "canvases",
        "images", "resource", "body", "target", "on", "service", "profile", "width", "height",
        "summary", "description", "metadata", "value", "requiredStatement", "attribution",
        "rights", "license", "provider", "homepage", "related", "thumbnail", "default", "item",
        "source", "selector", "motivation", "format", "@value", "@language", "en", "none",
        "protocol", "manifests", "members",
    ]
)  # fmt: skip
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(
        [
            "Manifest", "sc:Manifest", "Canvas", "Image", "dctypes:Image", "Choice", "oa:Choice",
            "SpecificResource", "ImageService2", "ImageService3", "painting", "sc:painting",
            "level2", "http://iiif.io/api/image/2/level1.json", "http://iiif.io/api/image",
            "http://iiif.io/api/presentation/2/context.json",
            "http://iiif.io/api/presentation/3/context.json",
            "http://iiif.io/api/image/3/context.json", "https://e.org/c#xywh=1,2,3,4",
            "xywh=percent:1,2,3,4", "http://[::1", "1000", "-5", "<script>x</script>",
        ]
    ),
)  # fmt: skip
JSON = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(KEYS, children, max_size=6)
    ),
    max_leaves=40,
)

IMAGE_2 = {
    "@id": "https://e.org/iiif/a/full/full/0/default.jpg",
    "@type": "dctypes:Image",
    "width": 1000,
    "height": 800,
    "service": {
        "@context": "http://iiif.io/api/image/2/context.json",
        "@id": "https://e.org/iiif/a",
        "profile": "http://iiif.io/api/image/2/level1.json",
    },
}
MANIFEST_2: dict[str, Any] = {
    "@context": "http://iiif.io/api/presentation/2/context.json",
    "@id": "https://e.org/m2",
    "@type": "sc:Manifest",
    "label": "P2",
    "sequences": [
        {
            "canvases": [
                {
                    "@id": "https://e.org/c1",
                    "@type": "sc:Canvas",
                    "width": 1000,
                    "height": 800,
                    "images": [
                        {"motivation": "sc:painting", "resource": IMAGE_2, "on": "https://e.org/c1"}
                    ],
                }
            ]
        }
    ],
}
MANIFEST_3: dict[str, Any] = {
    "@context": "http://iiif.io/api/presentation/3/context.json",
    "id": "https://e.org/m3",
    "type": "Manifest",
    "label": {"en": ["P3"]},
    "items": [
        {
            "id": "https://e.org/c1",
            "type": "Canvas",
            "width": 1000,
            "height": 800,
            "items": [
                {
                    "type": "AnnotationPage",
                    "items": [
                        {
                            "type": "Annotation",
                            "motivation": "painting",
                            "target": "https://e.org/c1",
                            "body": {
                                "id": "https://e.org/a.jpg",
                                "type": "Image",
                                "width": 1000,
                                "height": 800,
                                "service": [
                                    {
                                        "id": "https://e.org/a",
                                        "type": "ImageService3",
                                        "profile": "level1",
                                    }
                                ],
                            },
                        }
                    ],
                }
            ],
        }
    ],
}


MUTATIONS = (
    st.sampled_from([MANIFEST_2, MANIFEST_3])
    .flatmap(lambda base: st.tuples(st.just(base), st.sampled_from(json_paths(base)), JSON))
    .map(lambda t: mutate(*t))
)


def assert_read_or_rejected(data: Any) -> None:
    try:
        doc = read_source_json(data, "https://example.org/manifest.json")
    except NotIIIF as error:
        assert error.message and "\n" not in error.message
        # The last-resort net must not be what catches things: that would be a reader bug.
        assert not error.message.startswith("unreadable"), error.message
        return
    except SourceError:
        return
    assert isinstance(doc, SourceDocument)
    assert doc.canvases and all(c.width > 0 and c.height > 0 for c in doc.canvases)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(JSON)
def test_random_json_is_read_or_rejected(data: Any) -> None:
    assert_read_or_rejected(data)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(MUTATIONS)
def test_mutated_manifests_are_read_or_rejected(data: Any) -> None:
    assert_read_or_rejected(data)


def test_the_unmutated_manifests_are_read() -> None:
    for manifest in (MANIFEST_2, MANIFEST_3):
        doc = read_source_json(manifest, "https://example.org/manifest.json")
        assert [(c.width, c.height) for c in doc.canvases] == [(1000, 800)]


def test_deep_nesting_is_rejected_not_a_recursion_error() -> None:
    deep: Any = "x"
    for _ in range(5000):
        deep = {"label": deep, "items": [deep] if isinstance(deep, str) else deep}
    assert_read_or_rejected({"type": "Manifest", "label": deep, "items": [deep]})
