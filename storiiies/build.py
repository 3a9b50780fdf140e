"""BUILD: the one place that runs the pipeline, load → parse → resolve → assemble → render → write.

`check_site` stops after resolving (nothing is tiled or written); `build_site` goes all the way
and swaps the new site in only when every stage succeeded.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import jinja2

from storiiies.config import SiteConfig, load_config
from storiiies.errors import BuildFailed, Problem, SourceLocation, has_errors
from storiiies.iiif.fetch import Fetcher
from storiiies.incremental import StageCache
from storiiies.model import LocalImage, OutputFile, Story, StoryDraft
from storiiies.resolve.sources import SourceKey, resolve_sources, source_key
from storiiies.site.assemble import Site, assemble_site
from storiiies.story.narration import media_files, read_local_narration
from storiiies.story.translations import (
    group_drafts,
    inherited_source_problem,
    parse_drafts,
    with_translations,
)

if TYPE_CHECKING:
    from storiiies.images.tiles import TiledImage
    from storiiies.site.themes import Theme

Progress = Callable[[str, int, int], None]  # (what, done, total)


@dataclass(frozen=True)
class BuildReport:
    site: Site
    output: Path
    problems: tuple[Problem, ...]
    files: int
    images_tiled: int = 0
    images_cached: int = 0
    seconds: float = 0.0
    warnings: tuple[Problem, ...] = field(default=())


def load_site(
    config: SiteConfig,
    *,
    offline: bool = False,
    fetcher: Fetcher | None = None,
    cache: StageCache | None = None,
) -> tuple[Site | None, list[Problem]]:
    """Load, parse and resolve every story. Returns the Site (None on errors) and all problems.

    `cache` keeps parse and resolve results between the rebuilds of `serve`, so an edit redoes
    only what it touches; a plain build starts from an empty one.
    """
    from storiiies.story.files import read_stories

    cache = cache if cache is not None else StageCache()
    story_sources, problems = read_stories(config)
    cache.begin(source.name for source in story_sources)
    parsed = parse_drafts(story_sources, cache.draft)
    for draft in parsed:
        problems.extend(draft.problems)
    # Translations (`coins.fr.md`) become complete drafts, resolved like any story, then hung
    # on their originals (translations.py).
    groups = group_drafts(parsed)
    problems.extend(groups.problems)
    originals_of: dict[str, StoryDraft] = {}
    merged: list[StoryDraft] = []
    for original, translation, lang in groups.translations:
        original_lang = original.meta.lang or config.settings.language
        draft, merge_problems = cache.translation(original, translation, lang, original_lang)
        problems.extend(merge_problems)
        originals_of[draft.source.name] = original
        merged.append(draft)
    drafts = [*groups.originals, *merged]
    # A virtual canvas (`compose:`) is read from nothing itself: it is made, when the story is
    # resolved, from its parts' sources, which are sources of the same story.
    keys_by_story: list[dict[str, SourceKey]] = [
        {
            alias: source_key(spec, draft.source.path.parent, config.root)
            for alias, spec in draft.meta.sources.items()
            if not spec.is_virtual
        }
        for draft in drafts
    ]
    own_fetcher = fetcher is None
    fetcher = fetcher or Fetcher(config.cache_dir, offline=offline)
    try:
        resolved = cache.sources(
            (key for keys in keys_by_story for key in keys.values()),
            lambda keys: resolve_sources(
                keys, fetcher, root=config.root, base_url=config.settings.base_url
            ),
        )
    finally:
        if own_fetcher:
            fetcher.close()
    stories: list[Story] = []
    translated: dict[str, list[Story]] = {}
    for draft, keys in zip(drafts, keys_by_story, strict=True):
        story, story_problems = cache.story(
            draft, keys, resolved, default_lang=config.settings.language
        )
        translates = originals_of.get(draft.source.name)
        if translates is not None:
            story_problems = [
                p for p in story_problems if not inherited_source_problem(p, draft, translates)
            ]
        problems.extend(story_problems)
        if story is None:
            continue
        # Audio files are read on every load (not cached), so an edited file is noticed.
        story, narration_problems = read_local_narration(story, config.root)
        problems.extend(narration_problems)
        if translates is not None:
            translated.setdefault(translates.source.name, []).append(story)
        else:
            stories.append(story)
    stories = [with_translations(s, translated.get(s.source.name, ())) for s in stories]
    problems.sort(key=lambda p: (p.location.path, p.location.line or 0, p.location.column or 0))
    if has_errors(problems):
        return None, problems
    return assemble_site(config, stories), problems


def check_site(project: Path | str = ".", *, offline: bool = False) -> list[Problem]:
    """Every problem of the project, without tiling or writing anything."""
    try:
        config = load_config(project)
    except BuildFailed as failure:
        return list(failure.problems)
    _, problems = load_site(config, offline=offline)
    return [*problems, *theme_problems(config)]


def theme_problems(config: SiteConfig) -> list[Problem]:
    """An unknown theme, or a template of the project's theme_dir that does not compile."""
    from storiiies.serve.state import template_problems
    from storiiies.site.themes import make_environment

    try:
        theme = site_theme(config)
    except BuildFailed as failure:
        return list(failure.problems)
    return template_problems(make_environment(theme), config.root)


