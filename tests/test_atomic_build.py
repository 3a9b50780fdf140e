"""Nothing is lost: a build killed with SIGKILL at any moment leaves the previous site whole.

`storiiies build` runs as a real subprocess on a project with several large images and is
killed early, while it tiles and while it writes the new site. Each time the previous site must
be byte-for-byte what it was; then a normal build must succeed, tidy every leftover, and give
exactly what a build from a clean cache gives. Output folders and story names that could put
files where they do not belong are refused or made safe.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import storiiies.build as build_module
from storiiies.build import build_site, check_site
from storiiies.errors import BuildFailed
from storiiies.images.tiles import tree_folders
from storiiies.model import OutputFile
from storiiies.site.write import write_site
from tests.conftest import REPO
from tests.helpers import make_image, tree_digest

IMAGES = 6


def write_project(root: Path, version: int, *, new_images: bool) -> None:
    """Version `version` of a project: the story text changes every time; with `new_images`
    the images change too, so the build has to tile them again."""
    (root / "stories").mkdir(parents=True, exist_ok=True)
    (root / "storiiies.yml").write_text("title: Atomic builds\n", encoding="utf-8")
    sources = "".join(
        f"  img{n}:\n    url: images/img{n}.jpg\n    rights: https://creativecommons.org/publicdomain/zero/1.0/\n"
        for n in range(IMAGES)
    )
    steps = "".join(
        f"## Image {n}\n![Part of image {n}](img{n}#xywh=10,10,300,200)\nVersion {version}.\n\n"
        for n in range(IMAGES)
    )
    story = (
        f"---\ntitle: Version {version}\nsources:\n{sources}---\n"
        f"Intro of version {version}.\n\n{steps}"
    )
    (root / "stories" / "tour.md").write_text(story, encoding="utf-8")
    if new_images:
        for n in range(IMAGES):
            make_image(root / "images" / f"img{n}.jpg", 2400 + 7 * version + n, 1800)


def leftovers(root: Path) -> list[str]:
    """Staging folders of the site, and half-cut tile trees in the cache."""
    found = [p.name for p in root.iterdir() if p.name.startswith(("._site.tmp-", "._site.old-"))]
    tiles = root / ".storiiies-cache" / "tiles"
    if tiles.is_dir():
        found += [p.name for p in tiles.iterdir() if ".tmp-" in p.name]
    return found


def start_build(root: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "storiiies", "build", "--quiet", str(root)],
            cwd=REPO,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its tile workers share its group, so the test can tidy them
        )


def kill_when(
    process: subprocess.Popen[bytes], ready: Callable[[], bool], limit: float = 60
) -> bool:
    """SIGKILL `process` as soon as `ready()` holds; False if the build ended first."""
    deadline = time.monotonic() + limit
    while process.poll() is None and time.monotonic() < deadline:
        if ready():
            process.send_signal(signal.SIGKILL)  # only the build itself, as `kill -9 PID` does
            process.wait()
            _end_group(process.pid)
            return process.returncode == -signal.SIGKILL
        time.sleep(0.002)
    process.wait(timeout=limit)
    _end_group(process.pid)
    return False


def _end_group(group: int) -> None:
    """Tile workers orphaned by the kill stop by themselves once their pipe closes; give them
    a moment, then end what is left of the group this test started."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, signal.SIGKILL)


