"""Whole `storiiies build` of a project with one big JPEG, against `vips dzsave --layout iiif3`.

    .venv/bin/python benchmarks/big_image.py --repeat 3     # 16,000 × 12,000 (192 megapixels)
    .venv/bin/python benchmarks/big_image.py --quick        # 8,000 × 6,000, for a first look
    .venv/bin/python benchmarks/big_image.py --huge         # 40,000 × 30,000 (1.2 gigapixels)
    .venv/bin/python benchmarks/big_image.py --profile      # one build under cProfile, top 25

A project with one JPEG (gradients, a pattern and noise) and one story of one step is generated
in a temporary folder. Each run times the whole command an author waits for, `storiiies build`
in its own process with an empty cache (tiles, crops, thumbnails, link previews, pages), and
`vips dzsave --layout iiif3` on the same file, alternating which goes first; earlier outputs are
moved aside rather than deleted until the end (see common.set_aside), and so are best not
deleted by another command in the minutes before a run. Peak memory is the child's maximum
resident set (from wait4). Needs the `vips` command (Debian: apt-get install
libvips-tools); without it the script says so and stops.

Targets (issue 16): time ≤ 0.6 × the reference; peak RSS ≤ 400 MB (≤ 600 MB at 1.2 gigapixels).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import generate_image, set_aside, verdict  # noqa: E402

TIME_TARGET = 0.6
RSS_TARGET_MB = 400
HUGE_RSS_TARGET_MB = 600
STORY = """\
---
title: One big image
summary: A whole build of one large JPEG.
sources:
  scan:
    url: images/big.jpg
    rights: http://creativecommons.org/publicdomain/zero/1.0/
    credit: Generated
---
The whole image first.

## A detail

![A detail of the scan](scan#xywh={x},{y},{w},{h})

One step, zoomed in on a part of the image.
"""


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="8,000 × 6,000 instead")
    size.add_argument("--huge", action="store_true", help="40,000 × 30,000 instead")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each (median shown)")
    parser.add_argument("--profile", action="store_true", help="one build under cProfile")
    parser.add_argument("--dir", type=Path, default=None, help="where to work (default: temp)")
    args = parser.parse_args()

    vips = shutil.which("vips")
    if vips is None and not args.profile:
        print(
            "MISSING REFERENCE: the `vips` command is not installed, so there is nothing to "
            "compare with.\nInstall it (Debian: apt-get install -y libvips-tools) and run again.",
            file=sys.stderr,
        )
        return 2
    width, height = (8_000, 6_000) if args.quick else (16_000, 12_000)
    if args.huge:
        width, height = 40_000, 30_000
    if args.dir is not None:
        args.dir.mkdir(parents=True, exist_ok=True)  # a --dir that does not exist yet
    work = Path(tempfile.mkdtemp(prefix="storiiies-big-", dir=args.dir))
    try:
        project = make_project(work, width, height)
        if args.profile:
            return profile(project)
        assert vips is not None
        target = HUGE_RSS_TARGET_MB if args.huge else RSS_TARGET_MB
        return compare(vips, project, work, args.repeat, target)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def make_project(work: Path, width: int, height: int) -> Path:
    started = time.perf_counter()
    project = work / "project"
    (project / "images").mkdir(parents=True)
    (project / "stories").mkdir()
    # Past the default limit of 1,000 megapixels (the --huge image), the author says so.
    limit = f"max_image_megapixels: {-(-width * height // 1_000_000)}\n"
    config = "title: Big image benchmark\n" + (limit if width * height > 1e9 else "")
    (project / "storiiies.yml").write_text(config)
    source = project / "images" / "big.jpg"
    generate_image(source, width, height)
    w, h = width // 7, height // 7
    story = STORY.format(x=width // 3, y=height // 4, w=w, h=h)
    (project / "stories" / "big.md").write_text(story)
    size_mb = source.stat().st_size / 1e6
    print(f"input: {width:,} × {height:,} JPEG ({width * height / 1e6:.0f} megapixels), ", end="")
    print(f"{size_mb:.0f} MB, made in {time.perf_counter() - started:.1f} s, in {work}")
    return project


def build_command(project: Path) -> list[str]:
    return [sys.executable, "-m", "storiiies", "build", "--quiet", str(project)]


def fresh(project: Path) -> None:
    """An author's first build: no cache, no output (the last run's are set aside, not
    deleted: see `set_aside`)."""
    for name in (".storiiies-cache", "_site"):
        set_aside(project / name, project.parent / "discarded")


def compare(vips: str, project: Path, work: Path, repeat: int, rss_target: float) -> int:
    source = project / "images" / "big.jpg"
    cli = subprocess.run([vips, "--version"], capture_output=True, text=True).stdout.strip()
    print(f"{cli}; {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}")
    ours: list[dict[str, float]] = []
    reference: list[dict[str, float]] = []
    for n in range(repeat):
        out = work / f"reference{n}"
        commands = {
            "storiiies": build_command(project),
            "reference": [vips, "dzsave", str(source), str(out), "--layout", "iiif3"]
            + ["--tile-size", "256"],
        }
        # Who goes first alternates; earlier writes are flushed so neither pays the other's.
        for name in sorted(commands, reverse=n % 2 == 1):
            fresh(project)
            os.sync()
            (ours if name == "storiiies" else reference).append(measure(commands[name]))
        set_aside(out, work / "discarded")
        print(f"  run {n + 1}: storiiies build {ours[-1]['wall']:.2f} s, ", end="")
        print(f"vips dzsave {reference[-1]['wall']:.2f} s")

    def median(runs: list[dict[str, float]], key: str) -> float:
        return statistics.median(run[key] for run in runs)

    rows = [
        ("storiiies build", [median(ours, k) for k in ("wall", "cpu", "rss_mb")]),
        ("vips dzsave --layout iiif3", [median(reference, k) for k in ("wall", "cpu", "rss_mb")]),
    ]
    ratios = [a / b for a, b in zip(rows[0][1], rows[1][1], strict=True)]
    rows.append(("ratio storiiies / reference", ratios))
    print(f"\n{'':30}{'wall s':>9}{'CPU s':>9}{'peak RSS MB':>13}")
    for label, (wall, cpu, rss) in rows:
        print(f"{label:30}{wall:9.2f}{cpu:9.2f}{rss:13.0f}")
    ratio, rss = ratios[0], rows[0][1][2]
    print()
    print(f"time      {ratio:.2f} × reference (target ≤ {TIME_TARGET}) ", end="")
    print(verdict(ratio <= TIME_TARGET))
    print(f"peak RSS  {rss:.0f} MB (target ≤ {rss_target:.0f} MB) {verdict(rss <= rss_target)}")
    print(f"load average now {os.getloadavg()[0]:.1f}: on a busy machine, timings vary")
    return 0


def measure(command: list[str]) -> dict[str, float]:
    """Wall time, CPU time and peak RSS of one child process and what it waited for."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"{' '.join(command)} failed with status {status}")
    return {
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "rss_mb": usage.ru_maxrss / 1024,  # kilobytes on Linux
    }


def profile(project: Path) -> int:
    """One first build in this process under cProfile: where an author's wait goes."""
    import cProfile
    import pstats

    from storiiies.build import build_site

    fresh(project)
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.runcall(build_site, project)
    print(f"build_site: {time.perf_counter() - started:.2f} s (under cProfile)")
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    return 0


if __name__ == "__main__":
    sys.exit(main())
