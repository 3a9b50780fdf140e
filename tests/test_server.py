"""`storiiies serve`: what the preview server answers, what it refuses, and the command itself.

Traversal requests are sent as raw bytes, since HTTP clients tidy `..` away before sending.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from storiiies.serve.app import preview_app
from storiiies.serve.guard import contained, is_loopback, safe_path
from storiiies.serve.state import Preview
from storiiies.serve.story_edit import EditRefused, insert_after_heading
from tests.conftest import LiveServer, free_port
from tests.helpers import make_image

STORY = """\
---
title: Gradient
sources:
  grad:
    url: images/grad.jpg
    rights: http://creativecommons.org/publicdomain/zero/1.0/
    credit: A test gradient
---
The title slide.

## Top left
![The dark corner](grad#xywh=0,0,200,150)
Some text.

## Bottom right
![The bright corner](grad#xywh=600,450,200,150)
"""

SECRET = "the secret outside the site\n"


def write_project(folder: Path) -> Path:
    root = folder / "project"
    (root / "stories").mkdir(parents=True)
    (root / "storiiies.yml").write_text("title: Test exhibit\ntheme_dir: overrides\n")
    (root / "stories" / "gradient.md").write_text(STORY)
    make_image(root / "images" / "grad.jpg")
    static = root / "overrides" / "static"
    static.mkdir(parents=True)
    (static / "ok.txt").write_text("inside\n")
    (folder / "outside.txt").write_text(SECRET)
    (static / "leak.txt").symlink_to(folder / "outside.txt")
    sibling = root / "overrides" / "static_disallow"
    sibling.mkdir()
    (sibling / "secret.txt").write_text(SECRET)
    (static / "sibling.txt").symlink_to(sibling / "secret.txt")
    return root


@pytest.fixture
def project(tmp_path):
    return write_project(tmp_path)


@pytest.fixture
def server(project, preview_server):
    """A preview of its own, for tests that change files."""
    return preview_server(project)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[LiveServer]:
    """One preview shared by the tests that only read (not watching: nothing changes)."""
    preview = Preview(write_project(tmp_path_factory.mktemp("serve")), offline=True)
    preview.rebuild()
    server = LiveServer(preview_app(preview, watch=False)).start()
    server.preview = preview  # type: ignore[attr-defined]
    yield server
    preview.broadcaster.close()
    server.stop()
    preview.close()


def raw_get(server, target: str) -> tuple[int, bytes]:
    """Send `GET target` exactly as written and return the status and body."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        host = f"127.0.0.1:{server.port}"
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


# -- what it serves ---------------------------------------------------------------------------


def test_pages_are_rendered_with_the_reload_script(site):
    page = httpx.get(f"{site.url}/gradient/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    token = site.preview.snapshot.token
    assert (
        f'<script src="../_storiiies/live.js" data-version="{token}" defer></script>' in page.text
    )
    assert "data-version" in httpx.get(f"{site.url}/").text
    assert httpx.get(f"{site.url}/gradient/manifest.json").json()["type"] == "Manifest"


def test_a_story_folder_without_slash_redirects(site):
    response = httpx.get(f"{site.url}/gradient", follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"] == "/gradient/"


def test_tiles_info_crops_and_assets_are_served(site):
    page = httpx.get(f"{site.url}/gradient/text.html").text
    name = re.search(r"images/grad-[0-9a-f]+", httpx.get(f"{site.url}/gradient/").text)[0]
    info = httpx.get(f"{site.url}/{name}/info.json").json()
    assert (info["width"], info["height"]) == (800, 600)
    tile = httpx.get(
        f"{site.url}/{name}/full/{info['sizes'][0]['width']},{info['sizes'][0]['height']}/0/default.jpg"
    )
    assert tile.status_code == 200 and tile.content[:2] == b"\xff\xd8"
    full_size = httpx.get(f"{site.url}/{name}/256,0,256,256/256,256/0/default.jpg")
    assert full_size.status_code == 200 and full_size.content[:2] == b"\xff\xd8"
    # The tiles' folder answers IIIF paths only, not the names its files have there.
    for other in ("full_max.jpg", "full/max/0/color.jpg", "full/max/0/default.jpg/x"):
        assert httpx.get(f"{site.url}/{name}/{other}").status_code == 404
    crop = re.search(r'src="\.\./(crops/[0-9a-f]+\.jpg)"', page)[1]
    response = httpx.get(f"{site.url}/{crop}")
    assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg"
    assert httpx.get(f"{site.url}/assets/storiiies/tour.js").status_code == 200
    assert httpx.get(f"{site.url}/assets/ok.txt").text == "inside\n"
    assert httpx.get(f"{site.url}/_storiiies/picker.js").status_code == 200


def test_local_images_are_served_by_the_image_api(site):
    name = re.search(r"images/(grad-[0-9a-f]+)", httpx.get(f"{site.url}/gradient/").text)[1]
    info = httpx.get(f"{site.url}/iiif/3/{name}/info.json").json()
    assert info["id"] == f"{site.url}/iiif/3/{name}"
    assert (info["width"], info["height"]) == (800, 600)
    region = httpx.get(f"{site.url}/iiif/3/{name}/0,0,200,150/max/0/default.jpg")
    assert region.status_code == 200 and region.content[:2] == b"\xff\xd8"
    assert httpx.get(f"{site.url}/iiif/3/grad/info.json").status_code == 404
    assert raw_get(site, f"/iiif/3/{name}/../../../storiiies.yml")[0] == 404


def test_unknown_pages_are_404_with_the_reload_script(site):
    page = httpx.get(f"{site.url}/not-yet/")
    assert page.status_code == 404
    assert "_storiiies/live.js" in page.text
    assert httpx.get(f"{site.url}/assets/nothing.css").status_code == 404


def test_the_output_folder_is_left_alone(server, project):
    httpx.get(f"{server.url}/gradient/")
    assert not (project / "_site").exists()


# -- what it refuses: every attack gets a plain 404 ---------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "/../storiiies.yml",
        "/assets/../../storiiies.yml",
        "/_storiiies/../storiiies.yml",
        "/_storiiies/../../storiiies/serve/app.py",
        "/iiif/3/../../storiiies.yml",
    ],
)
def test_dot_dot_traversal_is_404(site, target):
    assert raw_get(site, target)[0] == 404


@pytest.mark.parametrize(
    "target",
    [
        "/%2e%2e/storiiies.yml",
        "/assets/%2e%2e/%2e%2e/storiiies.yml",
        "/assets/..%2f..%2fstoriiies.yml",
        "/_storiiies/%2e%2e%2flivereload.py",
        "/iiif/3/x/%2e%2e/%2e%2e/%2e%2e/%2e%2e/storiiies.yml",
    ],
)
def test_percent_encoded_traversal_is_404(site, target):
    assert raw_get(site, target)[0] == 404


@pytest.mark.parametrize(
    "target", ["/%252e%252e/storiiies.yml", "/assets/%252e%252e%252f%252e%252e%252fstoriiies.yml"]
)
def test_double_encoded_traversal_is_404(site, target):
    status, body = raw_get(site, target)
    assert status == 404 and b"Test exhibit" not in body


@pytest.mark.parametrize(
    "target", ["//etc/passwd", "/%2fetc/passwd", "/assets//etc/passwd", "/C:/Windows/win.ini"]
)
def test_absolute_paths_are_404(site, target):
    status, body = raw_get(site, target)
    assert status == 404 and b"root:" not in body


def test_backslash_traversal_is_404(site):
    assert raw_get(site, "/assets/..%5c..%5cstoriiies.yml")[0] == 404


def test_symlink_inside_the_site_pointing_outside_is_404(site):
    status, body = raw_get(site, "/assets/leak.txt")
    assert status == 404 and SECRET.encode() not in body


def test_sibling_folder_named_like_the_site_with_a_suffix_is_404(server, project):
    # `static_disallow` starts with the name of `static`: a string-prefix check would let it in.
    status, body = raw_get(server, "/assets/sibling.txt")
    assert status == 404 and SECRET.encode() not in body
    static = project / "overrides" / "static"
    assert contained(static / "sibling.txt", (static,)) is None
    assert contained(static / "ok.txt", (static,)) == (static / "ok.txt").resolve()


def test_safe_path_refuses_every_escape():
    assert safe_path("gradient/index.html") == "gradient/index.html"
    assert safe_path("") == "" and safe_path("gradient/") == "gradient/"
    for bad in [
        "..",
        "../x",
        "a/../b",
        "a/./b",
        "/etc/passwd",
        "a//b",
        "a\\b",
        "C:/x",
        "a/..",
        "x\x00",
    ]:
        assert safe_path(bad) is None, bad


# -- inserting a picked region into the story -------------------------------------------------


def insert(server, body: dict, **headers: str) -> httpx.Response:
    token = httpx.get(f"{server.url}/_storiiies/problems.json").json()["write_token"]
    origin = {
        "Origin": server.url,
        "Content-Type": "application/json",
        "X-Storiiies-Token": token,
    }
    return httpx.post(f"{server.url}/_storiiies/insert", json=body, headers={**origin, **headers})


PICK = {
    "story": "gradient",
    "step": 2,
    "title": "Bottom right",
    "ref": "grad",
    "region": [10, 20, 300, 200],
    "alt": "A [bright] patch",
}


def test_insert_adds_the_reference_after_the_step_heading(server, project):
    response = insert(server, PICK)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "file": "stories/gradient.md",
        "line": 16,
        "markdown": "![A \\[bright\\] patch](grad#xywh=10,20,300,200)",
    }
    lines = (project / "stories" / "gradient.md").read_text().splitlines()
    assert lines[14:17] == [
        "## Bottom right",
        "![A \\[bright\\] patch](grad#xywh=10,20,300,200)",
        "![The bright corner](grad#xywh=600,450,200,150)",
    ]


def test_insert_keeps_edits_saved_since_the_page_was_built(server, project):
    story = project / "stories" / "gradient.md"
    # Saved by the author a moment ago (rebuilt or not yet): two new lines above the step.
    story.write_bytes(
        story.read_bytes().replace(b"Some text.\n", b"Some text.\nNew one.\nNew two.\n")
    )
    assert insert(server, PICK).json()["line"] == 18
    text = story.read_text()
    assert "New one.\nNew two.\n\n## Bottom right\n![A \\[bright\\] patch]" in text


def test_insert_finds_the_heading_by_its_text_in_a_file_changed_since_the_build(tmp_path):
    built = "---\ntitle: T\n---\n## Same\ntext\n## Same\nmore\n"
    story = tmp_path / "story.md"
    story.write_text("---\ntitle: T\n---\nNew intro.\n\n## Same\ntext\n## Same\nmore\n")
    inserted = insert_after_heading(story, built, 6, "![x](a#xywh=1,2,3,4)")
    assert inserted.line == 9  # the second "## Same", as on line 6 of the built text
    assert story.read_text().splitlines()[7:10] == ["## Same", "![x](a#xywh=1,2,3,4)", "more"]


def test_insert_under_a_two_line_heading_goes_below_its_underline(tmp_path):
    text = "---\ntitle: T\n---\nA step\n------\ntext\n"
    story = tmp_path / "story.md"
    story.write_text(text)
    assert insert_after_heading(story, text, 4, "![x](a)").line == 6
    assert story.read_text() == "---\ntitle: T\n---\nA step\n------\n![x](a)\ntext\n"


def test_insert_refuses_a_step_whose_heading_is_gone(tmp_path):
    built = "---\ntitle: T\n---\n## Old name\ntext\n"
    story = tmp_path / "story.md"
    story.write_text(built.replace("Old name", "New name"))
    with pytest.raises(EditRefused, match="heading '## Old name' is no longer in the file"):
        insert_after_heading(story, built, 4, "![x](a)")
    assert "![x](a)" not in story.read_text()


def test_insert_keeps_the_file_mode(tmp_path):
    story = tmp_path / "story.md"
    story.write_text("## A\n")
    story.chmod(0o640)
    insert_after_heading(story, "## A\n", 1, "![x](a)")
    assert story.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["story.md"]  # no temporary file left


def test_insert_keeps_crlf_line_endings_and_the_byte_order_mark(server, project):
    story = project / "stories" / "gradient.md"
    story.write_bytes(b"\xef\xbb\xbf" + story.read_bytes().replace(b"\n", b"\r\n"))
    assert insert(server, PICK).status_code == 200
    raw = story.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert b"## Bottom right\r\n![A \\[bright\\] patch](grad#xywh=10,20,300,200)\r\n" in raw
    assert b"\n" not in raw.replace(b"\r\n", b"")


def test_insert_refuses_a_page_older_than_the_story(server, project):
    response = insert(server, {**PICK, "title": "A title this page no longer has"})
    assert response.status_code == 409
    assert (
        response.json()["error"]
        == "the story changed since this page was loaded; reload it and pick again"
    )


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example"},
        {"Origin": "null"},
        {"Origin": ""},
        {"Content-Type": "text/plain"},
        {"X-Storiiies-Token": "guessed"},
        {"X-Storiiies-Token": ""},
    ],
    ids=["other-site", "null-origin", "empty-origin", "simple-form-post", "wrong-key", "no-key"],
)
def test_insert_from_another_site_is_refused(server, project, headers):
    before = (project / "stories" / "gradient.md").read_bytes()
    response = insert(server, PICK, **headers)
    assert response.status_code == 403
    assert (project / "stories" / "gradient.md").read_bytes() == before


