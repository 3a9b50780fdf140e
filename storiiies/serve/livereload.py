"""Live reload: a version that every rebuild bumps, and a server-sent events stream that tells
open pages which of them changed.

A page carries the token of the site version it was rendered from (`process.version`; the
process id changes when `serve` restarts, so open tabs reload then too). Its script opens
`/_storiiies/events?since=TOKEN`; the first message says at once whether the page is already
stale, later ones follow each rebuild. A message lists the pages to reload by story slug ("" is
the home page), or `null` for every page; a rebuild that failed reloads nothing and only updates
the problem count, so the author keeps looking at the last good version.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import threading
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import StreamingResponse

KEEPALIVE_SECONDS = 15.0
HISTORY = 256  # rebuilds remembered, so a tab that was hidden reloads only if its page changed


@dataclass(frozen=True)
class Change:
    version: int
    pages: frozenset[str] | None  # story slugs ("" = home page) to reload; None = every page
    css: bool  # only theme stylesheets changed: swap them without a reload


class Broadcaster:
    """The current version and recent changes; thread-safe, wakes every open event stream."""

    def __init__(self) -> None:
        self.process = secrets.token_hex(4)
        self._version = 0
        self._changes: deque[Change] = deque(maxlen=HISTORY)
        self._problems: tuple[int, int] = (0, 0)  # errors, warnings
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wakeup: asyncio.Event | None = None
        self.closing = False

    @property
    def token(self) -> str:
        return f"{self.process}.{self._version}"

    @property
    def next_token(self) -> str:
        """The token the next `publish` will give (rebuilds publish one at a time)."""
        return f"{self.process}.{self._version + 1}"

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Called once the server's event loop runs; streams wait on events of that loop."""
        self._loop = loop
        self._wakeup = asyncio.Event()
        self.closing = False

    def publish(
        self, pages: frozenset[str] | None, *, errors: int, warnings: int, css: bool = False
    ) -> str:
        """Record a rebuild (from any thread) and wake the streams; returns the new token."""
        with self._lock:
            self._version += 1
            self._changes.append(Change(self._version, pages, css))
            self._problems = (errors, warnings)
            token = self.token
        self._wake_all()
        return token

    def close(self) -> None:
        """End every open stream (server shutdown), so uvicorn need not wait for them."""
        self.closing = True
        self._wake_all()

    def state_since(self, token: str) -> dict[str, Any]:
        """What a page at version `token` must do now."""
        with self._lock:
            current, changes, (errors, warnings) = self.token, list(self._changes), self._problems
        pages: set[str] | None = set()
        css = False
        if token != current:
            process, _, seen = token.partition(".")
            newer = [c for c in changes if seen.isdecimal() and c.version > int(seen)]
            known = (
                process == self.process
                and seen.isdecimal()
                and (not changes or changes[0].version <= int(seen) + 1)
            )
            if not known:
                pages = None
            for change in newer:
                if pages is not None and change.pages is None:
                    pages = None
                elif pages is not None and change.pages is not None:
                    pages |= change.pages
                css = css or change.css
        return {
            "token": current,
            "pages": None if pages is None else sorted(pages),
            "css": css,
            "errors": errors,
            "warnings": warnings,
        }

    async def wait(self, token: str, timeout: float) -> None:
        """Return when the version moves past `token`, the server closes, or after `timeout`."""
        event = self._wakeup
        if event is None or self.token != token or self.closing:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)

    def _wake_all(self) -> None:
        loop = self._loop
        if loop is None:
            return
        with contextlib.suppress(RuntimeError):  # a closed loop has nobody listening any more
            loop.call_soon_threadsafe(self._swap_wakeup)

    def _swap_wakeup(self) -> None:
        old, self._wakeup = self._wakeup, asyncio.Event()
        if old is not None:
            old.set()


def event_stream(broadcaster: Broadcaster, request: Request) -> StreamingResponse:
    """`GET /_storiiies/events?since=TOKEN`: one `data:` message now, then one per rebuild."""
    since = request.query_params.get("since", "")

    async def messages() -> AsyncIterator[str]:
        # Reconnect quickly after a restart of `serve`: the new process id reloads the page.
        yield "retry: 500\n\n"
        seen: str | None = None
        while not broadcaster.closing:
            token = broadcaster.token
            if token != seen:
                state = broadcaster.state_since(since if seen is None else seen)
                seen = state["token"]
                yield f"data: {json.dumps(state)}\n\n"
            else:
                yield ": keep-alive\n\n"
            await broadcaster.wait(seen, KEEPALIVE_SECONDS)

    return StreamingResponse(
        messages(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
