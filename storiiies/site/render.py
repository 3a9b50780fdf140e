"""RENDER: Site + Theme → the files of the built site. Pure: templates in, bytes out.

The preview server calls `render_page` for one page; `build` calls `render_site` for all.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import jinja2
from markupsafe import Markup

from storiiies import __version__
from storiiies.iiif.language import pick
from storiiies.images.pyramid import pyramid_levels, tile_file
from storiiies.images.tiles import TILE_SIZE
from storiiies.model import OutputFile, Story, View
from storiiies.site.assemble import Site
from storiiies.site.credits import (
    CREDITS_PAGE,
    CREDITS_TEXT,
    credits,
    credits_text,
    site_credits,
    source_link,
)
from storiiies.site.image_urls import (
    SOCIAL_WIDTH,
    TEXT_WIDTH,
    THUMB_WIDTH,
    crop_size,
    crop_url,
    first_region,
    tile_source,
)
from storiiies.site.manifest import collection, story_manifest, tour_data
from storiiies.site.media import canvas_media_data, media_seconds, narration_data
from storiiies.site.search import SEARCH_FILE, search_index, site_tags
from storiiies.site.themes import page_strings
from storiiies.story.translations import language_links, shown_version

#: The file each story template writes, in the story's folder.
PAGE_FILES = {"story.html": "", "text.html": "text.html", "embed.html": "embed.html"}


def to_json(data: Any) -> str:
    """Canonical JSON, so the same input always gives byte-identical output."""
    return json.dumps(data, ensure_ascii=False, sort_keys=True, indent=2) + "\n"


#: What the HTML tokenizer reads inside a script element, as JSON escapes: without `<` no
#: `</script` can end the element early and no `<!--` can switch it into the "script data
#: escaped" states (https://html.spec.whatwg.org/#script-data-less-than-sign-state); `>` and `&`
#: go too, as Jinja's `tojson` does, so the text means the same in any context.
_SCRIPT_ESCAPES = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})


def _script_json(data: Any) -> Markup:
    """`data` as JSON to put inside a `<script type="application/json">` element: valid JSON
    that `JSON.parse` reads back exactly, whatever the strings in it hold."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return Markup(text.translate(_SCRIPT_ESCAPES))


def _view_data(view: View, keys: dict[str, str]) -> dict[str, Any]:
    data = {
        "canvas": keys[view.canvas.id],
        "region": list(view.region) if view.region else None,
        "alt": view.alt,
    }
    if view.time is not None:
        data["time"] = list(view.time)
    return data


def first_local_infos(data: dict[str, Any]) -> list[str]:
    """The site-relative info.json of each local image the title slide shows: the page
    preloads them, so the first tile need not wait for the scripts to ask."""
    infos = []
    for view in data["steps"][0]["views"]:
        for image in data["canvases"][view["canvas"]]["images"]:
            if image["source"]["kind"] == "local" and image["source"]["info"] not in infos:
                infos.append(image["source"]["info"])
    return infos


def first_local_tiles(data: dict[str, Any], story: Story) -> list[str]:
    """The site-relative tile OpenSeadragon asks for first of each local image the title slide
    shows: the top of its pyramid, the whole image in one tile. The page preloads it with the
    info.json, so it arrives while the scripts load rather than a round trip after them."""
    tiled_here = {image.name: image for image in story.local_images if image.info is None}
    tiles = []
    for info in first_local_infos(data):
        image = tiled_here.get(info.rsplit("/", 2)[-2])  # images/<name>/info.json
        if image is not None:
            top = pyramid_levels(image.width, image.height, TILE_SIZE)[-1]
            tile = tile_file(top, 0, 0, TILE_SIZE, image.width, image.height)
            tiles.append(f"images/{image.name}/{tile}")
    return tiles


