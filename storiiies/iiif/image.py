"""Image API services: a fetched info.json, or a `service` reference embedded in a manifest."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

from storiiies.errors import NotIIIF
from storiiies.iiif.coerce import as_dicts, as_str, positive_int, strings, type_name
from storiiies.iiif.model import ImageService
from storiiies.iiif.sanitize import web_url

ImageApiVersion = Literal[1, 2, 3]

_CONTEXT = re.compile(r"iiif\.io/api/image/([123])\b")
_PROFILE_URI = re.compile(r"iiif\.io/api/image/([123])/|image-api/(1)\b")
_BARE_LEVEL = re.compile(r"level[0-2]")
_LEVEL = re.compile(r"level\s*([0-2])")
#: Declared by every Image API 2 and 3 info.json.
IMAGE_PROTOCOL = "http://iiif.io/api/image"


def image_api_version(node: Any) -> ImageApiVersion | None:
    """Which Image API a service object or info.json speaks, or None if it is no image service.

    The declared type wins over the context, and the context over the profile: a few real
    manifests pair an `ImageService3` type with a version 2 profile URI, and the type is right.
    """
    if not isinstance(node, Mapping):
        return None
    kind = type_name(node)
    if kind in ("ImageService1", "ImageService2", "ImageService3"):
        return _version(int(kind[-1]))
    for context in strings(node.get("@context")):
        match = _CONTEXT.search(context)
        if match:
            return _version(int(match.group(1)))
    for profile in strings(node.get("profile")):
        match = _PROFILE_URI.search(profile)
        if match:
            return _version(int(match.group(1) or match.group(2)))
        if _BARE_LEVEL.fullmatch(profile):
            return _by_id_style(node)  # "level2" alone is how Image API 3 writes a profile
    if node.get("protocol") == IMAGE_PROTOCOL:
        return _by_id_style(node)
    return None


def _version(number: int) -> ImageApiVersion | None:
    if number == 1:
        return 1
    if number == 2:
        return 2
    if number == 3:
        return 3
    return None


def _by_id_style(node: Mapping[str, Any]) -> ImageApiVersion:
    return 2 if "@id" in node and "id" not in node else 3


def compliance_level(node: Mapping[str, Any]) -> int:
    """The compliance level (0–2) named by the profile; 0, the safe assumption, when unstated."""
    for profile in strings(node.get("profile")):
        match = _LEVEL.search(profile)
        if match:
            return int(match.group(1))
    return 0


def _service_id(node: Mapping[str, Any], version: ImageApiVersion) -> str | None:
    keys = ("@id", "id") if version == 2 else ("id", "@id")
    for key in keys:
        found = web_url(as_str(node.get(key)))  # it ends up in img src and viewer requests
        if found:
            # Some servers list the info.json URL itself as the id; the id is its base.
            return found[: -len("/info.json")] if found.endswith("/info.json") else found
    return None


def read_image_service(data: Any, url: str | None = None) -> ImageService:
    """Read a fetched Image API 2 or 3 info.json. Raises NotIIIF saying why it is not one."""
    if not isinstance(data, Mapping):
        raise NotIIIF("info.json is not a JSON object")
    version = image_api_version(data)
    if version is None:
        raise NotIIIF("JSON is not an Image API info.json (no image @context, profile or type)")
    if version == 1:
        raise NotIIIF(
            "this is an Image API 1 info.json; storiiies reads Image API 2 and 3",
            hint="ask the image server for its Image API 2 or 3 endpoint",
        )
    width, height = positive_int(data.get("width")), positive_int(data.get("height"))
    if width is None or height is None:
        raise NotIIIF("info.json has no positive width and height")
    service_id = _service_id(data, version)
    if service_id is None and url and url.rstrip("/").endswith("/info.json"):
        service_id = url.rstrip("/")[: -len("/info.json")]
    if service_id is None:
        raise NotIIIF(
            "info.json has no id", hint="give the URL of the info.json itself, ending in /info.json"
        )
    return ImageService(
        id=service_id,
        version=version,
        level=compliance_level(data),
        width=width,
        height=height,
        info=dict(data),
    )


def service_from_reference(service: Any) -> ImageService | None:
    """The first Image API 2 or 3 service in a manifest's `service` property, or None.

    `service` may be one object or a list mixing image, search and auth services. Width and
    height are kept when the manifest embeds them; `info` stays None until the info.json is fetched.
    """
    for node in as_dicts(service):
        version = image_api_version(node)
        if version is None or version == 1:
            continue
        service_id = _service_id(node, version)
        if service_id is None:
            continue
        return ImageService(
            id=service_id,
            version=version,
            level=compliance_level(node),
            width=positive_int(node.get("width")),
            height=positive_int(node.get("height")),
        )
    return None


def has_legacy_service(service: Any) -> bool:
    """True when `service` offers only Image API 1, which storiiies does not read."""
    versions = {image_api_version(node) for node in as_dicts(service)}
    return 1 in versions and not versions & {2, 3}
