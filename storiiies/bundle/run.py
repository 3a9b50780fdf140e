"""BUNDLE: the whole offline copy, from a project to a checked folder (and zip).

load the site → find remote images → read their services → swap in local copies
(localize) → plan the tiles the tour can show → fetch what is missing → cut overview sizes
and crops from the tiles → write the site with the normal build → SHA256SUMS (→ zip).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storiiies.build import load_site, write_built_site
from storiiies.bundle import checksums
from storiiies.bundle.download import Download, DownloadPolicy, download_all
from storiiies.bundle.localize import localize_site
from storiiies.bundle.mirror import Mirror, RemoteImage, read_mirrors, remote_images, tree_path
from storiiies.bundle.plan import MirrorPlan, full_mirror_count, mirror_plan, overview_levels
from storiiies.bundle.stitch import cut_crop, write_level_image
from storiiies.config import SiteConfig, load_config
from storiiies.errors import BuildFailed, Problem, SourceLocation
from storiiies.iiif.fetch import Fetcher
from storiiies.model import LocalImage, OutputFile
from storiiies.resolve.rights import is_restrictive, rights_name

Progress = Callable[[str, int, int], None]  # (what, done, total)
_RETRY_HINT = "run `storiiies bundle` again later: it fetches only what is still missing"


@dataclass(frozen=True)
class BundleReport:
    output: Path
    zip: Path | None
    stories: int
    images: int  # remote images copied
    tiles: int  # tiles of those images in the bundle
    tile_bytes: int
    full_tiles: int  # tiles a copy of every level would hold
    full_bytes: int  # estimated from the sizes of the tiles fetched, level by level
    fetched: int  # files fetched by this run (the rest were there from an earlier one)
    files: int
    seconds: float
    warnings: tuple[Problem, ...] = ()


def bundle_site(
    project: Path | str = ".",
    *,
    output: Path | None = None,
    make_zip: bool | None = None,
    offline: bool = False,
    progress: Progress | None = None,
) -> BundleReport:
    """Write the offline bundle of `project`. Raises BuildFailed (nothing replaced) on errors."""
    started = time.monotonic()
    config = load_config(project)
    settings = config.settings.bundle
    out_dir = (output or config.root / settings.output_dir).resolve()
    site, problems = load_site(config, offline=offline)
    if site is None:
        raise BuildFailed(problems)
    found = remote_images(site)
    warnings = _rights_warnings(found)
    with Fetcher(config.cache_dir, offline=offline) as fetcher:
        mirrors, mirror_problems = read_mirrors(found, fetcher, site.base_url)
    plain, plain_problems = _fetch_plain_images(found, config, offline)
    if mirror_problems or plain_problems:
        raise BuildFailed([*problems, *mirror_problems, *plain_problems])
    trees = {key: tree_path(config.cache_dir, key) for key in mirrors}
    bundled, keys = localize_site(site, mirrors, plain, trees)
    crops = _mirrored_crops(bundled.stories, keys)
    plan = mirror_plan(
        bundled.stories,
        {k: m.local for k, m in mirrors.items()},
        keys,
        settings.screens,
        [(v, w, n) for v, w, n, _ in crops],
    )
    downloads = [
        Download(
            mirror.remote.tile_url(level, x, y), trees[key] / mirror.local.tile_path(level, x, y)
        )
        for key, mirror in mirrors.items()
        for level, x, y in sorted(plan.tiles[key])
    ]
    fetched = _fetch(downloads, found, settings.per_host, offline, progress)
    extra = _cut_images(mirrors, trees, plan, crops, config)
    report = write_built_site(bundled, [*problems, *warnings], output=out_dir, extra_files=extra)
    files = checksums.write_checksums(out_dir)
    zip_path = None
    if settings.zip if make_zip is None else make_zip:
        zip_path = checksums.write_zip(out_dir, out_dir.with_name(out_dir.name + ".zip"))
    tile_bytes, full_bytes = _sizes(mirrors, trees, plan)
    return BundleReport(
        output=out_dir,
        zip=zip_path,
        stories=len(bundled.stories),
        images=len(found),
        tiles=plan.tile_count,
        tile_bytes=tile_bytes,
        full_tiles=sum(full_mirror_count(m.local) for m in mirrors.values()),
        full_bytes=full_bytes,
        fetched=fetched,
        files=files,
        seconds=time.monotonic() - started,
        warnings=tuple(p for p in report.problems if not p.is_error),
    )


def _rights_warnings(found: Mapping[str, RemoteImage]) -> list[Problem]:
    warned: set[str] = set()
    warnings = []
    for remote in found.values():
        for source in remote.sources:
            if source.id in warned or not is_restrictive(source.rights):
                continue
            warned.add(source.id)
            warnings.append(
                Problem(
                    SourceLocation(remote.story),
                    f"{source.id} is marked '{rights_name(source.rights)}' ({source.rights}): "
                    "copying its images into a bundle may need the rights holder's permission",
                    "ask the institution, or keep this story out of the bundle",
                    "warning",
                )
            )
    return warnings


def _fetch_plain_images(
    found: Mapping[str, RemoteImage], config: SiteConfig, offline: bool
) -> tuple[dict[str, LocalImage], list[Problem]]:
    """Remote images without a service, downloaded whole and tiled like local files."""
    from storiiies.errors import ImageError
    from storiiies.images import tiles

    wanted = {key: remote for key, remote in found.items() if remote.image.service is None}
    targets = {
        key: tree_path(config.cache_dir, key).with_suffix(_suffix(str(r.image.url)))
        for key, r in wanted.items()
    }
    problems = []
    if not offline:
        result = download_all(
            [Download(str(wanted[key].image.url), target) for key, target in targets.items()]
        )
        problems = [
            Problem(SourceLocation("bundle"), f"cannot fetch {line}", _RETRY_HINT)
            for line in result.errors
        ]
    images: dict[str, LocalImage] = {}
    for key, target in targets.items():
        if not target.is_file():
            if offline:
                problems.append(
                    Problem(
                        SourceLocation(wanted[key].story),
                        f"{wanted[key].image.url} is not fetched yet and --offline is set",
                    )
                )
            continue
        try:
            width, height = tiles.read_image_size(target)
        except ImageError as error:
            problems.append(
                Problem(
                    SourceLocation(wanted[key].story),
                    f"{wanted[key].image.url}: {error.message}",
                    error.hint,
                )
            )
            continue
        images[key] = LocalImage(target, key, 0, width, height)
    return images, problems


def _suffix(url: str) -> str:
    suffix = Path(url.split("?", 1)[0]).suffix.lower()
    return (
        suffix
        if suffix in {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".gif", ".jp2"}
        else ".jpg"
    )


def _mirrored_crops(stories, keys: Mapping[int, str]):  # type: ignore[no-untyped-def]
    """(view, width, file name, size) of each crop the pages link to that shows a mirror."""
    from storiiies.site.crops import wanted_crops
    from storiiies.site.image_urls import crop_name, primary_image
    from storiiies.site.render import crop_size

    result: dict[str, tuple[Any, int, str, tuple[int, int]]] = {}
    for story in stories:
        for view, width in wanted_crops(story):
            image = primary_image(view.canvas)
            if image is not None and id(image) in keys:
                name = crop_name(view, width)
                result.setdefault(name, (view, width, name, crop_size(view, story, width)))
    return list(result.values())


def _fetch(
    downloads: list[Download],
    found: Mapping[str, RemoteImage],
    per_host: int,
    offline: bool,
    progress: Progress | None,
) -> int:
    if offline:
        missing = [d for d in downloads if not d.target.is_file()]
        if missing:
            raise BuildFailed(
                [
                    Problem(
                        SourceLocation("bundle"),
                        f"{len(missing)} tiles are not fetched yet and --offline is set",
                        "run once with the network on",
                    )
                ]
            )
        return 0

    def report(done: int, total: int, _: int) -> None:
        if progress is not None:
            progress("fetching", done, total)

    result = download_all(downloads, DownloadPolicy(per_host=per_host), report)
    if result.errors:
        raise BuildFailed(
            [
                Problem(SourceLocation("bundle"), f"cannot fetch {line}", _RETRY_HINT)
                for line in result.errors
            ]
        )
    return result.fetched


def _cut_images(
    mirrors: Mapping[str, Mirror],
    trees: Mapping[str, Path],
    plan: MirrorPlan,
    crops,
    config: SiteConfig,
) -> list[OutputFile]:  # type: ignore[no-untyped-def]
    for key, mirror in mirrors.items():
        if mirror.local.legacy is None:
            for level in overview_levels(mirror.local):
                write_level_image(mirror.local, trees[key], level)
    files = []
    for _, width, name, size in crops:
        source = plan.crops.get((name, width))
        if source is None:
            continue
        cached = config.cache_dir / "mirror" / name
        if not cached.is_file():
            cut_crop(
                mirrors[source.key].local, trees[source.key], source.level, source.box, size, cached
            )
        files.append(OutputFile(name, source=cached))
    return files


def _sizes(
    mirrors: Mapping[str, Mirror], trees: Mapping[str, Path], plan: MirrorPlan
) -> tuple[int, int]:
    """Bytes of the planned tiles, and an estimate for every tile: each level's mean tile size."""
    planned = full = 0
    for key, mirror in mirrors.items():
        grid = mirror.local
        by_level: dict[int, list[int]] = {}
        for level, x, y in plan.tiles[key]:
            by_level.setdefault(level, []).append(
                (trees[key] / grid.tile_path(level, x, y)).stat().st_size
            )
        planned += sum(sum(sizes) for sizes in by_level.values())
        known = sorted(by_level)
        for level in range(grid.max_level + 1):
            if not grid.has_level(level) or not known:
                continue
            nearest = min(known, key=lambda k: abs(k - level))
            mean = sum(by_level[nearest]) / len(by_level[nearest])
            columns, rows = grid.tile_count(level)
            full += (
                round(mean * columns * rows)
                if level not in by_level or len(by_level[level]) < columns * rows
                else sum(by_level[level])
            )
    return planned, full


__all__ = ["BundleReport", "bundle_site"]