def test_insert_through_a_rebound_dns_name_is_refused(server, project):
    # A page of evil.example whose name now points at 127.0.0.1 is "same origin" with itself.
    name = f"evil.example:{server.port}"
    before = (project / "stories" / "gradient.md").read_bytes()
    response = insert(server, PICK, Origin=f"http://{name}", Host=name)
    assert response.status_code == 400  # refused for its Host before the endpoint is reached
    assert (project / "stories" / "gradient.md").read_bytes() == before


def test_insert_without_origin_header_is_refused(server, project):
    response = httpx.post(f"{server.url}/_storiiies/insert", json=PICK)
    assert response.status_code == 403


def test_insert_is_off_when_serving_to_the_network(project, preview_server):
    server = preview_server(project, host="0.0.0.0")  # only the setting: still bound to loopback
    response = insert(server, PICK)
    assert response.status_code == 403
    assert "--host" in response.json()["error"]


def test_insert_refuses_a_reference_that_is_not_one(server):
    assert insert(server, {**PICK, "ref": "grad)\n## injected"}).status_code == 409
    assert insert(server, {**PICK, "region": [0, 0, 0, 5]}).status_code == 409
    assert insert(server, {"story": "gradient"}).status_code == 400


def test_loopback_names():
    assert all(map(is_loopback, ["127.0.0.1", "127.8.9.1", "localhost", "::1", "[::1]"]))
    assert not any(map(is_loopback, ["0.0.0.0", "192.168.1.4", "example.org", ""]))