def story_data(story: Story, site: Site, original: Story | None = None) -> dict[str, Any]:
    """Everything the tour script needs, embedded in the page as JSON."""
    keys: dict[str, str] = {}
    canvases: dict[str, Any] = {}
    local_names = {image.name for image in story.local_images}
    views = [story.cover] + [v for step in story.steps for v in (*step.views, *step.links)]
    for view in views:
        canvas = view.canvas
        if canvas.id in keys:
            continue
        key = f"c{len(keys) + 1}"
        keys[canvas.id] = key
        images = []
        for image in canvas.images:
            local = None
            if image.service is not None:  # each image on its own: a virtual canvas mixes them
                name = image.service.id.rstrip("/").rsplit("/", 1)[-1]
                local = f"images/{name}" if name in local_names else None
            placement = image.target or (0, 0, canvas.width, canvas.height)
            shown: dict[str, Any] = {
                "source": tile_source(image, local),
                "place": list(placement),
            }
            if image.region is not None and image.width:
                # A part of the image (a virtual canvas): `clip` in pixels of an image
                # `imageWidth` wide, painted at `place`.
                shown["clip"], shown["imageWidth"] = list(image.region), image.width
            images.append(shown)
        document = story.sources[view.alias]
        canvases[key] = {
            # How the author names this canvas (the region picker of `serve` writes references)
            "alias": view.alias,
            "index": canvas.index,
            "ref": view.alias if len(document.canvases) == 1 else f"{view.alias}/{canvas.index}",
            "width": canvas.width,
            "height": canvas.height,
            "label": pick(canvas.label, story.lang),
            "images": images,
            # Named in the panel if the image cannot be loaded in the reader's browser.
            "credit": {
                "label": pick(document.label, story.lang) or view.alias,
                "link": source_link(document),
            },
            **canvas_media_data(canvas),
        }
    steps = [
        {"number": 0, "title": story.title, "views": [_view_data(story.cover, keys)], "links": []}
    ]
    for step in story.steps:
        steps.append(
            {
                "number": step.number,
                "title": step.title,
                "views": [_view_data(v, keys) for v in step.views],
                "links": [_view_data(v, keys) for v in step.links],
                "narration": narration_data(step.narration),
            }
        )
    return {
        "slug": story.slug,
        "title": story.title,
        "lang": story.lang,
        "canvases": canvases,
        "steps": steps,
        "iiif": tour_data(story, site.base_url, keys, original),
    }


def kiosk_data(site: Site, story: Story | None = None) -> dict[str, Any]:
    """Kiosk timing for the page scripts: the site's settings, with a story's own on top."""
    kiosk = site.config.settings.kiosk
    data: dict[str, Any] = {
        "enabled": kiosk.enabled,
        "autoplay": kiosk.autoplay,
        "idleSeconds": kiosk.idle_seconds,
        "attract": kiosk.attract,
        "attractSeconds": kiosk.attract_seconds,
    }
    if story is not None:
        own = story.meta.kiosk
        data["stepSeconds"] = own.step_seconds or kiosk.step_seconds
        durations = sorted(own.durations.items())
        data["durations"] = {str(number): seconds for number, seconds in durations}
        # A step with sound lasts at least as long as the sound (plus a short pause).
        if sound := media_seconds(story):
            data["mediaSeconds"] = sound
    return data


