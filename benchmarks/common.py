"""What the benchmark scripts share: a test image, gzip sizes, Chromium, a loopback file server.

Not a benchmark itself. The scripts put the repository root on `sys.path` and import this as
`benchmarks.common`.
"""

from __future__ import annotations

import gzip
import statistics
import sys
import threading
from collections.abc import Callable, Sequence
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pyvips

# The browser and flags the browser tests use, so that figures match what CI runs.
from tests.conftest import CHROMIUM_FLAGS as CHROMIUM_FLAGS  # used by the scripts
from tests.conftest import chromium_path

REPO = Path(__file__).resolve().parent.parent


def generate_image(path: Path, width: int, height: int, quality: int = 90) -> None:
    """Gradients, a fine pattern and noise: something JPEG has to work at, unlike a flat
    colour. The same arguments always give the same picture."""
    xy = pyvips.Image.xyz(width, height)
    x, y = xy[0], xy[1]
    pattern = (x / 23).sin() * (y / 17).cos() * 60 + 128  # sin/cos take degrees in libvips
    noise = pyvips.Image.gaussnoise(width, height, sigma=12, mean=0, seed=16)
    image = (x * (255 / width) + noise).bandjoin([y * (255 / height) + noise, pattern + noise])
    image.cast("uchar").copy(interpretation="srgb").jpegsave(str(path), Q=quality)


def set_aside(path: Path, discarded: Path) -> None:
    """Move an earlier run's output into `discarded` (deleted when the script ends) instead of
    deleting it now. Deleting tens of thousands of files slows the next run's file creation,
    whichever command it is: ext4 without a journal (this test machine's disk) skips inodes
    freed in the last minutes when it allocates new ones, and each skip is a read of the inode
    table; a folder of 30,000 freshly deleted files tripled the system time of the next build
    in our measurements. A rename frees nothing."""
    if path.exists():
        discarded.mkdir(exist_ok=True)
        path.rename(discarded / f"{len(list(discarded.iterdir()))}-{path.name}")


def gzip_size(data: bytes) -> int:
    """Bytes on the wire from a static host that compresses (gzip level 6, as nginx's default)."""
    return len(gzip.compress(data, compresslevel=6, mtime=0))


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def chromium_or_exit() -> str:
    """Debian's Chromium for Playwright, or a message saying how to get it and exit 2."""
    found = chromium_path()
    if found is not None:
        return found
    print(
        "MISSING BROWSER: Chromium is not installed (looked for $STORIIIES_CHROMIUM, then"
        " chromium and chromium-browser on the PATH).\n"
        "Install it with ./scripts/install-chromium (Debian: apt-get install -y chromium) "
        "and run again.",
        file=sys.stderr,
    )
    raise SystemExit(2)


class _QuietHandler(SimpleHTTPRequestHandler):
    """A static file handler that speaks HTTP/1.1 (keep-alive, like any real host) and lets
    pages on another port read its files (CORS), as a IIIF image server does."""

    protocol_version = "HTTP/1.1"

    def end_headers(self) -> None:
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base's name)
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A browser context closed mid-request resets its connections: not worth a traceback.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class FileServer:
    """A folder over real HTTP on 127.0.0.1 (a threaded http.server); the port is known at
    once, so a site can be built for its address before the folder exists."""

    def __init__(self, directory: Path) -> None:
        handler: Callable[..., SimpleHTTPRequestHandler] = partial(
            _QuietHandler, directory=str(directory)
        )
        self.httpd = _Server(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> FileServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)
