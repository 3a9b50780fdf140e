"""BUILD: the one place that runs the pipeline, load → parse → resolve → assemble → render → write.

`check_site` stops after resolving (nothing is tiled or written); `build_site` goes all the way
and swaps the new site in only when every stage succeeded.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from storiiies.config import SiteConfig, load_config
from storiiies.errors import BuildFailed, Problem, SourceLocation, has_errors
from storiiies.iiif.fetch import Fetcher
from storiiies.markdown import parse_story
from storiiies.model import OutputFile, Story
from storiiies.resolve import resolve_story
from storiiies.site import Site, assemble_site
from storiiies.sources import SourceKey, resolve_sources, source_key

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


def load_site(config: SiteConfig, *, offline: bool = False, fetcher: Fetcher | None = None) -> tuple[Site | None, list[Problem]]:
    """Load, parse and resolve every story. Returns the Site (None on errors) and all problems."""
    from storiiies.load import read_stories

    story_sources, problems = read_stories(config)
    drafts = [parse_story(source) for source in story_sources]
    for draft in drafts:
        problems.extend(draft.problems)
    keys_by_story: list[dict[str, SourceKey]] = [
        {
            alias: source_key(spec, draft.source.path.parent, config.root)
            for alias, spec in draft.meta.sources.items()
        }
        for draft in drafts
    ]
    own_fetcher = fetcher is None
    fetcher = fetcher or Fetcher(config.cache_dir, offline=offline)
    try:
        resolved = resolve_sources(
            (key for keys in keys_by_story for key in keys.values()),
            fetcher,
            root=config.root,
            base_url=config.settings.base_url,
        )
    finally:
        if own_fetcher:
            fetcher.close()
    stories: list[Story] = []
    for draft, keys in zip(drafts, keys_by_story, strict=True):
        story, story_problems = resolve_story(
            draft, keys, resolved, default_lang=config.settings.language
        )
        problems.extend(story_problems)
        if story is not None:
            stories.append(story)
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
    return problems


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
) -> BuildReport:
    from storiiies.assets import asset_files
    from storiiies.crops import local_crops
    from storiiies.iiif import tiles
    from storiiies.render import render_site
    from storiiies.themes import load_theme, make_environment
    from storiiies.write import write_site

    started = started or time.monotonic()
    config = site.config
    settings = config.settings
    theme = load_theme(
        settings.theme,
        config.root / settings.theme_dir if settings.theme_dir else None,
        config_file=config.config_file,
    )
    images = site.local_images
    jobs = [tiles.TileJob(image.path, image.page) for image in images]

    def report(event: tiles.ProgressEvent) -> None:
        if progress is not None:
            progress("tiling", event.done, event.total)

    results = tiles.tile_many(jobs, config.cache_dir / "tiles", progress=report)
    tile_problems = [
        Problem(SourceLocation(_shown(image.path, config.root)), result.message, result.hint)
        for image, result in zip(images, results, strict=True)
        if isinstance(result, Exception)
    ]
    if tile_problems:
        raise BuildFailed([*problems, *tile_problems])
    files: list[OutputFile] = list(render_site(site, make_environment(theme)))
    for image, tiled in zip(images, results, strict=True):
        assert not isinstance(tiled, Exception)
        files.append(OutputFile(f"images/{image.name}", source=tiled.path))
        info = tiles.info_json(tiled, f"{settings.base_url}images/{image.name}")
        files.append(OutputFile(f"images/{image.name}/info.json", json.dumps(info, indent=2).encode()))
    files.extend(local_crops(site.stories, config.cache_dir))
    files.extend(asset_files(theme))
    out_dir = config.output_dir
    write_site(files, out_dir)
    return BuildReport(
        site=site,
        output=out_dir,
        problems=tuple(problems),
        files=len(files),
        images_tiled=sum(1 for r in results if not isinstance(r, Exception) and not getattr(r, "cached", False)),
        images_cached=sum(1 for r in results if getattr(r, "cached", False)),
        seconds=time.monotonic() - started,
    )


def _shown(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)
