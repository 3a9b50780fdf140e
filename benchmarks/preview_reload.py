"""How fast `storiiies serve` turns a save into a reload, beside a full `storiiies build`.

An exhibit of 20 stories of 50 steps each (over 5 local images) is generated in a temporary
folder. The script builds it twice with `build_site` (cold: tiling included; warm: tiles
cached, the fair reference for an author who rebuilds), then starts the preview server on a
free loopback port with the same settings as `storiiies serve`, listens to its event stream,
and saves one 50-step story 20 times. Each figure is the time from the write to the reload
message naming that story arriving at the client; the new text is then checked in the page.

    .venv/bin/python benchmarks/preview_reload.py [--stories 20] [--steps 50] [--edits 20]

Targets (issue 6): p50 ≤ 300 ms, and p50 ≤ 0.1 × the warm full build.
"""

from __future__ import annotations

import argparse
import json
import queue
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path

import httpx
import pyvips
import uvicorn

from storiiies.build import build_site
from storiiies.serve.app import preview_app
from storiiies.serve.state import Preview

IMAGES = 5
CREDIT = "    rights: http://creativecommons.org/publicdomain/zero/1.0/\n    credit: Generated\n"


def make_exhibit(root: Path, stories: int, steps: int) -> None:
    (root / "stories").mkdir(parents=True)
    (root / "storiiies.yml").write_text("title: Benchmark exhibit\n")
    for n in range(IMAGES):
        x = pyvips.Image.xyz(3000, 2000)
        band = (x[0] * (255 / 2999)).cast("uchar")
        image = band.bandjoin(
            [(x[1] * (255 / 1999)).cast("uchar"), (band * 0 + 40 * n).cast("uchar")]
        )
        (root / "images").mkdir(exist_ok=True)
        image.copy(interpretation="srgb").write_to_file(str(root / "images" / f"image{n}.jpg"))
    for s in range(stories):
        lines = ["---", f"title: Story {s}", f"summary: Story number {s}.", "sources:"]
        for n in range(IMAGES):
            lines.append(f"  img{n}:\n    url: images/image{n}.jpg\n{CREDIT.rstrip()}")
        lines += ["---", f"The title slide of story {s}.", ""]
        for step in range(1, steps + 1):
            x, y = (step * 37) % 2500, (step * 23) % 1500
            lines += [
                f"## Step {step}",
                f"![Region {step}](img{step % IMAGES}#xywh={x},{y},400,300)",
                f"Text of step {step}: *emphasis*, a "
                f"[closer look](img{step % IMAGES}#xywh={x},{y},200,150).",
                "",
            ]
        (root / "stories" / f"story{s:02d}.md").write_text("\n".join(lines) + "\n")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def listen(url: str, messages: queue.Queue[tuple[float, dict]], opened: threading.Event) -> None:
    with httpx.Client(timeout=httpx.Timeout(60.0)) as client, client.stream("GET", url) as response:
        opened.set()
        for line in response.iter_lines():
            if line.startswith("data: "):
                messages.put((time.perf_counter(), json.loads(line[6:])))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stories", type=int, default=20)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--edits", type=int, default=20)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="storiiies-bench-"))
    root = folder / "exhibit"
    try:
        make_exhibit(root, args.stories, args.steps)
        started = time.perf_counter()
        build_site(root, offline=True)
        cold = time.perf_counter() - started
        started = time.perf_counter()
        build_site(root, offline=True)
        warm = time.perf_counter() - started

        preview = Preview(root, offline=True)
        started = time.perf_counter()
        preview.rebuild()
        first = time.perf_counter() - started
        port = free_port()
        server = uvicorn.Server(
            uvicorn.Config(preview_app(preview), host="127.0.0.1", port=port, log_level="warning")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.01)
        base = f"http://127.0.0.1:{port}"
        messages: queue.Queue[tuple[float, dict]] = queue.Queue()
        opened = threading.Event()
        url = f"{base}/_storiiies/events?since={preview.snapshot.token}"
        threading.Thread(target=listen, args=(url, messages, opened), daemon=True).start()
        opened.wait(10)
        messages.get(timeout=10)  # the state at connection

        story = root / "stories" / "story07.md"
        text = story.read_text()
        latencies = []
        for edit in range(args.edits):
            marker = f"Edited {edit} times."
            changed = text.replace("Text of step 25:", f"{marker} Text of step 25:")
            saved = time.perf_counter()
            story.write_text(changed)
            while True:
                arrived, message = messages.get(timeout=30)
                if message["pages"] is None or "story07" in message["pages"]:
                    break
            latencies.append(arrived - saved)
            assert marker in httpx.get(f"{base}/story07/").text, "the page lacks the edit"
            time.sleep(0.15)  # separate saves, as an author's are

        preview.broadcaster.close()
        server.should_exit = True
        thread.join(10)
        preview.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    p50, p95 = percentile(latencies, 0.5), percentile(latencies, 0.95)
    steps = args.stories * args.steps
    print(f"exhibit: {args.stories} stories × {args.steps} steps ({steps}), {IMAGES} local images")
    print(f"full build, cold (tiling):   {cold * 1000:8.0f} ms")
    print(f"full build, warm (cached):   {warm * 1000:8.0f} ms")
    print(f"preview first build:         {first * 1000:8.0f} ms")
    print(
        f"save → reload event, {args.edits} edits: p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms"
    )
    print(f"p50 / warm full build:       {p50 / warm:8.3f}  (target ≤ 0.1)")
    print(f"p50 target ≤ 300 ms:         {'met' if p50 <= 0.3 else 'MISSED'}")
    print(f"ratio target ≤ 0.1:          {'met' if p50 <= 0.1 * warm else 'MISSED'}")


if __name__ == "__main__":
    main()
