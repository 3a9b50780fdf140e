"""The state behind `storiiies serve`: the last good site, the problems of the latest rebuild,
and the rebuild that each burst of saves triggers.

A rebuild reruns only the stages its files feed, through the same functions `build` uses:
storiiies.yml → every stage; a theme file → the Jinja environment and assets; anything else
(stories, images) → `load_site` with a StageCache, so an edited story is the only one parsed
and resolved again, and only new images are tiled. Pages are rendered per request from the
Snapshot; tiles, info.json and assets are served from where the build would copy them, and
crops are cut on first request. Nothing is written into the output folder.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import jinja2

from storiiies.build import image_files, load_site, site_theme, tile_images
from storiiies.config import CONFIG_NAME, SiteConfig, load_config
from storiiies.errors import BuildFailed, Problem, has_errors
from storiiies.iiif.fetch import Fetcher
from storiiies.images.tiles import TiledImage
from storiiies.incremental import StageCache
from storiiies.model import OutputFile, Story
from storiiies.serve.livereload import Broadcaster
from storiiies.site.assemble import Site
from storiiies.site.assets import asset_files, openseadragon_dir
from storiiies.site.crops import local_crops, wanted_crops
from storiiies.site.image_urls import crop_name
from storiiies.site.themes import Theme, make_environment, template_problems, themes_root
from storiiies.story.narration import media_files

CLIENT_DIR = Path(__file__).resolve().parent / "client"


@dataclass(frozen=True)
class Snapshot:
    """What the server shows until the next rebuild; replaced whole, never changed in place."""

    token: str
    site: Site | None = None  # the last good site
    env: jinja2.Environment | None = None
    files: Mapping[str, OutputFile] = field(default_factory=dict)  # tiles, info.json, assets
    roots: tuple[Path, ...] = ()  # the only folders a served file may really live in
    problems: tuple[Problem, ...] = ()  # of the latest rebuild
    cache_dir: Path | None = None

    @cached_property
    def image_files(self) -> dict[str, tuple[Path, int]]:
        """Each local image's file and page, by its name (the Image API's identifier)."""
        images = self.site.local_images if self.site else ()
        return {image.name: (image.path, image.page) for image in images}

    @cached_property
    def crop_owners(self) -> dict[str, Story]:
        """Which story's crops to cut for a `crops/…` file."""
        owners: dict[str, Story] = {}
        for story in self.site.story_versions if self.site else ():
            for view, width in wanted_crops(story):
                owners.setdefault(crop_name(view, width), story)
        return owners


@dataclass(frozen=True)
class Rebuild:
    """One rebuild, as the console reports it."""

    seconds: float
    problems: tuple[Problem, ...]
    pages: frozenset[str] | None  # reloaded pages (story slugs, "" = home); None = all
    parsed: int = 0
    resolved: int = 0
    published: bool = True

    @property
    def ok(self) -> bool:
        return not has_errors(self.problems)


