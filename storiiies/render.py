"""RENDER: Site + Theme → the files of the built site. Pure: templates in, bytes out.

The preview server calls `render_page` for one page; `build` calls `render_site` for all.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import jinja2
from markupsafe import Markup

from storiiies import __version__
from storiiies.iiif.export import collection, story_manifest, tour_data
from storiiies.iiif.language import pick
from storiiies.images import crop_url, is_local, tile_source
from storiiies.model import OutputFile, Story, View
from storiiies.rights import rights_name
from storiiies.site import Site

THUMB_WIDTH = 480
TEXT_WIDTH = 900
SOCIAL_WIDTH = 1200  # link previews, and the kiosk's attract loop


@dataclass(frozen=True)
class Credit:
    alias: str
    label: str
    kind: str
    link: str | None
    providers: tuple[str, ...]
    statement_label: str
    statement: Markup | None
    rights: str | None
    rights_name: str | None


def to_json(data: Any) -> str:
    """Canonical JSON, so the same input always gives byte-identical output."""
    return json.dumps(data, ensure_ascii=False, sort_keys=True, indent=2) + "\n"


def _script_json(data: Any) -> Markup:
    # `</` cannot end the script element early once escaped; JSON parsers read `<\/` as `</`.
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return Markup(text.replace("</", "<\\/").replace("<!--", "<\\!--"))


def credits(story: Story) -> list[Credit]:
    result = []
    for alias, document in story.sources.items():
        statement = document.required_statement
        result.append(
            Credit(
                alias=alias,
                label=pick(document.label, story.lang) or alias,
                kind=document.kind,
                link=document.homepage or (document.id if document.id.startswith("http") else None),
                providers=tuple(pick(agent.label, story.lang) for agent in document.providers),
                statement_label=pick(statement.label, story.lang) if statement else "",
                # values were cleaned to the Presentation API's HTML subset when read
                statement=Markup(pick(statement.value, story.lang)) if statement else None,
                rights=document.rights,
                rights_name=rights_name(document.rights),
            )
        )
    return result


def _view_data(view: View, keys: dict[str, str]) -> dict[str, Any]:
    return {"canvas": keys[view.canvas.id], "region": list(view.region) if view.region else None, "alt": view.alt}


def story_data(story: Story, site: Site) -> dict[str, Any]:
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
            if is_local(view, story) and image.service is not None:
                name = image.service.id.rstrip("/").rsplit("/", 1)[-1]
                local = f"images/{name}" if name in local_names else None
            placement = image.target or (0, 0, canvas.width, canvas.height)
            images.append({"source": tile_source(image, local), "place": list(placement)})
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
        }
    steps = [{"number": 0, "title": story.title, "views": [_view_data(story.cover, keys)], "links": []}]
    for step in story.steps:
        steps.append(
            {
                "number": step.number,
                "title": step.title,
                "views": [_view_data(v, keys) for v in step.views],
                "links": [_view_data(v, keys) for v in step.links],
            }
        )
    return {
        "slug": story.slug,
        "title": story.title,
        "lang": story.lang,
        "canvases": canvases,
        "steps": steps,
        "iiif": tour_data(story, site.base_url, keys),
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
    return data


def first_region(story: Story) -> View:
    """The view a link preview shows: the first step's first region (the cover if none)."""
    for step in story.steps:
        if step.views:
            return step.views[0]
    return story.cover


def crop_size(view: View, story: Story, width: int) -> tuple[int, int]:
    """The pixel size of the crop that `crop_url` names (local crops are never enlarged)."""
    _, _, w, h = view.box
    shown = min(width, max(1, round(w))) if is_local(view, story) else width
    return shown, max(1, round(shown * h / w))


class Renderer:
    def __init__(self, site: Site, env: jinja2.Environment, *, live: bool | str = False) -> None:
        # `live` is falsy for a static build; `serve` passes the version of the site it shows,
        # which the page's reload script compares with the server's.
        self.site = site
        self.env = env
        self.live = live

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
        return self.env.get_template("index.html").render(
            **self.common(""),
            thumbs=thumbs,
            lang=self.site.config.settings.language,
            kiosk_json=_script_json(kiosk),
            page_url=self.site.base_url,
        )

    def story(self, story: Story, template: str = "story.html") -> str:
        root = "../"
        page_url = f"{self.site.base_url}{story.slug}/"
        social = first_region(story)
        return self.env.get_template(template).render(
            **self.common(root),
            story=story,
            lang=story.lang,
            data=_script_json(story_data(story, self.site)),
            kiosk_json=_script_json(kiosk_data(self.site, story)),
            credits=credits(story),
            crop=lambda view, width=TEXT_WIDTH: crop_url(view, story, width, root),
            crop_size=lambda view, width=TEXT_WIDTH: crop_size(view, story, width),
            cover_image=crop_url(story.cover, story, SOCIAL_WIDTH, root),
            social_image=crop_url(social, story, SOCIAL_WIDTH, self.site.base_url),
            social_alt=social.alt,
            social_size=crop_size(social, story, SOCIAL_WIDTH),
            page_url=page_url,
            embed_url=page_url + "embed.html",
        )


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
    if wanted("collection.json"):
        data = collection(list(site.stories), site.base_url, site.config.settings.title, site.config.settings.language)
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
            yield OutputFile(prefix + "manifest.json", to_json(story_manifest(story, site.base_url)).encode())
