"""POST /_storiiies/insert: add a region picked in the preview to its story's file.

Only a page of this preview, opened on this computer, may edit files; the body is small and flat,
and a region the build would refuse is refused here, so the story still builds after it.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from storiiies.model import Story
from storiiies.serve.state import Preview
from storiiies.serve.story_edit import (
    EditRefused,
    insert_after_heading,
    reference_markdown,
    reference_parts,
)

#: A picked region is a few hundred bytes; the longest text alternative fits many times over.
_INSERT_BODY_LIMIT = 64 * 1024


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
