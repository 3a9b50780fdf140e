"""BUILD: what a build was made from, so `storiiies build` with nothing changed costs nothing.

A build records a fingerprint of its inputs in the project's cache (`last-build/`, one record
per output folder; not in the site, which stays the same bytes for the same input and names
no paths of the author's machine):

- the tool: storiiies' version and code, Python's, libvips' and the libraries' versions;
- the project: every file of the project folder (files up to 1 MB, such as storiiies.yml and
  the stories, by their bytes; larger ones by size, modification time and inode), except its
  output folders, its cache and hidden entries, as the preview's watcher sees it;
- the theme: every file of the theme's folders, wherever they are;
- the options: `--offline` and the output folder;

all taken before the build reads anything, and then what the build turned out to read:

- local sources and narration (a file, or a folder's listing), wherever they are;
- remote documents: each URL asked for, with the digest of the copy in the HTTP cache;
- images on object storage: each object's URL and stamp (ETag, size, modification time);

and a listing of the site it wrote (names, sizes, modification times, its marker included).

`last_build` compares: the same fingerprint, every local file as it was, every remote document
still fresh in the HTTP cache by the server's own Cache-Control (iiif/httpcache.py; offline:
the same copy), every object on storage with the same stamp as the store gives now (offline:
the saved copy's), and the site folder as the build left it. Then the site is current and nothing
is built. Anything else, or a marker that cannot be read, means a full build; a build that
stood a stale copy in for a failing server records nothing, so the next one asks again.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import platform
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pyvips

import storiiies
from storiiies.atomic import write_atomic
from storiiies.config import SiteConfig
from storiiies.errors import BuildFailed, Problem, SourceError, SourceLocation
from storiiies.iiif.fetch import Fetcher
from storiiies.iiif.httpcache import ResponseCache
from storiiies.images.stored import Options, StoredImages
from storiiies.incremental import StageCache
from storiiies.site.assemble import Site
from storiiies.site.themes import load_theme
from storiiies.site.write import MARKER

#: Files up to this size are fingerprinted by their bytes, larger ones by their metadata.
BY_CONTENT = 1024 * 1024

#: Folders no build reads, skipped like hidden entries (the preview's watcher skips them too).
SKIPPED_FOLDERS = {"__pycache__", "node_modules"}

#: The libraries whose version can change what a build writes.
LIBRARIES = (
    "jinja2",
    "markdown-it-py",
    "mdit-py-plugins",
    "nh3",
    "pydantic",
    "pyyaml",
    "rcssmin",
    "rjsmin",
)

#: Bumped when the record's shape changes: an older record is never taken as current.
RECORD_VERSION = 2


@dataclass(frozen=True)
class Fingerprint:
    """The digest of a build's inputs, taken before it reads them."""

    digest: str
    offline: bool


@dataclass(frozen=True)
class LastBuild:
    """The build whose site is still current: when it ran, what it made, what it warned of."""

    output: Path
    built_at: float  # seconds since the epoch
    stories: int
    files: int
    warnings: tuple[Problem, ...]


def take_fingerprint(config: SiteConfig, *, offline: bool, output: Path) -> Fingerprint:
    """The fingerprint of everything a build of `config` into `output` reads, known before it
    reads it (the stories, the theme, the tool). Local sources outside the project and remote
    documents are only known after a build: `record_build` records them."""
    digest = hashlib.sha256()
    for item in (_tool(), _options(config, offline, output), _project(config, output)):
        digest.update(json.dumps(item).encode())
    digest.update(json.dumps(_theme(config)).encode())
    return Fingerprint(digest.hexdigest(), offline)


def last_build(
    fingerprint: Fingerprint, output: Path, cache_dir: Path, *, options: Options | None = None
) -> LastBuild | None:
    """The last build into `output`, when its site is current: nothing it read has changed
    and the folder is as it left it. None otherwise (build again). `options` reach object
    storage (its endpoint), as the build does."""
    try:
        record = json.loads(_record_path(output, cache_dir).read_text(encoding="utf-8"))
        if not isinstance(record, dict) or record.get("version") != RECORD_VERSION:
            return None
        if record["fingerprint"] != fingerprint.digest:
            return None
        if record["local"] != _local_prints(record["local"]):
            return None
        if not _remote_current(record["remote"], record["cache"], offline=fingerprint.offline):
            return None
        stored = StoredImages(cache_dir, offline=fingerprint.offline, options=options)
        if not _stored_current(record["stored"], stored):
            return None
        if record["site"] != _digest(_site_files(output)):
            return None
        return LastBuild(
            output=output,
            built_at=float(record["built_at"]),
            stories=int(record["stories"]),
            files=int(record["files"]),
            warnings=tuple(_problem(item) for item in record["warnings"]),
        )
    except (KeyError, TypeError, ValueError, AttributeError, OSError):
        return None  # a damaged or foreign record: build


