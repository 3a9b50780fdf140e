"""`storiiies serve`: the preview server, a Starlette app over a Preview.

    /_storiiies/events          server-sent events after each rebuild (livereload.py)
    /_storiiies/problems.json   the problems of the latest rebuild, for the in-page overlay
    /_storiiies/insert          POST, same origin with the run's key: add a picked region to a story
    /_storiiies/edit/...        with `edit`: the editor (editor.py)
    /_storiiies/NAME            the preview's own scripts and styles
    /iiif/3/NAME/...            IIIF Image API 3.0 for each local image (images/server.py)
    /PATH                       the site: pages rendered per request, other files from the Snapshot

Every request must name the preview in its Host header (a loopback name, or any IP address when
serving the network), so a rebound DNS name cannot read it; only IIIF resources carry CORS.
Only files of the site are served. A request path with `.`/`..` segments, backslashes or an
empty segment is refused before any lookup, and a file is served only if its real path (symlinks
resolved) lies inside one of the Snapshot's folders, compared as paths, not string prefixes.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ipaddress
import json
import mimetypes
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from storiiies.errors import Problem
from storiiies.images.server import image_api_app
from storiiies.model import Story
from storiiies.serve.editor import editor_routes
from storiiies.serve.editor_files import EditorState
from storiiies.serve.guard import WriteGuard, is_loopback
from storiiies.serve.livereload import event_stream
from storiiies.serve.state import (
    CLIENT_DIR,
    LocalImages,
    Preview,
    Rebuild,
    Snapshot,
)
from storiiies.serve.story_edit import (
    EditRefused,
    insert_after_heading,
    reference_markdown,
    reference_parts,
)
from storiiies.serve.watch import DEFAULT_STEP_MS, Watcher
from storiiies.site.render import render_page
from storiiies.site.themes import render_problem

_PAGES = jinja2.Environment(loader=jinja2.FileSystemLoader(CLIENT_DIR), autoescape=True)
_REBUILD_WAIT = 10.0  # seconds a request waits for a running rebuild (Preview.settled)
_NO_STORE = {"Cache-Control": "no-store"}
_FILE_FOLDERS = ("images/", "assets/", "crops/")  # never pages: skip rendering for these
#: A picked region is a few hundred bytes; the longest text alternative fits many times over.
_INSERT_BODY_LIMIT = 64 * 1024


def preview_app(
    preview: Preview,
    *,
    host: str = "127.0.0.1",
    watch: bool = True,
    step_ms: int = DEFAULT_STEP_MS,
    on_rebuild: Callable[[Rebuild], None] | None = None,
    on_start: Callable[[], None] | None = None,
    edit: bool = False,
) -> Starlette:
    """The preview app. With `watch`, file changes rebuild while the app runs (its lifespan);
    `host` is the address it listens on (story files can be edited only from loopback).
    `on_start` runs once the app is up (the server already handles Ctrl+C by then).
    With `edit`, the editor answers under /_storiiies/edit/ (editor.py)."""
    app = Starlette(
        routes=[
            *editor_routes(),  # not found unless `edit` (editor.py)
            Route("/_storiiies/events", events),
            Route("/_storiiies/problems.json", problems),
            Route("/_storiiies/insert", insert, methods=["POST"]),
            Route("/_storiiies/{name:path}", client_file),
            # Any region and size of a local image, for other IIIF viewers during a preview.
            Mount(
                "/iiif/3",
                app=image_api_app(LocalImages(preview)),
                middleware=[Middleware(OnlySafePaths)],
            ),
            Route("/{path:path}", site),
        ],
        # Outermost: a request naming another host is refused before anything else runs.
        middleware=[Middleware(OnlyOwnHost, host=host)],
        lifespan=lifespan,
    )
    app.state.preview = preview
    app.state.host = host
    app.state.watch = watch
    app.state.step_ms = step_ms
    app.state.on_rebuild = on_rebuild
    app.state.on_start = on_start
    app.state.watcher = None
    app.state.guard = WriteGuard(host)  # every write: Host, Origin, content type, key
    app.state.editor = EditorState(preview, app.state.guard) if edit else None
    return app


_WRONG_HOST = (
    "This preview answers only requests that name it by its address (such as"
    " 127.0.0.1 or localhost), not by another host name.\n"
)


class OnlyOwnHost:
    """Refuse every request whose Host header is not an address of this preview.

    A website whose DNS name is rebound to 127.0.0.1 makes the browser send its pages' requests
    here under that name, as if same-origin with the site: the Host header is what gives it away.
    """

    def __init__(self, app: ASGIApp, host: str) -> None:
        self.app = app
        self.host = host

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            headers = dict(scope["headers"])
            if not own_host(headers.get(b"host", b"").decode("latin-1"), self.host):
                response = Response(
                    _WRONG_HOST, status_code=400, media_type="text/plain", headers=_NO_STORE
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def own_host(header: str, bound: str) -> bool:
    """Whether a request's Host header names this preview, listening on `bound`: a loopback
    name or address always; any IP address too when it serves the network (--host); never
    another name, which is what DNS rebinding sends."""
    try:
        name = urlsplit(f"//{header}").hostname
    except ValueError:
        return False
    if not name:
        return False
    if is_loopback(name):
        return True
    if is_loopback(bound):
        return False
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    """While the app runs: event streams wake on this loop, and saved files rebuild."""
    preview: Preview = app.state.preview
    preview.broadcaster.attach(asyncio.get_running_loop())
    if app.state.watch:
        app.state.watcher = Watcher(
            preview.watched_folders(),
            preview.ignored_folders(),
            functools.partial(_rebuild, preview, app.state.on_rebuild),
            step_ms=app.state.step_ms,
        ).start()
    if app.state.on_start is not None:
        app.state.on_start()
    try:
        yield
    finally:
        preview.broadcaster.close()
        if app.state.watcher is not None:
            app.state.watcher.stop()
            app.state.watcher = None


def _rebuild(
    preview: Preview, on_rebuild: Callable[[Rebuild], None] | None, changed: set[Path]
) -> None:
    """The watcher's callback, in its thread: rebuild, then tell `on_rebuild`."""
    result = preview.rebuild(changed)
    if on_rebuild is not None:
        on_rebuild(result)


