"""What a reader downloads to open a tour, and how soon the first tile arrives.

Builds the example exhibit into a scratch folder, serves it on a free loopback port and opens a
tour page in headless Chromium (Debian's, through Playwright) with the cache off. It prints
every file the page fetched except image tiles, each with its gzip size (as any static host
with compression sends it), their total against the 150 KB target, and the time from navigation
to the first tile, as the median of several loads. Beside it, measured in the same run: the
gzip size of the Mirador 4 bundle (npm `mirador`, pinned as a devDependency), the usual IIIF
viewer a tour would otherwise embed.

    .venv/bin/python benchmarks/page_weight.py [--story fields-family] [--runs 5]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import gzip_size  # noqa: E402
from storiiies.build import build_site  # noqa: E402
from tests.conftest import CHROMIUM_FLAGS, EXAMPLES, REPO, LiveServer, chromium_path, static_app  # noqa: E402

TARGET_KB = 150
MIRADOR = REPO / "node_modules" / "mirador" / "dist" / "mirador.min.js"
FIRST_TILE = """() => {
  const tiles = performance.getEntriesByType("resource")
    .filter(e => /\\/images\\/.+\\/default\\.jpg$/.test(e.name));
  return tiles.length ? Math.min(...tiles.map(e => e.responseEnd)) : null;
}"""


def is_tile(url: str) -> bool:
    path = urlparse(url).path
    return "/images/" in path and path.endswith("/default.jpg")


def build_example(scratch: Path) -> Path:
    project = scratch / "examples"
    shutil.copytree(EXAMPLES, project, ignore=shutil.ignore_patterns("_site"))
    build_site(project)
    return project / "_site"


def measure(site: Path, story: str, runs: int) -> tuple[list[tuple[str, int, int]], list[float]]:
    from playwright.sync_api import sync_playwright

    path = chromium_path()
    if path is None:
        sys.exit("needs Debian's chromium (run ./scripts/install-chromium)")
    server = LiveServer(static_app(site)).start()
    files: dict[str, tuple[int, int]] = {}
    first_tiles: list[float] = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=path, headless=True, args=CHROMIUM_FLAGS
            )
            for run in range(runs):
                context = browser.new_context(viewport={"width": 1280, "height": 800})
                page = context.new_page()
                session = context.new_cdp_session(page)
                session.send("Network.setCacheDisabled", {"cacheDisabled": True})
                responses: list = []

                def keep(response, into: list = responses) -> None:
                    into.append(response)

                page.on("response", keep)
                page.goto(f"{server.url}/{story}/", wait_until="load")
                page.wait_for_function(f"({FIRST_TILE})() !== null", timeout=30000)
                first_tiles.append(page.evaluate(FIRST_TILE))
                page.wait_for_load_state("networkidle")
                if run == 0:
                    for response in responses:
                        if is_tile(response.url) or response.status != 200:
                            continue
                        body = response.body()
                        files[response.url.removeprefix(server.url)] = (len(body), gzip_size(body))
                context.close()
            browser.close()
    finally:
        server.stop()
    return [(name, raw, packed) for name, (raw, packed) in files.items()], first_tiles


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--story", default="fields-family", help="which example story to open")
    parser.add_argument("--runs", type=int, default=5, help="page loads for the time to first tile")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        site = build_example(Path(scratch))
        files, first_tiles = measure(site, args.story, args.runs)
    print(f"Tour page /{args.story}/ (tiles excluded), gzip as a static host sends it:")
    for name, raw, packed in sorted(files, key=lambda row: -row[2]):
        print(f"  {packed / 1024:8.1f} KB  ({raw / 1024:7.1f} KB raw)  {name}")
    total = sum(packed for _, _, packed in files)
    verdict = "within" if total <= TARGET_KB * 1024 else "OVER"
    print(f"  {total / 1024:8.1f} KB  total: {verdict} the {TARGET_KB} KB target")
    print(
        f"Time to first tile on loopback: median {statistics.median(first_tiles):.0f} ms "
        f"(min {min(first_tiles):.0f}, max {max(first_tiles):.0f}, "
        f"{len(first_tiles)} loads, cache off)"
    )
    if MIRADOR.is_file():
        mirador = gzip_size(MIRADOR.read_bytes())
        print(f"Mirador 4 bundle (dist/mirador.min.js), gzip: {mirador / 1024:.1f} KB")
        print(
            f"The whole tour page weighs {total / mirador:.2f}× the Mirador bundle alone "
            f"({mirador / total:.1f}× lighter)"
        )
    else:
        print(
            "Mirador is not installed (`npm ci` installs the pinned devDependency): "
            "no reference figure"
        )


if __name__ == "__main__":
    main()