def test_a_killed_build_leaves_the_previous_site_intact(tmp_path: Path) -> None:
    root = tmp_path / "project"
    write_project(root, 0, new_images=True)
    build_site(root)
    site = root / "_site"
    started = 0.0

    def cutting_tiles() -> bool:
        return any(".tmp-" in name for name in leftovers(root) if not name.startswith("._site"))

    def writing_site() -> bool:
        return any(name.startswith("._site.tmp-") for name in leftovers(root))

    # (whether the images change, so the build must tile them again; when to kill it)
    kill_points: dict[str, tuple[bool, Callable[[], bool]]] = {
        "0.2 s in": (False, lambda: time.monotonic() - started > 0.2),
        "while tiling": (True, cutting_tiles),
        "while writing the site": (False, writing_site),
    }
    version = 0
    attempts = 0
    for name, (new_images, ready) in kill_points.items():
        for _attempt in range(4):  # a point missed (the build won the race) is tried again
            version += 1
            attempts += 1
            before = tree_digest(site)
            write_project(root, version, new_images=new_images)
            started = time.monotonic()
            process = start_build(root, tmp_path / f"build-{version}.log")
            if kill_when(process, ready):
                break
            assert process.returncode == 0, (tmp_path / f"build-{version}.log").read_text()
        else:
            pytest.fail(f"could not kill the build {name}: it always finished first")
        assert tree_digest(site) == before, f"killed {name}: the previous site changed"
        assert (site / "index.html").is_file() and (site / "tour" / "index.html").is_file()
    print(
        f"\natomic builds: {attempts} builds started, {len(kill_points)} killed with SIGKILL "
        f"({', '.join(kill_points)}); the previous site was byte-identical each time"
    )

    # The next build tidies what the killed ones left and gives what a clean build gives.
    finished = subprocess.run(
        [sys.executable, "-m", "storiiies", "build", "--quiet", str(root)],
        cwd=REPO,
        capture_output=True,
        timeout=300,
    )
    assert finished.returncode == 0, finished.stderr.decode()
    assert leftovers(root) == []
    assert f"Version {version}" in (site / "tour" / "index.html").read_text(encoding="utf-8")
    clean = tmp_path / "clean"
    shutil.copytree(root, clean, ignore=shutil.ignore_patterns("_site", ".storiiies-cache"))
    build_site(clean)
    assert tree_digest(clean / "_site") == tree_digest(site)


def test_a_build_never_replaces_a_folder_it_did_not_write(make_project, tmp_path: Path) -> None:
    root = make_project(
        {"stories/s.md": "---\ntitle: T\nsources:\n  a: images/a.jpg\n---\n## A\n![a](a)\n"}
    )
    make_image(root / "images" / "a.jpg", 300, 200)
    (root / "_site").mkdir()
    (root / "_site" / "thesis.docx").write_bytes(b"years of work")
    with pytest.raises(BuildFailed) as failure:
        build_site(root)
    (problem,) = failure.value.problems
    assert str(problem) == (
        f"{root / '_site'}: error: {root / '_site'} holds files that no storiiies build wrote"
        " — a build replaces its output folder whole; move those files, or choose another folder"
    )
    assert (root / "_site" / "thesis.docx").read_bytes() == b"years of work"
    (root / "_site" / "thesis.docx").unlink()
    build_site(root)  # an empty folder is fine, and from then on the build owns it
    assert (root / "_site" / ".storiiies-site").is_file()
    build_site(root)


PREFIX = "storiiies.yml:2:1: error: 'output_dir'"


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        *(
            (setting, f"{PREFIX} in storiiies.yml: must be a folder inside the project, e.g. _site")
            for setting in (
                "output_dir: ..",
                "output_dir: /tmp/site",
                "output_dir: ../../elsewhere",
                "output_dir: .",
            )
        ),
        ("output_dir: stories", f"{PREFIX} stories is the stories folder"),
        (
            "output_dir: stories/_site",
            f"{PREFIX} stories/_site is inside the stories folder stories",
        ),
        ("output_dir: .storiiies-cache", f"{PREFIX} .storiiies-cache is the cache folder"),
        (
            "output_dir: web\nstories_dir: web/stories",
            f"{PREFIX} web holds the stories folder web/stories",
        ),
    ],
)
def test_output_folders_outside_the_project_or_over_its_files_are_refused(
    make_project, setting: str, message: str
) -> None:
    root = make_project(
        {"stories/s.md": "---\ntitle: T\nsources:\n  a: a.jpg\n---\n## A\n![a](a)\n"},
        config=f"title: T\n{setting}\n",
    )
    (problem,) = check_site(root)
    assert str(problem).startswith(message)
    assert not (root.parent / "elsewhere").exists()


NAMES = {
    "CON.md": "con-2", "nul.md": "nul-2", "aux.md": "aux-2", "LPT1.md": "lpt1-2",
    "images.md": "images-2", "assets.md": "assets-2", "crops.md": "crops-2", "iiif.md": "iiif-2",
    "日本の絵.md": "story", "Ωμέγα.md": "story-2", "<script>.md": "script", "a b&c;d.md": "a-b-c-d",
    "..md": "(hidden)", "x\u202eevil.md": "xevil", "%2e%2e%2fup.md": "2e-2e-2fup",
    "back\\slash.md": "back-slash",
    "-_-.md": "story-3", "Ünïcödé café.md": "unicode-cafe",
}  # fmt: skip


