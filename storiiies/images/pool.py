"""Tile many images at once: one worker process per core, each cutting whole images.

Processes rather than threads, measured on the 2-core test machine with ten 7–17 MP JPEGs:
two worker processes took 3.4 s; one process cutting the images in turn with two encoding
threads, 4.0 s; two threads each cutting an image, 4.5 s (pyvips spends ~0.3 ms of every tile
in Python and in libvips' shared locks, which threads contend for). The workers are plain
subprocesses (see worker.py), fed one image at a time so a big one does not hold up the rest.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import subprocess
import sys
import threading
from abc import abstractmethod
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import replace
from pathlib import Path
from typing import IO, Any

from storiiies.errors import ImageError
from storiiies.images import cache, remote
from storiiies.images.tiles import (
    ProgressEvent,
    TiledImage,
    TileJob,
    cached_tiles,
    find_tiles,
    tile_image,
    tree_at,
)

Outcome = TiledImage | ImageError
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])


def tile_many(
    jobs: list[TileJob],
    cache_dir: Path,
    *,
    workers: int | None = None,
    progress: Callable[[ProgressEvent], None] | None = None,
    executor: RemoteExecutor | None = None,
) -> list[Outcome]:
    """Tile many images, in parallel processes; a bad image gives its ImageError, not an exception.

    Images whose tiles are cached are answered at once, without decoding or starting workers.
    With an `executor` (a cluster, see cluster.py) the others are cut by its workers instead.
    """
    results: dict[int, Outcome] = {}
    report = _Reporter(jobs, progress)
    # Cached images are answered here, without decoding; the same file and page is cut once.
    groups: dict[tuple[str, int, int], list[int]] = {}
    for index, job in enumerate(jobs):
        found = cached_tiles(job, cache_dir)
        if found is not None:
            results[index] = found
            report.finished([index], "cached")
        else:
            same = (os.path.abspath(job.source), job.page, job.tile_size)
            groups.setdefault(same, []).append(index)
    todo = list(groups.values())
    if executor is not None:
        _Remote(jobs, cache_dir, executor, results, report).run(todo)
        return [results[index] for index in range(len(jobs))]
    count = min(workers or os.cpu_count() or 1, len(todo))
    if count == 1:
        for indices in todo:
            _settle(results, indices, _in_this_process(jobs, indices[0], cache_dir, report), report)
    elif count > 1:
        _Pool(jobs, cache_dir, count, results, report).run(todo)
    return [results[index] for index in range(len(jobs))]


def _in_this_process(
    jobs: list[TileJob], index: int, cache_dir: Path, report: _Reporter
) -> Outcome:
    job = jobs[index]
    where: dict[str, Any] = {"page": job.page, "tile_size": job.tile_size, "label": job.label}
    try:
        return tile_image(
            job.source,
            cache_dir,
            **where,
            progress=lambda f: report.update(index, "tiling", f),
            cutting=lambda: report.update(index, "started", 0.0),
        )
    except ImageError as error:
        return error


def _settle(
    results: dict[int, Outcome], indices: list[int], outcome: Outcome, report: _Reporter
) -> None:
    for index in indices:
        results[index] = outcome
    if isinstance(outcome, ImageError):
        report.finished(indices, "failed")
    else:
        report.finished(indices, "cached" if outcome.cached else "finished")


class RemoteExecutor(Executor):
    """What tile_many needs of a cluster (cluster.py adapts Dask's client to it): an Executor,
    how many jobs it runs at once, and whether its workers see a folder of this machine (then
    they read sources and write tiles there; otherwise images go to them as bytes)."""

    @property
    @abstractmethod
    def width(self) -> int: ...

    @abstractmethod
    def sees(self, folder: Path) -> bool: ...


class _Remote:
    """Jobs on a cluster's workers, at most twice its width in flight (a job sent as bytes
    holds its file in memory until a worker takes it)."""

    def __init__(
        self,
        jobs: list[TileJob],
        cache_dir: Path,
        executor: RemoteExecutor,
        results: dict[int, Outcome],
        report: _Reporter,
    ) -> None:
        self.jobs = jobs
        self.cache_dir = cache_dir.resolve()
        self.executor = executor
        self.results = results
        self.report = report

    def run(self, todo: list[list[int]]) -> None:
        in_place = self.executor.sees(self.cache_dir)
        limit = 2 * max(1, self.executor.width)
        waiting = list(reversed(todo))
        running: dict[Future[Any], tuple[list[int], str]] = {}
        while waiting or running:
            while waiting and len(running) < limit:
                indices = waiting.pop()
                submitted = self.submit(indices, in_place)
                if submitted is not None:
                    running[submitted[0]] = (indices, submitted[1])
            if not running:
                continue
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                indices, key = running.pop(future)
                _settle(self.results, indices, self.outcome(future, indices[0], key), self.report)

    def submit(self, indices: list[int], in_place: bool) -> tuple[Future[Any], str] | None:
        job = self.jobs[indices[0]]
        where: dict[str, Any] = {"page": job.page, "tile_size": job.tile_size, "label": job.label}
        try:
            key, found = find_tiles(job.source, self.cache_dir, **where)
            fields = {**where, "key": key, "name": job.source.name}
            if found is not None:
                _settle(self.results, indices, found, self.report)
                return None
            if in_place:
                fields.update(source=os.path.abspath(job.source), cache_dir=str(self.cache_dir))
                return self.executor.submit(remote.tile_in_place, fields), key
            data = job.source.read_bytes()
        except (ImageError, OSError) as error:
            failed = error if isinstance(error, ImageError) else ImageError(str(error))
            _settle(self.results, indices, failed, self.report)
            return None
        return self.executor.submit(remote.tile_sent, fields, data), key

    def outcome(self, future: Future[Any], index: int, key: str) -> Outcome:
        job = self.jobs[index]
        shown = job.label or job.source.name
        try:
            answer = future.result()
            if isinstance(answer, bytes):
                remote.unpack_tree(answer, self.cache_dir, key)
            elif "error" in answer:
                return ImageError(answer["error"], answer["hint"])
        except ImageError as error:
            return error
        except Exception as error:  # the cluster gave up on it, e.g. its workers kept dying
            return ImageError(
                f"the cluster could not tile {shown} ({type(error).__name__}: {error})",
                "check the workers' logs; a build without --cluster tiles it on this machine",
            )
        tree = tree_at(self.cache_dir, key)
        if tree is None:
            return ImageError(f"the cluster's tiles of {shown} are missing from the cache")
        cache.remember(job.source, job.page, job.tile_size, self.cache_dir, key)
        return replace(tree, cached=False)


class _Pool:
    def __init__(
        self,
        jobs: list[TileJob],
        cache_dir: Path,
        count: int,
        results: dict[int, Outcome],
        report: _Reporter,
    ) -> None:
        self.jobs = jobs
        self.cache_dir = cache_dir
        self.count = count
        self.results = results
        self.report = report
        self.threads = max(1, (os.cpu_count() or 1) // count)
        self.messages: queue.Queue[tuple[subprocess.Popen[str], dict[str, Any] | None]] = (
            queue.Queue()
        )

    def run(self, todo: list[list[int]]) -> None:
        waiting = list(reversed(todo))
        busy: dict[subprocess.Popen[str], list[int]] = {}
        spoke: set[subprocess.Popen[str]] = set()
        idle = [self.start() for _ in range(self.count)]
        try:
            while waiting or busy:
                while waiting and idle:
                    worker, indices = idle.pop(), waiting.pop()
                    busy[worker] = indices
                    self.send(worker, indices[0])
                worker, message = self.messages.get()
                if message is None and worker not in spoke:
                    raise RuntimeError(f"a tiling worker failed to start (status {worker.wait()})")
                spoke.add(worker)
                if message is None:  # the worker died: its image is the one to blame
                    indices = busy.pop(worker, [])
                    if indices:
                        _settle(
                            self.results, indices, self.crashed(indices[0], worker), self.report
                        )
                    if waiting:
                        idle.append(self.start())
                elif message["state"] in ("tiled", "error"):
                    indices = busy.pop(worker)
                    _settle(self.results, indices, _outcome(message), self.report)
                    idle.append(worker)
                else:
                    self.report.update(
                        message["index"], message["state"], message.get("fraction", 0.0)
                    )
        finally:
            for worker in [*idle, *busy]:
                self.stop(worker)

    def start(self) -> subprocess.Popen[str]:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [_PACKAGE_ROOT, env.get("PYTHONPATH")]))
        worker = subprocess.Popen(
            [sys.executable, "-m", "storiiies.images.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            env=env,
        )
        assert worker.stdout is not None
        threading.Thread(target=self.listen, args=(worker, worker.stdout), daemon=True).start()
        return worker

    def listen(self, worker: subprocess.Popen[str], stdout: IO[str]) -> None:
        with stdout:
            for line in stdout:
                with contextlib.suppress(ValueError):
                    self.messages.put((worker, json.loads(line)))
        self.messages.put((worker, None))

    def send(self, worker: subprocess.Popen[str], index: int) -> None:
        job = self.jobs[index]
        line = {
            "index": index,
            "source": str(job.source),
            "page": job.page,
            "tile_size": job.tile_size,
            "label": job.label,
            "cache_dir": str(self.cache_dir),
            "threads": self.threads,
        }
        assert worker.stdin is not None
        worker.stdin.write(json.dumps(line) + "\n")
        worker.stdin.flush()

    def crashed(self, index: int, worker: subprocess.Popen[str]) -> ImageError:
        shown = self.jobs[index].label or self.jobs[index].source.name
        return ImageError(
            f"{shown} made the image decoder crash (exit status {worker.wait()})",
            "the file may be damaged: re-export it as JPEG, PNG or TIFF",
        )

    def stop(self, worker: subprocess.Popen[str]) -> None:
        if worker.stdin is not None and not worker.stdin.closed:
            with contextlib.suppress(OSError):
                worker.stdin.close()  # end of jobs: the worker finishes and exits
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def _outcome(message: dict[str, Any]) -> Outcome:
    if message["state"] == "error":
        return ImageError(message["message"], message["hint"])
    return TiledImage.from_fields(message["tiled"])


class _Reporter:
    """Turns what happens to each job into ProgressEvents with batch totals."""

    def __init__(self, jobs: list[TileJob], progress: Callable[[ProgressEvent], None] | None):
        self.jobs = jobs
        self.progress = progress
        self.done = 0
        self.running: dict[int, float] = {}

    def update(self, index: int, state: str, fraction: float) -> None:
        self.running[index] = fraction
        self.emit(index, state, fraction)

    def finished(self, indices: list[int], state: str) -> None:
        for index in indices:
            self.running.pop(index, None)
            self.done += 1
            self.emit(index, state, 1.0)

    def emit(self, index: int, state: Any, fraction: float) -> None:
        if self.progress is None:
            return
        total = len(self.jobs)
        overall = (self.done + sum(self.running.values())) / total
        event = ProgressEvent(self.done, total, self.jobs[index].source, state, fraction, overall)
        self.progress(event)
