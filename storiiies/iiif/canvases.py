"""Turning one raw canvas, plus what the version reader found painted on it, into a `Canvas`.

Shared by the P2 and P3 readers, so the rules for sizes, skipped canvases and warnings are one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urljoin, urlsplit

from storiiies.iiif.av import canvas_duration, caption_tracks
from storiiies.iiif.coerce import (
    as_dicts,
    as_list,
    as_str,
    first_id,
    node_id,
    positive_int,
    strings,
    type_name,
    xywh,
)
from storiiies.iiif.descriptive import text_map
from storiiies.iiif.image import (
    has_legacy_service,
    service_from_bare_reference,
    service_from_reference,
)
from storiiies.iiif.model import Canvas, ImageResource, MediaResource
from storiiies.iiif.sanitize import web_url

#: Choices inside SpecificResources inside Choices … deeper than this are junk.
MAX_NESTING = 4
#: Skip warnings list at most this many canvas numbers before saying how many there are in all.
LISTED = 5


@dataclass
class Painted:
    """What one canvas paints: its images, and the types of anything else (Sound, Video …)."""

    images: list[ImageResource] = field(default_factory=list)
    others: list[str] = field(default_factory=list)
    legacy_services: int = 0
    media: list[MediaResource] = field(default_factory=list)
    #: Sound or video offered only as a stream, by name: "HLS (application/vnd.apple.mpegurl)".
    streams: list[str] = field(default_factory=list)

    def only_streamed(self) -> str | None:
        """The streams' names when a stream is all the canvas paints, else None."""
        if self.images or self.media or not self.streams:
            return None
        return ", ".join(dict.fromkeys(self.streams))


def is_image(body: Mapping[str, Any]) -> bool:
    kind = type_name(body)
    if kind is not None:
        return kind == "Image"
    # Untyped bodies are images when their format says so, or when nothing says otherwise.
    media = as_str(body.get("format"))
    return media is None or media.startswith("image/")


def first_image(node: Any, others: list[str], depth: int = 0) -> Mapping[str, Any] | None:
    """The first image among painting bodies, looking inside Choices and SpecificResources.

    For a Choice the first option (P2 `default`, then `item`; P3 `items`) is what viewers show
    first, so it is what a story shows. Other body types are noted in `others` for the warning.
    """
    if depth > MAX_NESTING:
        return None
    for body in as_dicts(node):
        kind = type_name(body)
        if kind == "Choice":
            options = [*as_list(body.get("default")), *as_list(body.get("item"))]
            found = first_image([*options, *as_list(body.get("items"))], others, depth + 1)
        elif kind == "SpecificResource":
            found = first_image(body.get("source") or body.get("full"), others, depth + 1)
        elif is_image(body):
            return body
        else:
            others.append(kind or as_str(body.get("format")) or "unknown")
            continue
        if found is not None:
            return found
    return None


def is_painting(annotation: Mapping[str, Any]) -> bool:
    """Painting annotations, plus those with no motivation at all (early drafts omitted it)."""
    motivations = [m.rsplit(":", 1)[-1] for m in strings(annotation.get("motivation"))]
    return not motivations or "painting" in motivations


def add_image(painted: Painted, body: Mapping[str, Any], target: Any) -> None:
    """Record `body` as an image painted on `target` (a URL, or a SpecificResource)."""
    service_value = body.get("service")
    service = service_from_reference(service_value)
    url = node_id(body)
    if service is None and has_legacy_service(service_value):
        painted.legacy_services += 1
    elif service is None and not _is_address(url):
        # Nothing else to show: a service named only by its id is the image's only way in.
        service = service_from_bare_reference(service_value)
    if url is None and service is None:
        painted.others.append("Image without an id")
        return
    painted.images.append(
        ImageResource(
            url=url,
            width=positive_int(body.get("width")),
            height=positive_int(body.get("height")),
            format=as_str(body.get("format")),
            service=service,
            target=painting_region(target),
        )
    )


def _is_address(url: str | None) -> bool:
    """Whether an image id can be loaded: a web or file URL, or a path relative to the document."""
    if url is None:
        return False
    scheme = urlsplit(url).scheme if ":" in url else ""
    return not scheme or web_url(url, IMAGE_SCHEMES) is not None


def painting_region(target: Any) -> tuple[int, int, int, int] | None:
    """The `#xywh=` region of a painting target, from a URL or a SpecificResource's selector."""
    if isinstance(target, str):
        return xywh(target.partition("#")[2])
    if not isinstance(target, Mapping):
        return None
    for selector in as_dicts(target.get("selector")):
        for key in ("value", "@value"):
            region = xywh(selector.get(key))
            if region:
                return region
    return painting_region(node_id(target))


