"""RESOLVE (1/2): turn every `sources:` entry of every story into a SourceDocument.

Remote documents are fetched in parallel (once per URL, however many stories use them);
local images are only measured here: tiling happens after the whole site has been checked.
An image on object storage (`s3://…`, images/stored.py) is copied into the cache first and is
then a local image like any other.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from storiiies.config import DEFAULT_MAX_MEGAPIXELS
from storiiies.errors import ImageError, NotIIIF, SourceError, shown_path
from storiiies.iiif.fetch import Fetcher
from storiiies.iiif.fragments import Region
from storiiies.iiif.locate import locate
from storiiies.iiif.model import Canvas, ImageResource, ImageService, SourceDocument
from storiiies.iiif.presentation import read_source_json
from storiiies.iiif.remote import only_canvas, read_remote
from storiiies.images import tiles
from storiiies.images.cache import file_hash
from storiiies.images.stored import StoredImages, base_name, is_stored, shown
from storiiies.model import LocalImage, StoryDraft
from storiiies.story.frontmatter import SourceSpec
from storiiies.story.parse import slugify

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
    #: the objects an object-storage source was copied from: [URL, stamp] pairs
    stored: tuple[tuple[str, str], ...] = ()


SourceResult = ResolvedSource | SourceError


def source_key(spec: SourceSpec, story_dir: Path, root: Path) -> SourceKey:
    if spec.url is None:
        raise ValueError("a virtual canvas has no source key: stories.py composes it")
    if is_stored(spec.url):
        return SourceKey(spec.url, spec.manifest, spec.canvas)
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


def source_keys(draft: StoryDraft, root: Path) -> dict[str, SourceKey]:
    """What to read for each source of a story. A virtual canvas (`compose:`) is read from
    nothing itself: stories.py composes it from its parts, which are sources of the same story."""
    story_dir = draft.source.path.parent
    return {
        alias: source_key(spec, story_dir, root)
        for alias, spec in draft.meta.sources.items()
        if not spec.is_virtual
    }


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except OSError:  # a pasted content state can be longer than any file name
        return False


def resolve_sources(
    keys: Iterable[SourceKey],
    fetcher: Fetcher,
    *,
    root: Path,
    base_url: str,
    max_megapixels: int = DEFAULT_MAX_MEGAPIXELS,
    stored: StoredImages | None = None,
) -> dict[SourceKey, SourceResult]:
    """Each key's document or error. A local image larger than `max_megapixels` is an error
    from its header alone: nothing later decodes it. `stored` copies images on object storage
    (default: into the fetcher's cache, with the store's own configuration only)."""
    objects = stored or StoredImages(fetcher.cache.folder.parent, offline=fetcher.offline)
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
            if is_stored(key.location):
                resolved = _stored_source(key.location, objects, base_url, max_megapixels)
            else:
                resolved = _local_source(Path(key.location), root, base_url, max_megapixels)
            if key.canvas is None:
                return resolved
            document = only_canvas(resolved.document, key.canvas)
            index = next(
                c.index for c in resolved.document.canvases if c.id == document.canvases[0].id
            )
            images = {1: resolved.images[index]} if index in resolved.images else {}
            return ResolvedSource(document, images, stored=resolved.stored)
        except SourceError as error:
            return error

    with ThreadPoolExecutor(max_workers=8) as pool:
        return dict(zip(unique, pool.map(resolve, unique), strict=True))


def _local_source(path: Path, root: Path, base_url: str, max_megapixels: int) -> ResolvedSource:
    shown = shown_path(path, root)
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
    return _image_source(pages, shown, path.stem, base_url, max_megapixels)


def _stored_source(
    url: str, objects: StoredImages, base_url: str, max_megapixels: int
) -> ResolvedSource:
    """An image (or a folder of images) on object storage, read from its copy in the cache:
    the same document as the same file given by path, but for its id (the URL)."""
    source = objects.fetch(url)
    labels = {file.path: shown(file.url) for file in source.files}
    if source.folder:
        pages = [(file.path, 0) for file in source.files]
    else:
        [file] = source.files
        count = tiles.page_count(file.path, label=labels[file.path])
        pages = [(file.path, page) for page in range(count)]
    stem = PurePosixPath(base_name(url)).stem if not source.folder else base_name(url)
    resolved = _image_source(pages, shown(url), stem, base_url, max_megapixels, labels)
    prints = tuple((file.url, file.stamp) for file in source.files)
    return ResolvedSource(resolved.document, resolved.images, stored=prints)


def _image_source(
    pages: list[tuple[Path, int]],
    document_id: str,
    label: str,
    base_url: str,
    max_megapixels: int,
    shown_as: Mapping[Path, str] | None = None,
) -> ResolvedSource:
    """The document of image files (each page a canvas), measured from their headers."""
    canvases = []
    images: dict[int, LocalImage] = {}
    for index, (file, page) in enumerate(pages, start=1):
        width, height = tiles.read_image_size(
            file, page, max_megapixels=max_megapixels, label=(shown_as or {}).get(file)
        )
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
        id=document_id,
        kind="local-image",
        canvases=tuple(canvases),
        label={"none": (label,)},
    )
    return ResolvedSource(document, images)


def _digest(path: Path) -> str:
    return file_hash(path).hexdigest()
