"""Reading a manifest's commenting annotations: the text of each body, read as the spec says."""

from __future__ import annotations

from typing import Any

import pytest

from storiiies.iiif.comments import read_comments

CANVAS = "https://example.org/canvas/1"


def manifest_with_body(body: dict[str, Any]) -> dict[str, Any]:
    return {
        "@context": "http://iiif.io/api/presentation/3/context.json",
        "id": "https://example.org/manifest",
        "type": "Manifest",
        "items": [
            {
                "id": CANVAS,
                "type": "Canvas",
                "width": 100,
                "height": 100,
                "annotations": [
                    {
                        "id": "https://example.org/page/1",
                        "type": "AnnotationPage",
                        "items": [
                            {
                                "id": "https://example.org/anno/1",
                                "type": "Annotation",
                                "motivation": "commenting",
                                "body": body,
                                "target": f"{CANVAS}#xywh=1,2,3,4",
                            }
                        ],
                    }
                ],
            }
        ],
    }


def no_fetch(url: str) -> Any:
    raise AssertionError(f"nothing to fetch, asked for {url}")


@pytest.mark.parametrize(
    ("body", "html"),
    [
        # Declared plain text is text, whatever characters it holds.
        (
            {"type": "TextualBody", "format": "text/plain", "value": "a <b>bold</b> claim & more"},
            "<p>a &lt;b&gt;bold&lt;/b&gt; claim &amp; more</p>",
        ),
        ({"type": "TextualBody", "format": "text/plain", "value": "1 < 2\n\n3 > 2"},
         "<p>1 &lt; 2</p><p>3 &gt; 2</p>"),
        # HTML, declared or (with no format at all, as many publishers write) recognised.
        ({"type": "TextualBody", "format": "text/html", "value": "<p>a <b>b</b></p>"},
         "<p>a <b>b</b></p>"),
        ({"type": "TextualBody", "value": "<p>a <i>b</i></p>"}, "<p>a <i>b</i></p>"),
        ({"type": "TextualBody", "value": "plain words"}, "<p>plain words</p>"),
    ],
)  # fmt: skip
def test_a_body_is_read_as_its_format_says(body: dict[str, Any], html: str) -> None:
    comments, warnings = read_comments(manifest_with_body(body), no_fetch)
    assert warnings == []
    (comment,) = comments
    assert comment.bodies == (("none", html),)