# -- endpoints ---------------------------------------------------------------------------------


async def events(request: Request) -> Response:
    preview: Preview = request.app.state.preview
    return event_stream(preview.broadcaster, request)


async def problems(request: Request) -> Response:
    preview: Preview = request.app.state.preview
    snapshot = await preview.settled(_REBUILD_WAIT)
    return JSONResponse(
        {
            "token": snapshot.token,
            "write_token": request.app.state.guard.token,  # this run's key for writes
            "site": snapshot.site is not None,
            "problems": [_problem_data(p, preview.project) for p in snapshot.problems],
        },
        headers=_NO_STORE,
    )


async def client_file(request: Request) -> Response:
    name = safe_path(request.path_params["name"])
    found = contained(CLIENT_DIR / name, (CLIENT_DIR,)) if name else None
    if found is None or found.suffix not in (".js", ".css"):
        return _not_found()
    return FileResponse(found, headers={"Cache-Control": "no-cache"})


async def insert(request: Request) -> Response:
    refusal = request.app.state.guard.refuse_write(request)
    if refusal is not None:
        return JSONResponse({"error": refusal}, status_code=403)
    body = await _read_body(request, _INSERT_BODY_LIMIT)
    if body is None:
        return JSONResponse(
            {"error": f"the request is larger than {_INSERT_BODY_LIMIT // 1024} KB"},
            status_code=413,
        )
    try:
        # A picker's body is a flat object; deeper JSON is refused before Python recurses.
        data = json.loads(body)
        if not isinstance(data, dict):
            raise TypeError("not an object")
        result = await run_in_threadpool(_insert, request.app.state.preview, data)
    except EditRefused as refused:
        return JSONResponse({"error": refused.message}, status_code=409)
    except (ValueError, TypeError, KeyError, OverflowError, RecursionError):
        return JSONResponse(
            {"error": "expected {story, step, title, ref, region, alt}"}, status_code=400
        )
    return JSONResponse(result)


