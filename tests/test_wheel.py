"""The wheel and the sdist are what an author installs (as Pelican's build test checks its themes).

Each carries the themes and the pinned OpenSeadragon (hatch_build.py), and a wheel installed in a
fresh venv, run outside the checkout with no Node.js on the PATH, makes a new project, builds it
and examples/, and its tour draws its image in Chromium. The sdist builds that wheel on its own,
without node_modules. The fresh venv sees this one's site-packages through a .pth file, so the
dependencies need no network while storiiies itself comes only from the wheel.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Response

from tests.conftest import EXAMPLES, REPO, LiveServer

pytestmark = pytest.mark.dist

PINNED = json.loads((REPO / "package.json").read_text(encoding="utf-8"))["dependencies"][
    "openseadragon"
]
NODE_PACKAGE = REPO / "node_modules" / "openseadragon"
# What a site carries: npm's build trimmed by scripts/openseadragon.mjs (run by `npm ci`).
OSD_BUILD = REPO / "node_modules" / ".storiiies" / "openseadragon" / "openseadragon.min.js"
VENDOR = "storiiies/_vendor/openseadragon"
SITE_OSD = "assets/openseadragon/openseadragon.min.js"
# What the hook needs to build a wheel from a checkout: no tests, examples or node_modules.
PROJECT_FILES = ("pyproject.toml", "hatch_build.py", "package.json", "README.md")


@dataclass(frozen=True)
class Dists:
    wheel: Path  # built from the checkout, as `pip install .` does
    sdist: Path
    unpacked_sdist: Path
    sdist_wheel: Path  # built from the unpacked sdist, as `make dist` and `pip install X.tar.gz`


def no_node_env(path: Path) -> dict[str, str]:
    """The environment with only `path` on the PATH and nothing that points at the checkout."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "STORIIIES_NODE_MODULES"}
    }
    env["PATH"] = str(path)
    assert shutil.which("node", path=env["PATH"]) is None
    assert shutil.which("npm", path=env["PATH"]) is None
    return env