class Renderer:
    def __init__(self, site: Site, env: jinja2.Environment, *, live: bool | str = False) -> None:
        # `live` is falsy for a static build; `serve` passes the version of the site it shows,
        # which the page's reload script compares with the server's.
        self.site = site
        self.env = env
        self.live = live
        # What a story's pages share (tour data, kiosk timing, credits), made once for its
        # pages, which render one after another: the last story's, known by identity.
        self._shared: tuple[Story, Story, str, dict[str, Any]] | None = None

    def common(self, root: str) -> dict[str, Any]:
        settings = self.site.config.settings
        return {
            "site": settings,
            "root": root,
            "stories": self.site.stories,
            "live": self.live,
            "version": __version__,
            "assets": root + "assets/",
            "kiosk": settings.kiosk,
            "credits_page": root + CREDITS_PAGE,
        }

    def index(self) -> str:
        stories = self.site.stories
        thumbs = {s.slug: crop_url(s.cover, s, THUMB_WIDTH, "") for s in stories}
        kiosk = kiosk_data(self.site)
        # The kiosk's attract loop shows each story's cover, large: site files, so it runs offline.
        kiosk["stories"] = [
            {
                "url": f"{s.slug}/",
                "title": s.title,
                "image": crop_url(s.cover, s, SOCIAL_WIDTH, ""),
                "alt": s.cover.alt,
            }
            for s in stories
            if s.meta.kiosk.attract
        ]
        settings_lang = self.site.config.settings.language
        return self.env.get_template("index.html").render(
            **self.common(""),
            thumbs=thumbs,
            shown_versions={s.slug: shown_version(s, settings_lang) for s in stories},
            lang=self.site.config.settings.language,
            s=page_strings(self.env, self.site.config.settings.language),
            kiosk_json=_script_json(kiosk),
            page_url=self.site.base_url,
            tags=site_tags(self.site),
            search_url=SEARCH_FILE,
        )

    def credits_page(self) -> str:
        return self.env.get_template("site-credits.html").render(
            **self.common(""),
            lang=self.site.config.settings.language,
            s=page_strings(self.env, self.site.config.settings.language),
            entries=site_credits(self.site),
            text_url=CREDITS_TEXT,
            page_url=self.site.base_url + CREDITS_PAGE,
        )

    def story(
        self, story: Story, template: str = "story.html", original: Story | None = None
    ) -> str:
        """A page of `story`; a translation's `original` gives its manifest and languages."""
        original = original or story
        root = "../" * (story.slug.count("/") + 1)
        page_url = f"{self.site.base_url}{story.slug}/"
        social = first_region(story)
        strings: Any = self.env.globals["theme_strings"]
        languages = language_links(
            original,
            story,
            base_url=self.site.base_url,
            root=root,
            page_file=PAGE_FILES.get(template, ""),
            name_of=strings.language_name,
        )
        return self.env.get_template(template).render(
            **self.common(root),
            **self._story_shared(story, original, root),
            story=story,
            lang=story.lang,
            s=page_strings(self.env, story.lang),
            language_versions=languages,
            manifest_href=f"{root}{original.slug}/manifest.json",
            crop=lambda view, width=TEXT_WIDTH: crop_url(view, story, width, root),
            crop_size=lambda view, width=TEXT_WIDTH: crop_size(view, story, width),
            cover_image=crop_url(story.cover, story, SOCIAL_WIDTH, root),
            social_image=crop_url(social, story, SOCIAL_WIDTH, self.site.base_url),
            social_alt=social.alt,
            social_size=crop_size(social, story, SOCIAL_WIDTH),
            page_url=page_url,
            embed_url=page_url + "embed.html",
        )

    def _story_shared(self, story: Story, original: Story, root: str) -> dict[str, Any]:
        last = self._shared
        if last is None or not (last[0] is story and last[1] is original and last[2] == root):
            data = story_data(story, self.site, original)
            shared = {
                "data": _script_json(data),
                "preload_info": [root + info for info in first_local_infos(data)],
                "preload_tiles": [root + tile for tile in first_local_tiles(data, story)],
                "kiosk_json": _script_json(kiosk_data(self.site, story)),
                "credits": credits(story),
            }
            self._shared = last = (story, original, root, shared)
        return last[3]


def render_page(
    site: Site, env: jinja2.Environment, path: str, *, live: bool | str = False
) -> OutputFile | None:
    """Render the one page at site-relative `path` (for the preview server); None if unknown."""
    for output in render_site(site, env, live=live, only=path):
        return output
    return None


def render_site(
    site: Site, env: jinja2.Environment, *, live: bool | str = False, only: str | None = None
) -> Iterator[OutputFile]:
    renderer = Renderer(site, env, live=live)

    def wanted(path: str) -> bool:
        return only is None or only == path

    if wanted("index.html"):
        yield OutputFile("index.html", renderer.index().encode())
    if wanted(CREDITS_PAGE):
        yield OutputFile(CREDITS_PAGE, renderer.credits_page().encode())
    if wanted(CREDITS_TEXT):
        yield OutputFile(CREDITS_TEXT, credits_text(site).encode())
    if wanted(SEARCH_FILE):
        yield OutputFile(SEARCH_FILE, to_json(search_index(site)).encode())
    if wanted("collection.json"):
        data = collection(
            list(site.stories),
            site.base_url,
            site.config.settings.title,
            site.config.settings.language,
        )
        yield OutputFile("collection.json", to_json(data).encode())
    for story in site.stories:
        prefix = f"{story.slug}/"
        if wanted(prefix + "index.html"):
            yield OutputFile(prefix + "index.html", renderer.story(story).encode())
        if wanted(prefix + "text.html"):
            yield OutputFile(prefix + "text.html", renderer.story(story, "text.html").encode())
        if wanted(prefix + "embed.html"):
            yield OutputFile(prefix + "embed.html", renderer.story(story, "embed.html").encode())
        if wanted(prefix + "manifest.json"):
            yield OutputFile(
                prefix + "manifest.json", to_json(story_manifest(story, site.base_url)).encode()
            )
        for translation in story.translations:  # `<slug>/<language>/`, sharing the one manifest
            for template, name in PAGE_FILES.items():
                path = f"{translation.slug}/{name or 'index.html'}"
                if wanted(path):
                    yield OutputFile(path, renderer.story(translation, template, story).encode())
