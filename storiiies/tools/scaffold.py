"""`storiiies new`: a small project that builds offline, to start from."""

from __future__ import annotations

from pathlib import Path

CONFIG = """\
# Site settings. Every key is explained in docs/authoring.md.
title: My exhibit
description: Guided tours of images, made with storiiies.
# The address the site will be published at (used for IIIF ids of your own images).
base_url: http://127.0.0.1:8000/
language: en
theme: default
"""

STORY = """\
---
title: Welcome to storiiies
summary: A first story about a picture of shapes. Replace it with your own.
tags: [example]
sources:
  shapes:
    url: images/shapes.png
    # Who may reuse the image, and the credit line shown with it (see docs/authoring.md).
    rights: https://creativecommons.org/publicdomain/zero/1.0/
    credit: Shapes drawn by storiiies for this example.
  # A source can also be any IIIF manifest or image service on the web, e.g.
  # painting: https://iiif.io/api/cookbook/recipe/0001-mvm-image/manifest.json
---
Text before the first `##` heading is the title slide. Every `##` heading starts a step.

## The red circle

![A red circle on a pale background](shapes#xywh=150,150,500,500)

A step shows the region of the image named in its picture line:
`![text for screen readers](source#xywh=x,y,w,h)`, in pixels of the image.

## The blue square

![A blue square](shapes#xywh=percent:55,45,35,45)

Regions can also be given in percent of the image. A link such as
[the red circle](shapes#xywh=150,150,500,500) moves the view without leaving the step.

## Side by side

![The red circle](shapes#xywh=150,150,500,500)
![The blue square](shapes#xywh=percent:55,45,35,45)

Two picture lines in one step show both regions side by side.
"""


def _draw_sample(path: Path) -> None:
    import pyvips

    width, height = 1600, 1200
    image = (pyvips.Image.black(width, height, bands=3) + [244, 240, 230]).cast("uchar")
    image = image.draw_circle([200, 40, 40], 400, 400, 240, fill=True)
    image = image.draw_rect([30, 80, 170], 900, 560, 520, 520, fill=True)
    image = image.draw_circle([230, 170, 20], 1300, 260, 140, fill=True)
    image.write_to_file(str(path))


def create_project(directory: Path) -> list[Path]:
    """Write the starter files into `directory`; refuses to overwrite an existing project."""
    if (directory / "storiiies.yml").exists():
        raise FileExistsError(f"{directory / 'storiiies.yml'} already exists")
    (directory / "stories").mkdir(parents=True, exist_ok=True)
    (directory / "images").mkdir(exist_ok=True)
    created = [
        directory / "storiiies.yml",
        directory / "stories" / "welcome.md",
        directory / "images" / "shapes.png",
    ]
    created[0].write_text(CONFIG, encoding="utf-8")
    created[1].write_text(STORY, encoding="utf-8")
    _draw_sample(created[2])
    (directory / ".gitignore").write_text("_site/\n.storiiies-cache/\n", encoding="utf-8")
    return created
