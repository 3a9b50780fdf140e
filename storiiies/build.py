"""BUILD: the one place that runs the pipeline, load → parse → resolve → assemble → render → write.

`check_site` stops after resolving (nothing is tiled or written); `build_site` goes all the way
and swaps the new site in only when every stage succeeded; `build_if_changed` (what
`storiiies build` runs) first asks whether the last build's site is still current.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path

import jinja2

from storiiies.config import SiteConfig, load_config
from storiiies.errors import BuildFailed, Problem, SourceLocation, has_errors, shown_path
from storiiies.fingerprint import (
    Fingerprint,
    LastBuild,
    last_build,
    record_build,
    take_fingerprint,
)
from storiiies.iiif.fetch import Fetcher
from storiiies.images import tiles
from storiiies.images.pool import RemoteExecutor, tile_many
from storiiies.images.stored import StoredImages
from storiiies.images.tiles import TiledImage
from storiiies.incremental import StageCache
from storiiies.model import LocalImage, OutputFile, Story, StorySource
from storiiies.resolve.sources import resolve_sources, source_keys
from storiiies.site.assemble import Site, assemble_site
from storiiies.site.assets import asset_files
from storiiies.site.crops import local_crops
from storiiies.site.render import render_site
from storiiies.site.themes import (
    Theme,
    load_theme,
    make_environment,
    render_problem,
    template_problems,
)
from storiiies.site.write import SiteStaging
from storiiies.story.files import read_stories
from storiiies.story.narration import media_files, read_local_narration
from storiiies.story.translations import (
    TranslatedDrafts,
    inherited_source_problem,
    merge_translations,
    parse_drafts,
    with_translations,
)

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
    #: the paths of the files written into `output`
    written: tuple[str, ...] = field(default=(), repr=False)


def build_if_changed(
    project: Path | str = ".",
    *,
    offline: bool = False,
    progress: Progress | None = None,
    connect: Callable[[], RemoteExecutor | None] | None = None,
) -> BuildReport | LastBuild:
    """`storiiies build`: build the site of `project`, unless the last build's site is still
    current: nothing it was built from has changed and its folder is as it was left
    (fingerprint.py). Then nothing is read or written, and the last build is returned.

    `connect` gives the executor (a Dask cluster) to build with; it is called only when a
    build runs, so a site that is current needs no scheduler."""
    config = load_config(project)
    fingerprint = take_fingerprint(config, offline=offline, output=config.output_dir)
    last = last_build(
        fingerprint,
        config.output_dir,
        config.cache_dir,
        options=config.settings.publish.storage_options,
    )
    if last is not None:
        return last
    return build_site(
        config.root,
        offline=offline,
        progress=progress,
        fingerprint=fingerprint,
        executor=connect() if connect is not None else None,
    )


def build_site(
    project: Path | str = ".",
    *,
    offline: bool = False,
    output: Path | None = None,
    progress: Progress | None = None,
    fingerprint: Fingerprint | None = None,
    executor: RemoteExecutor | None = None,
) -> BuildReport:
    """Build the site of `project`. Raises BuildFailed (previous output untouched) on errors.

    The cache records what the site was built from, for `build_if_changed`: `fingerprint`,
    taken before anything was read (by the caller, or here), and what the build read. With an
    `executor` (a Dask cluster, images/cluster.py) its workers cut the tiles and crops."""
    started = time.monotonic()
    config = load_config(project)
    out_dir = output or config.output_dir
    fingerprint = fingerprint or take_fingerprint(config, offline=offline, output=out_dir)
    stages = StageCache()
    with Fetcher(config.cache_dir, offline=offline) as fetcher:
        site, problems = load_site(config, offline=offline, fetcher=fetcher, cache=stages)
    if site is None:
        raise BuildFailed(problems)
    record = record_build(fingerprint, site, stages, fetcher, warnings=problems)
    report = write_built_site(
        site, problems, output=out_dir, progress=progress, started=started, executor=executor
    )
    if record is not None:
        record.save(out_dir, config.cache_dir, written=report.written)
    return report


def check_site(project: Path | str = ".", *, offline: bool = False) -> list[Problem]:
    """Every problem of the project, without tiling or writing anything."""
    try:
        config = load_config(project)
    except BuildFailed as failure:
        return list(failure.problems)
    _, problems = load_site(config, offline=offline)
    return [*problems, *theme_problems(config)]


def load_site(
    config: SiteConfig,
    *,
    offline: bool = False,
    fetcher: Fetcher | None = None,
    cache: StageCache | None = None,
) -> tuple[Site | None, list[Problem]]:
    """LOAD → PARSE → RESOLVE → ASSEMBLE every story. Returns the Site (None on errors) and
    every problem, in file and line order.

    `cache` keeps parse and resolve results between the rebuilds of `serve`, so an edit redoes
    only what it touches; a plain build starts from an empty one.
    """
    cache = cache if cache is not None else StageCache()
    story_sources, problems = read_stories(config)
    cache.begin(source.name for source in story_sources)
    drafts, parse_problems = parse_stories(story_sources, config, cache)
    stories, resolve_problems = resolve_stories(drafts, config, cache, fetcher, offline=offline)
    problems = sorted([*problems, *parse_problems, *resolve_problems], key=_file_order)
    if has_errors(problems):
        return None, problems
    return assemble_site(config, stories), problems


def parse_stories(
    story_sources: Sequence[StorySource], config: SiteConfig, cache: StageCache
) -> tuple[TranslatedDrafts, list[Problem]]:
    """PARSE every story file; translations (`coins.fr.md`) become complete drafts, merged with
    their originals (story/translations.py), to be resolved like any story."""
    parsed = parse_drafts(story_sources, cache.draft)
    problems = [problem for draft in parsed for problem in draft.problems]
    drafts, merge_problems = merge_translations(parsed, config.settings.language, cache.translation)
    return drafts, [*problems, *merge_problems]


def resolve_stories(
    drafts: TranslatedDrafts,
    config: SiteConfig,
    cache: StageCache,
    fetcher: Fetcher | None,
    *,
    offline: bool,
) -> tuple[list[Story], list[Problem]]:
    """RESOLVE every source the stories name (each once), then each story's references; hang
    each translation on its original."""
    keys_by_story = [source_keys(draft, config.root) for draft in drafts.all]
    # Images on object storage reach the store as publish does: its endpoint and region.
    stored = StoredImages(
        config.cache_dir, offline=offline, options=config.settings.publish.storage_options
    )
    with _fetcher(config, fetcher, offline) as using:
        resolved = cache.sources(
            (key for keys in keys_by_story for key in keys.values()),
            lambda keys: resolve_sources(
                keys,
                using,
                root=config.root,
                base_url=config.settings.base_url,
                max_megapixels=config.settings.max_image_megapixels,
                stored=stored,
            ),
        )
    stories: list[Story] = []
    translated: dict[str, list[Story]] = {}
    problems: list[Problem] = []
    for draft, keys in zip(drafts.all, keys_by_story, strict=True):
        story, story_problems = cache.story(
            draft, keys, resolved, default_lang=config.settings.language
        )
        original = drafts.original_of.get(draft.source.name)
        if original is not None:
            story_problems = [
                p for p in story_problems if not inherited_source_problem(p, draft, original)
            ]
        problems.extend(story_problems)
        if story is None:
            continue
        # Audio files are read on every load (not cached), so an edited file is noticed.
        story, narration_problems = read_local_narration(story, config.root)
        problems.extend(narration_problems)
        if original is not None:
            translated.setdefault(original.source.name, []).append(story)
        else:
            stories.append(story)
    return [with_translations(s, translated.get(s.source.name, ())) for s in stories], problems


def write_built_site(
    site: Site,
    problems: list[Problem],
    *,
    output: Path | None = None,
    progress: Progress | None = None,
    started: float | None = None,
    extra_files: Sequence[OutputFile] = (),
    executor: RemoteExecutor | None = None,
) -> BuildReport:
    """Tile, render and write `site` into `output` (default: its output_dir), atomically.

    `extra_files` are written with it (an offline bundle's crops of its mirrored images)."""

    started = started or time.monotonic()
    config = site.config
    theme = site_theme(config)
    out_dir = output or config.output_dir
    trees = [image for image in site.local_images if image.info is None]
    crop_files: list[OutputFile] = []
    with (
        SiteStaging(out_dir, cache_dir=config.cache_dir) as staging,
        ThreadPoolExecutor(2, thread_name_prefix="storiiies-site") as background,
    ):
        # While the tiles are cut, on the share of the cores that the tiler leaves: the folders
        # of the site's tile trees are made (three for each tile), and the pages rendered.
        folders = background.submit(_make_tree_folders, staging, trees)
        pages = background.submit(_pages, site, theme, problems)
        tiled, tile_problems = tile_images(site.local_images, config, progress, executor)
        folders.result()
        if tile_problems:
            raise BuildFailed([*problems, *tile_problems])
        for image in trees:  # an image that changed since it was read: its folders are not
            if (tiled[image.name].width, tiled[image.name].height) != (image.width, image.height):
                staging.remove(f"images/{image.name}")
        # Crops are cut from the tiles (on the cluster only when its workers see them) while
        # the site is written: nothing else needs them, so they are written last, and the
        # crops' worker processes would otherwise leave this one waiting.
        sees = executor is not None and executor.sees(config.cache_dir)
        crops_on = executor if sees else None
        crops = background.submit(
            local_crops, site.story_versions, config.cache_dir, tiled, executor=crops_on
        )
        files = pages.result()
        files.extend(image_files(site, tiled))
        files.extend(media_files(site.story_versions))
        files.extend(extra_files)

        def crops_when_cut() -> Iterator[OutputFile]:
            crop_files.extend(crops.result())
            yield from crop_files

        staging.write(chain(files, crops_when_cut()))
        staging.finish()
    return BuildReport(
        site=site,
        output=out_dir,
        problems=tuple(problems),
        files=len(files) + len(crop_files),
        written=tuple(staging.written),
        images_tiled=sum(1 for t in tiled.values() if not t.cached),
        images_cached=sum(1 for t in tiled.values() if t.cached),
        seconds=time.monotonic() - started,
    )


def _pages(site: Site, theme: Theme, problems: list[Problem]) -> list[OutputFile]:
    """The site's pages and the theme's assets. Raises BuildFailed for a template that does
    not compile or render: a syntax error in a template of the author's theme_dir, or an
    undefined name in an overriding template, is a problem with file and line, as in the
    preview, not a traceback."""
    env = make_environment(theme)
    template_errors = template_problems(env, site.config.root)
    if template_errors:
        raise BuildFailed([*problems, *template_errors])
    try:
        files = list(render_site(site, env))
    except jinja2.TemplateError as error:
        raise BuildFailed([*problems, render_problem(error, site.config.root)]) from None
    files.extend(asset_files(theme))
    return files


def _make_tree_folders(staging: SiteStaging, images: Sequence[LocalImage]) -> None:
    for image in images:
        staging.make_folders(f"images/{image.name}", tiles.tree_folders(image.width, image.height))


def tile_images(
    images: Sequence[LocalImage],
    config: SiteConfig,
    progress: Progress | None = None,
    executor: RemoteExecutor | None = None,
) -> tuple[dict[str, TiledImage], list[Problem]]:
    """Tile local images (cached by content); returns the tiles by image name, and problems."""

    def report(event: tiles.ProgressEvent) -> None:
        if progress is not None:
            progress("tiling", event.done, event.total)

    images = [image for image in images if image.info is None]  # ready trees need no tiling
    jobs = [tiles.TileJob(image.path, image.page) for image in images]
    results = tile_many(jobs, config.cache_dir / "tiles", progress=report, executor=executor)
    tiled: dict[str, TiledImage] = {}
    problems: list[Problem] = []
    for image, result in zip(images, results, strict=True):
        if isinstance(result, Exception):
            where = SourceLocation(shown_path(image.path, config.root))
            problems.append(Problem(where, result.message, result.hint))
        else:
            tiled[image.name] = result
    return tiled, problems


def image_files(site: Site, tiled: Mapping[str, TiledImage]) -> list[OutputFile]:
    """The `images/` part of the site: each local image's tile folder and its info.json."""

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
        tile_folder = tiled[image.name].path
        files.append(OutputFile(f"images/{image.name}", source=tile_folder, tiles=True))
        info = tiles.info_json(tiled[image.name], f"{site.base_url}images/{image.name}")
        info_bytes = json.dumps(info, indent=2).encode()
        files.append(OutputFile(f"images/{image.name}/info.json", info_bytes))
    return files


def site_theme(config: SiteConfig) -> Theme:
    """The site's theme, with the project's `theme_dir` overrides first. Raises BuildFailed."""

    settings = config.settings
    return load_theme(
        settings.theme,
        config.root / settings.theme_dir if settings.theme_dir else None,
        config_file=config.config_file,
    )


def theme_problems(config: SiteConfig) -> list[Problem]:
    """An unknown theme, or a template of the project's theme_dir that does not compile."""

    try:
        theme = site_theme(config)
    except BuildFailed as failure:
        return list(failure.problems)
    return template_problems(make_environment(theme), config.root)


@contextmanager
def _fetcher(config: SiteConfig, given: Fetcher | None, offline: bool) -> Iterator[Fetcher]:
    """The caller's fetcher (the preview keeps one), or one of our own, closed after use."""
    if given is not None:
        yield given
        return
    own = Fetcher(config.cache_dir, offline=offline)
    try:
        yield own
    finally:
        own.close()


def _file_order(problem: Problem) -> tuple[str, int, int]:
    where = problem.location
    return (where.path, where.line or 0, where.column or 0)
