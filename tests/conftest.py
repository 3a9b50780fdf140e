"""Fixtures shared by the whole suite: real servers on 127.0.0.1, the ../shared data, projects
in tmp_path."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

#: The S3-compatible server fixture (tests/s3.py), for the publish and object-storage tests.
pytest_plugins = ["tests.s3"]

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
EXAMPLES = REPO / "examples"


def require_shared() -> Path:
    """Return ../shared, or skip the test (fail under CI, where it must be present)."""
    if not SHARED.is_dir():
        if os.environ.get("STORIIIES_REQUIRE_SHARED") == "1":
            pytest.fail(f"{SHARED} is missing, and STORIIIES_REQUIRE_SHARED=1 makes it required")
        pytest.skip(f"needs the shared test data at {SHARED} (present beside the repo in CI)")
    return SHARED


@pytest.fixture(scope="session")
def shared() -> Path:
    return require_shared()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """A uvicorn server running an ASGI app in a thread on 127.0.0.1 (as httpx's tests do)."""

    def __init__(self, app: ASGIApp, **options: Any) -> None:
        self.port = free_port()
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", **options
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("test server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def serve_app() -> Iterator[Callable[[ASGIApp], LiveServer]]:
    """Start any ASGI app on a free loopback port; stopped after the test."""
    servers: list[LiveServer] = []

    def start(app: ASGIApp) -> LiveServer:
        server = LiveServer(app).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def static_app(directory: Path) -> Starlette:
    return Starlette(
        routes=[Mount("/", StaticFiles(directory=directory, html=True))],
        middleware=[Middleware(CORSMiddleware, allow_origins=["*"])],
    )


@pytest.fixture
def serve_dir(serve_app: Callable[[ASGIApp], LiveServer]) -> Callable[[Path], LiveServer]:
    """Serve a folder over real HTTP on 127.0.0.1, with CORS like a IIIF server."""
    return lambda directory: serve_app(static_app(directory))


@pytest.fixture(scope="session")
def fixture_server(shared: Path) -> Iterator[LiveServer]:
    """../shared/fixtures/manifests over HTTP for the whole session (read-only)."""
    server = LiveServer(static_app(shared / "fixtures" / "manifests")).start()
    yield server
    server.stop()


@pytest.fixture
def make_project(tmp_path: Path) -> Callable[..., Path]:
    """Write a project's files into tmp_path: make_project({"stories/a.md": "..."})."""

    def make(files: dict[str, str | bytes], config: str | None = None) -> Path:
        root = tmp_path / "project"
        root.mkdir(exist_ok=True)
        (root / "storiiies.yml").write_text(
            config if config is not None else "title: Test exhibit\n", encoding="utf-8"
        )
        for name, content in files.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
        return root

    return make


CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    import shutil

    for name in (os.environ.get("STORIIIES_CHROMIUM"), "chromium", "chromium-browser"):
        if name and (found := shutil.which(name)):
            return found
    return None


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless, driven by Playwright (skipped if absent, required in CI)."""
    path = chromium_path()
    if path is None:
        if os.environ.get("STORIIIES_REQUIRE_BROWSER") == "1":
            pytest.fail(
                "chromium is not installed, and STORIIIES_REQUIRE_BROWSER=1 makes it required"
            )
        pytest.skip("needs Debian's chromium (run ./scripts/install-chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=path, headless=True, args=CHROMIUM_FLAGS
        )
        yield instance
        instance.close()


@pytest.fixture
def new_page(browser) -> Iterator[Callable[..., Any]]:
    """`new_page(**context_options)`: a page in a fresh browser context (its own viewport,
    motion, touch, storage). Every context opened this way is closed after the test, passed or
    failed; `page.context` reaches the context (init scripts, routes, permissions)."""
    contexts: list[Any] = []

    def open_page(**options: Any) -> Any:
        context = browser.new_context(**options)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture(scope="session")
def built_examples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example exhibit, built once per session into a scratch copy."""
    import shutil

    from storiiies.build import build_site

    project = tmp_path_factory.mktemp("examples") / "examples"
    shutil.copytree(EXAMPLES, project, ignore=shutil.ignore_patterns("_site", ".storiiies-cache"))
    build_site(project)
    return project / "_site"


@pytest.fixture(scope="session")
def examples_server(built_examples: Path) -> Iterator[LiveServer]:
    server = LiveServer(static_app(built_examples)).start()
    yield server
    server.stop()


class EventStream:
    """A client of the preview's server-sent events, read in a thread; `next()` waits for one."""

    def __init__(self, url: str) -> None:
        import queue

        self.url = url
        self.messages: queue.Queue[dict] = queue.Queue()
        self.opened = threading.Event()
        self._response: httpx.Response | None = None
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        if not self.opened.wait(10):
            raise RuntimeError(f"no event stream at {url}")

    def _read(self) -> None:
        try:
            with (
                httpx.Client(timeout=httpx.Timeout(30.0)) as client,
                client.stream("GET", self.url) as response,
            ):
                self._response = response
                self.opened.set()
                for line in response.iter_lines():
                    if line.startswith("data: "):
                        self.messages.put(json.loads(line[6:]))
        except Exception:  # closed by the test or the server: the stream just ends
            pass
        finally:
            self.opened.set()

    def next(self, timeout: float = 10.0) -> dict:
        return self.messages.get(timeout=timeout)

    def close(self) -> None:
        # The reading thread ends when the server closes its streams (preview_server's teardown).
        if self._response is not None:
            self._response.close()


@pytest.fixture
def preview_server(
    serve_app: Callable[[ASGIApp], LiveServer],
) -> Iterator[Callable[..., LiveServer]]:
    """`storiiies serve`'s app for a project, on a free loopback port, watching its files.

    `preview_server(project)` returns the LiveServer; `.preview` is the Preview behind it and
    `.rebuilds` lists each rebuild the watcher ran. Open event streams end before it stops."""
    from storiiies.serve.app import preview_app
    from storiiies.serve.state import Preview

    previews = []

    def start(
        project: Path, *, host: str = "127.0.0.1", step_ms: int = 10, edit: bool = False
    ) -> LiveServer:
        preview = Preview(project, offline=True)
        rebuilds: list = []
        preview.rebuild()
        server = serve_app(
            preview_app(preview, host=host, step_ms=step_ms, on_rebuild=rebuilds.append, edit=edit)
        )
        server.preview = preview  # type: ignore[attr-defined]
        server.rebuilds = rebuilds  # type: ignore[attr-defined]
        previews.append(preview)
        return server

    yield start
    for preview in previews:
        preview.broadcaster.close()
        preview.close()