def test_story_file_names_give_safe_folder_names(make_project, tmp_path: Path) -> None:
    files = {
        f"stories/{name}": (
            f"---\ntitle: Story {n}\norder: {n}\nsources:\n  a: images/a.jpg\n---\n## A\n![a](a)\n"
        )
        for n, name in enumerate(NAMES)
    }
    root = make_project(files)
    make_image(root / "images" / "a.jpg", 300, 200)
    report = build_site(root)
    slugs = {story.source.path.name: story.slug for story in report.site.stories}
    # `..md` is a hidden file to the loader; every other name gets a folder of its own.
    assert slugs == {name: slug for name, slug in NAMES.items() if not name.startswith(".")}
    site = (root / "_site").resolve()
    for slug in slugs.values():
        page = (site / slug / "index.html").resolve()
        assert page.is_file() and page.parent.parent == site
    assert (site / "images").is_dir() and (site / "assets").is_dir()  # not replaced by a story
    assert not any(p.name.startswith("..") for p in root.parent.iterdir())


def test_a_site_links_the_caches_files_copies_the_authors_and_writes_nothing_outside(
    tmp_path: Path,
) -> None:
    cache, project = tmp_path / ".storiiies-cache", tmp_path / "project"
    cache.mkdir()
    project.mkdir()
    (cache / "crop.jpg").write_bytes(b"a crop")
    (project / "voice.mp3").write_bytes(b"the author's narration")
    files = [
        OutputFile("crops/crop.jpg", source=cache / "crop.jpg"),
        OutputFile("media/voice.mp3", source=project / "voice.mp3"),
    ]
    write_site(files, tmp_path / "site", cache_dir=cache)
    crop, voice = (
        tmp_path / "site" / "crops" / "crop.jpg",
        tmp_path / "site" / "media" / "voice.mp3",
    )
    assert crop.read_bytes() == b"a crop" and voice.read_bytes() == b"the author's narration"
    assert crop.stat().st_ino == (cache / "crop.jpg").stat().st_ino  # written whole, never edited
    assert voice.stat().st_ino != (project / "voice.mp3").stat().st_ino

    for outside in ("../escaped.html", "pages/../../escaped.html", "/tmp/escaped.html"):
        with pytest.raises(ValueError, match="refusing to write outside the site"):
            write_site([OutputFile(outside, b"x")], tmp_path / "other")
        assert not (tmp_path / "escaped.html").exists()


def test_a_sites_tile_folders_are_exactly_its_trees_even_for_an_image_changed_mid_build(
    make_project, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The folders of each tile tree are made from the image's size as it was read, while the
    # tiles are cut; an image rewritten at another size in between must not leave the folders
    # of the size it no longer has.
    source = "  {0}:\n    url: images/{0}.jpg\n    rights: https://creativecommons.org/publicdomain/zero/1.0/\n"
    story = (
        "---\ntitle: Two\nsources:\n" + source.format("kept") + source.format("changed") + "---\n"
        "Intro.\n\n## One\n![A part](kept#xywh=10,10,300,200)\n\n"
        "## Two\n![A part](changed#xywh=10,10,300,200)\n"
    )
    root = make_project({"stories/two.md": story})
    make_image(root / "images" / "kept.jpg", 1300, 900)
    make_image(root / "images" / "changed.jpg", 1200, 800)
    real_tile_images = build_module.tile_images

    def rewritten_first(images, config, *args, **kwargs):  # type: ignore[no-untyped-def]
        make_image(root / "images" / "changed.jpg", 700, 1500)
        return real_tile_images(images, config, *args, **kwargs)

    monkeypatch.setattr(build_module, "tile_images", rewritten_first)
    build_site(root)

    site = root / "_site"
    empty = [p for p in site.rglob("*") if p.is_dir() and not any(p.iterdir())]
    assert empty == []
    for name, size in (("kept", (1300, 900)), ("changed", (700, 1500))):
        (folder,) = (site / "images").glob(f"{name}-*")
        tree = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_dir()}
        assert tree == set(tree_folders(*size))
