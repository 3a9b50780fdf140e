"""Small pieces of Presentation 3 JSON, shaped so the official schema accepts them.

The schema is stricter than many manifests in the wild: language keys are letters and
hyphens only, `rights` must be an http:// Creative Commons or RightsStatements.org URI, every
id is an http(s) URI, and Image API 2 services keep their `@id`/`@type`. Values read from
sources are normalised here rather than copied, so an export never fails validation because a
source was loose.
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from storiiies.iiif.language import NO_LANGUAGE, pick, pick_lang
from storiiies.iiif.model import Agent, ImageResource, ImageService, LabelValue, LanguageMap
from storiiies.iiif.sanitize import html_value, text_only

PRESENTATION_CONTEXT = "http://iiif.io/api/presentation/3/context.json"

_LANGUAGE_KEY = re.compile(r"^[a-zA-Z-]+$")
_RIGHTS = re.compile(
    r"^https?://(creativecommons\.org/(?:licenses|publicdomain)/|rightsstatements\.org/(?:vocab|page)/)(.+)$",
    re.IGNORECASE,
)


def is_http(url: str | None) -> bool:
    return bool(url) and url.startswith(("http://", "https://"))  # type: ignore[union-attr]


def language_key(lang: str | None) -> str:
    """A language map key the schema accepts: `es-419` becomes `es`, junk becomes `none`."""
    if not lang or lang == NO_LANGUAGE:
        return NO_LANGUAGE
    if _LANGUAGE_KEY.match(lang):
        return lang
    primary = lang.split("-", 1)[0]
    return primary if _LANGUAGE_KEY.match(primary) else NO_LANGUAGE


def text_map(value: str, lang: str | None) -> dict[str, list[str]]:
    return {language_key(lang): [value]}


def language_map(langmap: LanguageMap) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {}
    for lang, values in langmap.items():
        result.setdefault(language_key(lang), []).extend(v for v in values if v)
    return {lang: values for lang, values in result.items() if values}


def picked_map(langmaps: Iterable[LanguageMap], lang: str) -> dict[str, list[str]]:
    """One value per map, in the reader's best language, grouped under the language it is in."""
    result: dict[str, list[str]] = {}
    for langmap in langmaps:
        value = pick(langmap, lang)
        if not value:
            continue
        values = result.setdefault(language_key(pick_lang(langmap, lang)), [])
        if value not in values:
            values.append(value)
    return result


def export_rights(uri: str | None) -> str | None:
    """The schema's form of a rights URI (http, `vocab`), or None when it is not one it allows."""
    match = _RIGHTS.match(uri or "")
    if match is None:
        return None
    host = match.group(1).lower().replace("/page/", "/vocab/")
    path = match.group(2)
    return f"http://{host}{path}" + ("" if path.endswith("/") else "/")


def each(langmap: Mapping[str, list[str]], change: Callable[[str], str]) -> dict[str, list[str]]:
    """`langmap` with `change` applied to every value (text_only for a label, …)."""
    return {lang: [change(v) for v in values] for lang, values in langmap.items()}


def statement(value: LabelValue) -> dict[str, Any]:
    return {
        "label": each(language_map(value.label), text_only),
        "value": each(language_map(value.value), html_value),
    }


def provider(agent: Agent) -> dict[str, Any] | None:
    """A provider Agent; None without an http id (the schema requires one)."""
    if not is_http(agent.id):
        return None
    label = each(language_map(agent.label), text_only)
    result: dict[str, Any] = {"id": agent.id, "type": "Agent", "label": label}
    if not result["label"]:
        result["label"] = {NO_LANGUAGE: [agent.homepage or agent.id]}
    if is_http(agent.homepage):
        result["homepage"] = [
            {"id": agent.homepage, "type": "Text", "label": result["label"], "format": "text/html"}
        ]
    return result


def image_service(service: ImageService) -> dict[str, Any]:
    # Presentation 3 (§5 "service") keeps Image API 2 services in their own JSON-LD style.
    if service.version == 2:
        return {
            "@id": service.id,
            "@type": "ImageService2",
            "profile": f"http://iiif.io/api/image/2/level{service.level}.json",
        }
    return {"id": service.id, "type": "ImageService3", "profile": f"level{service.level}"}


def full_image_url(service: ImageService) -> str:
    size = "max" if service.version == 3 else "full"
    return f"{service.id.rstrip('/')}/full/{size}/0/default.jpg"


def image_format(image: ImageResource) -> str:
    if image.format and "/" in image.format:
        return image.format.lower()
    guessed, _ = mimetypes.guess_type((image.url or "").split("?", 1)[0])
    return guessed if guessed and guessed.startswith("image/") else "image/jpeg"


def painting_body(image: ImageResource) -> dict[str, Any]:
    """The Image a painting annotation paints: the original URL and image service.

    A part of an image (a virtual canvas) is a SpecificResource whose selector cuts the region,
    as the Cookbook's region recipe does: by the Image API when there is a service, else by a
    media fragment.
    """
    service = image.service
    body: dict[str, Any] = {
        "id": image.url
        if is_http(image.url)
        else (full_image_url(service) if service else image.url),
        "type": "Image",
        "format": image_format(image) if image.url or service is None else "image/jpeg",
    }
    width = image.width or (service.width if service else None)
    height = image.height or (service.height if service else None)
    if width and height:
        body["width"], body["height"] = width, height
    if service is not None:
        body["service"] = [image_service(service)]
    if image.region is None:
        return body
    region = ",".join(str(n) for n in image.region)
    selector = (
        {"type": "ImageApiSelector", "region": region}
        if service is not None
        else {
            "type": "FragmentSelector",
            "conformsTo": "http://www.w3.org/TR/media-frags/",
            "value": f"xywh={region}",
        }
    )
    return {"type": "SpecificResource", "source": body, "selector": selector}


def xywh(box: Iterable[float]) -> str:
    return ",".join(str(round(n)) for n in box)


def fragment_target(resource_id: str, box: Iterable[float] | None) -> Any:
    """`id#xywh=…`, or a SpecificResource with a FragmentSelector when `id` has a fragment."""
    if box is None:
        return resource_id
    fragment = "xywh=" + xywh(box)
    if "#" in resource_id:
        return {
            "type": "SpecificResource",
            "source": resource_id,
            "selector": {
                "type": "FragmentSelector",
                "conformsTo": "http://www.w3.org/TR/media-frags/",
                "value": fragment,
            },
        }
    return f"{resource_id}#{fragment}"


def merged_statement(values: Iterable[LabelValue], lang: str) -> dict[str, Any] | None:
    value = picked_map((v.value for v in values), lang)
    if not value:
        return None
    return {"label": {"en": ["Attribution"]}, "value": each(value, html_value)}


def distinct(items: Iterable[Mapping[str, Any] | None]) -> list[Mapping[str, Any]]:
    seen: set[str] = set()
    result = []
    for item in items:
        if item is None or item["id"] in seen:
            continue
        seen.add(item["id"])
        result.append(item)
    return result
