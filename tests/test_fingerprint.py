"""`storiiies build` with nothing changed since the last build writes nothing and says so;
any change to what a site is made from, or to the site itself, builds it again."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

import storiiies
from storiiies import fingerprint
from storiiies.build import BuildReport, build_if_changed, build_site
from storiiies.fingerprint import LastBuild
from tests.helpers import make_image
from tests.test_narration import project_files

STORY = """\
---
title: Gradient
sources:
  grad:
    url: images/grad.jpg
    rights: http://creativecommons.org/publicdomain/zero/1.0/
    credit: A test
---
The title slide.

## Top left
![The dark top-left corner](grad#xywh=0,0,200,150)
"""


@pytest.fixture
def project(make_project):
    root = make_project({"stories/gradient.md": STORY, "theme/static/extra.css": "p {}\n"})
    (root / "storiiies.yml").write_text("title: Test exhibit\ntheme_dir: theme\n")
    make_image(root / "images" / "grad.jpg", 600, 400)
    return root


def test_a_second_build_with_nothing_changed_writes_nothing_and_says_so(project):
    command = [sys.executable, "-m", "storiiies", "build", str(project)]
    env = {"COLUMNS": "400", "PATH": "/usr/bin:/bin", "NO_COLOR": "1"}
    first = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert first.returncode == 0, first.stderr
    site, page = project / "_site", project / "_site" / "gradient" / "index.html"
    before = (site.stat().st_ino, page.stat().st_ino, page.stat().st_mtime_ns)

    again = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)

    assert again.returncode == 0, again.stderr
    assert again.stderr.startswith("Nothing changed since the last build (")
    files = sum(1 for path in site.rglob("*") if path.is_file()) - 1  # the marker aside
    assert f"1 story, {files} files): {site} is current. --force builds it again." in again.stderr
    assert (site.stat().st_ino, page.stat().st_ino, page.stat().st_mtime_ns) == before

    forced = subprocess.run([*command, "--force"], capture_output=True, text=True, env=env)
    assert forced.stderr.startswith("Built 1 story into ")
    assert site.stat().st_ino != before[0]


def change_story(root: Path) -> None:
    path = root / "stories" / "gradient.md"
    path.write_text(path.read_text().replace("The title slide.", "The first slide."))


def change_theme(root: Path) -> None:
    (root / "theme" / "static" / "extra.css").write_text("p { color: red }\n")


def change_settings(root: Path) -> None:
    (root / "storiiies.yml").write_text("title: Another title\ntheme_dir: theme\n")


def change_image(root: Path) -> None:
    make_image(root / "images" / "grad.jpg", 600, 401)


def add_story(root: Path) -> None:
    (root / "stories" / "more.md").write_text(STORY.replace("Gradient", "More"))


def delete_page(root: Path) -> None:
    (root / "_site" / "gradient" / "index.html").unlink()


def edit_page(root: Path) -> None:
    (root / "_site" / "gradient" / "index.html").write_text("edited by hand")


@pytest.mark.parametrize(
    "change",
    [change_story, change_theme, change_settings, change_image, add_story, delete_page, edit_page],
)
def test_a_change_to_what_the_site_is_made_of_or_to_the_site_builds_it_again(project, change):
    first = build_if_changed(project)
    assert isinstance(first, BuildReport)
    assert isinstance(build_if_changed(project), LastBuild)

    change(project)

    again = build_if_changed(project)
    assert isinstance(again, BuildReport)
    assert (project / "_site" / "gradient" / "index.html").read_text() != "edited by hand"
    assert isinstance(build_if_changed(project), LastBuild)


def test_another_version_of_storiiies_builds_again(project, monkeypatch):
    assert isinstance(build_if_changed(project), BuildReport)
    monkeypatch.setattr(storiiies, "__version__", storiiies.__version__ + ".1")
    assert isinstance(build_if_changed(project), BuildReport)
    assert isinstance(build_if_changed(project), LastBuild)


def test_a_build_into_another_folder_or_offline_is_not_taken_for_the_last(project):
    build_site(project, output=project / "elsewhere")
    assert isinstance(build_if_changed(project), BuildReport)
    assert isinstance(build_if_changed(project, offline=True), BuildReport)
    assert isinstance(build_if_changed(project, offline=True), LastBuild)


def test_the_last_builds_warnings_are_told_again(make_project):
    root = make_project({"stories/a.md": STORY.replace("0,0,200,150", "0,0,10,10")})
    make_image(root / "images" / "grad.jpg", 600, 400)
    first = build_if_changed(root)
    assert isinstance(first, BuildReport)
    assert [problem.message.split(":")[0] for problem in first.problems] == [
        "region 0,0,10,10 is small for its image"
    ]
    last = build_if_changed(root)
    assert isinstance(last, LastBuild)
    assert last.warnings == first.problems


MANIFEST = """{
  "@context": "http://iiif.io/api/presentation/3/context.json",
  "id": "%(base)s/manifest.json",
  "type": "Manifest",
  "label": {"en": ["A remote picture"]},
  "items": [{
    "id": "%(base)s/canvas/1", "type": "Canvas", "width": 1000, "height": 800,
    "items": [{"id": "%(base)s/page/1", "type": "AnnotationPage", "items": [{
      "id": "%(base)s/annotation/1", "type": "Annotation", "motivation": "painting",
      "target": "%(base)s/canvas/1",
      "body": {"id": "%(base)s/image/full/max/0/default.jpg", "type": "Image",
               "format": "image/jpeg", "width": 1000, "height": 800}
    }]}]
  }]
}"""


@pytest.mark.parametrize(
    ("cache_control", "fetched_again"), [("max-age=0", True), ("max-age=3600", False)]
)
def test_a_remote_document_is_fetched_again_once_its_cached_copy_is_stale(
    make_project, serve_app, cache_control, fetched_again
):
    asked: list[str] = []

    async def manifest(request: Request) -> Response:
        asked.append(request.url.path)
        base = f"http://{request.url.netloc}"
        body = MANIFEST % {"base": base}
        headers = {"Cache-Control": cache_control}
        return Response(body, media_type="application/json", headers=headers)

    server = serve_app(Starlette(routes=[Route("/manifest.json", manifest)]))
    story = (
        f"---\ntitle: Remote\nsources:\n  far: {server.url}/manifest.json\n---\nIntro.\n\n"
        "## A detail\n![A detail](far#xywh=10,10,300,200)\n"
    )
    root = make_project({"stories/remote.md": story})
    assert isinstance(build_if_changed(root), BuildReport)
    assert asked == ["/manifest.json"]

    again = build_if_changed(root)

    assert isinstance(again, BuildReport if fetched_again else LastBuild)
    assert len(asked) == (2 if fetched_again else 1)


def test_a_story_edited_in_a_linked_stories_folder_builds_again(make_project, tmp_path):
    root = make_project({}, "title: T\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "gradient.md").write_text(STORY)
    (root / "stories").symlink_to(elsewhere, target_is_directory=True)
    make_image(root / "images" / "grad.jpg", 600, 400)
    assert isinstance(build_if_changed(root), BuildReport)
    assert isinstance(build_if_changed(root), LastBuild)

    (elsewhere / "gradient.md").write_text(STORY.replace("The title slide.", "Changed."))

    assert isinstance(build_if_changed(root), BuildReport)
    assert "Changed." in (root / "_site" / "gradient" / "index.html").read_text()


def test_the_build_records_the_listing_of_what_it_wrote_as_a_walk_of_the_site_gives_it(
    make_project,
):
    # The record lists the files the build wrote instead of reading the site's folders back:
    # the two listings must agree, or an unchanged site would be built again.
    root = make_project({**project_files(), "theme/static/nested/extra.css": "p {}\n"})
    (root / "storiiies.yml").write_text("title: Test exhibit\ntheme_dir: theme\n")
    report = build_site(root)

    walked = fingerprint._site_files(report.output)
    assert fingerprint._written_files(report.output, report.written) == walked
    names = {item[0] for item in walked}
    assert {".storiiies-site", "assets/nested/extra.css", "coins/index.html"} <= names
    assert any(name.startswith("media/") for name in names)  # the narration, copied
    assert any(name.endswith("/0/default.jpg") for name in names)  # the tiles, linked
    assert any(name.startswith("crops/") for name in names)
