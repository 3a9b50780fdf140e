"""Site → Site: the same site, with every mirrored remote image served from the site itself.

Each mirrored image keeps its canvas, placement and source (so credits, rights and the
exported manifest's `partOf` stay as they were), but its image service becomes the local
level-0 copy under images/, and the copy is listed among the story's local images. The
normal render and write code then produces the bundle: tour pages load the copy, the text
version and index show crops cut from it, and manifests point at it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from storiiies.bundle.mirror import Mirror, mirror_key, overview_sizes
from storiiies.iiif.model import Canvas, ImageResource, ImageService
from storiiies.model import LocalImage, Story, View
from storiiies.site.assemble import Site


def localize_site(
    site: Site,
    mirrors: Mapping[str, Mirror],
    downloads: Mapping[str, LocalImage],
    trees: Mapping[str, Path],
) -> tuple[Site, dict[int, str]]:
    """The site with mirrored images swapped in, and the mirror key of each new ImageResource
    (by `id()`), for the plan. `downloads` are plain remote images fetched whole, by key;
    `trees` the folder of each mirror's tiles."""
    base = site.base_url
    keys: dict[int, str] = {}
    canvases: dict[int, Canvas] = {}

    def local_image(image: ImageResource) -> tuple[ImageResource, LocalImage | None]:
        address = image.service.info_url if image.service is not None else image.url
        key = mirror_key(address) if address else None
        if key is None:
            return image, None
        if key in mirrors:
            mirror = mirrors[key]
            grid = mirror.local
            service = ImageService(
                f"{base}images/{key}", 3, 0, grid.width, grid.height, info=mirror.info
            )
            largest = (grid.legacy or overview_sizes(grid))[-1]
            new = replace(
                image,
                url=f"{service.id}/full/{largest[0]},{largest[1]}/0/default.jpg",
                width=grid.width,
                height=grid.height,
                format="image/jpeg",
                service=service,
                region=_rescaled(image, grid.width, grid.height),
            )
            keys[id(new)] = key
            return new, LocalImage(trees[key], key, 0, grid.width, grid.height, info=mirror.info)
        if key in downloads:
            file = downloads[key]
            service = ImageService(f"{base}images/{key}", 3, 0, file.width, file.height)
            return replace(
                image,
                url=None,
                width=file.width,
                height=file.height,
                format="image/jpeg",
                service=service,
                region=_rescaled(image, file.width, file.height),
            ), file
        return image, None

    def story_copy(story: Story) -> Story:
        used: dict[str, LocalImage] = {image.name: image for image in story.local_images}

        def canvas_copy(canvas: Canvas) -> Canvas:
            if id(canvas) not in canvases:
                images = []
                for image in canvas.images:
                    new, local = local_image(image)
                    images.append(new)
                    if local is not None:
                        used.setdefault(local.name, local)
                changed = any(a is not b for a, b in zip(images, canvas.images, strict=True))
                # A remote thumbnail would be fetched by other viewers; the copy's sizes replace it.
                canvases[id(canvas)] = (
                    replace(canvas, images=tuple(images), thumbnail=None) if changed else canvas
                )
            copy = canvases[id(canvas)]
            for image in copy.images:
                if image.service is not None and image.service.id.startswith(
                    f"{base}images/mirror-"
                ):
                    name = image.service.id.rsplit("/", 1)[-1]
                    if name in mirrors:
                        used.setdefault(
                            name,
                            LocalImage(
                                trees[name],
                                name,
                                0,
                                image.service.width or 0,
                                image.service.height or 0,
                                info=mirrors[name].info,
                            ),
                        )
                    elif name in downloads:
                        used.setdefault(name, downloads[name])
            return copy

        def view_copy(view: View) -> View:
            return replace(view, canvas=canvas_copy(view.canvas))

        sources = {
            alias: replace(document, canvases=tuple(canvas_copy(c) for c in document.canvases))
            for alias, document in story.sources.items()
        }
        steps = tuple(
            replace(
                step,
                views=tuple(map(view_copy, step.views)),
                links=tuple(map(view_copy, step.links)),
            )
            for step in story.steps
        )
        return replace(
            story,
            cover=view_copy(story.cover),
            steps=steps,
            sources=sources,
            local_images=tuple(used.values()),
        )

    # A translation (`coins.fr.md`) shows the same remote images: it gets the same copies.
    stories = tuple(
        replace(story_copy(story), translations=tuple(map(story_copy, story.translations)))
        for story in site.stories
    )
    return replace(site, stories=stories), keys


def _rescaled(image: ImageResource, width: int, height: int) -> tuple[int, int, int, int] | None:
    """A part's region (a virtual canvas) in the pixels of the copy, if its size differs."""
    if image.region is None or not image.width or not image.height:
        return image.region
    sx, sy = width / image.width, height / image.height
    x, y, w, h = image.region
    return round(x * sx), round(y * sy), round(w * sx), round(h * sy)