@dataclass(frozen=True)
class BuildRecord:
    """What the cache keeps of a build: made by `record_build`, saved with the listing of the
    site once it is in place."""

    record: dict[str, Any]

    def save(self, output: Path, cache_dir: Path, *, written: Iterable[str] | None = None) -> None:
        """Save the record with the listing of the site in `output`. `written`, the paths of
        the files the build wrote there, spares reading its folders: the listing is the same
        (see `_site_files`), from one stat of each file."""
        files = _site_files(output) if written is None else _written_files(output, written)
        shown = sum(1 for item in files if item[0] != MARKER)  # the author's files
        record = {**self.record, "site": _digest(files), "files": shown}
        record["built_at"] = time.time()
        path = _record_path(output, cache_dir)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, json.dumps(record, ensure_ascii=False))


def record_build(
    fingerprint: Fingerprint,
    site: Site,
    stages: StageCache,
    fetcher: Fetcher,
    *,
    warnings: Iterable[Problem],
) -> BuildRecord | None:
    """The record of a build of `site`: its fingerprint and what it turned out to read. None
    when a remote document came from a stale copy (the server failed): the next build asks."""
    if fetcher.stale_reasons:
        return None
    local: dict[str, Any] = {}
    for location in stages.local_sources():
        local[location] = None
    for story in site.story_versions:
        for step in story.steps:
            audio = step.narration.file if step.narration else None
            if audio is not None:  # and its captions, beside it, whether there or not
                local[str(audio)] = local[str(audio.with_suffix(".vtt"))] = None
    responses = ResponseCache(fetcher.cache.folder)
    remote = {}
    for url in sorted(fetcher.asked):
        cached = responses.read(url)
        if cached is None:
            return None  # asked for and not kept: nothing to compare with next time
        remote[url] = hashlib.sha256(cached.body.encode()).hexdigest()
    record = {
        "version": RECORD_VERSION,
        "fingerprint": fingerprint.digest,
        "local": _local_prints(local),
        "remote": remote,
        "stored": stages.stored_sources(),
        "cache": str(fetcher.cache.folder),
        "stories": len(site.stories),
        "warnings": [asdict(problem) for problem in warnings],
    }
    return BuildRecord(record)


def _tool() -> list[object]:
    """storiiies, its code (an edited checkout keeps its version number) and what it runs on."""
    package = Path(storiiies.__file__).parent
    code = sorted(
        (str(Path(entry.path).relative_to(package)), *_metadata(entry))
        for entry in _files(package, hidden=True)
        if entry.name.endswith(".py")
    )
    libraries: list[tuple[str, str | None]] = []
    for name in LIBRARIES:
        try:
            libraries.append((name, importlib.metadata.version(name)))
        except importlib.metadata.PackageNotFoundError:
            libraries.append((name, None))
    libvips = ".".join(str(pyvips.version(n)) for n in range(3))
    return [storiiies.__version__, platform.python_version(), libvips, libraries, code]


def _options(config: SiteConfig, offline: bool, output: Path) -> list[object]:
    return [str(config.root), offline, str(output.resolve())]


def _project(config: SiteConfig, output: Path) -> list[tuple[object, ...]]:
    """Every file of the project folder a build may read, with its fingerprint."""
    root = config.root
    skipped = frozenset(
        {
            output.resolve(),
            config.output_dir.resolve(),
            (root / config.settings.bundle.output_dir).resolve(),
            config.cache_dir.resolve(),
        }
    )
    folders = [root]
    if config.stories_dir.is_symlink():  # the stories may live elsewhere, linked in
        folders.append(config.stories_dir)
    return sorted(
        (str(Path(entry.path).relative_to(root)), *_print(entry))
        for folder in folders
        for entry in _files(folder, skipped=skipped)
    )


def _theme(config: SiteConfig) -> list[tuple[object, ...]]:
    """Every file of the theme's folders: the project's theme_dir first, then the theme and
    the themes it extends. An unknown theme is left to the build to report."""
    settings = config.settings
    override = config.root / settings.theme_dir if settings.theme_dir else None
    try:
        theme = load_theme(settings.theme, override, config_file=config.config_file)
    except BuildFailed:
        return [("unknown theme", settings.theme)]
    folders = [*([override] if override is not None else []), *theme.dirs]
    return [
        (str(folder), sorted((entry.path, *_print(entry)) for entry in _files(folder, hidden=True)))
        if folder.is_dir()
        else (str(folder), None)
        for folder in dict.fromkeys(folders)
    ]