def build_site(
    project: Path | str = ".",
    *,
    offline: bool = False,
    output: Path | None = None,
    progress: Progress | None = None,
) -> BuildReport:
    """Build the site of `project`. Raises BuildFailed (previous output untouched) on errors."""
    started = time.monotonic()
    config = load_config(project)
    site, problems = load_site(config, offline=offline)
    if site is None:
        raise BuildFailed(problems)
    return write_built_site(site, problems, output=output, progress=progress, started=started)


def write_built_site(
    site: Site,
    problems: list[Problem],
    *,
    output: Path | None = None,
    progress: Progress | None = None,
    started: float | None = None,
    extra_files: Sequence[OutputFile] = (),
) -> BuildReport:
    """Tile, render and write `site` into `output` (default: its output_dir), atomically.

    `extra_files` are written with it (an offline bundle's crops of its mirrored images)."""
    from storiiies.serve.state import render_problem, template_problems
    from storiiies.site.assets import asset_files
    from storiiies.site.crops import local_crops
    from storiiies.site.render import render_site
    from storiiies.site.themes import make_environment
    from storiiies.site.write import write_site

    started = started or time.monotonic()
    config = site.config
    theme = site_theme(config)
    tiled, tile_problems = tile_images(site.local_images, config, progress)
    if tile_problems:
        raise BuildFailed([*problems, *tile_problems])
    env = make_environment(theme)
    # A syntax error in a template of the author's theme_dir is a problem with file and line,
    # as in the preview, not a traceback.
    template_errors = template_problems(env, config.root)
    if template_errors:
        raise BuildFailed([*problems, *template_errors])
    try:
        files: list[OutputFile] = list(render_site(site, env))
    except jinja2.TemplateError as error:  # e.g. an undefined name in an overriding template
        raise BuildFailed([*problems, render_problem(error, config.root)]) from None
    files.extend(image_files(site, tiled))
    files.extend(local_crops(site.story_versions, config.cache_dir))
    files.extend(media_files(site.story_versions))
    files.extend(extra_files)
    files.extend(asset_files(theme))
    out_dir = output or config.output_dir
    write_site(files, out_dir)
    return BuildReport(
        site=site,
        output=out_dir,
        problems=tuple(problems),
        files=len(files),
        images_tiled=sum(1 for t in tiled.values() if not t.cached),
        images_cached=sum(1 for t in tiled.values() if t.cached),
        seconds=time.monotonic() - started,
    )


def site_theme(config: SiteConfig) -> Theme:
    """The site's theme, with the project's `theme_dir` overrides first. Raises BuildFailed."""
    from storiiies.site.themes import load_theme

    settings = config.settings
    return load_theme(
        settings.theme,
        config.root / settings.theme_dir if settings.theme_dir else None,
        config_file=config.config_file,
    )


def tile_images(
    images: Sequence[LocalImage], config: SiteConfig, progress: Progress | None = None
) -> tuple[dict[str, TiledImage], list[Problem]]:
    """Tile local images (cached by content); returns the tiles by image name, and problems."""
    from storiiies.images import tiles

    def report(event: tiles.ProgressEvent) -> None:
        if progress is not None:
            progress("tiling", event.done, event.total)

    images = [image for image in images if image.info is None]  # ready trees need no tiling
    jobs = [tiles.TileJob(image.path, image.page) for image in images]
    results = tiles.tile_many(jobs, config.cache_dir / "tiles", progress=report)
    tiled: dict[str, TiledImage] = {}
    problems: list[Problem] = []
    for image, result in zip(images, results, strict=True):
        if isinstance(result, Exception):
            where = SourceLocation(_shown(image.path, config.root))
            problems.append(Problem(where, result.message, result.hint))
        else:
            tiled[image.name] = result
    return tiled, problems


def image_files(site: Site, tiled: Mapping[str, TiledImage]) -> list[OutputFile]:
    """The `images/` part of the site: each local image's tile folder and its info.json."""
    from storiiies.images import tiles

    files = []
    for image in site.local_images:
        if image.info is not None:  # a ready tile tree: copied as it is, with its own info.json
            info_bytes = json.dumps(
                {**image.info, "id": f"{site.base_url}images/{image.name}"}, indent=2
            ).encode()
            files.append(OutputFile(f"images/{image.name}", source=image.path))
            files.append(OutputFile(f"images/{image.name}/info.json", info_bytes))
            continue
        if image.name not in tiled:
            continue
        files.append(OutputFile(f"images/{image.name}", source=tiled[image.name].path))
        info = tiles.info_json(tiled[image.name], f"{site.base_url}images/{image.name}")
        info_bytes = json.dumps(info, indent=2).encode()
        files.append(OutputFile(f"images/{image.name}/info.json", info_bytes))
    return files


def _shown(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)