# -- the command ------------------------------------------------------------------------------


def start_serve(project, *args: str) -> tuple[subprocess.Popen, str]:
    command = [sys.executable, "-m", "storiiies", "serve", str(project), *args]
    process = subprocess.Popen(
        command, stderr=subprocess.PIPE, text=True, env={**os.environ, "COLUMNS": "200"}
    )
    output = ""
    deadline = time.monotonic() + 30
    assert process.stderr is not None
    while "Serving" not in output and time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            break
        output += line
    assert "Serving" in output, output
    return process, output


def test_serve_prints_the_url_serves_and_stops_cleanly_on_ctrl_c(project):
    port = free_port()
    process, output = start_serve(project, "--port", str(port))
    try:
        assert f"at http://127.0.0.1:{port}/ — press Ctrl+C to stop." in output
        assert httpx.get(f"http://127.0.0.1:{port}/gradient/").status_code == 200
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
        rest = process.stderr.read()
        assert "Stopped." in rest and "Traceback" not in rest
    finally:
        stop(process)


def test_serve_moves_to_the_next_port_when_the_port_is_taken(project):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        process, output = start_serve(project, "--port", str(port))
        try:
            assert f"Port {port} is in use; using" in output
            chosen = int(re.search(r"http://127\.0\.0\.1:(\d+)/", output)[1])
            assert chosen != port
            assert httpx.get(f"http://127.0.0.1:{chosen}/").status_code == 200
        finally:
            stop(process)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)
    if process.stderr is not None:
        process.stderr.close()


