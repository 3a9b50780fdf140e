"""What an offline bundle costs, beside a full mirror of the same images.

A dynamic IIIF image server on a free loopback port stands in for an institution: one large
scan served twice, as Image API 3 (256-pixel tiles) and Image API 2 (512-pixel tiles). A story
of 12 steps (details, a comparison, in-step links) tours it. The script bundles it cold (every
tile fetched) and warm (a second run: nothing to fetch), for the screen sizes given, then
fetches every tile of every level of the same images (a full mirror, the reference) with the
same downloader, and prints tiles, bytes and time for each.

    .venv/bin/python benchmarks/bundle.py [--width 16000] [--height 12000] \
        [--screens 3840x2160 1920x1080]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from storiiies.bundle import bundle_site  # noqa: E402
from storiiies.bundle.download import Download, download_all  # noqa: E402
from storiiies.bundle.grid import read_grid  # noqa: E402
from tests.conftest import LiveServer  # noqa: E402
from tests.iiif_image_server import ImageServer, ServedImage, make_pyramid  # noqa: E402


def story(url: str, width: int, height: int) -> str:
    def box(fx: float, fy: float, fw: float) -> str:
        w = int(width * fw)
        return f"{int(width * fx)},{int(height * fy)},{w},{int(w * 0.7)}"

    steps = [
        f"## Detail {n}\n![detail {n}](v3#xywh={box(fx, fy, fw)})\nText.\n"
        for n, (fx, fy, fw) in enumerate(
            [
                (0.05, 0.05, 0.1),
                (0.6, 0.1, 0.05),
                (0.3, 0.5, 0.2),
                (0.8, 0.7, 0.08),
                (0.1, 0.8, 0.02),
            ],
            1,
        )
    ]
    steps += [
        f"## Version 2, detail {n}\n![v2 detail {n}](v2#xywh={box(fx, fy, fw)})\n"
        for n, (fx, fy, fw) in enumerate([(0.4, 0.4, 0.1), (0.7, 0.2, 0.03), (0.2, 0.3, 0.3)], 1)
    ]
    steps.append(
        f"## Side by side\n![a](v3#xywh={box(0.1, 0.1, 0.1)})\n![b](v2#xywh={box(0.6, 0.6, 0.1)})\n"
    )
    steps.append(
        f"## With links\n![a part](v3#xywh={box(0.45, 0.45, 0.1)})\n"
        f"See [here](v3#xywh={box(0.5, 0.5, 0.03)}) and [there](v3#xywh={box(0.4, 0.6, 0.03)}).\n"
    )
    steps.append("## The whole scan again\n![all](v2)\n")
    head = (
        f"---\ntitle: Benchmark\nsources:\n  v3: {url}/3/scan/info.json\n"
        f"  v2: {url}/2/scan5/info.json\n---\nThe scan.\n\n"
    )
    return head + "\n".join(steps)


def full_mirror(url: str, folder: Path) -> tuple[int, int, float]:
    import httpx

    downloads = []
    for info_url in (f"{url}/3/scan/info.json", f"{url}/2/scan5/info.json"):
        grid = read_grid(httpx.get(info_url).json())
        for level in range(grid.max_level + 1):
            if not grid.has_level(level):
                continue
            columns, rows = grid.tile_count(level)
            downloads += [
                Download(
                    grid.tile_url(level, x, y),
                    folder / info_url.split("/")[-2] / grid.tile_path(level, x, y),
                )
                for y in range(rows)
                for x in range(columns)
            ]
    started = time.monotonic()
    report = download_all(downloads)
    return len(downloads), report.fetched_bytes, time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--width", type=int, default=16000)
    parser.add_argument("--height", type=int, default=12000)
    parser.add_argument("--screens", nargs="+", default=["3840x2160", "1920x1080"])
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="storiiies-bundle-bench-"))
    try:
        print(f"Making a {args.width}×{args.height} scan …", flush=True)
        pyramid = make_pyramid(work / "scan.tif", args.width, args.height)
        images = ImageServer(
            {"scan": ServedImage(pyramid, tile=256), "scan5": ServedImage(pyramid, tile=512)}
        )
        server = LiveServer(images.app).start()
        full_tiles, full_bytes, full_seconds = full_mirror(server.url, work / "full")
        print(f"\n{'':28}{'tiles':>8}{'MB':>9}{'seconds':>9}{'tiles %':>9}{'bytes %':>9}")
        print(
            f"{'full mirror (reference)':28}{full_tiles:>8}{full_bytes / 1e6:>9.1f}"
            f"{full_seconds:>9.1f}{100:>8}%{100:>8}%"
        )
        for screen in args.screens:
            width, height = screen.split("x")
            project = work / f"project-{screen}"
            (project / "stories").mkdir(parents=True)
            (project / "storiiies.yml").write_text(
                f"title: Bench\nbundle:\n  screens: [[{width}, {height}]]\n"
            )
            (project / "stories" / "tour.md").write_text(story(server.url, args.width, args.height))
            started = time.monotonic()
            cold = bundle_site(project)
            cold_seconds = time.monotonic() - started
            started = time.monotonic()
            warm = bundle_site(project)
            warm_seconds = time.monotonic() - started
            assert warm.fetched == 0
            for name, seconds in (
                (f"bundle {screen}, cold", cold_seconds),
                (f"bundle {screen}, second run", warm_seconds),
            ):
                tiles_share = 100 * cold.tiles / full_tiles
                bytes_share = 100 * cold.tile_bytes / full_bytes
                print(
                    f"{name:28}{cold.tiles:>8}{cold.tile_bytes / 1e6:>9.1f}{seconds:>9.1f}"
                    f"{tiles_share:>8.1f}%{bytes_share:>8.1f}%"
                )
        print(
            f"\nBundle estimate of a full mirror's bytes: {cold.full_bytes / 1e6:.1f} MB"
            f" (measured: {full_bytes / 1e6:.1f} MB)"
        )
        server.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
