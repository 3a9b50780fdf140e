"""The preview's guards: who may ask, and which paths may be asked for.

Every request must name the preview in its Host header (a loopback name, or any IP address when
serving the network), so a rebound DNS name cannot read it; only IIIF resources carry CORS.
A request path with `.`/`..` segments, backslashes or an empty segment is refused before any
lookup, and a file is served only if its real path (symlinks resolved) lies inside one of the
allowed folders, compared as paths, not string prefixes.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from urllib.parse import urlsplit

from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

NO_STORE = {"Cache-Control": "no-store"}


def not_found() -> Response:
    """A plain 404, for anything that is not a page."""
    return Response("Not Found", status_code=404, media_type="text/plain", headers=NO_STORE)


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
                    _WRONG_HOST, status_code=400, media_type="text/plain", headers=NO_STORE
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


class OnlySafePaths:
    """An app behind the same path checks as the site's files."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and safe_path(scope["path"][1:]) is None:
            await not_found()(scope, receive, send)
        else:
            await self.app(scope, receive, send)


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


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
