"""A thousand stories: `storiiies build` against `mkdocs build` of the same texts.

    .venv/bin/pip install -e ".[bench]"                          # MkDocs, the reference
    .venv/bin/python benchmarks/many_stories.py --repeat 3       # 1,000 stories × 20 steps
    .venv/bin/python benchmarks/many_stories.py --quick          # 100 stories, for a first look
    .venv/bin/python benchmarks/many_stories.py --quick --profile

A project of N stories × 20 steps is generated in a temporary folder, every step a region of
one local image (the Hubble Deep Field sample in ../shared/samples, read where it is: it is
not part of this repository) and 60 words of text; beside it, a MkDocs project whose pages are
the same Markdown texts. Each run times, in child processes, a first `storiiies build` (empty
cache: tiles, 20,000 crops, pages) and a no-change rebuild, and `mkdocs build` (which has no
rebuild of its own: every build is a first one), alternating which goes first. Peak memory is
the child's maximum resident set (from wait4).

Targets (issue 16): first build ≤ 2 × mkdocs, no-change rebuild ≤ 0.5 × mkdocs.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.common import set_aside, verdict  # noqa: E402

FIRST_TARGET = 2.0
REBUILD_TARGET = 0.5
SAMPLE = Path(__file__).resolve().parents[2] / "shared" / "samples" / "hubble_deep_field.jpg"
WORDS = (
    "galaxy",
    "light",
    "faint",
    "red",
    "spiral",
    "distant",
    "early",
    "universe",
    "telescope",
    "field",
    "dark",
    "shape",
    "bright",
    "young",
    "star",
    "cluster",
    "edge",
    "blue",
    "old",
    "arm",
    "disc",
    "dust",
    "gas",
    "look",
    "closer",
    "here",
    "small",
    "patch",
    "sky",
)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stories", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--words", type=int, default=60, help="words of text per step")
    parser.add_argument("--quick", action="store_true", help="100 stories instead of 1,000")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each (median shown)")
    parser.add_argument("--profile", action="store_true", help="one first build under cProfile")
    parser.add_argument("--image", type=Path, default=SAMPLE, help="the image every step shows")
    parser.add_argument("--dir", type=Path, default=None, help="where to work (default: temp)")
    args = parser.parse_args()
    stories = 100 if args.quick else args.stories

    if not args.image.is_file():
        print(f"MISSING IMAGE: {args.image} (the shared samples folder)", file=sys.stderr)
        return 2
    mkdocs = shutil.which("mkdocs", path=str(Path(sys.executable).parent)) or shutil.which("mkdocs")
    if mkdocs is None and not args.profile:
        print(
            'MISSING REFERENCE: mkdocs is not installed: .venv/bin/pip install -e ".[bench]"',
            file=sys.stderr,
        )
        return 2
    if args.dir is not None:
        args.dir.mkdir(parents=True, exist_ok=True)  # a --dir that does not exist yet
    work = Path(tempfile.mkdtemp(prefix="storiiies-many-", dir=args.dir))
    try:
        started = time.perf_counter()
        project, twin = make_projects(work, args.image, stories, args.steps, args.words)
        print(f"{stories:,} stories × {args.steps} steps × {args.words} words over ", end="")
        print(f"{args.image.name}, made in {time.perf_counter() - started:.1f} s, in {work}")
        if args.profile:
            return profile(project)
        assert mkdocs is not None
        return compare(mkdocs, project, twin, args.repeat)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def make_projects(
    work: Path, image: Path, stories: int, steps: int, words: int
) -> tuple[Path, Path]:
    """The storiiies project and its MkDocs twin, with the same Markdown texts."""
    import pyvips

    width, height = (pyvips.Image.new_from_file(str(image)).get(n) for n in ("width", "height"))
    project, twin = work / "project", work / "mkdocs"
    (project / "stories").mkdir(parents=True)
    (project / "images").mkdir()
    (twin / "docs").mkdir(parents=True)
    shutil.copyfile(image, project / "images" / image.name)
    (project / "storiiies.yml").write_text("title: A thousand stories\n")
    (twin / "mkdocs.yml").write_text("site_name: A thousand stories\n")
    chance = random.Random(16)
    for number in range(stories):
        body = [f"The first words of story {number}: {sentence(chance, words)}", ""]
        for step in range(1, steps + 1):
            w = chance.randint(width // 8, width // 2)
            h = chance.randint(height // 8, height // 2)
            x, y = chance.randint(0, width - w), chance.randint(0, height - h)
            body += [
                f"## Step {step}",
                "",
                f"![Part {step} of the field](field#xywh={x},{y},{w},{h})",
                "",
                sentence(chance, words),
                "",
            ]
        front = [
            "---",
            f"title: Story {number}",
            f"summary: Story number {number}, over the deep field.",
            "sources:",
            "  field:",
            f"    url: images/{image.name}",
            "    rights: http://creativecommons.org/publicdomain/zero/1.0/",
            "    credit: Benchmark",
            "---",
        ]
        text = "\n".join(body) + "\n"
        (project / "stories" / f"story{number:04d}.md").write_text("\n".join(front) + "\n" + text)
        (twin / "docs" / f"story{number:04d}.md").write_text(f"# Story {number}\n\n{text}")
    (twin / "docs" / "index.md").write_text("# A thousand stories\n")
    return project, twin


def sentence(chance: random.Random, words: int) -> str:
    return " ".join(chance.choice(WORDS) for _ in range(words)).capitalize() + "."


def compare(mkdocs: str, project: Path, twin: Path, repeat: int) -> int:
    print(f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}")
    storiiies = [sys.executable, "-m", "storiiies", "build", "--quiet", str(project)]
    reference = [mkdocs, "build", "--quiet", "--clean", "--config-file", str(twin / "mkdocs.yml")]
    first: list[dict[str, float]] = []
    again: list[dict[str, float]] = []
    theirs: list[dict[str, float]] = []
    for n in range(repeat):
        for name in ["storiiies", "mkdocs"][:: -1 if n % 2 else 1]:
            os.sync()
            if name == "mkdocs":
                theirs.append(measure(reference))
                continue
            for folder in (".storiiies-cache", "_site"):
                set_aside(project / folder, project.parent / "discarded")
            first.append(measure(storiiies))
            os.sync()
            again.append(measure(storiiies))
        print(f"  run {n + 1}: storiiies first {first[-1]['wall']:.2f} s, ", end="")
        print(f"no-change {again[-1]['wall']:.2f} s; mkdocs {theirs[-1]['wall']:.2f} s")

    def median(runs: list[dict[str, float]], key: str) -> float:
        return statistics.median(run[key] for run in runs)

    print(f"\n{'':28}{'wall s':>9}{'CPU s':>9}{'peak RSS MB':>13}{'× mkdocs':>10}{'CPU ×':>8}")
    base, base_cpu = median(theirs, "wall"), median(theirs, "cpu")
    for label, runs in (
        ("storiiies build (first)", first),
        ("storiiies build (no change)", again),
        ("mkdocs build", theirs),
    ):
        wall, cpu, rss = (median(runs, k) for k in ("wall", "cpu", "rss_mb"))
        print(f"{label:28}{wall:9.2f}{cpu:9.2f}{rss:13.0f}{wall / base:10.2f}{cpu / base_cpu:8.2f}")
    ratio, rebuild = median(first, "wall") / base, median(again, "wall") / base
    print()
    print(f"first build  {ratio:.2f} × mkdocs (target ≤ {FIRST_TARGET}) ", end="")
    print(verdict(ratio <= FIRST_TARGET))
    print(f"no change    {rebuild:.2f} × mkdocs (target ≤ {REBUILD_TARGET}) ", end="")
    print(verdict(rebuild <= REBUILD_TARGET))
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

    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.runcall(build_site, project)
    print(f"build_site: {time.perf_counter() - started:.2f} s (under cProfile)")
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
