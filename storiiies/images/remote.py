"""Tiling jobs that run on another machine's worker (a Dask worker, see cluster.py).

Plain functions of plain values, so any executor can ship them. Two ways to move an image:

- `tile_in_place`: the worker sees the client's files (same machine, or the project and its
  cache on shared storage): it reads the source where it is and cuts into the shared cache.
  Nothing but the job's fields and the answer crosses the network.
- `tile_sent`: the worker sees nothing of the client: it is sent the file's bytes, cuts into a
  scratch cache of its own and answers with the tile tree as an uncompressed tar (JPEG tiles do
  not compress), which `unpack_tree` commits into the client's cache in one rename.

Errors come back as values ({"error", "hint"}), never as exceptions to unpickle.
"""

from __future__ import annotations

import io
import os
import shutil
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from storiiies.errors import ImageError
from storiiies.images import cache
from storiiies.images.tiles import TiledImage, cut_tiles

#: Tile encoding threads on a worker: workers are meant to run one process per core.
WORKER_THREADS = 1


def sees(path: str, token: str) -> bool:
    """Whether this worker reads the file the client wrote at `path` with `token` in it."""
    try:
        return Path(path).read_text(encoding="utf-8") == token
    except OSError:
        return False


def tile_in_place(job: dict[str, Any]) -> dict[str, Any]:
    """Cut the image at job["source"] into job["cache_dir"] (both paths the client's)."""
    try:
        tiled = _cut(job, Path(job["source"]), Path(job["cache_dir"]))
    except ImageError as error:
        return {"error": error.message, "hint": error.hint}
    return tiled.to_fields()


def tile_sent(job: dict[str, Any], data: bytes) -> dict[str, Any] | bytes:
    """Cut the image whose bytes are `data`; the tree comes back as a tar of `<key>/…`."""
    with tempfile.TemporaryDirectory(prefix="storiiies-job-") as scratch:
        source = Path(scratch) / "source" / job["name"]
        source.parent.mkdir()
        source.write_bytes(data)
        trees = Path(scratch) / "tiles"
        trees.mkdir()
        try:
            _cut(job, source, trees)
        except ImageError as error:
            return {"error": error.message, "hint": error.hint}
        packed = io.BytesIO()
        with tarfile.open(fileobj=packed, mode="w", format=tarfile.PAX_FORMAT) as tar:
            tar.add(trees / job["key"], arcname=job["key"])
        return packed.getvalue()


def unpack_tree(packed: bytes, cache_dir: Path, key: str) -> None:
    """Put a tree that `tile_sent` packed into cache_dir/<key>, all or nothing."""
    staging = cache.staging_folder(cache_dir, key)
    try:
        with tarfile.open(fileobj=io.BytesIO(packed), mode="r") as tar:
            tar.extractall(staging, filter="data")
        unpacked = staging / key
        if not unpacked.is_dir() or cache.read_record_at(unpacked) is None:
            raise ImageError(f"a cluster worker sent an incomplete tile tree for {key}")
        try:
            os.rename(unpacked, cache_dir / key)
        except OSError:
            if cache.read_record(cache_dir, key) is None:
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _cut(job: dict[str, Any], source: Path, cache_dir: Path) -> TiledImage:
    return cut_tiles(
        source,
        cache_dir,
        job["key"],
        page=job["page"],
        tile_size=job["tile_size"],
        label=job["label"],
        threads=WORKER_THREADS,
    )
