"""How the preview server holds up under tile traffic, beside a plain static file server.

A project with two local images is built (the reference bytes); then the same shuffled tile
requests go, over N concurrent connections from an httpx AsyncClient, to `storiiies serve`'s
preview app and to Starlette's StaticFiles serving the built `_site` (the reference), each under
a real uvicorn on a free loopback port. Every answer is checked against the built bytes.

    .venv/bin/python benchmarks/tile_load.py [--requests 1000] [--connections 50]
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from storiiies.build import build_site  # noqa: E402
from storiiies.serve.app import preview_app  # noqa: E402
from storiiies.serve.state import Preview  # noqa: E402
from tests import test_load  # noqa: E402
from tests.conftest import LiveServer, static_app  # noqa: E402


def run(
    base: str, paths: list[str], tiles: dict[str, str]
) -> tuple[float, list[float], dict[str, int]]:
    started = time.perf_counter()
    outcomes, latencies = test_load.run_load(base, paths, tiles)
    return time.perf_counter() - started, sorted(latencies), dict(outcomes)


def report(
    name: str, requests: int, seconds: float, latencies: list[float], outcomes: dict[str, int]
) -> float:
    rate = requests / seconds
    p50, p99 = latencies[len(latencies) // 2], latencies[int(len(latencies) * 0.99)]
    print(
        f"{name:<22} {rate:7.0f} req/s   p50 {p50 * 1000:6.1f} ms"
        f"   p99 {p99 * 1000:6.1f} ms   {outcomes}"
    )
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--connections", type=int, default=50)
    args = parser.parse_args()
    test_load.CONNECTIONS = args.connections
    with tempfile.TemporaryDirectory() as folder:
        root = test_load.tile_project(Path(folder) / "project")
        build_site(root)
        site = root / "_site"
        tiles = {
            "/" + p.relative_to(site).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((site / "images").rglob("*.jpg"))
        }
        paths = list(tiles) * (args.requests // len(tiles) + 1)
        random.Random(8).shuffle(paths)
        paths = paths[: args.requests]
        print(
            f"{args.requests} requests for {len(tiles)} distinct tiles"
            f" over {args.connections} connections"
        )

        static = LiveServer(static_app(site)).start()
        try:
            reference = report("static files (ref.)", args.requests, *run(static.url, paths, tiles))
        finally:
            static.stop()
        preview = Preview(root, offline=True)
        preview.rebuild()
        server = LiveServer(preview_app(preview, watch=False)).start()
        try:
            rate = report("preview server", args.requests, *run(server.url, paths, tiles))
        finally:
            preview.broadcaster.close()
            server.stop()
            preview.close()
        print(f"preview / static throughput: {rate / reference:.2f}")


if __name__ == "__main__":
    main()