async def site(request: Request) -> Response:
    preview: Preview = request.app.state.preview
    path = safe_path(request.path_params["path"])
    if path is None:
        return _not_found()
    snapshot = await preview.settled(_REBUILD_WAIT)
    return await run_in_threadpool(_site_response, preview, snapshot, path)


class OnlySafePaths:
    """An app behind the same path checks as the site's files."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and safe_path(scope["path"][1:]) is None:
            await _not_found()(scope, receive, send)
        else:
            await self.app(scope, receive, send)


# -- helpers -----------------------------------------------------------------------------------


def safe_path(path: str) -> str | None:
    """`path` (already percent-decoded once) if it names something below the site root."""
    if "\\" in path or "\x00" in path or path.startswith("/") or ":" in path.split("/", 1)[0]:
        return None
    parts = path.split("/")
    if any(part in ("", ".", "..") for part in parts[:-1]) or parts[-1] in (".", ".."):
        return None
    return path


def contained(candidate: Path, roots: tuple[Path, ...]) -> Path | None:
    """The file, if its real path is inside one of `roots` (real paths too)."""
    real = Path(os.path.realpath(candidate))
    for root in roots:
        base = os.path.realpath(root)
        if os.path.commonpath([base, real]) == base and real.is_file():
            return real
    return None


def _site_response(preview: Preview, snapshot: Snapshot, path: str) -> Response:
    page = path + "index.html" if path == "" or path.endswith("/") else path
    is_page = page.endswith(".html")
    if snapshot.site is None or snapshot.env is None:
        if is_page:
            return _error_page(snapshot, page, preview.project)
    elif not path.startswith(_FILE_FOLDERS):
        try:
            rendered = render_page(snapshot.site, snapshot.env, page, live=snapshot.token)
        except Exception as error:  # a template bug: show it in the page, keep serving
            problem = render_problem(error, preview.project)
            return _error_page(snapshot, page, preview.project, extra=(problem,))
        if rendered is not None and rendered.content is not None:
            return Response(
                rendered.content, media_type=_media_type(page), headers=_site_headers(page, False)
            )
    found = _site_file(preview, snapshot, path)
    if isinstance(found, bytes):
        return Response(found, media_type=_media_type(path), headers=_site_headers(path, False))
    if found is not None:
        immutable = path.startswith("images/")  # tile folders are named by content
        return FileResponse(
            found, media_type=_media_type(path), headers=_site_headers(path, immutable)
        )
    if (
        snapshot.site is not None
        and snapshot.env is not None
        and "." not in path.rsplit("/", 1)[-1]
    ) and render_page(snapshot.site, snapshot.env, f"{path}/index.html") is not None:
        return RedirectResponse(f"/{path}/", status_code=307)
    return _not_found(snapshot if is_page else None, page)


def _site_file(preview: Preview, snapshot: Snapshot, path: str) -> bytes | Path | None:
    if path.startswith("crops/"):
        cut = preview.crop_file(snapshot, path)
        return contained(cut, snapshot.roots) if cut is not None else None
    parts = path.split("/")
    for cut_at in range(len(parts), 0, -1):
        output = snapshot.files.get("/".join(parts[:cut_at]))
        if output is None:
            continue
        if cut_at == len(parts) and output.content is not None:
            return output.content
        if output.source is None:
            return None
        return contained(output.source.joinpath(*parts[cut_at:]), snapshot.roots)
    return None


def _insert(preview: Preview, body: dict[str, Any]) -> dict[str, Any]:
    site = preview.snapshot.site
    # A translation's page picks regions for its own file (`coins.fr.md`).
    versions = site.story_versions if site else ()
    story = next((s for s in versions if s.slug == body["story"]), None)
    number = int(body["step"])
    if story is None or not 1 <= number <= len(story.steps):
        raise EditRefused("this story or step is not in the preview any more; reload the page")
    step = story.steps[number - 1]
    if step.title != body["title"]:
        raise EditRefused("the story changed since this page was loaded; reload it and pick again")
    region = tuple(int(n) for n in body["region"])
    if len(region) != 4:
        raise ValueError("region")
    ref = str(body["ref"])
    markdown = reference_markdown(str(body.get("alt", "")), ref, region)
    _check_inside_canvas(story, ref, region)
    inserted = insert_after_heading(
        story.source.path, story.source.text, step.location.line or 0, markdown
    )
    return {"file": story.source.name, "line": inserted.line, "markdown": inserted.markdown}


async def _read_body(request: Request, limit: int) -> bytes | None:
    """The request's body, or None when it is longer than `limit` bytes (by its declared
    length, or as it arrives)."""
    declared = request.headers.get("content-length", "")
    if declared.isdecimal() and int(declared) > limit:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


def _check_inside_canvas(story: Story, ref: str, region: tuple[int, int, int, int]) -> None:
    """Refuse a picked region the build would refuse: so the story still builds after it."""
    alias, number = reference_parts(ref)
    document = story.sources.get(alias)
    if document is None:
        raise EditRefused(
            f"'{alias}' is not a source of this story; reload the page and pick again"
        )
    canvas = next((c for c in document.canvases if c.index == number), None)
    if canvas is None:
        last = max((c.index for c in document.canvases), default=0)
        raise EditRefused(
            f"canvas {number} of '{alias}' does not exist (it has {last});"
            " reload the page and pick again"
        )
    x, y, w, h = region
    if canvas.width and canvas.height and (x + w > canvas.width or y + h > canvas.height):
        raise EditRefused(
            f"the region {x},{y},{w},{h} is outside canvas {number} of '{alias}'"
            f" ({canvas.width}×{canvas.height}); pick it again inside the image"
        )


def _problem_data(problem: Problem, root: Path) -> dict[str, Any]:
    location = problem.location
    return {
        "location": str(location),
        "path": location.path,
        "line": location.line,
        "column": location.column,
        "severity": problem.severity,
        "message": problem.message,
        "hint": problem.hint,
        "source": _source_line(root, location.path, location.line),
    }


def _source_line(root: Path, path: str, line: int | None) -> str | None:
    """The author's line that a problem points at, shown under the message."""
    if not line:
        return None
    file = contained(root / path, (root,))
    if file is None:
        return None
    try:
        lines = file.read_text(encoding="utf-8-sig", errors="replace").splitlines()
    except OSError:
        return None
    return lines[line - 1] if 0 < line <= len(lines) else None


