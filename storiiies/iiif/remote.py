"""Reading a remote source, whatever the author pasted: a manifest, a collection member, a
canvas (its manifest found through `partOf`), a content state, or an image service.

`read_remote` fetches what it must and returns the SourceDocument with, when the source named
one canvas, only that canvas (numbered 1), and the region the source singled out, if any.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from storiiies.errors import FetchError, NotIIIF
from storiiies.iiif import content_state
from storiiies.iiif.coerce import as_list, node_id, type_name
from storiiies.iiif.fetch import Fetcher
from storiiies.iiif.fragments import Region
from storiiies.iiif.locate import looks_like_canvas
from storiiies.iiif.model import SourceDocument
from storiiies.iiif.presentation import collection_members, no_manifests_error, read_source_json
from storiiies.iiif.presentation_json import PRESENTATION_CONTEXT

Box = tuple[float, float, float, float]

#: How many content states (each a URL to fetch) one source may pass through before it reaches a
#: manifest, a canvas or an image service. Real ones point straight at their manifest; a longer
#: chain is a mistake or a trap, and a chain that comes back to itself would never end.
MAX_HOPS = 5


def read_remote(
    url: str,
    fetcher: Fetcher,
    *,
    manifest: int | str | None = None,
    canvas: int | str | None = None,
    region: Region | None = None,
    _chain: tuple[str, ...] = (),
) -> tuple[SourceDocument, Box | None]:
    """The document at `url`, narrowed to `canvas`, and `region` in that canvas's pixels.

    `_chain` holds the content states already passed through, to stop loops and long chains.
    """
    try:
        data = fetcher.get_json(url).data
    except (FetchError, NotIIIF) as error:
        if looks_like_canvas(url) and canvas is None:
            raise type(error)(
                f"{error.message}; canvas URIs often cannot be fetched",
                "give the manifest's URL as `url:` and this canvas as `canvas:`",
            ) from None
        raise
    if content_state.is_content_state(data):
        places = content_state.read_places(data)
        if not places or not (places[0].manifest or places[0].canvas):
            raise NotIIIF("the content state points at nothing storiiies can show")
        place = places[0]
        target = place.manifest or place.canvas or url
        chain = (*_chain, url)
        if target.split("#", 1)[0] in chain:
            raise NotIIIF(
                f"the content state at {url} points back at {target}, which leads to it",
                "the references loop; give the manifest's URL instead",
            )
        if len(chain) > MAX_HOPS:
            raise NotIIIF(
                f"{chain[0]} leads through more than {MAX_HOPS} content states",
                "give the manifest's URL instead",
            )
        found = Region(*place.region) if place.region else None
        return read_remote(
            target,
            fetcher,
            manifest=manifest,
            canvas=place.canvas if place.manifest else None,
            region=found or region,
            _chain=chain,
        )
    if type_name(data) == "Canvas" and isinstance(data, Mapping):
        document, canvas = _canvas_document(data, url, fetcher), node_id(data) or url
    elif manifest is not None:
        document = _choose_from_collection(data, url, manifest, fetcher)
    else:
        document = read_source_json(data, url)
    if canvas is not None:
        document = only_canvas(document, canvas)
    return document, _pixels(region, document) if region else None


def _canvas_document(data: Mapping[str, Any], url: str, fetcher: Fetcher) -> SourceDocument:
    parents = [
        node_id(parent)
        for key in ("partOf", "within")  # `within` is Presentation 2's partOf
        for parent in as_list(data.get(key))
        if type_name(parent) in (None, "Manifest") and node_id(parent)
    ]
    if parents and parents[0]:
        return read_source_json(fetcher.get_json(parents[0]).data, parents[0])
    # A canvas that stands alone: read it as a manifest of one canvas.
    wrapper = {
        "@context": PRESENTATION_CONTEXT,
        "id": url,
        "type": "Manifest",
        "items": [dict(data)],
    }
    if "images" in data:  # Presentation 2
        wrapper = {"@type": "sc:Manifest", "@id": url, "sequences": [{"canvases": [dict(data)]}]}
    return replace(read_source_json(wrapper, url), kind="image")


def only_canvas(document: SourceDocument, wanted: int | str) -> SourceDocument:
    """`document` with only the canvas `wanted` (1-based position or id), numbered 1."""
    text = str(wanted).strip()
    if text.isdecimal():
        found = next((c for c in document.canvases if c.index == int(text)), None)
    else:
        found = document.canvas_by_id(text) or document.canvas_by_id(text.split("#", 1)[0])
    if found is None:
        count = max((c.index for c in document.canvases), default=0)
        raise NotIIIF(
            f"the manifest has no canvas {text} (it has {count})",
            "`storiiies inspect URL` lists its canvases with their numbers and ids",
        )
    return replace(document, canvases=(replace(found, index=1),))


def _pixels(region: Region, document: SourceDocument) -> Box:
    canvas = document.canvases[0]
    return region.in_pixels(canvas.width, canvas.height)


def _choose_from_collection(
    data: Any, url: str, wanted: int | str, fetcher: Fetcher
) -> SourceDocument:
    members = collection_members(data)
    if not members and type_name(data) == "Collection":
        raise no_manifests_error(data)
    if not members:
        raise NotIIIF(
            f"{url} is not a IIIF Collection, so `manifest:` does not apply",
            "remove the `manifest:` line",
        )
    text = str(wanted).strip()
    if text.isdecimal():
        index = int(text)
        if not 1 <= index <= len(members):
            raise NotIIIF(
                f"the collection has {len(members)} manifests; there is no manifest {index}",
                f"use a number from 1 to {len(members)}",
            )
        chosen = members[index - 1][0]
    else:
        found = next((member_id for member_id, _ in members if member_id == text), None)
        if found is None:
            raise NotIIIF(
                f"the collection has no manifest {text}",
                "use its 1-based position in the collection or the exact manifest id",
            )
        chosen = found
    return read_source_json(fetcher.get_json(chosen).data, chosen)
