"""Audio and video offered only as a stream (HLS, DASH): storiiies plays what a browser's
<audio>/<video> element plays directly, so such a canvas is never silently dropped. The source
gets a warning at its line, a step over it shows its thumbnail with a warning naming the
format, or is an error at its line when there is nothing to show (docs/authoring.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from storiiies.build import build_site, check_site
from storiiies.errors import BuildFailed
from tests.helpers import make_image


def _canvas(url: str, number: int, body: dict, extra: dict) -> dict:
    canvas = f"{url}/canvas/{number}"
    return {
        "id": canvas,
        "type": "Canvas",
        **extra,
        "items": [
            {
                "id": f"{canvas}/page/1",
                "type": "AnnotationPage",
                "items": [
                    {
                        "id": f"{canvas}/anno/1",
                        "type": "Annotation",
                        "motivation": "painting",
                        "body": body,
                        "target": canvas,
                    }
                ],
            }
        ],
    }


def streaming_manifest(url: str) -> dict:
    """In the shape of real AV manifests (clover-iiif's HLS fixture, Avalon's DASH audio):
    an image, an HLS video with a thumbnail, a DASH-only sound without one."""
    image = {"id": f"{url}/page.png", "type": "Image", "format": "image/png"}
    hls = {
        "id": f"{url}/stream/video.m3u8",
        "type": "Video",
        "format": "application/vnd.apple.mpegurl",
        "width": 640,
        "height": 480,
        "duration": 30,
    }
    dash = {
        "type": "Choice",
        "items": [
            {
                "id": f"{url}/stream/sound.mpd",
                "type": "Sound",
                "format": "application/dash+xml",
                "duration": 60,
            }
        ],
    }
    thumbnail = [{"id": f"{url}/still.png", "type": "Image", "format": "image/png"}]
    return {
        "@context": "http://iiif.io/api/presentation/3/context.json",
        "id": f"{url}/manifest.json",
        "type": "Manifest",
        "label": {"en": ["Streams"]},
        "items": [
            {
                **_canvas(url, 1, {**image, "width": 400, "height": 300}, {}),
                "width": 400,
                "height": 300,
            },
            _canvas(
                url,
                2,
                hls,
                {"width": 640, "height": 480, "duration": 30, "thumbnail": thumbnail},
            ),
            _canvas(url, 3, dash, {"duration": 60}),
        ],
    }


STORY = """---
title: Streams
sources:
  talk:
    url: {url}/manifest.json
    rights: http://creativecommons.org/publicdomain/zero/1.0/
---
## A page

![A page](talk/1)

[Hear the talk](talk/2#t=1,5)

## The film

![The film](talk/2#t=0,10)

A still of the film.
"""


@pytest.fixture
def streams(tmp_path: Path, serve_dir) -> str:
    folder = tmp_path / "streams"
    folder.mkdir()
    make_image(folder / "page.png", 400, 300)
    make_image(folder / "still.png", 640, 480)
    server = serve_dir(folder)
    (folder / "manifest.json").write_text(json.dumps(streaming_manifest(server.url)))
    return server.url


def _seen(problems) -> list[tuple[str, int, str, str]]:
    return [(p.location.path, p.location.line, p.severity, p.message) for p in problems]


SOURCE_WARNING = (
    "stories/streams.md",
    4,
    "warning",
    "source 'talk': canvas 3 has media offered only as DASH (application/dash+xml),"
    " which storiiies does not play, and was skipped",
)
NARRATION_WARNING = (
    "stories/streams.md",
    12,
    "warning",
    "canvas 2 of 'talk' is offered only as HLS (application/vnd.apple.mpegurl),"
    " which storiiies does not play; the step has no narration",
)
THUMBNAIL_WARNING = (
    "stories/streams.md",
    16,
    "warning",
    "canvas 2 of 'talk' is offered only as HLS (application/vnd.apple.mpegurl),"
    " which storiiies does not play; the step shows the canvas's thumbnail, without sound",
)


def test_check_and_build_warn_at_the_source_and_the_steps(make_project, streams: str) -> None:
    root = make_project({"stories/streams.md": STORY.format(url=streams)})
    assert _seen(check_site(root)) == [SOURCE_WARNING, NARRATION_WARNING, THUMBNAIL_WARNING]
    report = build_site(root)
    assert _seen(report.problems) == [SOURCE_WARNING, NARRATION_WARNING, THUMBNAIL_WARNING]
    page = (root / "_site" / "streams" / "index.html").read_text()
    assert f"{streams}/still.png" in page
    assert "video.m3u8" not in page


def test_a_step_over_a_stream_without_a_thumbnail_is_an_error_at_its_line(
    make_project, streams: str
) -> None:
    story = STORY.format(url=streams).replace("talk/2#t=0,10", "talk/3#t=0,10")
    root = make_project({"stories/streams.md": story})
    errors = [p for p in check_site(root) if p.is_error]
    assert _seen(errors) == [
        (
            "stories/streams.md",
            16,
            "error",
            "canvas 3 of 'talk' is offered only as DASH (application/dash+xml),"
            " which storiiies does not play, and it has no image to show instead",
        )
    ]
    assert errors[0].hint == (
        "pick another canvas, or ask the source's publisher for a file a browser plays"
        " (MP4, WebM, MP3, Ogg) in the manifest"
    )
    with pytest.raises(BuildFailed):
        build_site(root)