def test_insert_refuses_a_region_outside_the_canvas_and_a_source_the_story_lacks(server, project):
    story = project / "stories" / "gradient.md"
    before = story.read_bytes()
    outside = insert(server, {**PICK, "region": [700, 500, 300, 200]})
    assert outside.status_code == 409
    assert outside.json() == {
        "error": "the region 700,500,300,200 is outside canvas 1 of 'grad' (800×600);"
        " pick it again inside the image"
    }
    assert insert(server, {**PICK, "ref": "grad/2"}).json() == {
        "error": "canvas 2 of 'grad' does not exist (it has 1); reload the page and pick again"
    }
    assert insert(server, {**PICK, "ref": "other"}).json() == {
        "error": "'other' is not a source of this story; reload the page and pick again"
    }
    assert story.read_bytes() == before


def test_insert_answers_a_deeply_nested_or_oversized_body_with_400(server, project):
    story = project / "stories" / "gradient.md"
    before = story.read_bytes()
    token = httpx.get(f"{server.url}/_storiiies/problems.json").json()["write_token"]
    headers = {
        "Origin": server.url,
        "Content-Type": "application/json",
        "X-Storiiies-Token": token,
    }
    url = f"{server.url}/_storiiies/insert"
    nested = httpx.post(url, content=b"[" * 30_000 + b"]" * 30_000, headers=headers)
    assert nested.status_code == 400
    assert nested.json() == {"error": "expected {story, step, title, ref, region, alt}"}
    big = httpx.post(url, content=b'{"alt": "' + b"x" * 2_000_000 + b'"}', headers=headers)
    assert big.status_code == 413
    assert big.json() == {"error": "the request is larger than 64 KB"}
    assert insert(server, [1, 2]).status_code == 400  # type: ignore[arg-type]
    assert story.read_bytes() == before
    assert insert(server, PICK).status_code == 200  # and the server still works


