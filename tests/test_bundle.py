"""`storiiies bundle`: an offline copy whose remote images come from a local IIIF server
(Image API 2 and 3) standing in for an institution, then checked with that server stopped."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from storiiies.bundle import BundleReport, bundle_site, verify
from storiiies.bundle.grid import read_grid
from storiiies.bundle.mirror import mirror_key
from storiiies.errors import BuildFailed
from tests.conftest import LiveServer, static_app
from tests.helpers import make_image
from tests.iiif_image_server import ImageServer, ServedImage, make_pyramid

STORY = """---
title: Far away
sources:
  v3: {img}/3/big/info.json
  v2: {img}/2/big5/info.json
  book: {static}/manifest.json
  here: images/here.jpg
---
The whole scan first.

## A detail
![the top left corner](v3#xywh=400,300,800,500)
Look at [the middle](v3#xywh=2800,1800,500,400) too.

## The same scan, through version 2
![a part far right](v2#xywh=4600,2600,900,700)

## Side by side
![left](v3#xywh=100,100,600,600)
![right](v2#xywh=5000,3000,700,700)

## A plain picture
![the whole photo](book/2)

## Back in the book
![the book's first page](book/1#xywh=3000,1000,1000,800)

## At home
![a local image](here#xywh=100,100,300,200)
"""


def _manifest(img: str, static: str) -> dict:
    def canvas(n: int, width: int, height: int, body: dict) -> dict:
        cid = f"{static}/canvas/{n}"
        page = {
            "id": f"{cid}/page",
            "type": "AnnotationPage",
            "items": [
                {
                    "id": f"{cid}/anno",
                    "type": "Annotation",
                    "motivation": "painting",
                    "target": cid,
                    "body": body,
                }
            ],
        }
        return {"id": cid, "type": "Canvas", "width": width, "height": height, "items": [page]}

    scan = {
        "id": f"{img}/3/big/full/max/0/default.jpg",
        "type": "Image",
        "format": "image/jpeg",
        "width": 6000,
        "height": 4000,
        "service": [{"id": f"{img}/3/big", "type": "ImageService3", "profile": "level2"}],
    }
    photo = {
        "id": f"{static}/plain.jpg",
        "type": "Image",
        "format": "image/jpeg",
        "width": 1200,
        "height": 800,
    }
    return {
        "@context": "http://iiif.io/api/presentation/3/context.json",
        "id": f"{static}/manifest.json",
        "type": "Manifest",
        "label": {"en": ["A book"]},
        "rights": "http://creativecommons.org/licenses/by/4.0/",
        "items": [canvas(1, 6000, 4000, scan), canvas(2, 1200, 800, photo)],
    }


class Remote:
    def __init__(self, folder: Path, pyramid: Path | None = None) -> None:
        self.pyramid = pyramid = pyramid or make_pyramid(folder / "scan.tif", 6000, 4000)
        self.images = ImageServer(
            {"big": ServedImage(pyramid, tile=256), "big5": ServedImage(pyramid, tile=512)}
        )
        self.image_server = LiveServer(self.images.app).start()
        static = folder / "static"
        make_image(static / "plain.jpg", 1200, 800)
        self.static_server = LiveServer(static_app(static)).start()
        (static / "manifest.json").write_text(
            json.dumps(_manifest(self.image_server.url, self.static_server.url))
        )

    def story(self) -> str:
        return STORY.format(img=self.image_server.url, static=self.static_server.url)

    def stop(self) -> None:
        self.image_server.stop()
        self.static_server.stop()


@pytest.fixture(scope="module")
def remote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Remote]:
    server = Remote(tmp_path_factory.mktemp("remote"))
    yield server
    server.stop()


CONFIG = "title: Offline\nbundle:\n  screens: [[1280, 800]]\n"
IN_COPYRIGHT = "http://rightsstatements.org/vocab/InC/1.0/"


def _project(root: Path, remote: Remote) -> Path:
    """The story, with the version-2 source marked In Copyright, and a local image."""
    story = remote.story().replace(
        f"  v2: {remote.image_server.url}/2/big5/info.json\n",
        f"  v2:\n    url: {remote.image_server.url}/2/big5/info.json\n    rights: {IN_COPYRIGHT}\n",
    )
    (root / "stories").mkdir(parents=True)
    (root / "storiiies.yml").write_text(CONFIG)
    (root / "stories" / "far.md").write_text(story)
    make_image(root / "images" / "here.jpg", 900, 600)
    return root


@pytest.fixture(scope="module")
def bundled(
    remote: Remote, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, BundleReport, int]:
    """One bundle (folder and zip) shared by the tests that only read it, and how many
    tiles the image server served for it."""
    project = _project(tmp_path_factory.mktemp("bundled") / "project", remote)
    before = remote.images.tile_requests
    report = bundle_site(project, make_zip=True)
    return project, report, remote.images.tile_requests - before


def test_the_bundle_holds_fewer_tiles_than_a_full_mirror_and_a_second_run_fetches_nothing(
    bundled, remote
):
    project, report, served = bundled
    assert report.images == 3  # the scan (in `v3` and the book), its version-2 twin, the photo
    assert 0 < report.tiles < report.full_tiles
    assert 0 < report.tile_bytes < report.full_bytes
    assert report.fetched == served
    before = remote.images.tile_requests
    assert bundle_site(project).fetched == 0 and remote.images.tile_requests == before
    # A tile lost from the cache is the only one fetched on the next run.
    v2 = mirror_key(f"{remote.image_server.url}/2/big5/info.json")
    lost = sorted((project / ".storiiies-cache" / "mirror" / v2).rglob("default.jpg"))[5]
    lost.unlink()
    assert bundle_site(project).fetched == 1 and lost.is_file()


def test_copying_images_marked_in_copyright_is_warned_about(bundled, remote):
    _, report, _ = bundled
    assert [w.message for w in report.warnings if "rights holder" in w.message] == [
        f"{remote.image_server.url}/2/big5/info.json is marked 'In Copyright' ({IN_COPYRIGHT}): "
        "copying its images into a bundle may need the rights holder's permission"
    ]


def test_pages_text_version_and_manifest_point_at_the_local_copies(bundled, remote):
    out = bundled[1].output
    page = (out / "far" / "index.html").read_text()
    data = json.loads(page.split('id="story-data">', 1)[1].split("</script>", 1)[0])
    sources = [i["source"] for canvas in data["canvases"].values() for i in canvas["images"]]
    assert all(source["kind"] == "local" for source in sources), sources
    for source in sources:
        info = json.loads((out / source["info"]).read_text())
        assert info["profile"] == "level0" and info["type"] == "ImageService3"
    text = (out / "far" / "text.html").read_text()
    crops = [part.split('"', 1)[0] for part in text.split('<img src="')[1:]]
    assert crops and all(c.startswith("../crops/") and (out / "far" / c).is_file() for c in crops)
    manifest = json.loads((out / "far" / "manifest.json").read_text())
    scan = next(c for c in manifest["items"] if c["id"].endswith("/canvas/1"))
    body = scan["items"][0]["items"][0]["body"]
    assert body["service"][0]["id"].startswith("http://127.0.0.1:8000/images/mirror-")
    assert scan["partOf"][0]["id"] == f"{remote.static_server.url}/manifest.json"
    assert scan["seeAlso"][0]["id"] == f"{remote.image_server.url}/3/big/info.json"
    folder = out / "images" / body["service"][0]["id"].rsplit("/", 1)[1]
    mirror = json.loads((folder / "info.json").read_text())
    assert mirror["rights"] == "http://creativecommons.org/licenses/by/4.0/"  # from the book
    assert mirror["partOf"] == [
        {"id": f"{remote.static_server.url}/manifest.json", "type": "Manifest"}
    ]
    for size in mirror["sizes"]:  # every size it offers is there
        assert (folder / f"full/{size['width']},{size['height']}/0/default.jpg").is_file()


def test_verify_finds_changed_missing_and_extra_files_in_a_folder_and_a_zip(bundled, tmp_path):
    report = bundled[1]
    assert report.zip == report.output.with_name("_bundle.zip")
    assert verify(report.zip).ok and verify(report.output).ok
    assert verify(report.zip).checked == verify(report.output).checked == report.files
    out = shutil.copytree(report.output, tmp_path / "copy")
    (out / "index.html").write_text("changed")
    next((out / "images").rglob("default.jpg")).unlink()
    (out / "extra.txt").write_text("x")
    problems = verify(out).problems
    assert "index.html: changed or damaged (checksum differs)" in problems
    assert any(p.endswith("default.jpg: missing") for p in problems)
    assert "extra.txt: not in SHA256SUMS" in problems
    data = bytearray(report.zip.read_bytes())
    start = data.index(b"SHA256SUMS") + 200
    data[start : start + 8] = b"XXXXXXXX"
    damaged = tmp_path / "damaged.zip"
    damaged.write_bytes(bytes(data))
    assert not verify(damaged).ok


def test_the_commands_bundle_and_verify(bundled, tmp_path):
    from click.testing import CliRunner

    from storiiies.cli import main

    project = bundled[0]
    out = tmp_path / "kiosk"
    result = CliRunner().invoke(main, ["bundle", str(project), "--no-zip", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "Bundled 1 story into" in result.output and "fewer." in result.output
    assert "0 fetched now" in result.output  # all from the first run's cache
    assert "may need the rights holder's permission" in result.output
    assert CliRunner().invoke(main, ["verify", str(out)]).exit_code == 0
    (out / "index.html").write_text("changed")
    result = CliRunner().invoke(main, ["verify", str(out)])
    assert result.exit_code == 1
    assert "index.html: changed or damaged (checksum differs)" in result.output


def test_each_tile_that_cannot_be_fetched_is_named_and_a_busy_server_is_retried(remote, tmp_path):
    project = _project(tmp_path / "project", remote)
    tile = "/3/big/0,0,256,256/256,256/0/default.jpg"  # at full size, under `left`
    grid = read_grid(httpx.get(f"{remote.image_server.url}/2/big5/info.json").json())
    overview = grid.max_level - 3  # an eighth of full size: whole in every bundle
    busy = urlsplit(grid.tile_url(overview, 1, 0)).path
    remote.images.fail = {tile: 404, busy: 503}
    remote.images.fail_times = {busy: 2}
    try:
        with pytest.raises(BuildFailed) as failure:
            bundle_site(project)
    finally:
        remote.images.fail, remote.images.fail_times = {}, {}
    messages = [p.message for p in failure.value.problems]
    assert messages == [f"cannot fetch {remote.image_server.url}{tile}: HTTP 404 Not Found"]
    assert "fetches only what is still missing" in failure.value.problems[0].hint
    assert not (project / "_bundle").exists()
    assert remote.images.requests[busy] >= 3  # two refusals, then the tile
    assert bundle_site(project).fetched == 1


def test_screens_must_be_width_height_pairs(make_project):
    config = "title: T\nbundle:\n  screens: [[10, 20]]\n"
    project = make_project({"stories/a.md": "---\ntitle: A\n---\n"}, config=config)
    with pytest.raises(BuildFailed) as failure:
        bundle_site(project)
    problem = failure.value.problems[0]
    assert str(problem.location).startswith("storiiies.yml:3")
    assert "between 100 and 16384" in problem.message


WALK_SETTLED = """() => window.storiiies?.go && window.storiiies.views().length > 0 &&
  window.storiiies.views().filter(v => !v.hidden).every(v =>
    v.settled && v.items.length > 0 && v.items[0].loaded)"""


@pytest.mark.browser
def test_the_bundle_works_with_the_institution_offline(new_page, remote, tmp_path):
    """Bundle, stop the image servers, then walk every step, link and page of the copy with
    every request outside it blocked: nothing fails and nothing leaves."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    institution = Remote(tmp_path / "institution", pyramid=remote.pyramid)
    try:
        report = bundle_site(_project(tmp_path / "project", institution))
    finally:
        institution.stop()
    copy = shutil.copytree(report.output, tmp_path / "usb-stick")
    shutil.rmtree(report.output.parent / ".storiiies-cache")  # nothing may come from the cache
    site = LiveServer(static_app(copy)).start()
    failed: list[str] = []
    outside: list[str] = []
    page = new_page(viewport={"width": 1280, "height": 800})

    def only_the_bundle(route) -> None:  # type: ignore[no-untyped-def]
        if route.request.url.startswith(site.url + "/"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_the_bundle)
    page.on("requestfailed", lambda request: failed.append(f"{request.url} {request.failure}"))
    page.on(
        "response",
        lambda response: (
            failed.append(f"{response.status} {response.url}") if response.status >= 400 else None
        ),
    )
    where = "the cover"

    def settled() -> None:
        # Each flight ends with the tiles of its view drawn: a minute each, for a busy machine
        # drawing WebGL in software (seconds each when idle).
        try:
            page.wait_for_function(WALK_SETTLED, timeout=60000)
        except PlaywrightTimeout:
            pytest.fail(f"{where} never finished loading; failed: {failed}, outside: {outside}")

    try:
        page.goto(f"{site.url}/far/")
        settled()
        last = page.evaluate("window.storiiies.story.steps.length - 1")
        # Forward through every step (flights back are the same in reverse), then to the start.
        for step in [*range(1, last + 1), 0]:
            where = f"step {step}"
            page.evaluate(f"window.storiiies.go({step})")
            settled()
            for n, link in enumerate(
                page.locator(f".st-step[data-step='{step}'] a.st-region-link").all()
            ):
                where = f"link {n} of step {step}"
                link.click()
                settled()
        for path in ("far/text.html", "", "far/manifest.json"):
            page.goto(f"{site.url}/{path}")
            page.wait_for_load_state("networkidle")
    finally:
        site.stop()
    assert failed == [] and outside == []


def _bundled_images(project: Path) -> set[str]:
    images = project / "_bundle" / "images"
    return {p.relative_to(images).as_posix() for p in images.rglob("*") if p.is_file()}


def test_a_smaller_plan_bundled_again_ships_only_its_own_tiles(remote, tmp_path):
    story = f"---\ntitle: Far\nsources:\n  v3: {remote.image_server.url}/3/big/info.json\n---\n"
    story += "## Detail\n\n![A detail](v3#xywh=1000,1000,800,600)\n"
    projects = []
    for name in ("again", "fresh"):
        project = tmp_path / name
        (project / "stories").mkdir(parents=True)
        (project / "stories" / "far.md").write_text(story)
        projects.append(project)
    again, fresh = projects
    (again / "storiiies.yml").write_text("title: Offline\n")  # the default screens, up to 4K
    large = bundle_site(again)
    (again / "storiiies.yml").write_text(CONFIG)  # then a laptop screen only
    small = bundle_site(again)
    (fresh / "storiiies.yml").write_text(CONFIG)
    bundle_site(fresh)
    assert small.tiles < large.tiles
    shipped = _bundled_images(again)
    assert shipped == _bundled_images(fresh)
    tiles = [p for p in shipped if p.endswith("default.jpg")]
    assert len(tiles) <= small.tiles + 12  # the plan's tiles, and a few whole-image overviews
    sums = (again / "_bundle" / "SHA256SUMS").read_text().splitlines()
    assert len([line for line in sums if "/images/" in line or " images/" in line]) == len(shipped)


def test_verify_refuses_paths_that_leave_the_bundle(tmp_path):
    import hashlib

    secret = tmp_path / "secret.txt"
    secret.write_text("outside the bundle\n")
    digest = hashlib.sha256(secret.read_bytes()).hexdigest()
    out = tmp_path / "bundle"
    out.mkdir()
    (out / "index.html").write_text("<p>bundle</p>\n")
    (out / "link.txt").symlink_to(secret)
    own = hashlib.sha256(b"<p>bundle</p>\n").hexdigest()
    outside = ["../secret.txt", str(secret), "a/../../secret.txt", "../missing.txt", "link.txt"]
    (out / "SHA256SUMS").write_text(
        f"{own}  index.html\n" + "".join(f"{digest}  {name}\n" for name in outside)
    )
    result = verify(out)
    assert result.problems == (
        "SHA256SUMS:2: ../secret.txt leaves the bundle; a bundle lists only its own files",
        f"SHA256SUMS:3: {secret} leaves the bundle; a bundle lists only its own files",
        "SHA256SUMS:4: a/../../secret.txt leaves the bundle; a bundle lists only its own files",
        "SHA256SUMS:5: ../missing.txt leaves the bundle; a bundle lists only its own files",
        "SHA256SUMS:6: link.txt leaves the bundle; a bundle lists only its own files",
    )
    assert result.checked == 1
