"""Who may change files through the preview: only its own pages, opened on this computer.

One WriteGuard per server, shared by the region picker's insert and the editor. A request that
writes must

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
import secrets
from urllib.parse import urlsplit

from starlette.requests import Request

TOKEN_HEADER = "x-storiiies-token"
JSON_ONLY = ("application/json",)
#: What an HTML form can send across sites without asking the server first.
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data", "text/plain")
NOT_OWN_PAGE = "only the preview's own pages, opened on this computer, may change files"


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