def test_insert_writes_through_a_symlinked_story(tmp_path, preview_server):
    project = write_project(tmp_path)
    link = project / "stories" / "gradient.md"
    real = tmp_path / "elsewhere" / "gradient.md"
    real.parent.mkdir()
    link.rename(real)
    link.symlink_to(real)
    server = preview_server(project)
    assert insert(server, PICK).status_code == 200
    assert link.is_symlink() and link.resolve() == real
    assert "![A \\[bright\\] patch](grad#xywh=10,20,300,200)" in real.read_text()
    assert sorted(p.name for p in real.parent.iterdir()) == ["gradient.md"]


# -- what other websites may read ---------------------------------------------------------------


def test_only_iiif_resources_may_be_read_by_other_websites(site):
    name = re.search(r"images/grad-[0-9a-f]+", httpx.get(f"{site.url}/gradient/").text)[0]
    info = httpx.get(f"{site.url}/{name}/info.json").json()
    size = f"{info['sizes'][0]['width']},{info['sizes'][0]['height']}"
    shared = [
        f"{name}/info.json",
        f"{name}/full/{size}/0/default.jpg",
        "gradient/manifest.json",
        "collection.json",
        f"iiif/3/{name[7:]}/info.json",
        f"iiif/3/{name[7:]}/0,0,200,150/max/0/default.jpg",
    ]
    private = [
        "",
        "gradient/",
        "gradient/text.html",
        "search.json",
        "_storiiies/problems.json",
        "_storiiies/live.js",
        "assets/storiiies/tour.js",
        "not-yet/",
    ]
    origin = {"Origin": "http://evil.example"}
    for path in shared:
        response = httpx.get(f"{site.url}/{path}", headers=origin)
        assert response.status_code == 200, path
        assert response.headers.get("access-control-allow-origin") == "*", path
    for path in private:
        response = httpx.get(f"{site.url}/{path}", headers=origin)
        assert "access-control-allow-origin" not in response.headers, path


@pytest.mark.parametrize(
    "path", ["", "gradient/", "search.json", "_storiiies/problems.json", "gradient/manifest.json",
             "iiif/3/x/info.json", "_storiiies/events"],
)  # fmt: skip
def test_a_request_for_another_host_name_is_refused(site, path):
    # A page of evil.example whose name now points at 127.0.0.1 (DNS rebinding) reads as itself.
    response = httpx.get(f"{site.url}/{path}", headers={"Host": f"evil.example:{site.port}"})
    assert response.status_code == 400
    assert response.text == (
        "This preview answers only requests that name it by its address (such as"
        " 127.0.0.1 or localhost), not by another host name.\n"
    )


def test_the_preview_answers_to_its_loopback_names(site):
    for host in (f"127.0.0.1:{site.port}", f"localhost:{site.port}", "127.0.0.1", "[::1]:80"):
        assert httpx.get(f"{site.url}/", headers={"Host": host}).status_code == 200, host


def test_serving_to_the_network_answers_addresses_not_names(project, preview_server):
    server = preview_server(project, host="0.0.0.0")
    url = f"{server.url}/gradient/"
    assert httpx.get(url, headers={"Host": f"192.168.1.4:{server.port}"}).status_code == 200
    assert httpx.get(url, headers={"Host": f"localhost:{server.port}"}).status_code == 200
    assert httpx.get(url, headers={"Host": f"evil.example:{server.port}"}).status_code == 400
