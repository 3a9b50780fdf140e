"""A tiling worker process: `python -m storiiies.images.worker`, driven by pool.py.

It reads one JSON job per line on stdin and answers with JSON lines on stdout:
{"index", "state": "started" | "tiling" | "tiled" | "error", ...}. A plain subprocess rather
than multiprocessing: nothing of the parent's main script is re-run, nothing is pickled, and a
crash inside libvips costs one image, not the batch.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from storiiies.errors import ImageError
from storiiies.images.tiles import tile_image


def main() -> None:
    # stdout carries the answers; whatever else would write there (libvips, a stray print)
    # is sent to stderr instead, so it cannot garble them.
    answers = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    def send(message: dict[str, Any]) -> None:
        answers.write(json.dumps(message) + "\n")
        answers.flush()

    for line in sys.stdin:
        work(json.loads(line), send)


def work(job: dict[str, Any], send: Callable[[dict[str, Any]], None]) -> None:
    index = job["index"]
    source, cache_dir = Path(job["source"]), Path(job["cache_dir"])
    where = {"page": job["page"], "tile_size": job["tile_size"], "label": job["label"]}
    last = [0.0]

    def progress(fraction: float) -> None:
        if fraction - last[0] >= 0.02:
            last[0] = fraction
            send({"index": index, "state": "tiling", "fraction": fraction})

    try:
        tiled = tile_image(
            source,
            cache_dir,
            **where,
            threads=job["threads"],
            progress=progress,
            cutting=lambda: send({"index": index, "state": "started"}),
        )
    except ImageError as error:
        send({"index": index, "state": "error", "message": error.message, "hint": error.hint})
        return
    send({"index": index, "state": "tiled", "tiled": tiled.to_fields()})


if __name__ == "__main__":
    main()
