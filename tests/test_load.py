"""A bounded load test of the preview server: 1,000 tile requests over 50 concurrent connections.

The preview app of `storiiies serve` runs under a real uvicorn on 127.0.0.1; an httpx
AsyncClient asks for every tile of two tiled images, in a shuffled order, until 1,000 requests
are done. Every answer must be 200 with exactly the bytes `storiiies build` wrote for that tile.
The request count and the time are bounded, and nothing leaves this machine. The server runs
with the options `storiiies serve` gives uvicorn (a long keep-alive, as browsers expect).
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from storiiies.build import build_site
from storiiies.serve.app import preview_app
from storiiies.serve.run import UVICORN_OPTIONS
from storiiies.serve.state import Preview
from tests.conftest import LiveServer
from tests.helpers import make_image

REQUESTS = 1_000
CONNECTIONS = 50
TIME_LIMIT = 120.0  # seconds for the whole run; it takes a few on a 2-core machine


def tile_project(root: Path) -> Path:
    (root / "stories").mkdir(parents=True)
    (root / "storiiies.yml").write_text("title: Load\n", encoding="utf-8")
    make_image(root / "images" / "wide.jpg", 3000, 2000)
    make_image(root / "images" / "tall.jpg", 1500, 2600)
    (root / "stories" / "load.md").write_text(
        "---\ntitle: Load\nsources:\n  wide: images/wide.jpg\n  tall: images/tall.jpg\n---\n"
        "## Wide\n![The wide image](wide#xywh=0,0,1000,800)\n\n## Tall\n![The tall image](tall)\n",
        encoding="utf-8",
    )
    return root


async def fetch_all(
    base: str, paths: list[str], expected: dict[str, str]
) -> tuple[Counter[str], list[float]]:
    outcomes: Counter[str] = Counter()
    latencies: list[float] = []
    queue: asyncio.Queue[str] = asyncio.Queue()
    for path in paths:
        queue.put_nowait(path)
    limits = httpx.Limits(max_connections=CONNECTIONS, max_keepalive_connections=CONNECTIONS)
    async with httpx.AsyncClient(
        base_url=base, limits=limits, timeout=30, trust_env=False
    ) as client:

        async def worker() -> None:
            while not queue.empty():
                path = queue.get_nowait()
                started = time.perf_counter()
                try:
                    response = await client.get(path)
                except httpx.HTTPError as error:
                    outcomes[f"error {type(error).__name__}: {error}"] += 1
                    continue
                latencies.append(time.perf_counter() - started)
                if response.status_code != 200:
                    outcomes[f"status {response.status_code}"] += 1
                elif hashlib.sha256(response.content).hexdigest() != expected[path]:
                    outcomes["wrong bytes"] += 1
                else:
                    outcomes["ok"] += 1

        await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(CONNECTIONS))), TIME_LIMIT)
    return outcomes, latencies


def run_load(
    base: str, paths: list[str], expected: dict[str, str]
) -> tuple[Counter[str], list[float]]:
    """`fetch_all` in an event loop of its own thread: the browser tests' Playwright keeps a
    loop running in the main thread for the whole session."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(lambda: asyncio.run(fetch_all(base, paths, expected))).result()


@pytest.fixture(scope="module")
def tiled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    root = tile_project(tmp_path_factory.mktemp("load") / "project")
    build_site(root)  # the reference bytes, and a warm tile cache for the preview
    site = root / "_site"
    tiles = {
        "/" + path.relative_to(site).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted((site / "images").rglob("*.jpg"))
    }
    return root, tiles


def test_1000_tile_requests_over_50_connections_to_the_preview_server(
    tiled: tuple[Path, dict[str, str]],
) -> None:
    root, tiles = tiled
    assert len(tiles) > 150  # enough distinct tiles that the requests are spread out
    preview = Preview(root, offline=True)
    preview.rebuild()
    server = LiveServer(preview_app(preview, watch=False), **UVICORN_OPTIONS).start()
    try:
        paths = list(tiles) * (REQUESTS // len(tiles) + 1)
        random.Random(8).shuffle(paths)
        started = time.perf_counter()
        outcomes, latencies = run_load(server.url, paths[:REQUESTS], tiles)
        seconds = time.perf_counter() - started
    finally:
        preview.broadcaster.close()
        server.stop()
        preview.close()
    latencies.sort()
    print(
        f"\nload: {sum(outcomes.values())} tile requests ({len(tiles)} distinct tiles)"
        f" over {CONNECTIONS} connections in {seconds:.1f} s, {REQUESTS / seconds:.0f} requests/s,"
        f" latency p50 {latencies[len(latencies) // 2] * 1000:.0f} ms,"
        f" p99 {latencies[int(len(latencies) * 0.99)] * 1000:.0f} ms,"
        f" max {latencies[-1] * 1000:.0f} ms; outcomes {dict(outcomes)}"
    )
    assert outcomes == Counter({"ok": REQUESTS})
