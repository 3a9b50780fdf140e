"""RESOLVE (1/2): turn every `sources:` entry of every story into a SourceDocument.

Remote documents are fetched in parallel (once per URL, however many stories use them);
local images are only measured here: tiling happens after the whole site has been checked.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from storiiies.errors import ImageError, NotIIIF, SourceError
from storiiies.iiif.fetch import Fetcher
from storiiies.iiif.locate import locate
from storiiies.iiif.model import Canvas, ImageResource, ImageService, SourceDocument
from storiiies.iiif.presentation import read_source_json
from storiiies.iiif.remote import only_canvas, read_remote
from storiiies.images import tiles
from storiiies.model import LocalImage
from storiiies.story.frontmatter import SourceSpec
from storiiies.story.parse import slugify
from storiiies.story.references import Region

CONTENT_STATE_HINT = (
    "paste the content state's JSON, its encoded form, or its URL, as a viewer gave it"
)
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".jp2", ".j2k", ".gif"}


@dataclass(frozen=True)
class SourceKey:
    """Identifies a source across stories: a URL or an absolute path, plus a collection choice,
    the one canvas it names (if any) and the region a pasted content state or image URL gave."""

    location: str
    manifest: int | str | None = None
    canvas: int | str | None = None
    region: Region | None = None
    #: why a pasted content state could not be read (reported when the source is resolved)
    error: str | None = None


@dataclass(frozen=True)
class ResolvedSource:
    document: SourceDocument
    #: local image files behind the document's canvases, by canvas index
    images: Mapping[int, LocalImage]
    #: the region a reference without its own shows (from a content state or an image URL)
    region: tuple[float, float, float, float] | None = None
    #: why a copy cached by an earlier build stood in for the server's answer (None: it answered)
    stale: str | None = None


SourceResult = ResolvedSource | SourceError


def source_key(spec: SourceSpec, story_dir: Path, root: Path) -> SourceKey:
    if spec.url is None:
        raise ValueError("a virtual canvas has no source key: resolve.py composes it")
    local = not spec.is_remote and (_exists(root / spec.url) or _exists(story_dir / spec.url))
    located = None if local else locate(spec.url)
    if located is not None:
        return SourceKey(
            located.location,
            spec.manifest,
            spec.canvas or located.canvas,
            located.region,
            located.error,
        )
    if spec.is_remote:
        return SourceKey(spec.url, spec.manifest, spec.canvas)
    candidate = (root / spec.url).resolve()
    if not _exists(candidate) and _exists(story_dir / spec.url):
        candidate = (story_dir / spec.url).resolve()
    return SourceKey(str(candidate), spec.manifest, spec.canvas)


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except OSError:  # a pasted content state can be longer than any file name
        return False


def resolve_sources(
    keys: Iterable[SourceKey], fetcher: Fetcher, *, root: Path, base_url: str
) -> dict[SourceKey, SourceResult]:
    unique = sorted(
        set(keys), key=lambda k: (k.location, str(k.manifest), str(k.canvas), str(k.region))
    )

    def resolve(key: SourceKey) -> SourceResult:
        try:
            if key.error:
                raise NotIIIF(f"not a readable content state: {key.error}", CONTENT_STATE_HINT)
            if key.location.startswith(("http://", "https://")):
                with fetcher.recording() as asked:
                    document, region = read_remote(
                        key.location,
                        fetcher,
                        manifest=key.manifest,
                        canvas=key.canvas,
                        region=key.region,
                    )
                stale = next(
                    (fetcher.stale_reasons[u] for u in asked if u in fetcher.stale_reasons), None
                )
                return ResolvedSource(document, {}, region, stale=stale)
            resolved = _local_source(Path(key.location), root, base_url)
            if key.canvas is None:
                return resolved
            document = only_canvas(resolved.document, key.canvas)
            index = next(
                c.index for c in resolved.document.canvases if c.id == document.canvases[0].id
            )
            images = {1: resolved.images[index]} if index in resolved.images else {}
            return ResolvedSource(document, images)
        except SourceError as error:
            return error

    with ThreadPoolExecutor(max_workers=8) as pool:
        return dict(zip(unique, pool.map(resolve, unique), strict=True))


def _local_source(path: Path, root: Path, base_url: str) -> ResolvedSource:
    shown = _shown_path(path, root)
    if not _exists(path):
        raise ImageError(
            f"{shown} does not exist",
            "paths are relative to the project folder (where storiiies.yml is)",
        )
    if path.is_dir():
        files = [p for p in tiles.list_folder_images(path)]
        if not files:
            raise ImageError(f"the folder {shown} holds no images", "add JPEG, PNG or TIFF files")
        pages = [(file, 0) for file in files]
    elif path.suffix.lower() == ".json":
        import json

        try:
            data = json.loads(path.read_text(encoding="utf-8-sig"))
        except (OSError, ValueError) as exc:
            raise NotIIIF(f"{shown} is not readable JSON ({exc})") from None
        return ResolvedSource(read_source_json(data, path.as_uri()), {})
    else:
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            raise ImageError(
                f"{shown} is not an image file storiiies knows",
                "use JPEG, PNG, TIFF, WebP or JPEG 2000, or a manifest URL",
            )
        pages = [(path, page) for page in range(tiles.page_count(path))]
    canvases = []
    images: dict[int, LocalImage] = {}
    for index, (file, page) in enumerate(pages, start=1):
        width, height = tiles.read_image_size(file, page)
        name = f"{slugify(file.stem)}-{_digest(file)[:12]}" + (f"-p{page + 1}" if page else "")
        service = ImageService(
            id=f"{base_url}images/{name}", version=3, level=0, width=width, height=height
        )
        canvases.append(
            Canvas(
                id=f"{base_url}images/{name}/canvas",
                index=index,
                width=width,
                height=height,
                label={
                    "none": (
                        file.stem if len(pages) == 1 or page == 0 else f"{file.stem} p. {page + 1}",
                    )
                },
                images=(
                    ImageResource(
                        url=None, width=width, height=height, format="image/jpeg", service=service
                    ),
                ),
            )
        )
        images[index] = LocalImage(path=file, name=name, page=page, width=width, height=height)
    document = SourceDocument(
        id=shown,
        kind="local-image",
        canvases=tuple(canvases),
        label={"none": (path.stem,)},
    )
    return ResolvedSource(document, images)


def _shown_path(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
