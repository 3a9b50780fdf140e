"""How soon a reader sees the first tile: our tour against the Storiiies viewer, same story.

    .venv/bin/python benchmarks/first_tile.py [--runs 5] [--trace trace.json]

An 8,000 × 6,000 JPEG (gradients, a pattern and noise, always the same) and one story of 8
regions over it are built with storiiies into a temporary folder. The Storiiies viewer
(`@cogapp/storiiies-viewer`, pinned below, installed with `npm install --prefix` into another
temporary folder) gets a page that plays the manifest.json storiiies exports for that story, so
it reads the same annotations and the same level-0 tiles. Each folder is served by a threaded
http.server on 127.0.0.1 (HTTP/1.1, CORS); the viewer's page reads the manifest, info.json and
tiles from the tour's server. Headless Chromium (1280 × 800, a fresh context per load, cache
off) opens the two pages in turn, alternating which goes first, `--runs` times each.

What is measured, on each page load, from navigation start:

- first tile drawn: OpenSeadragon's first `tile-loaded` in the page's viewer, plus two animation
  frames (the frame that draws it, painted). Our tour is also waited on until its panel says
  `data-settled="true"` (the step's region is in view), the viewer until its container says
  `data-loaded="true"`; both open on the title slide, the whole image.
- first tile arrived: the earliest `responseEnd` of a tile (Resource Timing).
- requests before the first tile: responses that ended before the first tile was asked for.
- page script time: Chromium's `ScriptDuration` (CDP Performance.getMetrics) when the first tile
  is drawn, and once the network is idle.
- page weight: every response except tiles, each at its gzip size (computed here, level 6, as a
  compressing static host sends it; the test server itself sends them uncompressed).
- fill (once, with reduced motion so every move is instant): for each region, how much of the
  viewer's viewport the visible part of the region fills along its limiting side (1.0 = fitted
  edge to edge).

Not a test: the machine's load moves the figures; read the ratios. Needs npm (Node.js) and
Chromium; without either it says so and stops. Targets (issue 16): first tile ≤ the viewer's,
page weight ≤ 100 KB gzip, page script time ≤ 2 × the viewer's.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (  # noqa: E402
    CHROMIUM_FLAGS,
    FileServer,
    chromium_or_exit,
    generate_image,
    gzip_size,
    median,
    verdict,
)
from storiiies.build import build_site  # noqa: E402

VIEWER_PACKAGE = "@cogapp/storiiies-viewer"
VIEWER_VERSION = "3.1.2"
TILE = re.compile(r"/images/[^/]+/[^/]+/[^/]+/0/default\.jpg$")
WIDTH, HEIGHT = 8_000, 6_000
VIEWPORT = {"width": 1280, "height": 800}
WEIGHT_TARGET_KB = 100
SCRIPT_TARGET = 2.0
# x, y, width, height in image pixels: the whole image, wide, tall, small, at the edges.
REGIONS = [
    (0, 0, 8000, 6000),
    (500, 400, 2000, 1500),
    (4000, 3000, 1000, 2000),
    (6000, 200, 1800, 900),
    (100, 4000, 3000, 1800),
    (3500, 1000, 400, 300),
    (2000, 2500, 4000, 1000),
    (7000, 5000, 900, 900),
]
STORY_HEAD = """\
---
title: Eight regions
summary: One 8,000 × 6,000 image, eight regions.
sources:
  scan:
    url: images/scan.jpg
    rights: http://creativecommons.org/publicdomain/zero/1.0/
    credit: Generated
---
The whole image first.

