"""MIRROR: find the remote images a site shows, read their services, and describe the local
level-0 copy of each (its folder name, its Grid and the info.json the bundle will serve).

A remote image service becomes a level-0 Image API 3 tree with the same tiles, so the
viewer asks for exactly the tiles it would have asked the institution for; a plain image
without a service is downloaded once and tiled like a local image.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from storiiies.bundle.grid import Grid, UnusableService, read_grid
from storiiies.bundle.plan import overview_levels, scaled_size
from storiiies.errors import Problem, SourceError, SourceLocation
from storiiies.iiif.fetch import Fetcher
from storiiies.iiif.model import ImageResource, SourceDocument
from storiiies.iiif.presentation_json import export_rights, is_http
from storiiies.resolve.virtual import image_address
from storiiies.site.assemble import Site

IMAGE_CONTEXT = "http://iiif.io/api/image/3/context.json"


@dataclass(frozen=True)
class RemoteImage:
    """One remote image to copy, with every source that shows it (for provenance and rights)."""

    key: str  # its folder under images/: mirror-<hash of its address>
    image: ImageResource
    sources: tuple[SourceDocument, ...]
    story: str  # the story file that first shows it, for messages

    @property
    def address(self) -> str:
        service = self.image.service
        return service.info_url if service is not None else str(self.image.url)


@dataclass(frozen=True)
class Mirror:
    """A remote image service and its local copy: `remote` gives the URLs to fetch, `local`
    the paths to store them under, `info` the local info.json."""

    image: RemoteImage
    remote: Grid
    local: Grid
    info: Mapping[str, Any]


def mirror_key(address: str) -> str:
    return "mirror-" + hashlib.sha256(address.encode()).hexdigest()[:16]


def remote_images(site: Site) -> dict[str, RemoteImage]:
    """Every image of a remote source that a tour page shows, once, by key."""
    found: dict[str, RemoteImage] = {}
    for story in site.story_versions:  # translations may declare remote sources of their own
        views = [story.cover] + [v for step in story.steps for v in (*step.views, *step.links)]
        for view in views:
            source = story.sources[view.alias]
            if source.kind == "local-image":
                continue
            local = {image.name for image in story.local_images}
            for image in view.canvas.images:
                address = image.service.info_url if image.service is not None else image.url
                if not address or not is_http(address):
                    continue
                if image.service is not None and image.service.id.rsplit("/", 1)[-1] in local:
                    continue  # a local image's part on a virtual canvas: the site serves it
                # A virtual canvas's image is credited to the source its part comes from.
                owner = _part_source(image, source) if source.kind == "virtual" else source
                key = mirror_key(address)
                known = found.get(key)
                if known is None:
                    found[key] = RemoteImage(key, image, (owner,), story.source.name)
                elif all(s.id != owner.id for s in known.sources):
                    found[key] = replace(known, sources=(*known.sources, owner))
    return found


def _part_source(image: ImageResource, virtual: SourceDocument) -> SourceDocument:
    for part in virtual.parts:
        for canvas in part.canvases:
            if any(image_address(own) == image_address(image) for own in canvas.images):
                return part
    return virtual


def read_mirrors(
    images: Mapping[str, RemoteImage], fetcher: Fetcher, base_url: str
) -> tuple[dict[str, Mirror], list[Problem]]:
    """The Grid of each remote image service (its info.json is fetched unless already read)."""
    mirrors: dict[str, Mirror] = {}
    problems: list[Problem] = []
    for key, remote in images.items():
        service = remote.image.service
        if service is None:
            continue
        try:
            info = (
                service.info
                if service.info is not None
                else fetcher.get_json(service.info_url).data
            )
            if not isinstance(info, Mapping):
                raise UnusableService("the info.json is not a JSON object")
            grid = read_grid(info)
        except SourceError as error:
            problems.append(
                Problem(
                    SourceLocation(remote.story),
                    f"cannot mirror {service.info_url}: {error.message}",
                    error.hint,
                )
            )
            continue
        except UnusableService as error:
            problems.append(
                Problem(SourceLocation(remote.story), f"cannot mirror {service.info_url}: {error}")
            )
            continue
        local = local_info(grid, remote, f"{base_url}images/{key}")
        mirrors[key] = Mirror(remote, grid, read_grid(local), local)
    return mirrors, problems


def local_info(grid: Grid, remote: RemoteImage, image_id: str) -> dict[str, Any]:
    """The level-0 Image API 3 info.json of the copy: the remote's tiles (so the viewer cuts
    the same grid), the overview sizes the bundle makes, and links to the original."""
    info: dict[str, Any] = {
        "@context": IMAGE_CONTEXT,
        "id": image_id,
        "type": "ImageService3",
        "protocol": "http://iiif.io/api/image",
        "profile": "level0",
        "width": grid.width,
        "height": grid.height,
    }
    if grid.legacy is not None:
        info["sizes"] = [{"width": w, "height": h} for w, h in grid.legacy]
    else:
        info["sizes"] = [{"width": w, "height": h} for w, h in overview_sizes(grid)]
        info["tiles"] = _tiles(grid)
    info["seeAlso"] = [
        {
            "id": remote.address,
            "type": "Dataset",
            "label": {"en": ["The original image service"]},
            "format": "application/ld+json",
            "profile": f"http://iiif.io/api/image/{grid.version}/context.json",
        }
    ]
    manifests = [s.id for s in remote.sources if s.kind == "manifest" and is_http(s.id)]
    if manifests:
        info["partOf"] = [{"id": manifest, "type": "Manifest"} for manifest in manifests]
    rights = next((r for s in remote.sources if (r := export_rights(s.rights))), None)
    if rights:
        info["rights"] = rights
    return info


def overview_sizes(grid: Grid) -> list[tuple[int, int]]:
    """The whole-image sizes the copy offers: its overview levels, made from their tiles."""
    return sorted({scaled_size(grid, level) for level in overview_levels(grid)})


def _tiles(grid: Grid) -> list[dict[str, Any]]:
    factors = (
        sorted(grid.advertised) if grid.advertised else [2**n for n in range(grid.max_level + 1)]
    )
    by_size: dict[tuple[int, int], list[int]] = {}
    for factor in factors:
        by_size.setdefault(grid.tile_by_factor.get(factor, grid.tile), []).append(factor)
    return [{"width": w, "height": h, "scaleFactors": f} for (w, h), f in by_size.items()]


def tree_path(cache_dir: Path, key: str) -> Path:
    return cache_dir / "mirror" / key
