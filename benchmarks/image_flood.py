"""Many concurrent large requests to the preview's dynamic image server at once: how many are
answered, how many are told to come back (503), and how long info.json waits meanwhile.

An 8,000 × 8,000 noise JPEG (slow to cut) is served by `image_api_app` with its defaults under
a real uvicorn on a free loopback port; N requests for 4,000-pixel PNGs go at once.

    .venv/bin/python benchmarks/image_flood.py [--requests 200]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx
import pyvips

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from storiiies.images.server import image_api_app  # noqa: E402
from tests.conftest import LiveServer  # noqa: E402


async def flood(url: str, requests: int) -> None:
    limits = httpx.Limits(max_connections=requests + 10)
    async with httpx.AsyncClient(base_url=url, timeout=600, limits=limits) as client:
        started = time.monotonic()
        heavy = [client.get(f"/large/full/{4000 - n},/0/default.png") for n in range(requests)]
        tasks = [asyncio.ensure_future(request) for request in heavy]
        await asyncio.sleep(1)
        asked = time.monotonic()
        await client.get("/large/info.json")
        info = time.monotonic() - asked
        answers = await asyncio.gather(*tasks, return_exceptions=True)
    kinds = Counter(
        type(answer).__name__ if isinstance(answer, BaseException) else answer.status_code
        for answer in answers
    )
    print(
        f"flood: {requests} requests: {dict(kinds)}; info.json during the flood {info:.2f} s; "
        f"all done in {time.monotonic() - started:.1f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "large.jpg"
        noise = pyvips.Image.gaussnoise(8000, 8000, mean=128, sigma=40).cast("uchar")
        noise.bandjoin([noise, noise]).copy(interpretation="srgb").jpegsave(str(path))
        server = LiveServer(image_api_app({"large": path})).start()
        try:
            asyncio.run(flood(server.url, args.requests))
        finally:
            server.stop()


if __name__ == "__main__":
    main()
