"""Local images → IIIF Image API 3.0 level-0 tile trees, cached by content hash.

libvips' `dzsave` writes the tile pyramid; we add the `full/w,h` sizes that viewers ask for
as thumbnails, and write info.json at publish time (its `id` depends on the site's address).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyvips

from storiiies.errors import ImageError

FORMAT_VERSION = 1
TILE_SIZE = 256
MAX_SIDE = 200_000
MAX_PIXELS = 10_000_000_000
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".jp2", ".j2k", ".gif"}


@dataclass(frozen=True)
class TileJob:
    source: Path
    page: int = 0


@dataclass(frozen=True)
class TiledImage:
    key: str
    path: Path
    width: int
    height: int
    tile_size: int
    scale_factors: tuple[int, ...]
    sizes: tuple[tuple[int, int], ...]
    cached: bool = False


@dataclass(frozen=True)
class ProgressEvent:
    done: int
    total: int
    source: Path | None = None


def natural_sort_key(name: str) -> list[Any]:
    return [int(part) if part.isdigit() else part.casefold() for part in re.split(r"(\d+)", name)]


def list_folder_images(folder: Path) -> list[Path]:
    return sorted(
        (p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in IMAGE_SUFFIXES),
        key=lambda p: natural_sort_key(p.name),
    )


def _open(source: Path, page: int = 0, **options: Any) -> pyvips.Image:
    shown = source.name
    try:
        if source.stat().st_size == 0:
            raise ImageError(f"{shown} is empty (0 bytes)", "export the image again")
        image = pyvips.Image.new_from_file(str(source), page=page, **options) if page else pyvips.Image.new_from_file(str(source), **options)
    except pyvips.Error as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else "unknown format"
        raise ImageError(
            f"{shown} is not an image libvips can read ({reason})",
            "re-export it as JPEG, PNG or TIFF",
        ) from None
    except OSError as exc:
        raise ImageError(f"cannot read {shown}: {exc.strerror}") from None
    return image


def _oriented_size(image: pyvips.Image) -> tuple[int, int]:
    orientation = image.get("orientation") if image.get_typeof("orientation") else 1
    return (image.height, image.width) if orientation in (5, 6, 7, 8) else (image.width, image.height)


def read_image_size(source: Path, page: int = 0) -> tuple[int, int]:
    """Width and height as displayed (EXIF orientation applied), from the header only."""
    width, height = _oriented_size(_open(source, page))
    _check_size(source, width, height)
    return width, height


def page_count(source: Path) -> int:
    image = _open(source)
    if source.suffix.lower() not in (".tif", ".tiff"):
        return 1
    return int(image.get("n-pages")) if image.get_typeof("n-pages") else 1


def _check_size(source: Path, width: int, height: int) -> None:
    if width < 2 or height < 2:
        raise ImageError(f"{source.name} is only {width}×{height} pixels", "use a real scan or photograph")
    if max(width, height) > MAX_SIDE or width * height > MAX_PIXELS:
        raise ImageError(
            f"{source.name} claims to be {width}×{height} pixels, too large to tile",
            "check the file; split very large images into parts",
        )


def _key(source: Path, page: int, tile_size: int) -> str:
    digest = hashlib.sha256()
    with source.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    digest.update(f"|{page}|{tile_size}|{FORMAT_VERSION}".encode())
    return digest.hexdigest()[:32]


def _levels(width: int, height: int, tile_size: int) -> tuple[int, ...]:
    factors = [1]
    while max(width, height) / factors[-1] > tile_size:
        factors.append(factors[-1] * 2)
    return tuple(factors)


def _sizes(width: int, height: int, factors: tuple[int, ...]) -> tuple[tuple[int, int], ...]:
    sizes = []
    for factor in reversed(factors):
        w, h = -(-width // factor), -(-height // factor)
        if max(w, h) <= 1024:
            sizes.append((w, h))
    return tuple(sizes)


def _prepared(image: pyvips.Image) -> pyvips.Image:
    """sRGB (or grey) 8-bit without alpha, as JPEG tiles need."""
    image = image.autorot()
    if image.interpretation == "cmyk" or image.bands == 4 and image.interpretation == "cmyk":
        image = image.icc_import(intent="relative") if image.get_typeof("icc-profile-data") else image.colourspace("srgb")
    if image.hasalpha():
        image = image.flatten(background=[255] * (image.bands - 1))
    if image.interpretation in ("grey16", "b-w") or image.bands == 1:
        image = image.colourspace("b-w")
    elif image.interpretation != "srgb" or image.format != "uchar":
        image = image.colourspace("srgb")
    if image.format != "uchar":
        image = image.cast("uchar")
    return image


def tile_image(source: Path, cache_dir: Path, *, page: int = 0, tile_size: int = TILE_SIZE) -> TiledImage:
    key = _key(source, page, tile_size)
    final = cache_dir / key
    if (final / ".complete").is_file():
        width, height = (int(n) for n in (final / ".complete").read_text().split())
        factors = _levels(width, height, tile_size)
        return TiledImage(key, final, width, height, tile_size, factors, _sizes(width, height, factors), cached=True)
    image = _open(source, page, access="sequential")
    width, height = _oriented_size(image)
    _check_size(source, width, height)
    cache_dir.mkdir(parents=True, exist_ok=True)
    staging = cache_dir / f"{key}.tmp-{os.getpid()}"
    if staging.exists():
        shutil.rmtree(staging)
    try:
        prepared = _prepared(image)
        prepared.dzsave(str(staging), layout="iiif3", tile_size=tile_size, overlap=0, suffix=".jpg[Q=85,strip]")
        factors = _levels(width, height, tile_size)
        sizes = _sizes(width, height, factors)
        thumbnail_source = _prepared(_open(source, page))
        for w, h in sizes:
            folder = staging / "full" / f"{w},{h}" / "0"
            folder.mkdir(parents=True, exist_ok=True)
            thumbnail_source.resize(w / width, vscale=h / height).jpegsave(str(folder / "default.jpg"), Q=85, strip=True)
        for leftover in ("info.json", "vips-properties.xml"):
            (staging / leftover).unlink(missing_ok=True)
        (staging / ".complete").write_text(f"{width} {height}")
        os.replace(staging, final) if not final.exists() else shutil.rmtree(staging)
    except pyvips.Error as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise ImageError(
            f"{source.name} could not be decoded ({str(exc).strip().splitlines()[0] if str(exc).strip() else 'damaged file'})",
            "the file may be truncated or damaged; export it again",
        ) from None
    return TiledImage(key, final, width, height, tile_size, factors, sizes)


def info_json(tiled: TiledImage, image_id: str) -> dict[str, Any]:
    return {
        "@context": "http://iiif.io/api/image/3/context.json",
        "id": image_id,
        "type": "ImageService3",
        "protocol": "http://iiif.io/api/image",
        "profile": "level0",
        "width": tiled.width,
        "height": tiled.height,
        "sizes": [{"width": w, "height": h} for w, h in tiled.sizes],
        "tiles": [{"width": tiled.tile_size, "height": tiled.tile_size, "scaleFactors": list(tiled.scale_factors)}],
    }


def tile_many(
    jobs: list[TileJob],
    cache_dir: Path,
    *,
    workers: int | None = None,
    progress: Callable[[ProgressEvent], None] | None = None,
) -> list[TiledImage | ImageError]:
    """Tile every job (libvips threads do the heavy work); bad images give their ImageError."""
    total = len(jobs)
    done = 0

    def run(job: TileJob) -> TiledImage | ImageError:
        try:
            return tile_image(job.source, cache_dir, page=job.page)
        except ImageError as error:
            return error

    results: list[TiledImage | ImageError] = []
    with ThreadPoolExecutor(max_workers=workers or min(2, os.cpu_count() or 1)) as pool:
        for job, result in zip(jobs, pool.map(run, jobs), strict=True):
            results.append(result)
            done += 1
            if progress is not None:
                progress(ProgressEvent(done, total, job.source))
    return results
