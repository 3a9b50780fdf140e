"""The site's search index: what the home page searches in the browser.

Built with the site and written as `search.json`, so search needs no server and works in a kiosk
with no network. It holds plain text only (step HTML is reduced to its words): the page builds
its results with text nodes, never markup.
"""

from __future__ import annotations

from typing import Any

from storiiies.iiif.sanitize import to_text
from storiiies.model import Story
from storiiies.site.assemble import Site

SEARCH_FILE = "search.json"


def search_index(site: Site) -> dict[str, Any]:
    return {"stories": [_story_entry(site, story) for story in site.stories]}


def site_tags(site: Site) -> list[str]:
    """Every tag of the site once, in the order a reader would scan them (case-blind A–Z)."""
    seen: dict[str, str] = {}
    for story in site.stories:
        for tag in story.meta.tags:
            seen.setdefault(tag.casefold(), tag)
    return [seen[key] for key in sorted(seen)]


def _story_entry(site: Site, story: Story) -> dict[str, Any]:
    """A story's card on the home page, and the text of each language version of it: a French
    query finds the story through its French translation, and links to the French steps."""
    return {
        "url": site.story_url(story),
        "tags": list(story.meta.tags),
        "versions": [_version(site, version) for version in story.versions],
    }


def _version(site: Site, story: Story) -> dict[str, Any]:
    return {
        "url": site.story_url(story),
        "lang": story.lang,
        "title": story.title,
        "summary": story.meta.summary,
        "intro": to_text(story.intro_html),
        "steps": [
            {
                "number": step.number,
                "title": step.title,
                # Alt texts are words a reader may remember a step by, and they describe the image.
                "text": " ".join(
                    [to_text(step.body_html), *(view.alt for view in step.views)]
                ).strip(),
            }
            for step in story.steps
        ],
    }
