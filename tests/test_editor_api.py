"""The editor's JSON API (storiiies/serve/editor.py) on a real preview server: what it reads,
what it writes, and every request it refuses (other sites, rebound DNS names, missing or wrong
tokens, form posts, paths outside stories/ and images/, uploads of the wrong type or size)."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from storiiies.serve import editor as editor_module
from storiiies.serve.editor_files import ALT_HINT
from tests.conftest import LiveServer, free_port
from tests.helpers import make_image
from tests.test_server import STORY, start_serve, stop, write_project

EDIT = "/_storiiies/edit/"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_project(tmp_path)


@pytest.fixture
def editor(project: Path, preview_server) -> LiveServer:
    return preview_server(project, edit=True)


def token(server: LiveServer) -> str:
    page = httpx.get(f"{server.url}{EDIT}")
    match = re.search(r'name="storiiies-token" content="([^"]+)"', page.text)
    assert match, page.text
    return match.group(1)


def post(server: LiveServer, path: str, body: object, **headers: str | None) -> httpx.Response:
    sent: dict[str, str | None] = {
        "Origin": server.url,
        "Content-Type": "application/json",
        "X-Storiiies-Token": token(server),
        **headers,
    }
    kept = {name: value for name, value in sent.items() if value is not None}
    return httpx.post(f"{server.url}{EDIT}{path}", json=body, headers=kept)


def story(server: LiveServer, file: str = "stories/gradient.md") -> dict:
    response = httpx.get(f"{server.url}{EDIT}story.json", params={"file": file})
    assert response.status_code == 200, response.text
    return response.json()


def save(server: LiveServer, data: dict, **headers: str | None) -> httpx.Response:
    body = {"file": data["file"], "version": data["version"], "steps": data["steps"]}
    return post(server, "save", body, **headers)


# -- reading -----------------------------------------------------------------------------------


def test_the_editor_is_off_unless_asked_for(project: Path, preview_server) -> None:
    server = preview_server(project)
    assert httpx.get(f"{server.url}{EDIT}").status_code == 404
    assert httpx.get(f"{server.url}{EDIT}stories.json").status_code == 404


def test_the_stories_are_listed_with_their_titles(editor: LiveServer) -> None:
    listing = httpx.get(f"{editor.url}{EDIT}stories.json").json()
    assert listing == {"stories": [{"file": "stories/gradient.md", "title": "Gradient"}]}


def test_a_story_reads_as_steps_with_their_lines_and_version(
    editor: LiveServer, project: Path
) -> None:
    data = story(editor)
    path = project / "stories" / "gradient.md"
    assert data["mtime_ns"] == path.stat().st_mtime_ns
    assert len(data["version"]) == 64
    assert data["tour"] == "gradient/"
    assert data["steps"] == [
        {
            "heading": "Top left",
            "regions": [{"alt": "The dark corner", "target": "grad#xywh=0,0,200,150"}],
            "text": "Some text.",
            "origin": 0,
            "lines": [11, 13],
            "problems": [],
        },
        {
            "heading": "Bottom right",
            "regions": [{"alt": "The bright corner", "target": "grad#xywh=600,450,200,150"}],
            "text": "",
            "origin": 1,
            "lines": [15, 16],
            "problems": [],
        },
    ]


def test_check_problems_are_given_beside_the_step_they_concern(
    project: Path, preview_server
) -> None:
    path = project / "stories" / "gradient.md"
    path.write_text(STORY.replace("600,450,200,150", "600,450,900,150"))
    server = preview_server(project, edit=True)
    data = story(server)
    assert data["steps"][0]["problems"] == []
    [problem] = data["steps"][1]["problems"]
    assert problem["location"].startswith("stories/gradient.md:16")
    assert problem["severity"] == "error"


def test_a_source_s_canvases_come_with_thumbnail_urls(editor: LiveServer) -> None:
    listing = httpx.get(f"{editor.url}{EDIT}canvases.json", params={"file": "stories/gradient.md"})
    [source] = listing.json()["sources"]
    [canvas] = source["canvases"]
    assert (source["alias"], canvas["ref"], canvas["width"], canvas["height"]) == (
        "grad",
        "grad/1",
        800,
        600,
    )
    thumbnail = httpx.get(editor.url + canvas["thumbnail"])
    assert thumbnail.status_code == 200
    assert thumbnail.content.startswith(b"\xff\xd8\xff")


# -- saving ------------------------------------------------------------------------------------


def test_opening_and_saving_unchanged_leaves_the_file_byte_identical(
    editor: LiveServer, project: Path
) -> None:
    path = project / "stories" / "gradient.md"
    before, mtime = path.read_bytes(), path.stat().st_mtime_ns
    response = save(editor, story(editor))
    assert response.status_code == 200, response.text
    assert response.json()["changed"] is False
    assert path.read_bytes() == before
    assert path.stat().st_mtime_ns == mtime


def test_a_save_writes_only_the_changed_line_and_returns_the_new_version(
    editor: LiveServer, project: Path
) -> None:
    data = story(editor)
    data["steps"][1]["heading"] = "The bright corner"
    response = save(editor, data)
    assert response.status_code == 200, response.text
    written = (project / "stories" / "gradient.md").read_text()
    assert written == STORY.replace("## Bottom right", "## The bright corner")
    assert response.json()["version"] == story(editor)["version"]


def test_steps_are_added_reordered_and_deleted(editor: LiveServer, project: Path) -> None:
    data = story(editor)
    first, second = data["steps"]
    new = {
        "origin": None,
        "heading": "Both corners",
        "regions": [
            {"alt": "The dark corner", "target": "grad#xywh=0,0,200,150"},
            {"alt": "The bright corner", "target": "grad#xywh=600,450,200,150"},
        ],
        "text": "Side by side.",
    }
    assert save(editor, {**data, "steps": [second, first, new]}).status_code == 200
    written = (project / "stories" / "gradient.md").read_text()
    assert written.split("The title slide.\n\n", 1)[1] == (
        "## Bottom right\n"
        "![The bright corner](grad#xywh=600,450,200,150)\n"
        "\n"
        "## Top left\n"
        "![The dark corner](grad#xywh=0,0,200,150)\n"
        "Some text.\n"
        "\n"
        "## Both corners\n"
        "\n"
        "![The dark corner](grad#xywh=0,0,200,150)\n"
        "![The bright corner](grad#xywh=600,450,200,150)\n"
        "\n"
        "Side by side.\n"
    )
    again = story(editor)
    assert save(editor, {**again, "steps": again["steps"][1:]}).status_code == 200
    assert "## Bottom right" not in (project / "stories" / "gradient.md").read_text()


def test_a_region_without_alt_text_is_a_422_with_a_hint(editor: LiveServer, project: Path) -> None:
    data = story(editor)
    data["steps"][1]["regions"][0]["alt"] = "  "
    response = save(editor, data)
    assert response.status_code == 422
    assert response.json() == {
        "error": "a region of step 2 ('Bottom right') has no text alternative",
        "hint": ALT_HINT,
        "step": 2,
    }
    assert (project / "stories" / "gradient.md").read_text() == STORY


def test_a_save_over_a_file_changed_on_disk_is_a_409(editor: LiveServer, project: Path) -> None:
    data = story(editor)
    path = project / "stories" / "gradient.md"
    path.write_text(STORY + "\nAdded in a text editor.\n")
    data["steps"][0]["text"] = "Changed in the editor."
    response = save(editor, data)
    assert response.status_code == 409
    assert response.json()["error"] == (
        "gradient.md changed on disk since the editor opened it; reload it to see the new"
        " version (your unsaved changes are shown beside it)"
    )
    assert path.read_text().endswith("Added in a text editor.\n")


# -- refusals ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example"},
        {"Origin": None},
        {"X-Storiiies-Token": None},
        {"X-Storiiies-Token": "guessed"},
        {"Content-Type": "application/x-www-form-urlencoded"},
        {"Content-Type": "multipart/form-data; boundary=x"},
        {"Content-Type": "text/plain"},
    ],
    ids=[
        "cross-site",
        "no-origin",
        "no-token",
        "wrong-token",
        "urlencoded-form",
        "multipart-form",
        "text-form",
    ],
)
def test_a_save_that_is_not_from_the_editor_page_is_a_403(
    editor: LiveServer, project: Path, headers: dict[str, str | None]
) -> None:
    data = story(editor)
    response = save(editor, {**data, "steps": []}, **headers)
    assert response.status_code == 403
    assert (project / "stories" / "gradient.md").read_text() == STORY


def test_a_rebound_dns_name_gets_neither_the_editor_nor_its_token(editor: LiveServer) -> None:
    # A page of evil.example whose name now points at 127.0.0.1 is "same origin" with itself:
    # the preview refuses it for its Host before any route.
    name = f"evil.example:{editor.port}"
    page = httpx.get(f"{editor.url}{EDIT}", headers={"Host": name})
    assert page.status_code == 400
    assert "storiiies-token" not in page.text
    response = post(editor, "save", {}, Host=name, Origin=f"http://{name}")
    assert response.status_code == 400


def test_the_editor_is_off_when_serving_to_the_network(project: Path, preview_server) -> None:
    server = preview_server(project, host="0.0.0.0", edit=True)
    assert httpx.get(f"{server.url}{EDIT}").status_code == 404


@pytest.mark.parametrize(
    "file",
    [
        "../storiiies.yml",
        "stories/../storiiies.yml",
        "stories/..md",
        "images/grad.md",
        "stories/sub/a.md",
        "stories/.hidden.md",
        "stories/a.txt",
        "/etc/passwd",
        "stories/a\\..\\b.md",
        "stories/%2e%2e/x.md",
    ],
)
def test_a_traversal_is_refused(editor: LiveServer, project: Path, file: str) -> None:
    before = (project / "storiiies.yml").read_bytes()
    response = post(editor, "save", {"file": file, "version": "x", "steps": []})
    assert response.status_code == 422
    assert response.json()["error"] == (
        f"'{file}' is not a story file of this project (stories/NAME.md)"
    )
    assert httpx.get(f"{editor.url}{EDIT}story.json", params={"file": file}).status_code == 404
    assert (project / "storiiies.yml").read_bytes() == before


def test_a_symlinked_story_pointing_outside_is_refused(
    editor: LiveServer, project: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside.md"
    outside.write_text(STORY)
    (project / "stories" / "link.md").symlink_to(outside)
    response = post(editor, "save", {"file": "stories/link.md", "version": "x", "steps": []})
    assert response.status_code == 422
    assert outside.read_text() == STORY


# -- new stories and uploads -------------------------------------------------------------------


def test_a_new_story_is_written_as_a_person_would(editor: LiveServer, project: Path) -> None:
    body = {
        "title": "Faces: a tour",
        "summary": "Heads on coins.",
        "source": "images/grad.jpg",
        "alt": "A grey gradient, dark at the top left",
    }
    response = post(editor, "new", body)
    assert response.status_code == 200, response.text
    assert response.json() == {"file": "stories/faces-a-tour.md"}
    assert (project / "stories" / "faces-a-tour.md").read_text() == (
        "---\n"
        'title: "Faces: a tour"\n'
        "summary: Heads on coins.\n"
        "sources:\n"
        "  image: images/grad.jpg\n"
        "---\n"
        "\n"
        "## Faces: a tour\n"
        "\n"
        "![A grey gradient, dark at the top left](image)\n"
    )
    again = post(editor, "new", body)
    assert again.status_code == 422
    assert again.json()["error"] == "faces-a-tour.md already exists"


def test_a_new_story_from_a_source_that_does_not_resolve_is_a_422(
    editor: LiveServer, project: Path
) -> None:
    body = {"title": "Lost", "summary": "", "source": "images/missing.jpg", "alt": "Nothing"}
    response = post(editor, "new", body)
    assert response.status_code == 422
    assert response.json()["error"] == (
        "the source cannot be used: images/missing.jpg does not exist"
    )
    assert not (project / "stories" / "lost.md").exists()
    no_alt = post(editor, "new", {**body, "source": "images/grad.jpg", "alt": ""})
    assert no_alt.status_code == 422
    assert no_alt.json()["hint"] == ALT_HINT


def upload(server: LiveServer, name: str, data: bytes, content_type: str) -> httpx.Response:
    return httpx.post(
        f"{server.url}{EDIT}upload",
        params={"name": name},
        content=data,
        headers={
            "Origin": server.url,
            "Content-Type": content_type,
            "X-Storiiies-Token": token(server),
        },
    )


def test_an_uploaded_image_goes_into_images_under_a_safe_name(
    editor: LiveServer, project: Path, tmp_path: Path
) -> None:
    data = make_image(tmp_path / "scan.png").read_bytes()
    response = upload(editor, "My Scan (1).PNG", data, "application/octet-stream")
    assert response.status_code == 200, response.text
    assert response.json() == {"file": "images/my-scan-1.png", "source": "images/my-scan-1.png"}
    assert (project / "images" / "my-scan-1.png").read_bytes() == data
    again = upload(editor, "../../stories/My Scan (1).png", data, "image/png")
    assert again.json()["file"] == "images/my-scan-1-2.png"  # never over another file
    assert sorted(p.name for p in (project / "images").iterdir()) == [
        "grad.jpg",
        "my-scan-1-2.png",
        "my-scan-1.png",
    ]


@pytest.mark.parametrize(
    "data, suffix",
    [
        (b"\xff\xd8\xff\xe0" + bytes(64), ".jpg"),
        (b"\x89PNG\r\n\x1a\n" + bytes(64), ".png"),
        (b"II*\x00" + bytes(64), ".tif"),
        (b"MM\x00*" + bytes(64), ".tif"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 " + bytes(64), ".webp"),
        (b"\x00\x00\x00\x0cjP  \r\n\x87\n" + bytes(64), ".jp2"),
    ],
)
def test_the_type_of_an_upload_comes_from_its_bytes(
    editor: LiveServer, project: Path, data: bytes, suffix: str
) -> None:
    response = upload(editor, "scan.jpg", data, "application/octet-stream")
    assert response.json()["file"] == f"images/scan{suffix}"


def test_an_upload_that_is_not_an_image_is_refused(editor: LiveServer, project: Path) -> None:
    response = upload(editor, "page.png", b"<script>alert(1)</script>", "image/png")
    assert response.status_code == 422
    assert response.json()["error"] == (
        "this file is not a JPEG, PNG, TIFF, WebP or JPEG 2000 image"
    )
    assert sorted(p.name for p in (project / "images").iterdir()) == ["grad.jpg"]
    form = upload(editor, "page.png", b"\x89PNG\r\n\x1a\n", "multipart/form-data; boundary=x")
    assert form.status_code == 403


def test_an_upload_larger_than_the_limit_is_refused(
    editor: LiveServer, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(editor_module, "MAX_UPLOAD", 1024 * 1024)
    response = upload(editor, "big.png", b"\x89PNG\r\n\x1a\n" + bytes(1024 * 1024), "image/png")
    assert response.status_code == 413
    assert response.json()["error"] == "the image is larger than 1 MB; upload a smaller copy"
    assert sorted(p.name for p in (project / "images").iterdir()) == ["grad.jpg"]


def test_the_text_preview_is_cleaned_like_the_tour(editor: LiveServer) -> None:
    response = post(editor, "preview", {"text": "Some *text*.<script>alert(1)</script>"})
    assert response.json()["html"] == "<p>Some <em>text</em>.</p>\n"


# -- the command -------------------------------------------------------------------------------


def test_serve_edit_prints_the_editor_address_and_serves_it(project: Path) -> None:
    port = free_port()
    process, output = start_serve(project, "--port", str(port), "--edit")
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        assert line.strip() == f"Editor: http://127.0.0.1:{port}/_storiiies/edit/"
        page = httpx.get(f"http://127.0.0.1:{port}/_storiiies/edit/")
        assert page.status_code == 200
        assert 'name="storiiies-token"' in page.text
    finally:
        stop(process)


def test_serve_without_edit_has_no_editor(project: Path) -> None:
    port = free_port()
    process, _ = start_serve(project, "--port", str(port))
    try:
        assert httpx.get(f"http://127.0.0.1:{port}/_storiiies/edit/").status_code == 404
    finally:
        stop(process)
