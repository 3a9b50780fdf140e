"""The write guard (serve/guard.py) on its own, over a real server on 127.0.0.1: no other
layer (such as the preview's Host check) stands in front of it here."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from storiiies.serve.guard import WriteGuard


def guarded_app(guard: WriteGuard, written: list[bytes]) -> Starlette:
    async def write(request: Request) -> Response:
        refusal = guard.refuse_write(request)
        if refusal is not None:
            return JSONResponse({"error": refusal}, status_code=403)
        written.append(await request.body())
        return JSONResponse({"ok": True})

    return Starlette(routes=[Route("/write", write, methods=["POST"])])


@pytest.fixture
def guarded(serve_app):
    guard = WriteGuard("127.0.0.1")
    written: list[bytes] = []
    server = serve_app(guarded_app(guard, written))
    return server, guard, written


def post(server, guard: WriteGuard, **headers: str) -> httpx.Response:
    good = {
        "Origin": server.url,
        "Content-Type": "application/json",
        "X-Storiiies-Token": guard.token,
    }
    good.update(headers)
    sent = {name: value for name, value in good.items() if value is not None}
    return httpx.post(f"{server.url}/write", content=b"{}", headers=sent)


def test_a_write_from_the_servers_own_page_with_the_token_passes(guarded):
    server, guard, written = guarded
    response = post(server, guard)
    assert response.status_code == 200, response.text
    assert written == [b"{}"]
    localhost = f"http://localhost:{server.port}"
    assert post(server, guard, Host=f"localhost:{server.port}", Origin=localhost).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example"},
        {"Origin": "null"},
        {"Origin": None},
        {"Origin": "https://127.0.0.1"},  # the right name, another origin
        {"X-Storiiies-Token": None},
        {"X-Storiiies-Token": "guessed"},
        {"X-Storiiies-Token": ""},
        {"Content-Type": "text/plain"},
        {"Content-Type": "application/x-www-form-urlencoded"},
        {"Content-Type": "multipart/form-data; boundary=x"},
        {"Content-Type": None},
    ],
    ids=[
        "cross-site-origin",
        "null-origin",
        "no-origin",
        "other-scheme",
        "no-token",
        "wrong-token",
        "empty-token",
        "text-form-post",
        "urlencoded-form-post",
        "multipart-form-post",
        "no-content-type",
    ],
)
def test_a_write_is_refused_with_403(guarded, headers):
    server, guard, written = guarded
    response = post(server, guard, **headers)
    assert response.status_code == 403
    assert written == []


def test_a_rebound_dns_name_is_refused_even_with_a_matching_origin(guarded):
    server, guard, written = guarded
    # A page of evil.example whose name now points at 127.0.0.1 is "same origin" with itself.
    name = f"evil.example:{server.port}"
    response = post(server, guard, Host=name, Origin=f"http://{name}")
    assert response.status_code == 403
    assert response.json()["error"] == (
        "only the preview's own pages, opened on this computer, may change files"
    )
    assert written == []


def test_another_port_on_this_computer_is_refused(guarded):
    server, guard, written = guarded
    other = f"127.0.0.1:{server.port + 1}"
    response = post(server, guard, Host=other, Origin=f"http://{other}")
    assert response.status_code == 403
    assert written == []


def test_writes_are_off_when_the_server_listens_on_the_network(serve_app):
    guard = WriteGuard("0.0.0.0")  # only the setting: the test server still listens on loopback
    written: list[bytes] = []
    server = serve_app(guarded_app(guard, written))
    response = post(server, guard)
    assert response.status_code == 403
    assert "--host" in response.json()["error"]
    assert written == []


def test_writes_over_the_network_only_when_explicitly_allowed(serve_app):
    guard = WriteGuard("0.0.0.0", allow_network=True)
    written: list[bytes] = []
    server = serve_app(guarded_app(guard, written))
    assert post(server, guard).status_code == 200
    name = f"evil.example:{server.port}"  # still never a DNS name
    assert post(server, guard, Host=name, Origin=f"http://{name}").status_code == 403
    assert written == [b"{}"]


def test_each_guard_has_its_own_token():
    first, second = WriteGuard("127.0.0.1"), WriteGuard("127.0.0.1")
    assert first.token != second.token and len(first.token) >= 40
