"""`storiiies serve --edit`: the editor's JSON API, under /_storiiies/edit/.

    GET  /_storiiies/edit/                  the editor page (it carries this run's token)
    GET  /_storiiies/edit/status.json       200 when the editor is on: the preview shows a link
    GET  /_storiiies/edit/stories.json      every story file, with its title
    GET  /_storiiies/edit/story.json?file=stories/coins.md
                                            its steps (with their lines), version, mtime, problems
    GET  /_storiiies/edit/canvases.json?file=stories/coins.md
                                            each source's canvases, with thumbnail URLs
    POST /_storiiies/edit/save              a story's steps: added, changed, deleted, reordered
    POST /_storiiies/edit/new               a new story from a title, a summary and a source
    POST /_storiiies/edit/upload?name=scan.jpg   an image into images/ (the body is the file)
    POST /_storiiies/edit/preview           a step's text as the tour will show it

Endpoints are module-level functions reading `request.app.state.editor` (an EditorState, or
None when the editor is off: then they are not found). Every endpoint answers only to a request
that names this server by a loopback address and its port (guard.py), so a page of a rebound DNS
name cannot even read the token; every POST also needs the token and a matching Origin.

Files are written only as `stories/NAME.md` and `images/NAME.EXT`, under names checked in
editor_files.py, which does the reading and writing. Story saves go through story_write
(minimal change, atomic, refused with 409 if the file changed on disk since it was read).
Uploads: JPEG, PNG, TIFF, WebP or JPEG 2000, recognised by their first bytes (not by name or
declared type), at most MAX_UPLOAD bytes.
"""

from __future__ import annotations

import json
from typing import Any

import jinja2
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from storiiies.serve.editor_files import (
    EditorState,
    Invalid,
    canvas_list,
    image_suffix,
    new_story_file,
    save_steps,
    step_edit,
    story_data,
    story_list,
    story_path,
    write_image,
)
from storiiies.serve.guard import JSON_ONLY
from storiiies.serve.state import CLIENT_DIR
from storiiies.serve.story_edit import EditRefused
from storiiies.serve.story_write import SaveConflict
from storiiies.story.parse import clean_story_html, make_markdown

PREFIX = "/_storiiies/edit/"
MAX_UPLOAD = 200 * 1024 * 1024  # a large museum scan fits; a runaway request does not
MAX_JSON = 2 * 1024 * 1024
#: The declared type is not trusted (the first bytes are); it only has to be one a form
#: cannot send.
UPLOAD_TYPES = (
    "application/octet-stream",
    *("image/jpeg", "image/png", "image/tiff", "image/webp", "image/jp2"),
)
_REBUILD_WAIT = 10.0
_PAGES = jinja2.Environment(loader=jinja2.FileSystemLoader(CLIENT_DIR), autoescape=True)
_NO_STORE = {"Cache-Control": "no-store"}
_MD = make_markdown()


def editor_routes() -> list[Route]:
    return [
        Route(PREFIX, page),
        Route(PREFIX + "status.json", status),
        Route(PREFIX + "stories.json", stories),
        Route(PREFIX + "story.json", story),
        Route(PREFIX + "canvases.json", canvases),
        Route(PREFIX + "save", save, methods=["POST"]),
        Route(PREFIX + "new", new_story, methods=["POST"]),
        Route(PREFIX + "upload", upload, methods=["POST"]),
        Route(PREFIX + "preview", preview_text, methods=["POST"]),
    ]


# --- endpoints --------------------------------------------------------------------------------


async def page(request: Request) -> Response:
    editor = _editor(request)
    if editor is None:
        return _not_found()
    html = _PAGES.get_template("editor.html").render(
        token=editor.guard.token, project=editor.project.name
    )
    return HTMLResponse(html, headers={**_NO_STORE, "X-Frame-Options": "DENY"})


async def status(request: Request) -> Response:
    if _editor(request) is None:
        return _not_found()
    return JSONResponse({"editor": True}, headers=_NO_STORE)


async def stories(request: Request) -> Response:
    editor = _editor(request)
    if editor is None:
        return _not_found()
    found = await run_in_threadpool(story_list, editor)
    return JSONResponse({"stories": found}, headers=_NO_STORE)


async def story(request: Request) -> Response:
    editor = _editor(request)
    if editor is None:
        return _not_found()
    await _settled(editor)  # problems of the rebuild running now
    try:
        path = story_path(editor, request.query_params.get("file", ""))
        data = await run_in_threadpool(story_data, editor, path)
    except EditRefused as refused:
        return _refused(refused.message, 404)
    return JSONResponse(data, headers=_NO_STORE)


async def canvases(request: Request) -> Response:
    editor = _editor(request)
    if editor is None:
        return _not_found()
    await _settled(editor)
    try:
        path = story_path(editor, request.query_params.get("file", ""))
    except EditRefused as refused:
        return _refused(refused.message, 404)
    return JSONResponse({"sources": canvas_list(editor, path)}, headers=_NO_STORE)