class Preview:
    """Rebuilds on demand (one at a time) and keeps the Snapshot the server reads."""

    def __init__(self, project: Path | str, *, offline: bool = False) -> None:
        self.project = Path(project).resolve()
        self.offline = offline
        self.broadcaster = Broadcaster()
        self.snapshot = Snapshot(token=self.broadcaster.token)
        self.config: SiteConfig | None = None
        self.theme: Theme | None = None
        self._env: jinja2.Environment | None = None
        self._assets: list[OutputFile] = []
        self._site: Site | None = None
        self._cache = StageCache()
        self._fetcher: Fetcher | None = None
        self._tiled: dict[str, TiledImage] = {}
        self._problems: dict[str, list[Problem]] = {"config": [], "theme": [], "site": []}
        self._lock = threading.Lock()
        self._crop_lock = threading.Lock()
        # Requests waiting for a rebuild wait on an event of the server's loop; the rebuild's
        # thread sets it (through the loop) when it ends, and a fresh one replaces it.
        self._loop: asyncio.AbstractEventLoop | None = None
        self._rebuilt: asyncio.Event | None = None

    # -- what to watch ---------------------------------------------------------------------

    def watched_folders(self) -> list[Path]:
        return [self.project, themes_root(), *(self.theme.dirs if self.theme else ())]

    def ignored_folders(self) -> list[Path]:
        if self.config is None:
            return [self.project / "_site", self.project / ".storiiies-cache"]
        return [self.config.output_dir, self.config.cache_dir]

    # -- rebuilding ------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """True while a rebuild runs."""
        return self._lock.locked()

    def rebuild(self, changed: set[Path] | None = None) -> Rebuild:
        """Rebuild what `changed` files feed (everything when None) and publish the result."""
        try:
            with self._lock:
                return self._rebuild(changed)
        finally:
            self._wake_waiting()  # after the lock is released: waiting requests see `busy` False

    async def settled(self, timeout: float) -> Snapshot:
        """The Snapshot once no rebuild runs, so a request made during a rebuild (a page reloaded
        right after a save) answers with its result. A rebuild still running after `timeout`
        seconds (tiling many new images) is not waited for: the last published Snapshot is."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            # Taken before `busy` is read: a rebuild that ends in between still sets it.
            rebuilt = self._rebuilt_event(loop)
            remaining = deadline - loop.time()
            if not self.busy or remaining <= 0:
                return self.snapshot
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(rebuilt.wait(), remaining)

    def _rebuilt_event(self, loop: asyncio.AbstractEventLoop) -> asyncio.Event:
        """The event the end of the running rebuild sets (called on the server's loop)."""
        if self._rebuilt is None or self._loop is not loop:
            self._loop, self._rebuilt = loop, asyncio.Event()
        return self._rebuilt

    def _wake_waiting(self) -> None:
        """Wake the requests waiting for a rebuild (from the rebuild's thread)."""
        loop = self._loop
        if loop is None:
            return  # no request has waited yet
        with contextlib.suppress(RuntimeError):  # a closed loop has nobody waiting any more
            loop.call_soon_threadsafe(self._swap_rebuilt)

    def _swap_rebuilt(self) -> None:
        old, self._rebuilt = self._rebuilt, asyncio.Event()
        if old is not None:
            old.set()

    def _rebuild(self, changed: set[Path] | None) -> Rebuild:
        started = time.perf_counter()
        previous = self.snapshot
        css_only = self._run_stages(changed)
        problems = tuple(
            self._problems["config"] + self._problems["theme"] + self._problems["site"]
        )
        pages = (
            frozenset()
            if css_only
            else changed_pages(previous.site, self._site, previous.env is not self._env)
        )
        published = bool(pages is None or pages or css_only or problems != previous.problems)
        # The new Snapshot is in place before any page hears of it.
        token = self.broadcaster.next_token if published else previous.token
        self.snapshot = self._snapshot(token, problems)
        if published:
            errors = sum(1 for p in problems if p.is_error)
            self.broadcaster.publish(
                pages, errors=errors, warnings=len(problems) - errors, css=css_only
            )
        return Rebuild(
            time.perf_counter() - started,
            problems,
            pages,
            self._cache.parsed,
            self._cache.resolved,
            published,
        )

    def _run_stages(self, changed: set[Path] | None) -> bool:
        """Run the stages `changed` feeds; True when only theme stylesheets changed."""
        self._cache.parsed = self._cache.resolved = 0
        config_hit = changed is None or self.config is None or self.project / CONFIG_NAME in changed
        if config_hit:
            try:
                config = load_config(self.project)
            except BuildFailed as failure:
                # Later stages' problems would be stale: they show again once this is fixed.
                self._problems = {"config": list(failure.problems), "theme": [], "site": []}
                return False
            if self.config is None or config.settings != self.config.settings:
                # Settings feed every stage (base URL, language, folders): start afresh.
                self._cache = StageCache()
            self.config, self._problems["config"] = config, []
        theme_paths = [p for p in changed or () if self._in_theme(p)]
        other_paths = [p for p in changed or () if not self._in_theme(p)]
        stylesheets = bool(theme_paths) and all(map(_is_stylesheet, theme_paths))
        if not config_hit and not other_paths and stylesheets and self.theme is not None:
            self._assets = asset_files(self.theme, minify=False)
            return True
        if config_hit or theme_paths or self._env is None:
            self._load_theme()
        if config_hit or other_paths:
            self._load_site()
        return False

    def _load_theme(self) -> None:
        assert self.config is not None
        try:
            theme = site_theme(self.config)
            env = make_environment(theme)
            problems = template_problems(env, self.project)
            assets = asset_files(theme, minify=False)
        except BuildFailed as failure:
            self._problems["theme"] = list(failure.problems)
            return
        self._problems["theme"] = problems
        if not problems:
            self.theme, self._env, self._assets = theme, env, assets

    def _load_site(self) -> None:
        config = self.config
        assert config is not None
        if self._fetcher is None:
            self._fetcher = Fetcher(config.cache_dir, offline=self.offline)
        site, problems = load_site(config, fetcher=self._fetcher, cache=self._cache)
        if site is not None:
            new_images = [image for image in site.local_images if image.name not in self._tiled]
            tiled, tile_problems = tile_images(new_images, config)
            self._tiled.update(tiled)
            problems.extend(tile_problems)
            if not tile_problems:
                self._site = site
        self._problems["site"] = problems

    def _snapshot(self, token: str, problems: tuple[Problem, ...]) -> Snapshot:
        files: dict[str, OutputFile] = {}
        roots: list[Path] = [CLIENT_DIR]
        if self._site is not None and self.config is not None:
            files.update((f.path, f) for f in image_files(self._site, self._tiled))
            files.update((f.path, f) for f in media_files(self._site.story_versions, inline=True))
            roots += [self.config.cache_dir / "tiles", self.config.cache_dir / "crops"]
        files.update((f.path, f) for f in self._assets)
        if self.theme is not None:
            roots += self.theme.static_dirs()
            with contextlib.suppress(BuildFailed):  # reported when the assets were listed
                roots.append(openseadragon_dir())
        return Snapshot(
            token=token,
            site=self._site,
            env=self._env,
            files=files,
            roots=tuple(root.resolve() for root in roots),
            problems=problems,
            cache_dir=self.config.cache_dir if self.config else None,
        )

    def _in_theme(self, path: Path) -> bool:
        folders = list(self.theme.dirs) if self.theme else []
        if self.config is not None and self.config.settings.theme_dir:
            # Counted even before it exists, so creating the folder loads the overrides.
            folders.append(self.config.root / self.config.settings.theme_dir)
        return any(path.is_relative_to(folder) for folder in folders)

    # -- on request ------------------------------------------------------------------------

    def crop_file(self, snapshot: Snapshot, name: str) -> Path | None:
        """The JPEG of a local crop, cut on first request (with the rest of its story's)."""
        story = snapshot.crop_owners.get(name)
        if story is None or snapshot.cache_dir is None:
            return None
        with self._crop_lock:
            outputs = local_crops((story,), snapshot.cache_dir)
        return next((o.source for o in outputs if o.path == name), None)

    def close(self) -> None:
        if self._fetcher is not None:
            self._fetcher.close()


class LocalImages(Mapping[str, tuple[Path, int]]):
    """The local images of whatever site the preview shows now, for the Image API app."""

    def __init__(self, preview: Preview) -> None:
        self.preview = preview

    def __getitem__(self, name: str) -> tuple[Path, int]:
        return self.preview.snapshot.image_files[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.preview.snapshot.image_files)

    def __len__(self) -> int:
        return len(self.preview.snapshot.image_files)


def changed_pages(old: Site | None, new: Site | None, theme_changed: bool) -> frozenset[str] | None:
    """The pages to reload between two sites: story slugs, "" for the home page; None = all."""
    if old is new and not theme_changed:
        return frozenset()
    if theme_changed or old is None or new is None or old.config != new.config:
        return None
    if [(s.slug, s.title) for s in old.stories] != [(s.slug, s.title) for s in new.stories]:
        return None  # the list of stories shows on every page that lists them
    changed = {
        b.slug for a, b in zip(old.stories, new.stories, strict=True) if a is not b and a != b
    }
    return frozenset(changed | {""}) if changed else frozenset()


def _is_stylesheet(path: Path) -> bool:
    return path.suffix == ".css" and "static" in path.parts