"""
VIEWER_PAGE = """\
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Eight regions · Storiiies viewer</title>
<link rel="stylesheet" href="{dist}/storiiies-viewer.css">
<script src="{dist}/umd/storiiies-viewer.js"></script>
<style>html, body {{ margin: 0; height: 100%; }} #storiiies-viewer {{ height: 100vh; }}</style>
</head>
<body>
<div id="storiiies-viewer"></div>
<script>
document.addEventListener("DOMContentLoaded", function () {{
  window.storiiiesViewer = new StoriiiesViewer({{
    container: "#storiiies-viewer",
    manifestUrl: {manifest}
  }});
}});
</script>
</body>
</html>
"""
# Runs in every page before its own scripts. Tiles are the level-0 files under /images/.
PROBE = r"""(() => {
  const probe = window.__firstTile = { tileLoaded: null, tileDrawn: null };
  probe.isTile = (name) => /\/images\/[^/]+\/[^/]+\/[^/]+\/0\/default\.jpg$/.test(name);
  probe.watch = (viewer) => {
    viewer.addHandler("tile-loaded", () => {
      if (probe.tileLoaded !== null) return;
      probe.tileLoaded = performance.now();
      const drawn = () => { probe.tileDrawn = performance.now(); };
      requestAnimationFrame(() => requestAnimationFrame(drawn));
    });
  };
  // Our tour: its panels exist when it says it is ready. The tour keeps its viewers to itself
  // (storiiies.views() is plain data); OpenSeadragon's own registry finds them by element.
  window.addEventListener("storiiies:ready", () => {
    window.storiiies.views().forEach((view) =>
      probe.watch(OpenSeadragon.getViewer(document.getElementById(view.id))));
  });
  // The Storiiies viewer makes its OpenSeadragon viewer once the manifest is read and marks
  // its container data-loaded when the image opens, before any tile is asked for.
  new MutationObserver((records, observer) => {
    if (window.storiiiesViewer && window.storiiiesViewer.viewer) {
      observer.disconnect();
      probe.watch(window.storiiiesViewer.viewer);
    }
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ["data-loaded"] });
})();"""
TIMINGS = """() => {
  const probe = window.__firstTile;
  const entries = performance.getEntriesByType("resource");
  const tiles = entries.filter((e) => probe.isTile(e.name));
  const firstAsked = Math.min(...tiles.map((e) => e.startTime));
  return {
    drawn: probe.tileDrawn,
    arrived: Math.min(...tiles.map((e) => e.responseEnd)),
    before: entries.filter((e) => !probe.isTile(e.name) && e.responseEnd <= firstAsked).length,
    chain: entries.filter((e) => e.startTime <= firstAsked)
      .map((e) => [e.name, e.startTime, e.responseEnd]),
  };
}"""
OUR_FILL = """async (step) => {
  await window.storiiies.go(step);
  const first = () => window.storiiies.views()[0];
  await new Promise((resolve) => {
    const check = () => first().settled ? resolve() : requestAnimationFrame(check);
    check();
  });
  const view = first();
  const width = window.storiiies.story.canvases[view.canvas].width;
  const r = view.region.map((v) => v / width);
  const b = view.bounds;
  return [r, [b.x / width, b.y / width, b.w / width, b.h / width]];
}"""


@dataclass
class Load:
    drawn: float
    arrived: float
    before: int
    script_to_tile: float
    script_idle: float
    chain: list[list[Any]] = field(default_factory=list)


@dataclass
class Page:
    name: str
    url: str
    ready: str
    loads: list[Load] = field(default_factory=list)
    files: dict[str, tuple[int, int]] = field(default_factory=dict)
    tiles: int = 0
    fills: list[float] = field(default_factory=list)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5, help="loads of each page (median shown)")
    parser.add_argument("--trace", type=Path, help="also write a Chromium trace of one tour load")
    args = parser.parse_args()
    npm = shutil.which("npm")
    if npm is None:
        print(
            "MISSING REFERENCE: npm is not installed, so the Storiiies viewer cannot be fetched.\n"
            "Install Node.js and npm (Debian: apt-get install -y npm) and run again.",
            file=sys.stderr,
        )
        return 2
    chromium = chromium_or_exit()
    with tempfile.TemporaryDirectory(prefix="storiiies-first-tile-") as scratch:
        work = Path(scratch)
        install_viewer(npm, work / "viewer")
        site = work / "project" / "_site"
        site.mkdir(parents=True)
        with FileServer(site) as ours, FileServer(work / "viewer") as theirs:
            build_project(work / "project", ours.url)
            (work / "viewer" / "index.html").write_text(
                VIEWER_PAGE.format(
                    dist=f"node_modules/{VIEWER_PACKAGE}/dist",
                    manifest=json.dumps(f"{ours.url}/eight/manifest.json"),
                )
            )
            pages = [
                Page("our tour", f"{ours.url}/eight/", '.st-viewer[data-settled="true"]'),
                Page("Storiiies viewer", f"{theirs.url}/", '[data-loaded="true"]'),
            ]
            measure(chromium, pages, args.runs, args.trace)
    report(*pages)
    return 0


def install_viewer(npm: str, folder: Path) -> None:
    folder.mkdir()
    spec = f"{VIEWER_PACKAGE}@{VIEWER_VERSION}"
    done = subprocess.run(
        [npm, "install", "--prefix", str(folder), "--no-audit", "--no-fund", "--loglevel=error"]
        + [spec],
        capture_output=True,
        text=True,
    )
    if done.returncode:
        print(f"npm could not install {spec}:\n{done.stderr.strip()}", file=sys.stderr)
        raise SystemExit(2)
    print(f"reference: {spec} from npm")


def build_project(project: Path, url: str) -> None:
    (project / "images").mkdir(parents=True)
    (project / "stories").mkdir()
    (project / "storiiies.yml").write_text(f"title: First tile\nbase_url: {url}/\n")
    generate_image(project / "images" / "scan.jpg", WIDTH, HEIGHT)
    steps = [
        f"## Region {n}\n\n![Region {n}](scan#xywh={x},{y},{w},{h})\n\nWhat region {n} shows.\n"
        for n, (x, y, w, h) in enumerate(REGIONS, start=1)
    ]
    (project / "stories" / "eight.md").write_text(STORY_HEAD + "\n".join(steps))
    report = build_site(project)
    if report.problems:
        raise SystemExit(f"the benchmark story did not build: {report.problems}")
    print(f"built: {WIDTH:,} × {HEIGHT:,} JPEG, one story of {len(REGIONS)} regions")


def measure(chromium: str, pages: list[Page], runs: int, trace: Path | None) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, headless=True, args=CHROMIUM_FLAGS
        )
        try:
            for run in range(runs):
                order = pages if run % 2 == 0 else pages[::-1]
                for page in order:
                    page.loads.append(load(browser, page, keep_files=run == 0))
                print(
                    f"  run {run + 1}: "
                    + ", ".join(f"{p.name} {p.loads[-1].drawn:.0f} ms" for p in pages)
                )
            for page in pages:
                page.fills = fills(browser, page)
            if trace is not None:
                write_trace(browser, pages[0], trace)
        finally:
            browser.close()


def load(browser: Any, page: Page, keep_files: bool) -> Load:
    context = browser.new_context(viewport=VIEWPORT)
    try:
        context.add_init_script(PROBE)
        tab = context.new_page()
        session = context.new_cdp_session(tab)
        session.send("Network.enable")
        session.send("Network.setCacheDisabled", {"cacheDisabled": True})
        session.send("Performance.enable")
        responses: list[Any] = []
        tab.on("response", lambda response: responses.append(response))
        tab.goto(page.url, wait_until="commit")
        tab.wait_for_function("() => window.__firstTile.tileDrawn !== null", timeout=60_000)
        script_to_tile = script_seconds(session)
        tab.wait_for_selector(page.ready, state="attached", timeout=60_000)
        timings = tab.evaluate(TIMINGS)
        tab.wait_for_load_state("networkidle")
        script_idle = script_seconds(session)
        if keep_files:
            tiles = [r for r in responses if TILE.search(urlparse(r.url).path)]
            page.tiles = len(tiles)
            for response in responses:
                if response in tiles or response.status != 200:
                    continue
                body = response.body()
                page.files[response.url] = (len(body), gzip_size(body))
        return Load(
            drawn=timings["drawn"],
            arrived=timings["arrived"],
            before=timings["before"],
            script_to_tile=script_to_tile,
            script_idle=script_idle,
            chain=timings["chain"],
        )
    finally:
        context.close()


def script_seconds(session: Any) -> float:
    metrics = session.send("Performance.getMetrics")["metrics"]
    return next(m["value"] for m in metrics if m["name"] == "ScriptDuration")


def fills(browser: Any, page: Page) -> list[float]:
    """How much of the viewport each region fills once shown, moves made instant."""
    context = browser.new_context(viewport=VIEWPORT, reduced_motion="reduce")
    try:
        context.add_init_script(PROBE)
        tab = context.new_page()
        tab.goto(page.url)
        tab.wait_for_selector(page.ready, state="attached", timeout=60_000)
        result = []
        for n, (x, y, w, h) in enumerate(REGIONS, start=1):
            if page.name == "our tour":
                region, bounds = tab.evaluate(OUR_FILL, n)
            else:
                # The viewer's annotation 0 is the story's title text; region n is annotation n.
                region, bounds = tab.evaluate(
                    """async ([index, x, y, w, h]) => {
                      const sv = window.storiiiesViewer;
                      sv.activeAnnotationIndex = index;
                      const frame = () => new Promise((r) => requestAnimationFrame(r));
                      await frame();
                      await frame();
                      const v = sv.viewer.viewport;
                      const r = v.imageToViewportRectangle(x, y, w, h);
                      const b = v.getBounds(true);
                      return [[r.x, r.y, r.width, r.height], [b.x, b.y, b.width, b.height]];
                    }""",
                    [n, x, y, w, h],
                )
            result.append(fill(region, bounds))
        return result
    finally:
        context.close()


def fill(region: list[float], bounds: list[float]) -> float:
    """The visible part of the region against the view, along the side that limits it."""
    rx, ry, rw, rh = region
    bx, by, bw, bh = bounds
    seen_w = max(0.0, min(rx + rw, bx + bw) - max(rx, bx))
    seen_h = max(0.0, min(ry + rh, by + bh) - max(ry, by))
    return max(seen_w / bw, seen_h / bh)


def write_trace(browser: Any, page: Page, path: Path) -> None:
    context = browser.new_context(viewport=VIEWPORT)
    try:
        context.add_init_script(PROBE)
        tab = context.new_page()
        browser.start_tracing(page=tab, path=str(path), screenshots=False)
        tab.goto(page.url)
        tab.wait_for_function("() => window.__firstTile.tileDrawn !== null", timeout=60_000)
        tab.wait_for_load_state("networkidle")
        browser.stop_tracing()
        print(f"trace of one {page.name} load: {path} (open in chrome://tracing or Perfetto)")
    finally:
        context.close()


def report(ours: Page, viewer: Page) -> None:
    def row(label: str, a: float, b: float, unit: str = "", digits: int = 0) -> None:
        ratio = f"{a / b:8.2f}" if b else "       -"
        print(f"{label:34}{a:>12.{digits}f}{unit:3}{b:>12.{digits}f}{unit:3}{ratio}")

    def med(page: Page, key: str) -> float:
        return median([getattr(load, key) for load in page.loads])

    weight = {p.name: sum(packed for _, packed in p.files.values()) / 1024 for p in (ours, viewer)}
    size = f"{VIEWPORT['width']} × {VIEWPORT['height']}"
    print(
        f"\nmedians of {len(ours.loads)} loads each, alternated; Chromium {size}, cache off; ",
        end="",
    )
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    print(f"{'':34}{'our tour':>15}{'viewer ' + VIEWER_VERSION:>15}{'ours/viewer':>12}")
    row("first tile drawn", med(ours, "drawn"), med(viewer, "drawn"), "ms")
    row("first tile arrived", med(ours, "arrived"), med(viewer, "arrived"), "ms")
    row("requests before the first tile", med(ours, "before"), med(viewer, "before"))
    for key, label in (("script_to_tile", "to the first tile"), ("script_idle", "once idle")):
        row(f"page scripts {label}", 1000 * med(ours, key), 1000 * med(viewer, key), "ms")
    row("page weight, gzip, no tiles", weight[ours.name], weight[viewer.name], "KB", 1)
    row("requests, no tiles", len(ours.files), len(viewer.files))
    row("tiles fetched on opening", ours.tiles, viewer.tiles)
    row("region fill, min", min(ours.fills), min(viewer.fills), "", 2)
    row("region fill, median", median(ours.fills), median(viewer.fills), "", 2)
    for page in (ours, viewer):
        print(f"\n{page.name}, every file but tiles (gzip / raw):")
        for url, (raw, packed) in sorted(page.files.items(), key=lambda item: -item[1][1]):
            print(f"  {packed / 1024:7.1f} KB {raw / 1024:8.1f} KB  {url}")
        print("  what was asked before the first tile, in the run with the median first tile:")
        typical = sorted(page.loads, key=lambda load: load.drawn)[len(page.loads) // 2]
        for url, start, end in typical.chain:
            print(f"    {start:7.0f} → {end:7.0f} ms  {url}")
    drawn = med(ours, "drawn") / med(viewer, "drawn")
    script = med(ours, "script_idle") / med(viewer, "script_idle")
    print()
    print(f"first tile   {drawn:.2f} × the viewer's (target ≤ 1) {verdict(drawn <= 1)}")
    print(
        f"page weight  {weight[ours.name]:.1f} KB gzip (target ≤ {WEIGHT_TARGET_KB} KB) "
        f"{verdict(weight[ours.name] <= WEIGHT_TARGET_KB)}"
    )
    print(f"page script  {script:.2f} × the viewer's (target ≤ {SCRIPT_TARGET}) ", end="")
    print(verdict(script <= SCRIPT_TARGET))


if __name__ == "__main__":
    sys.exit(main())