async def save(request: Request) -> Response:
    editor, body, refusal = await _write_request(request)
    if refusal is not None:
        return refusal
    assert editor is not None
    try:
        path = story_path(editor, str(body["file"]))
        edits = [step_edit(item) for item in body["steps"]]
        result = await run_in_threadpool(save_steps, path, str(body["version"]), edits)
    except SaveConflict as conflict:
        return _refused(conflict.message, 409)
    except Invalid as invalid:
        return _invalid(invalid)
    except EditRefused as refused:
        return _invalid(Invalid(refused.message))
    except (KeyError, TypeError, ValueError, AttributeError):
        return _refused("expected {file, version, steps: [{origin, heading, regions, text}]}", 400)
    return JSONResponse(result, headers=_NO_STORE)


async def new_story(request: Request) -> Response:
    editor, body, refusal = await _write_request(request)
    if refusal is not None:
        return refusal
    assert editor is not None
    try:
        fields = (str(body.get(k, "")).strip() for k in ("title", "summary", "source", "alt"))
        title, summary, source, alt = fields
        result = await run_in_threadpool(new_story_file, editor, title, summary, source, alt)
    except Invalid as invalid:
        return _invalid(invalid)
    except EditRefused as refused:
        return _refused(refused.message, 409)
    except (TypeError, AttributeError):
        return _refused("expected {title, summary, source, alt}", 400)
    return JSONResponse(result, headers=_NO_STORE)


async def upload(request: Request) -> Response:
    editor = _editor(request)
    if editor is None:
        return _not_found()
    refusal = editor.guard.refuse_write(request, UPLOAD_TYPES)
    if refusal is not None:
        return _refused(refusal, 403)
    declared = request.headers.get("content-length", "")
    if declared.isdecimal() and int(declared) > MAX_UPLOAD:
        return _refused(_too_large(), 413)
    data = bytearray()
    async for chunk in request.stream():
        data.extend(chunk)
        if len(data) > MAX_UPLOAD:
            return _refused(_too_large(), 413)
    try:
        suffix = image_suffix(bytes(data))
        target = await run_in_threadpool(
            write_image, editor, request.query_params.get("name", ""), suffix, bytes(data)
        )
    except Invalid as invalid:
        return _invalid(invalid)
    relative = target.relative_to(editor.project.resolve()).as_posix()
    return JSONResponse({"file": relative, "source": relative}, headers=_NO_STORE)


async def preview_text(request: Request) -> Response:
    _, body, refusal = await _write_request(request)
    if refusal is not None:
        return refusal
    text = body.get("text")
    if not isinstance(text, str):
        return _refused("expected {text}", 400)
    return JSONResponse({"html": clean_story_html(_MD.render(text))}, headers=_NO_STORE)


# --- guards -----------------------------------------------------------------------------------


def _editor(request: Request) -> EditorState | None:
    """The editor, if it is on and this request may see it (guard.py: loopback name and port)."""
    editor: EditorState | None = getattr(request.app.state, "editor", None)
    if editor is None or not editor.guard.own_page(request):
        return None
    return editor


async def _write_request(
    request: Request,
) -> tuple[EditorState | None, dict[str, Any], Response | None]:
    editor = _editor(request)
    if editor is None:
        return None, {}, _not_found()
    refusal = editor.guard.refuse_write(request, JSON_ONLY)
    if refusal is not None:
        return editor, {}, _refused(refusal, 403)
    raw = bytearray()
    async for chunk in request.stream():
        raw.extend(chunk)
        if len(raw) > MAX_JSON:
            return editor, {}, _refused("the request is too large", 413)
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        return editor, {}, _refused("expected a JSON object", 400)
    if not isinstance(body, dict):
        return editor, {}, _refused("expected a JSON object", 400)
    return editor, body, None


async def _settled(editor: EditorState) -> None:
    """Wait for a rebuild that runs now (at most _REBUILD_WAIT seconds)."""
    await editor.preview.settled(_REBUILD_WAIT)


def _too_large() -> str:
    return f"the image is larger than {MAX_UPLOAD // (1024 * 1024)} MB; upload a smaller copy"


def _refused(message: str, status_code: int) -> Response:
    return JSONResponse({"error": message}, status_code=status_code, headers=_NO_STORE)


def _invalid(invalid: Invalid) -> Response:
    body: dict[str, Any] = {"error": invalid.message, "hint": invalid.hint}
    if invalid.step is not None:
        body["step"] = invalid.step
    return JSONResponse(body, status_code=422, headers=_NO_STORE)


def _not_found() -> Response:
    return Response("Not Found", status_code=404, media_type="text/plain", headers=_NO_STORE)