def _error_page(
    snapshot: Snapshot, page: str, root: Path, extra: tuple[Problem, ...] = ()
) -> Response:
    """Shown while there is no good site yet (or a page fails to render). It keeps the reload
    script, so the page comes back by itself once the author fixes the file."""
    problems = [_problem_data(p, root) for p in (*extra, *snapshot.problems)]
    html = _PAGES.get_template("error.html").render(
        problems=problems, token=snapshot.token, root="../" * page.count("/")
    )
    return Response(html, status_code=500, media_type="text/html", headers=_NO_STORE)


def _not_found(snapshot: Snapshot | None = None, page: str = "") -> Response:
    if snapshot is None:
        return Response("Not Found", status_code=404, media_type="text/plain", headers=_NO_STORE)
    # With the reload script: a story that is being created appears as soon as it is saved.
    html = _PAGES.get_template("not-found.html").render(
        page=page, token=snapshot.token, root="../" * page.count("/")
    )
    return Response(html, status_code=404, media_type="text/html", headers=_NO_STORE)


def _site_headers(path: str, immutable: bool) -> dict[str, str]:
    headers = {"Cache-Control": "public, max-age=3600" if immutable else "no-cache"}
    if is_iiif_resource(path):
        headers["Access-Control-Allow-Origin"] = "*"
    return headers


def is_iiif_resource(path: str) -> bool:
    """Manifests, the collection, info.json and tiles: what other IIIF viewers open during a
    preview, so other websites may read them. Pages, search.json and the preview's own files
    may not: they hold the unpublished stories."""
    return (
        path.startswith("images/")
        or path == "collection.json"
        or path == "manifest.json"
        or path.endswith("/manifest.json")
    )


def _media_type(path: str) -> str:
    if path.endswith(".json"):
        return "application/json"
    return mimetypes.guess_type(path)[0] or "application/octet-stream"