def _files(
    folder: Path, *, skipped: frozenset[Path] = frozenset(), hidden: bool = False
) -> Iterator[os.DirEntry[str]]:
    """The files under `folder` (which may be a symbolic link), not descending into links to
    folders below it: a link to a large tree would be read whole. What a build reads through
    such a link is a source, recorded by itself (`record_build`)."""
    if not folder.is_dir():
        return
    # Paths as text, not Path objects: a site of 20,000 tiles and crops is walked in each build.
    skipped_paths = {str(path) for path in skipped}
    pending = [str(folder)]
    while pending:
        with os.scandir(pending.pop()) as entries:
            for entry in entries:
                if entry.name.startswith(".") and not hidden:
                    continue
                if entry.is_dir(follow_symlinks=False):
                    if entry.name not in SKIPPED_FOLDERS and entry.path not in skipped_paths:
                        pending.append(entry.path)
                elif entry.is_file():
                    yield entry


def _print(entry: os.DirEntry[str]) -> tuple[object, ...]:
    """A file's bytes (their digest) when it is small, else its size, mtime and inode."""
    info = entry.stat()
    if info.st_size > BY_CONTENT:
        return _metadata(entry)
    with open(entry.path, "rb") as file:
        return ("sha256", hashlib.sha256(file.read()).hexdigest())


def _metadata(entry: os.DirEntry[str] | Path) -> tuple[object, ...]:
    info = entry.stat()
    return ("stat", info.st_size, info.st_mtime_ns, info.st_ino)


def _local_prints(locations: Iterable[str]) -> dict[str, Any]:
    """Each local file's metadata, a folder's listing, or None where nothing is."""
    prints: dict[str, Any] = {}
    for location in locations:
        path = Path(location)
        try:
            if path.is_dir():
                prints[location] = sorted(
                    [entry.name, *_metadata(entry)] for entry in os.scandir(path)
                )
            else:
                prints[location] = list(_metadata(path))
        except OSError:
            prints[location] = None
    return prints


def _remote_current(remote: dict[str, str], cache_folder: str, *, offline: bool) -> bool:
    """Every remote document still has the same copy in the HTTP cache, and the server said
    it stays fresh until later than now (offline: the copy is all a build would read)."""
    responses = ResponseCache(Path(cache_folder))
    now = time.time()
    for url, digest in remote.items():
        cached = responses.read(url)
        if cached is None or hashlib.sha256(cached.body.encode()).hexdigest() != digest:
            return False
        if not offline and not cached.is_fresh(now):
            return False
    return True


def _stored_current(stored: dict[str, Any], objects: StoredImages) -> bool:
    """Every object-storage source holds the objects the build read, by the store's stamps
    (offline: by the saved copies'). A store that cannot be asked means: build, and tell."""
    try:
        return all(objects.prints(url) == prints for url, prints in stored.items())
    except SourceError:
        return False


def _record_path(output: Path, cache_dir: Path) -> Path:
    name = hashlib.sha256(str(output.resolve()).encode()).hexdigest()[:16]
    return cache_dir / "last-build" / f"{name}.json"


def _site_files(site_folder: Path) -> list[tuple[object, ...]]:
    """The names, sizes and modification times of the site's files (its marker included):
    a page deleted or edited in the output, or a site that is no build's, is noticed."""
    if not (site_folder / MARKER).is_file():
        return [("no marker",)]
    start = len(str(site_folder)) + 1
    return sorted(
        (entry.path[start:], *_metadata(entry)[1:3]) for entry in _files(site_folder, hidden=True)
    )


def _written_files(site_folder: Path, written: Iterable[str]) -> list[tuple[object, ...]]:
    """What `_site_files` lists, for a site whose files are `written` (paths in the site):
    the same files (none below a skipped folder), each with its size and modification time."""
    if not (site_folder / MARKER).is_file():
        return [("no marker",)]
    root = str(site_folder)
    items: list[tuple[object, ...]] = []
    for path in dict.fromkeys(written):
        if SKIPPED_FOLDERS.intersection(path.split("/")[:-1]):
            continue
        info = os.stat(f"{root}/{path}")
        items.append((path, info.st_size, info.st_mtime_ns))
    return sorted(items)


def _digest(items: object) -> str:
    return hashlib.sha256(json.dumps(items).encode()).hexdigest()


def _problem(item: dict[str, Any]) -> Problem:
    where = item["location"]
    return Problem(
        SourceLocation(where["path"], where["line"], where["column"]),
        item["message"],
        item["hint"],
        item["severity"],
        item["source_alias"],
    )
