"""Where a view's pixels come from: tile sources for the viewer and crop URLs for thumbnails,
the text version and social previews. Remote images are cut by their Image API service; local
images are cut at build time into `crops/` files (level-0 services cannot cut regions)."""

from __future__ import annotations

import hashlib
from typing import Any

from storiiies.iiif.model import Canvas, ImageResource
from storiiies.model import Story, View
from storiiies.resolve.virtual import part_view


def primary_image(canvas: Canvas) -> ImageResource | None:
    return canvas.images[0] if canvas.images else None


def is_local(view: View, story: Story) -> bool:
    """True when the site serves the view's image itself from images/: a local file tiled at
    build, or the copy of a remote image in an offline bundle (storiiies.bundle)."""
    image = primary_image(view.canvas)
    if image is None or image.service is None:
        return False
    name = image.service.id.rstrip("/").rsplit("/", 1)[-1]
    return any(local.name == name for local in story.local_images)


def crop_name(view: View, width: int) -> str:
    """Stable file name of a local crop, shared by every story that shows the same region."""
    key = f"{view.canvas.id}|{view.box}|{width}"
    return f"crops/{hashlib.sha256(key.encode()).hexdigest()[:16]}.jpg"


def crop_url(view: View, story: Story, width: int, root: str) -> str | None:
    """A URL (relative to a page whose root is `root`) of a JPEG of the view's region."""
    view = part_view(view, story)  # a virtual canvas is cut from one of its parts
    image = primary_image(view.canvas)
    if image is None:
        return None
    if is_local(view, story):
        return root + crop_name(view, width)
    service = image.service
    if service is not None and service.level >= 1:
        scale_x = (image.width or view.canvas.width) / view.canvas.width
        scale_y = (image.height or view.canvas.height) / view.canvas.height
        x, y, w, h = view.box
        region = (
            "full"
            if view.region is None
            else ",".join(
                str(max(0, round(n))) for n in (x * scale_x, y * scale_y, w * scale_x, h * scale_y)
            )
        )
        # Never ask for more pixels than the region has: Image API 3 servers refuse to
        # upscale unless asked with `^`, and a larger crop would only be blurred.
        size = f"{width}," if w * scale_x >= width else ("max" if service.version == 3 else "full")
        return f"{service.id.rstrip('/')}/{region}/{size}/0/default.jpg"
    if service is not None:
        return f"{service.id.rstrip('/')}/full/max/0/default.jpg"
    return image.url


def tile_source(image: ImageResource, local_path: str | None) -> dict[str, Any]:
    """What the tour script hands to OpenSeadragon for one image."""
    service = image.service
    if local_path is not None and service is not None:
        # Level-0 info.json holds an absolute id from base_url; the page rewrites it to where
        # the site is actually served, so the same build works under any host and path.
        return {"kind": "local", "info": local_path + "/info.json"}
    if service is not None:
        return {"kind": "iiif", "info": service.info_url}
    return {"kind": "image", "url": image.url}
