"""ASSEMBLE: resolved stories + settings → the Site that templates render. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from storiiies.config import SiteConfig
from storiiies.model import LocalImage, Story


@dataclass(frozen=True)
class Site:
    config: SiteConfig
    stories: tuple[Story, ...]

    @property
    def base_url(self) -> str:
        return self.config.settings.base_url

    @property
    def local_images(self) -> tuple[LocalImage, ...]:
        seen: dict[str, LocalImage] = {}
        for story in self.story_versions:
            for image in story.local_images:
                seen.setdefault(image.name, image)
        return tuple(sorted(seen.values(), key=lambda image: image.name))

    @property
    def story_versions(self) -> tuple[Story, ...]:
        """Every story and each of its translations: all the pages the site has."""
        return tuple(version for story in self.stories for version in story.versions)

    def story_url(self, story: Story) -> str:
        """The story's folder, relative to the site root."""
        return f"{story.slug}/"


#: The site's own top-level folders, and names Windows refuses for a folder (sites are copied to
#: Windows machines and USB sticks for kiosks): a story with such a name gets a suffix.
RESERVED_SLUGS = frozenset(
    {"images", "assets", "iiif", "crops", "media", "con", "prn", "aux", "nul"}
    | {f"{device}{n}" for device in ("com", "lpt") for n in range(1, 10)}
)


def assemble_site(config: SiteConfig, stories: Sequence[Story]) -> Site:
    """Order stories (front matter `order`, then title) and make their slugs unique."""
    ordered = sorted(
        (s for s in stories if not s.meta.draft),
        key=lambda s: (s.meta.order is None, s.meta.order or 0, s.title.casefold(), s.source.name),
    )
    taken = set(RESERVED_SLUGS)
    unique = []
    for story in ordered:
        slug, n = story.slug, 2
        while slug in taken:
            slug, n = f"{story.slug}-{n}", n + 1
        taken.add(slug)
        unique.append(story if slug == story.slug else _with_slug(story, slug))
    return Site(config=config, stories=tuple(unique))


def _with_slug(story: Story, slug: str) -> Story:
    from dataclasses import replace

    # Translations live in their original's folder: `<slug>/<language>/`.
    translations = tuple(
        replace(t, slug=f"{slug}/{t.slug.rsplit('/', 1)[-1]}") for t in story.translations
    )
    return replace(story, slug=slug, translations=translations)