def run(command: list[str | Path], cwd: Path, env: dict[str, str]) -> str:
    result = subprocess.run(
        [str(part) for part in command], cwd=cwd, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, f"{command} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout + result.stderr


def build(source: Path, out: Path, *kinds: str) -> subprocess.CompletedProcess[str]:
    """`python -m build` with this venv's hatchling (the test extra pins it), so no network."""
    command = [sys.executable, "-m", "build", "--no-isolation", *kinds, "--outdir", str(out)]
    return subprocess.run(
        [*command, str(source)],
        cwd=out.parent,
        env=no_node_env(Path(sys.executable).parent),
        capture_output=True,
        text=True,
    )


def built(source: Path, out: Path, *kinds: str) -> None:
    result = build(source, out, *kinds)
    assert result.returncode == 0, f"building {source} failed:\n{result.stdout}\n{result.stderr}"


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> Dists:
    if not OSD_BUILD.is_file():
        pytest.fail(f"{OSD_BUILD} is missing: run `npm ci` (`make setup` does)")
    root = tmp_path_factory.mktemp("dists")
    built(REPO, root / "dist", "--sdist", "--wheel")
    (sdist,) = (root / "dist").glob("storiiies-*.tar.gz")
    (wheel,) = (root / "dist").glob("storiiies-*.whl")
    with tarfile.open(sdist) as archive:
        archive.extractall(root / "unpacked", filter="data")
    (unpacked,) = (root / "unpacked").iterdir()
    built(unpacked, root / "from-sdist", "--wheel")
    (sdist_wheel,) = (root / "from-sdist").glob("storiiies-*.whl")
    return Dists(wheel, sdist, unpacked, sdist_wheel)


def wheel_files(wheel: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(wheel) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


@pytest.mark.parametrize("which", ["wheel", "sdist_wheel"])
def test_wheel_carries_the_themes_and_the_pinned_openseadragon_and_nothing_of_the_checkout(
    dists: Dists, which: str
) -> None:
    files = wheel_files(getattr(dists, which))
    build_file = files[f"{VENDOR}/openseadragon.min.js"]
    assert build_file == OSD_BUILD.read_bytes()
    assert build_file.startswith(f"//! openseadragon {PINNED}\n".encode())
    assert files[f"{VENDOR}/LICENSE.txt"] == (NODE_PACKAGE / "LICENSE.txt").read_bytes()
    themes = {
        "storiiies/_themes/" + path.relative_to(REPO / "themes").as_posix()
        for path in (REPO / "themes").rglob("*")
        if path.is_file()
    }
    assert themes <= files.keys()
    assert "storiiies/serve/client/live.js" in files
    tops = {name.split("/")[0] for name in files}
    assert tops == {"storiiies", "storiiies-0.1.0.dist-info"}
    assert not [name for name in files if "node_modules" in name or name.endswith(".map")]


def test_wheel_from_the_sdist_equals_the_wheel_from_the_checkout(dists: Dists) -> None:
    assert wheel_files(dists.sdist_wheel).keys() == wheel_files(dists.wheel).keys()


def test_sdist_carries_openseadragon_so_it_builds_without_node_modules(dists: Dists) -> None:
    with tarfile.open(dists.sdist) as archive:
        names = {name.partition("/")[2] for name in archive.getnames()}
    assert {f"{VENDOR}/openseadragon.min.js", f"{VENDOR}/LICENSE.txt"} <= names
    assert {"hatch_build.py", "package.json", "themes/default/templates/story.html"} <= names
    assert not [name for name in names if name.startswith(("node_modules", ".venv"))]
    assert not (dists.unpacked_sdist / "node_modules").exists()
    vendored = dists.unpacked_sdist / VENDOR / "openseadragon.min.js"
    assert vendored.read_bytes() == OSD_BUILD.read_bytes()


def checkout_without_node_modules(root: Path) -> Path:
    project = root / "checkout"
    project.mkdir()
    for name in PROJECT_FILES:
        shutil.copy2(REPO / name, project / name)
    for folder in ("storiiies", "themes"):
        ignore = shutil.ignore_patterns("__pycache__")
        shutil.copytree(REPO / folder, project / folder, ignore=ignore)
    return project


def test_a_wheel_without_npm_ci_is_refused_with_what_to_run(tmp_path: Path) -> None:
    project = checkout_without_node_modules(tmp_path)
    result = build(project, tmp_path / "dist", "--wheel")
    assert result.returncode != 0
    assert (
        f"openseadragon {PINNED} is not in {project / 'node_modules' / 'openseadragon'}: "
        "run `npm ci` first (`make dist` does, then builds the wheel and the sdist)"
    ) in result.stdout + result.stderr
    assert not (tmp_path / "dist").exists() or not list((tmp_path / "dist").iterdir())


def test_openseadragon_other_than_the_pinned_version_is_refused(tmp_path: Path) -> None:
    project = checkout_without_node_modules(tmp_path)
    installed = project / "node_modules" / "openseadragon"
    shutil.copytree(NODE_PACKAGE, installed)
    package_json = json.loads((installed / "package.json").read_text(encoding="utf-8"))
    (installed / "package.json").write_text(json.dumps({**package_json, "version": "5.0.1"}))
    result = build(project, tmp_path / "dist", "--wheel")
    assert result.returncode != 0
    assert (
        f"node_modules has openseadragon 5.0.1, but package.json pins {PINNED}: run `npm ci` first"
    ) in result.stdout + result.stderr


def test_an_sdist_whose_copy_is_not_the_pinned_version_is_refused(tmp_path: Path) -> None:
    project = checkout_without_node_modules(tmp_path)
    vendored = project / VENDOR
    vendored.mkdir(parents=True)
    (vendored / "openseadragon.min.js").write_text("//! openseadragon 5.0.1\n", encoding="utf-8")
    (vendored / "LICENSE.txt").write_text("licence\n", encoding="utf-8")
    result = build(project, tmp_path / "dist", "--wheel")
    assert result.returncode != 0
    build_file = vendored / "openseadragon.min.js"
    assert (
        f"{build_file} is openseadragon 5.0.1, but package.json pins {PINNED}"
    ) in result.stdout + result.stderr


def test_an_editable_install_needs_no_node_modules_and_carries_no_copy(tmp_path: Path) -> None:
    # `make setup` installs the package before it runs `npm ci`; the checkout's node_modules
    # is found at run time (storiiies/assets.py).
    project = checkout_without_node_modules(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    # What pip runs for `pip install -e .` (PEP 660), in this venv so that it needs no network.
    script = f"from hatchling.build import build_editable; print(build_editable({str(out)!r}))"
    env = no_node_env(Path(sys.executable).parent)
    wheel = out / run([sys.executable, "-c", script], cwd=project, env=env).split()[-1]
    assert not [name for name in wheel_files(wheel) if "_vendor" in name]


@dataclass(frozen=True)
class Installed:
    bin: Path
    site_packages: Path
    env: dict[str, str]
    home: Path  # a working folder outside the checkout

    def run(self, *command: str | Path, cwd: Path | None = None) -> str:
        return run([self.bin / "storiiies", *command], cwd=cwd or self.home, env=self.env)


@pytest.fixture(scope="module")
def installed(dists: Dists, tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """The release wheel (built from the sdist) in a fresh venv that cannot see the checkout."""
    root = tmp_path_factory.mktemp("installed")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    python = venv / "bin" / "python"
    env = no_node_env(venv / "bin")
    (home := root / "home").mkdir()
    pip: list[str | Path] = [sys.executable, "-m", "pip", "--python", python]
    run([*pip, "install", "--quiet", "--no-deps", "--no-index", dists.sdist_wheel], home, env)
    purelib = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    site_packages = Path(run([python, "-c", purelib], home, env).strip())
    # The dependencies come from this venv. A plain path in a .pth does not run this venv's own
    # .pth files, so its editable storiiies (the checkout) stays invisible.
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site_packages / "storiiies-test-dependencies.pth").write_text("\n".join(sorted(ours)) + "\n")
    return Installed(venv / "bin", site_packages, env, home)


def test_installed_wheel_runs_from_its_own_copy(installed: Installed) -> None:
    found = run(
        [
            installed.bin / "python",
            "-c",
            "import storiiies, storiiies.site.assets as assets\n"
            "print(storiiies.__file__)\nprint(assets.openseadragon_dir())",
        ],
        installed.home,
        installed.env,
    ).split()
    assert found == [
        str(installed.site_packages / "storiiies" / "__init__.py"),
        str(installed.site_packages / VENDOR),
    ]


# The share of the viewer's canvas that shows the sample's red circle and its blue square: drawn
# tiles, read from the pixels, not from OpenSeadragon's bookkeeping.
DRAWN_SHAPES = """() => Array.from(document.querySelectorAll('.st-viewer canvas')).some(canvas => {
  const context = canvas.getContext('2d');
  if (!context || !canvas.width || !canvas.height) return false;
  const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
  let red = 0, blue = 0;
  for (let i = 0; i < data.length; i += 4) {
    if (data[i] > 170 && data[i + 1] < 80 && data[i + 2] < 80) red++;
    if (data[i] < 60 && data[i + 1] < 110 && data[i + 2] > 140) blue++;
  }
  const pixels = data.length / 4;
  return red / pixels > 0.02 && blue / pixels > 0.02;
})"""


@pytest.mark.browser
def test_installed_wheel_makes_a_project_whose_tour_draws_its_image(
    installed: Installed, browser: Browser, serve_dir: Callable[[Path], LiveServer]
) -> None:
    installed.run("new", "my-exhibit")
    output = installed.run("build", "my-exhibit", "--offline")
    assert "Built 1 story into" in output
    site = installed.home / "my-exhibit" / "_site"
    assert (site / SITE_OSD).read_bytes() == OSD_BUILD.read_bytes()
    server = serve_dir(site)
    context = browser.new_context(viewport={"width": 1280, "height": 800}, reduced_motion="reduce")
    try:
        page = context.new_page()
        errors: list[str] = []
        images: dict[str, int] = {}  # image request → HTTP status

        def record(response: Response) -> None:
            if "/images/" in response.url:
                images[response.url] = response.status

        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("response", record)
        page.goto(f"{server.url}/welcome/")
        page.wait_for_function("() => window.storiiies !== undefined")
        assert page.evaluate("() => OpenSeadragon.version.versionStr") == PINNED
        page.wait_for_function(DRAWN_SHAPES, timeout=15000)
        assert [url for url in images if url.endswith("/default.jpg")]
        assert {url: status for url, status in images.items() if status != 200} == {}
        assert errors == []
    finally:
        context.close()


def test_installed_wheel_builds_the_examples(installed: Installed) -> None:
    project = installed.home / "examples"
    shutil.copytree(EXAMPLES, project, ignore=shutil.ignore_patterns("_site", ".storiiies-cache"))
    output = installed.run("build", project, "--offline")
    assert "Built 3 stories into" in output
    site = project / "_site"
    assert (site / SITE_OSD).read_bytes() == OSD_BUILD.read_bytes()
    for story in ("coins", "fields-family"):
        assert (site / story / "index.html").is_file()
