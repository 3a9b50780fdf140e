"""A whole build tiled on this machine's cores, against the same build on a Dask LocalCluster.

    .venv/bin/python benchmarks/cluster.py                          # 40 images of 10,000 × 10,000
    .venv/bin/python benchmarks/cluster.py --images 6 --size 6000   # a quick look

Needs the extra storiiies[cluster]. A project of N generated JPEGs (gradients and noise, so
they compress like scans) and one story with a step on each is written to a temporary folder.
Then, each from an empty cache, in this order:

  local      `build_site` as `storiiies build` runs it: one tiling process per core
  cluster-1  a LocalCluster of 1 worker process (1 thread), workers read and write the cache
  cluster-2  the same with 2 worker processes: what a second worker adds
  send-2     2 workers that are sent each image's bytes and send the tile tree back, as
             workers without shared storage are: the bytes moved per image
  local      again, last: on a shared machine the load changes during a run; the ratios
             are against the faster of the two local builds

Cluster start-up is timed apart (a real cluster is started once, not per build). Printed: wall
times, each against local, images per second per worker, and bytes moved per image.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pyvips

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from storiiies.build import build_site  # noqa: E402


def make_project(root: Path, images: int, size: int) -> int:
    """The project; returns the total bytes of its images."""
    (root / "stories").mkdir(parents=True)
    (root / "images").mkdir()
    (root / "storiiies.yml").write_text("title: Cluster benchmark\n", encoding="utf-8")
    sources, steps = [], []
    for n in range(images):
        x = pyvips.Image.xyz(size, size)
        red = (x[0] * (255 / size)).cast("uchar")
        green = (x[1] * (255 / size)).cast("uchar")
        noise = pyvips.Image.gaussnoise(size, size, sigma=18, mean=110 + n).cast("uchar")
        image = red.bandjoin([green, noise]).copy(interpretation="srgb")
        image.jpegsave(str(root / "images" / f"scan{n}.jpg"), Q=88)
        sources.append(
            f"  scan{n}:\n    url: images/scan{n}.jpg\n"
            "    rights: http://creativecommons.org/publicdomain/zero/1.0/\n"
        )
        w = size // 4
        steps.append(f"## Scan {n}\n\n![A detail of scan {n}](scan{n}#xywh={w},{w},{w},{w})\n")
    story = "---\ntitle: Many scans\nsources:\n" + "".join(sources) + "---\nIntro.\n\n"
    (root / "stories" / "scans.md").write_text(story + "\n".join(steps), encoding="utf-8")
    return sum(p.stat().st_size for p in (root / "images").iterdir())


def fresh(project: Path, name: str) -> Path:
    target = project.parent / name
    shutil.copytree(project, target, ignore=shutil.ignore_patterns(".storiiies-cache", "_site"))
    return target


def timed_build(project: Path, executor: Any = None) -> float:
    started = time.perf_counter()
    report = build_site(project, executor=executor)
    seconds = time.perf_counter() - started
    assert report.images_tiled > 0
    return seconds


def on_cluster(project: Path, workers: int, storage: str) -> tuple[float, float, Any]:
    from distributed import LocalCluster

    from storiiies.images.cluster import connect

    started = time.perf_counter()
    cluster = LocalCluster(
        n_workers=workers,
        processes=True,
        threads_per_worker=1,
        host="127.0.0.1",
        dashboard_address=None,
    )
    startup = time.perf_counter() - started
    executor = connect(cluster.scheduler_address, storage=storage)
    try:
        seconds = timed_build(project, executor)
    finally:
        executor.shutdown()
        cluster.close()
    return startup, seconds, executor


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--images", type=int, default=40, help="how many images (default 40)")
    parser.add_argument("--size", type=int, default=10_000, help="their side in pixels")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="storiiies-cluster-") as scratch:
        base = Path(scratch) / "project"
        print(f"Writing {args.images} JPEGs of {args.size:,} × {args.size:,} …", flush=True)
        total = make_project(base, args.images, args.size)
        megapixels = args.images * args.size * args.size / 1e6
        print(f"{args.images} images, {total / args.images / 1e6:.1f} MB each on average")
        local = timed_build(fresh(base, "local"))
        rows: list[tuple[str, str, float, tuple[int, Any] | None]] = [("local", "", local, None)]
        for name, workers, storage in (
            ("cluster-1", 1, "auto"),
            ("cluster-2", 2, "auto"),
            ("send-2", 2, "send"),
        ):
            startup, seconds, executor = on_cluster(fresh(base, name), workers, storage)
            rows.append((name, f"{startup:.1f} s", seconds, (workers, executor)))
        again = timed_build(fresh(base, "local-again"))
        rows.append(("local", "", again, None))
        local = min(local, again)
        print(f"\n{'build':<10} {'start-up':>9} {'wall':>8} {'÷ local':>8} {'img/s/worker':>13}")
        for name, started, seconds, extra in rows:
            workers = extra[0] if extra else 0
            rate_text = f"{args.images / seconds / workers:.3f}" if workers else ""
            print(
                f"{name:<10} {started:>9} {seconds:>7.1f}s {seconds / local:>8.2f} {rate_text:>13}"
            )
        print(f"\nlocal: {megapixels / local:.1f} megapixels/s on this machine's cores")
        sent = next(extra[1] for name, _, _, extra in rows if name == "send-2" and extra)
        print(
            f"send-2 moved per image: {sent.bytes_sent / args.images / 1e6:.2f} MB to the worker "
            f"(the source), {sent.bytes_received / args.images / 1e6:.2f} MB back (its tile tree)"
        )
        print("cluster-1/cluster-2 (shared storage) move no image bytes: only job fields.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
