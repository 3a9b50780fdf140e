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
from storiiies.iiif.export import collection, story_manifest
from storiiies.iiif.language import pick
from storiiies.images import crop_url, is_local, tile_source
from storiiies.model import OutputFile, Story, View
from storiiies.rights import rights_name
from storiiies.site import Site

THUMB_WIDTH = 480
TEXT_WIDTH = 900


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
        canvases[key] = {
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
    kiosk = site.config.settings.kiosk
    return {
        "slug": story.slug,
        "title": story.title,
        "lang": story.lang,
        "canvases": canvases,
        "steps": steps,
        "kiosk": {
            "enabled": kiosk.enabled,
            "stepSeconds": story.meta.kiosk.step_seconds or kiosk.step_seconds,
            "idleSeconds": kiosk.idle_seconds,
        },
    }


class Renderer:
    def __init__(self, site: Site, env: jinja2.Environment, *, live: bool = False) -> None:
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
        }

    def index(self) -> str:
        thumbs = {s.slug: crop_url(s.cover, s, THUMB_WIDTH, "") for s in self.site.stories}
        return self.env.get_template("index.html").render(
            **self.common(""), thumbs=thumbs, lang=self.site.config.settings.language
        )

    def story(self, story: Story, template: str = "story.html") -> str:
        root = "../"
        return self.env.get_template(template).render(
            **self.common(root),
            story=story,
            lang=story.lang,
            data=_script_json(story_data(story, self.site)),
            credits=credits(story),
            crop=lambda view, width=TEXT_WIDTH: crop_url(view, story, width, root),
            cover_image=crop_url(story.cover, story, 1200, root),
            page_url=f"{self.site.base_url}{story.slug}/",
        )


def render_page(site: Site, env: jinja2.Environment, path: str, *, live: bool = False) -> OutputFile | None:
    """Render the one page at site-relative `path` (for the preview server); None if unknown."""
    for output in render_site(site, env, live=live, only=path):
        return output
    return None


def render_site(
    site: Site, env: jinja2.Environment, *, live: bool = False, only: str | None = None
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
        if wanted(prefix + "manifest.json"):
            yield OutputFile(prefix + "manifest.json", to_json(story_manifest(story, site.base_url)).encode())
