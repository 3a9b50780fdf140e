"""`storiiies serve`: the preview server, a Starlette app over a Preview.

    /_storiiies/events          server-sent events after each rebuild (livereload.py)
    /_storiiies/problems.json   the problems of the latest rebuild, for the in-page overlay
    /_storiiies/insert          POST, same origin with the run's key: add a picked region to a story
    /_storiiies/edit/...        with `edit`: the editor (editor.py)
    /_storiiies/NAME            the preview's own scripts and styles
    /iiif/3/NAME/...            IIIF Image API 3.0 for each local image (images/server.py)
    /PATH                       the site: pages rendered per request, other files from the Snapshot

The factory only assembles routes and middleware and puts the Preview and its settings on
`app.state`; the endpoints are plain functions that read it. The guards (Host header, safe paths,
which folders a file may live in) are in guard.py; the picker's POST is in insert.py. Only IIIF
resources carry CORS; only files inside the Snapshot's folders are served.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import mimetypes
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import jinja2
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route

from storiiies.errors import Problem
from storiiies.images.pyramid import stored_name
from storiiies.images.server import image_api_app
from storiiies.serve.editor import editor_routes
from storiiies.serve.editor_files import EditorState
from storiiies.serve.guard import (
    NO_STORE,
    OnlyOwnHost,
    OnlySafePaths,
    WriteGuard,
    contained,
    is_iiif_resource,
    not_found,
    safe_path,
)
from storiiies.serve.insert import insert
from storiiies.serve.livereload import event_stream
from storiiies.serve.state import CLIENT_DIR, LocalImages, Preview, Rebuild, Snapshot
from storiiies.serve.watch import DEFAULT_STEP_MS, Watcher
from storiiies.site.render import render_page
from storiiies.site.themes import render_problem

_PAGES = jinja2.Environment(loader=jinja2.FileSystemLoader(CLIENT_DIR), autoescape=True)
_REBUILD_WAIT = 10.0  # seconds a request waits for a running rebuild (Preview.settled)
_FILE_FOLDERS = ("images/", "assets/", "crops/")  # never pages: skip rendering for these


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
        headers=NO_STORE,
    )


async def client_file(request: Request) -> Response:
    name = safe_path(request.path_params["name"])
    found = contained(CLIENT_DIR / name, (CLIENT_DIR,)) if name else None
    if found is None or found.suffix not in (".js", ".css"):
        return _not_found()
    return FileResponse(found, headers={"Cache-Control": "no-cache"})


async def site(request: Request) -> Response:
    preview: Preview = request.app.state.preview
    path = safe_path(request.path_params["path"])
    if path is None:
        return _not_found()
    snapshot = await preview.settled(_REBUILD_WAIT)
    return await run_in_threadpool(_site_response, preview, snapshot, path)


# -- helpers -----------------------------------------------------------------------------------


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
        if output.tiles:  # a tile folder of the cache: the rest of the path names a tile
            try:
                name = stored_name("/".join(parts[cut_at:]))
            except ValueError:
                return None
            return contained(output.source / name, snapshot.roots)
        return contained(output.source.joinpath(*parts[cut_at:]), snapshot.roots)
    return None


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
    return Response(html, status_code=500, media_type="text/html", headers=NO_STORE)


def _not_found(snapshot: Snapshot | None = None, page: str = "") -> Response:
    if snapshot is None:
        return not_found()
    # With the reload script: a story that is being created appears as soon as it is saved.
    html = _PAGES.get_template("not-found.html").render(
        page=page, token=snapshot.token, root="../" * page.count("/")
    )
    return Response(html, status_code=404, media_type="text/html", headers=NO_STORE)


def _site_headers(path: str, immutable: bool) -> dict[str, str]:
    headers = {"Cache-Control": "public, max-age=3600" if immutable else "no-cache"}
    if is_iiif_resource(path):
        headers["Access-Control-Allow-Origin"] = "*"
    return headers


def _media_type(path: str) -> str:
    if path.endswith(".json"):
        return "application/json"
    return mimetypes.guess_type(path)[0] or "application/octet-stream"
