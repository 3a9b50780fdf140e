"""Local images larger than the author allowed (`max_image_megapixels`) are refused from their
header at the source's line, before a pixel is decoded: a JPEG of 316 bytes can declare
65,000 × 65,000 pixels."""

from __future__ import annotations

import time

import pytest

from storiiies.build import build_site
from storiiies.errors import BuildFailed
from tests.helpers import bomb_jpeg, make_image

STORY = """---
title: A bomb
sources:
  big: images/big.jpg
---
## A corner
![a corner](big#xywh=0,0,100,100)
"""


def test_a_tiny_jpeg_declaring_65000_pixels_a_side_is_refused_before_decoding(make_project):
    project = make_project({"stories/a.md": STORY, "images/big.jpg": bomb_jpeg()})
    started = time.monotonic()
    with pytest.raises(BuildFailed) as failure:
        build_site(project)
    seconds = time.monotonic() - started
    assert [str(p) for p in failure.value.problems if p.is_error] == [
        "stories/a.md:4:3: error: source 'big': big.jpg says it is 65,000×65,000 pixels "
        "(4,225 megapixels), more than the 1,000 that max_image_megapixels allows — a small or "
        "damaged file can claim any size; if the image really is this large, raise "
        "max_image_megapixels in storiiies.yml"
    ]
    assert not (project / "_site").exists()
    assert not (project / ".storiiies-cache").exists() or not any(
        (project / ".storiiies-cache").rglob("*.jpg")
    )
    print(f"image limits: a {len(bomb_jpeg())}-byte bomb refused in {seconds:.2f} s")


def test_an_author_raises_the_limit_on_purpose(make_project):
    project = make_project({"stories/a.md": STORY}, config="title: T\nmax_image_megapixels: 5\n")
    make_image(project / "images" / "big.jpg", 3000, 2000)
    with pytest.raises(BuildFailed) as failure:
        build_site(project)
    assert [p.message for p in failure.value.problems if p.is_error] == [
        "source 'big': big.jpg says it is 3,000×2,000 pixels (6 megapixels), more than the 5 "
        "that max_image_megapixels allows"
    ]
    (project / "storiiies.yml").write_text("title: T\nmax_image_megapixels: 6\n")
    build_site(project)
    assert (project / "_site" / "a" / "index.html").is_file()
