"""The preview's guards: who may ask, which paths may be asked for, and who may write.

Every request must name the preview in its Host header (a loopback name, or any IP address when
serving the network), so a rebound DNS name cannot read it; only IIIF resources carry CORS.
A request path with `.`/`..` segments, backslashes or an empty segment is refused before any
lookup, and a file is served only if its real path (symlinks resolved) lies inside one of the
allowed folders, compared as paths, not string prefixes.

Changing files through the preview: only its own pages, opened on this computer. One WriteGuard
per server, shared by the region picker's insert and the editor. A request that writes must

- reach a server that listens on a loopback address (unless `allow_network` says otherwise:
  then any IP address of the server is accepted in `Host`);
- name it in `Host` by a loopback name or address *and its port*: a DNS name rebound to
  127.0.0.1 (`evil.example:8000`) is refused, so are other local servers' pages;
- come from a page of this very server: `Origin` must be `http://` + that `Host`;
- have a content type that a cross-site HTML form cannot send without a CORS preflight
  (never `application/x-www-form-urlencoded`, `multipart/form-data` or `text/plain`);
- and, for the editor, carry this run's token (`secrets.token_urlsafe`) in `X-Storiiies-Token`.
  The token is put into the editor page only, which is served under the same checks of `Host`.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

TOKEN_HEADER = "x-storiiies-token"
JSON_ONLY = ("application/json",)
#: What an HTML form can send across sites without asking the server first.
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data", "text/plain")
NOT_OWN_PAGE = "only the preview's own pages, opened on this computer, may change files"

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
    return not is_loopback(bound) and _is_address(name)


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


class WriteGuard:
    """The checks every write passes. `host` is the address the server listens on."""

    def __init__(self, host: str, *, allow_network: bool = False) -> None:
        self.host = host
        self.allow_network = allow_network
        self.token = secrets.token_urlsafe(32)

    @property
    def editing_allowed(self) -> bool:
        return is_loopback(self.host) or self.allow_network

    def own_page(self, request: Request) -> bool:
        """Whether the request names this server in `Host` by an address it may be edited
        under, with the port it listens on (reading the editor page needs this)."""
        if not self.editing_allowed:
            return False
        header = request.headers.get("host", "")
        try:
            parts = urlsplit(f"//{header}")
            name, port = parts.hostname, parts.port
        except ValueError:
            return False
        if not name or not (is_loopback(name) or (self.allow_network and _is_address(name))):
            return False
        server = request.scope.get("server")
        listening = server[1] if server and len(server) > 1 else None
        return listening is None or (port or 80) == listening

    def refuse_cross_site(
        self, request: Request, content_types: tuple[str, ...] = JSON_ONLY
    ) -> str | None:
        """Why this request may not change files, or None (the token is not checked here)."""
        if not self.editing_allowed:
            return "changing story files is off while the preview is served to the network (--host)"
        if not self.own_page(request):
            return NOT_OWN_PAGE
        origin = request.headers.get("origin")
        if origin is None or origin != f"http://{request.headers.get('host', '')}":
            return NOT_OWN_PAGE
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type in FORM_TYPES or content_type not in content_types:
            return "expected " + " or ".join(content_types)
        return None

    def refuse_write(
        self, request: Request, content_types: tuple[str, ...] = JSON_ONLY
    ) -> str | None:
        """`refuse_cross_site`, and the token of this run in its header."""
        refusal = self.refuse_cross_site(request, content_types)
        if refusal is not None:
            return refusal
        if not secrets.compare_digest(
            request.headers.get(TOKEN_HEADER, "").encode("utf-8", "replace"),
            self.token.encode("ascii"),
        ):
            return "this editor page is out of date (the server was restarted); reload it"
        return None


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _is_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return True
