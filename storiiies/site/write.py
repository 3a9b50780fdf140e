"""WRITE: put the built files in place atomically, so a failed or killed build loses nothing.

Everything is written into a hidden sibling folder first; only a complete site is swapped in,
with one atomic `renameat2(RENAME_EXCHANGE)` where the system has it.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import shutil
from collections.abc import Iterable
from pathlib import Path

from storiiies.atomic import staging_folder, sweep_staging
from storiiies.errors import BuildFailed, Problem, SourceLocation
from storiiies.images.tiles import link_tiles
from storiiies.model import OutputFile

_RENAME_EXCHANGE = 2


#: Written into every site, so a build only ever replaces a folder that a build made.
MARKER = ".storiiies-site"
_MARKER_TEXT = (
    "Written by storiiies. Every build replaces this whole folder: keep nothing else here.\n"
)


def write_site(
    files: Iterable[OutputFile], out_dir: Path, *, cache_dir: Path | None = None
) -> None:
    """Write `files` as the new content of `out_dir` (see SiteStaging). Raises BuildFailed,
    before writing anything, when `out_dir` holds something a build did not make."""
    with SiteStaging(out_dir, cache_dir=cache_dir) as staging:
        staging.write(files)
        staging.finish()


class SiteStaging:
    """A new site, put together in a hidden folder beside `out_dir` and swapped in whole by
    `finish`; left unfinished (an error, a killed build), it is deleted and `out_dir` is as
    it was. Raises BuildFailed, before making anything, when `out_dir` holds something a
    build did not make.

    Files copied from `cache_dir` (tiles, crops) are hard links where the system allows: the
    cache never changes a file in place (each is written whole, then renamed over), so the
    site and the cache can share it. Other files (the author's own, such as narration) are
    copied, so nothing done to the site can reach them."""

    def __init__(self, out_dir: Path, *, cache_dir: Path | None = None) -> None:
        self.out_dir = out_dir.resolve()
        check_replaceable(self.out_dir)
        self.out_dir.parent.mkdir(parents=True, exist_ok=True)
        recover(self.out_dir)
        self.folder = staging_folder(self.out_dir.parent, f".{self.out_dir.name}")
        self.shared = cache_dir.resolve() if cache_dir is not None else None
        self.folders: set[Path] = set()  # made in staging: one mkdir each, not one per file
        #: every file written, by its path in the site (for the build record: no listing needed)
        self.written: list[str] = []

    def __enter__(self) -> SiteStaging:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.folder.exists():
            shutil.rmtree(self.folder, ignore_errors=True)

    def make_folders(self, base: str, names: Iterable[str]) -> None:
        """Make the folders `names` (relative to `base`, parents first) ahead of the files that
        go in them: a tile tree's folders can be made while its tiles are cut."""
        root = str(self._inside(base))
        os.makedirs(root, exist_ok=True)
        for name in names:
            with contextlib.suppress(FileExistsError):
                os.mkdir(f"{root}/{name}")

    def remove(self, path: str) -> None:
        """Delete what is at `path` in the new site (folders made for a tree that changed)."""
        shutil.rmtree(self._inside(path), ignore_errors=True)

    def write(self, files: Iterable[OutputFile]) -> None:
        for output in files:
            self._write_one(output)

    def finish(self) -> None:
        """Swap the new site in: `out_dir` holds it, and the old site is gone."""
        (self.folder / MARKER).write_text(_MARKER_TEXT, encoding="utf-8")
        self.written.append(MARKER)
        _swap(self.folder, self.out_dir)

    def _inside(self, path: str) -> Path:
        # The staging folder is new and holds only what this class made (no symbolic links),
        # so the path alone tells whether it stays inside.
        relative = os.path.normpath(path)
        if os.path.isabs(relative) or relative == ".." or relative.startswith("../"):
            raise ValueError(f"refusing to write outside the site: {path}")
        return self.folder / relative

    def _write_one(self, output: OutputFile) -> None:
        target, source, shared = self._inside(output.path), output.source, self.shared
        if target.parent not in self.folders:
            target.parent.mkdir(parents=True, exist_ok=True)
            self.folders.add(target.parent)
        site_path = str(target.relative_to(self.folder).as_posix())
        if output.content is not None:
            target.write_bytes(output.content)
        elif source is not None and output.tiles:
            inside = link_tiles(str(source), str(target))
            self.written.extend(f"{site_path}/{path}" for path in inside)
            return
        elif source is not None and source.is_dir():
            inside = _link_tree(str(source), str(target))
            self.written.extend(f"{site_path}/{path}" for path in inside)
            return
        elif source is not None and shared is not None and source.is_relative_to(shared):
            _link_or_copy(str(source), str(target))
        elif source is not None:
            shutil.copyfile(source, target)
        else:
            return
        self.written.append(site_path)


def check_replaceable(out_dir: Path) -> None:
    """Refuse to replace a folder that holds the author's own files (a mistyped output_dir,
    `--output ~/Documents`): only an empty folder or an earlier build's output may go."""
    if not out_dir.exists() and not out_dir.is_symlink():
        return
    if out_dir.is_dir():
        # An earlier site from before the marker: these files are in every build.
        every_site = ("index.html", "collection.json", "assets")
        earlier = all((out_dir / name).exists() for name in every_site)
        if (out_dir / MARKER).is_file() or earlier or not any(out_dir.iterdir()):
            return
        message = f"{out_dir} holds files that no storiiies build wrote"
    else:
        message = f"{out_dir} is a file, not a folder"
    hint = "a build replaces its output folder whole; move those files, or choose another folder"
    raise BuildFailed([Problem(SourceLocation(str(out_dir)), message, hint)])


def recover(out_dir: Path) -> None:
    """Tidy what an interrupted build left: stale staging folders, or an old site mid-swap."""
    sweep_staging(out_dir.parent, f".{out_dir.name}")
    for old in out_dir.parent.glob(f".{out_dir.name}.old-*"):
        if not out_dir.exists():
            old.rename(out_dir)
        else:
            shutil.rmtree(old, ignore_errors=True)


def _link_tree(source: str, target: str) -> list[str]:
    """Make `target` a tree of folders like the folder `source` (a ready tile tree, such as a
    bundle's copy of a remote image), its files hard links to the source's. One mkdir per
    folder and one link per file: a tile tree has a folder for each tile (its IIIF address),
    and shutil.copytree would also copy each folder's times and mode, and ask for each whether
    it exists. Returns the files' paths below `target`."""
    cut = len(source)
    os.makedirs(target, exist_ok=True)
    paths: list[str] = []
    for folder, folders, names in os.walk(source):
        made = target + folder[cut:]
        for name in folders:
            with contextlib.suppress(FileExistsError):  # two trees into one folder
                os.mkdir(os.path.join(made, name))
        for name in names:
            _link_or_copy(os.path.join(folder, name), os.path.join(made, name))
            paths.append(os.path.join(folder[cut + 1 :], name).replace(os.sep, "/"))
    return paths


def _link_or_copy(source: str, target: str) -> None:
    # Tiles come from the cache and are never modified in place, so a hard link is safe and
    # makes publishing thousands of tiles nearly free.
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _swap(staging: Path, out_dir: Path) -> None:
    if not out_dir.exists():
        staging.rename(out_dir)
        return
    if _exchange(staging, out_dir):
        shutil.rmtree(staging, ignore_errors=True)
        return
    old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
    out_dir.rename(old)
    staging.rename(out_dir)
    shutil.rmtree(old, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two folders in one atomic step (Linux renameat2); False where unsupported."""
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    at_fdcwd = -100
    result = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    return bool(result == 0)