class Skips:
    """Canvases left out, grouped by reason so a 300-canvas manifest gives one line, not 300."""

    def __init__(self) -> None:
        self.by_reason: dict[str, list[int]] = {}

    def add(self, index: int, reason: str) -> None:
        self.by_reason.setdefault(reason, []).append(index)

    def messages(self) -> list[str]:
        lines = []
        for reason, indexes in self.by_reason.items():
            if len(indexes) == 1:
                lines.append(f"canvas {indexes[0]} has {reason} and was skipped")
                continue
            shown = ", ".join(str(i) for i in indexes[:LISTED])
            more = f" … ({len(indexes)} in all)" if len(indexes) > LISTED else ""
            lines.append(f"canvases {shown}{more} have {reason} and were skipped")
        return lines


def _size(raw: Mapping[str, Any], images: list[ImageResource]) -> tuple[int, int] | None:
    width, height = positive_int(raw.get("width")), positive_int(raw.get("height"))
    if width and height:
        return width, height
    # A canvas without a size takes the size of the first image that declares one.
    for image in images:
        if image.width and image.height:
            return image.width, image.height
        if image.service and image.service.width and image.service.height:
            return image.service.width, image.service.height
    return None


#: Local manifests may paint files next to them; those are never scripts either.
IMAGE_SCHEMES = ("http", "https", "file")


def _resolve(base: str, url: str | None) -> str | None:
    """JSON-LD resolves relative references against the document, as a local manifest's may be."""
    if url is None:
        return None
    try:
        return url if urlsplit(url).scheme else urljoin(base, url)
    except ValueError:  # e.g. a malformed IPv6 host: leave it for the fetch to report
        return url


def assemble_canvas(
    raw: Mapping[str, Any], index: int, painted: Painted, skips: Skips, document_id: str
) -> Canvas | None:
    """The Canvas for `raw` at 1-based `index`, or None (noted in `skips`) if it cannot be shown."""
    if not painted.images and painted.media and canvas_duration(raw):
        return _time_based_canvas(raw, index, painted, document_id)
    streams = painted.only_streamed()
    if streams is not None:
        # A browser's media element cannot play HLS or DASH: the thumbnail stands in, if any.
        still = _thumbnail(raw, document_id)
        if still is None:
            skips.add(index, f"media offered only as {streams}, which storiiies does not play,")
            return None
        painted = Painted(images=[still])
    if not painted.images:
        others = sorted(set(painted.others))
        skips.add(index, f"no image ({', '.join(others)})" if others else "no image")
        return None
    # Image URLs end up in img src; a script or data URL is dropped (the service may remain).
    # An image left with neither would be an empty panel, so it is not shown at all.
    images = tuple(
        image
        for image in (
            replace(image, url=web_url(_resolve(document_id, image.url), IMAGE_SCHEMES))
            for image in painted.images
        )
        if image.url is not None or image.service is not None
    )
    if not images:
        skips.add(index, "an image with no web address and no image service")
        return None
    size = _size(raw, list(images))
    if size is None:
        skips.add(index, "no usable width and height")
        return None
    return Canvas(
        id=node_id(raw) or f"{document_id}#canvas-{index}",
        index=index,
        width=size[0],
        height=size[1],
        label=text_map(raw.get("label")),
        images=images,
        thumbnail=web_url(first_id(raw.get("thumbnail"))),
    )


def _thumbnail(raw: Mapping[str, Any], document_id: str) -> ImageResource | None:
    """The canvas's first thumbnail as an image painted over the whole canvas, when it has a
    web address and the canvas or the thumbnail gives a size."""
    thumbnail = next(iter(as_dicts(raw.get("thumbnail"))), None)
    url = node_id(thumbnail) if thumbnail is not None else as_str(raw.get("thumbnail"))
    url = web_url(_resolve(document_id, url), IMAGE_SCHEMES)
    if url is None:
        return None
    width = positive_int(thumbnail.get("width")) if thumbnail else None
    height = positive_int(thumbnail.get("height")) if thumbnail else None
    image = ImageResource(url=url, width=width, height=height)
    if _size(raw, [image]) is None:
        return None
    return image


def _time_based_canvas(
    raw: Mapping[str, Any], index: int, painted: Painted, document_id: str
) -> Canvas:
    """An audio or video canvas. Its size is the video's (0×0 for sound alone)."""
    media = tuple(
        replace(item, url=_resolve(document_id, item.url) or item.url) for item in painted.media
    )
    width, height = positive_int(raw.get("width")), positive_int(raw.get("height"))
    video = next((m for m in media if m.width and m.height), None)
    if not (width and height) and video is not None:
        width, height = video.width, video.height
    return Canvas(
        id=node_id(raw) or f"{document_id}#canvas-{index}",
        index=index,
        width=width or 0,
        height=height or 0,
        label=text_map(raw.get("label")),
        thumbnail=web_url(first_id(raw.get("thumbnail"))),
        duration=canvas_duration(raw),
        media=media,
        captions=caption_tracks(raw),
    )
