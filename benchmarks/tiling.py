"""Tiling benchmark: storiiies `tile_image` against the reference `vips dzsave --layout iiif3`.

    python benchmarks/tiling.py            # a 20,000 × 15,000 JPEG (0.3 gigapixels)
    python benchmarks/tiling.py --huge     # 40,000 × 30,000 (1.2 gigapixels)

Generates a JPEG with detail (gradients, a pattern and noise) in a temporary folder, then cuts
it with each tool in its own process, on the same file system, and measures wall time, CPU time
and peak memory (the child's maximum resident set, from wait4). Runs alternate between the two
tools; with --repeat N the table shows medians. Then a second `tile_image` call on the unchanged
file measures a no-change rebuild. Needs the `vips` command (Debian: apt-get install libvips-tools).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TIME_TARGET = 0.8  # storiiies time ≤ 0.8 × reference
RSS_TARGET_MB = 600  # for the 1.2-gigapixel image
REBUILD_TARGET = 0.02  # no-change rebuild ≤ 2 % of the first run


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--huge", action="store_true", help="40,000 × 30,000 instead of 20,000 × 15,000"
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs of each tool (median shown)")
    parser.add_argument(
        "--dir", type=Path, default=None, help="where to work (default: system temp)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the image and the trees")
    parser.add_argument("--input", type=Path, help="tile this image instead of generating one")
    parser.add_argument("--child", nargs=2, metavar=("INPUT", "CACHE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(Path(args.child[0]), Path(args.child[1]))

    vips = shutil.which("vips")
    if vips is None:
        print(
            "The reference needs the `vips` command: apt-get install libvips-tools", file=sys.stderr
        )
        return 2
    width, height = (40_000, 30_000) if args.huge else (20_000, 15_000)
    if args.dir is not None:
        args.dir.mkdir(parents=True, exist_ok=True)  # a --dir that does not exist yet
    work = Path(tempfile.mkdtemp(prefix="storiiies-bench-", dir=args.dir))
    try:
        return run(vips, work, width, height, args.repeat, args.input)
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def run(vips: str, work: Path, width: int, height: int, repeat: int, given: Path | None) -> int:
    import pyvips

    started = time.perf_counter()
    if given is None:
        source = work / "input.jpg"
        generate(source, width, height)
    else:
        source = given.resolve()
        width, height = (
            pyvips.Image.new_from_file(str(source)).get(n) for n in ("width", "height")
        )
    made = time.perf_counter() - started
    size_mb = source.stat().st_size / 1e6
    print(f"input: {width:,} × {height:,} JPEG, {size_mb:.0f} MB, made in {made:.1f} s, in {work}")
    cli = subprocess.run([vips, "--version"], capture_output=True, text=True).stdout.strip()
    library = ".".join(str(pyvips.version(n)) for n in range(3))
    print(f"libvips {library} (pyvips), {cli} (CLI); {os.cpu_count()} cores; ", end="")
    print(f"load average {os.getloadavg()[0]:.1f}")

    ours: list[dict[str, float]] = []
    reference: list[dict[str, float]] = []
    for n in range(repeat):
        commands = {
            "reference": [vips, "dzsave", str(source), str(work / f"reference{n}")]
            + ["--layout", "iiif3", "--tile-size", "256"],
            "storiiies": [
                sys.executable,
                __file__,
                "--child",
                str(source),
                str(work / f"cache{n}"),
            ],
        }
        # Who goes first alternates, and earlier writes are flushed before each run, so that
        # neither tool pays for the other's disk traffic.
        for name in sorted(commands, reverse=n % 2 == 1):
            os.sync()
            (ours if name == "storiiies" else reference).append(measure(commands[name]))
        print(f"  run {n + 1}: storiiies {ours[-1]['wall']:.2f} s, ", end="")
        print(f"reference {reference[-1]['wall']:.2f} s")

    def median(runs: list[dict[str, float]], key: str) -> float:
        return statistics.median(run[key] for run in runs)

    rows = [
        ("storiiies tile_image", [median(ours, key) for key in ("wall", "cpu", "rss_mb")]),
        ("vips dzsave --layout iiif3", [median(reference, k) for k in ("wall", "cpu", "rss_mb")]),
    ]
    ratios = [a / b for a, b in zip(rows[0][1], rows[1][1], strict=True)]
    rows.append(("ratio storiiies / reference", ratios))
    print(f"\n{'':30}{'wall s':>9}{'CPU s':>9}{'peak RSS MB':>13}")
    for label, (wall, cpu, rss) in rows:
        print(f"{label:30}{wall:9.2f}{cpu:9.2f}{rss:13.2f}")
    ratio, rss = rows[2][1][0], rows[0][1][2]
    first, again = median(ours, "first"), median(ours, "rebuild")
    print()
    print(f"time      {ratio:.2f} × reference (target ≤ {TIME_TARGET}) ", end="")
    print(verdict(ratio <= TIME_TARGET))
    print(f"peak RSS  {rss:.0f} MB (target ≤ {RSS_TARGET_MB} MB) {verdict(rss <= RSS_TARGET_MB)}")
    share = again / first
    print(f"rebuild   {again * 1000:.1f} ms = {share:.2%} of {first:.2f} s ", end="")
    print(f"(target ≤ {REBUILD_TARGET:.0%}) {verdict(share <= REBUILD_TARGET)}")
    print(f"load average now {os.getloadavg()[0]:.1f}: on a busy machine, timings vary")
    return 0


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def generate(path: Path, width: int, height: int) -> None:
    """Gradients, a fine pattern and noise: something JPEG has to work at, unlike a flat colour."""
    import pyvips

    xy = pyvips.Image.xyz(width, height)
    x, y = xy[0], xy[1]
    red = x * (255 / width)
    green = y * (255 / height)
    pattern = (x / 23).sin() * (y / 17).cos() * 60 + 128  # sin/cos take degrees in libvips
    noise = pyvips.Image.gaussnoise(width, height, sigma=12, mean=0)
    image = (red + noise).bandjoin([green + noise, pattern + noise]).cast("uchar")
    image.copy(interpretation="srgb").jpegsave(str(path), Q=90)


def measure(command: list[str]) -> dict[str, float]:
    """Wall time, CPU time and peak RSS of one child process (and what it prints, as JSON)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise SystemExit(f"{command[0]} failed with status {process.returncode}")
    result = json.loads(output) if output.strip().startswith("{") else {}
    return {
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "rss_mb": usage.ru_maxrss / 1024,  # kilobytes on Linux
        **result,
    }


def child(source: Path, cache: Path) -> int:
    """Runs in the measured process: one tile_image, then the no-change rebuild."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from storiiies.images.tiles import tile_image

    started = time.perf_counter()
    first = tile_image(source, cache)
    middle = time.perf_counter()
    second = tile_image(source, cache)
    ended = time.perf_counter()
    assert not first.cached and second.cached
    print(json.dumps({"first": middle - started, "rebuild": ended - middle}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
