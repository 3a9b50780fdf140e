"""Build hook: every wheel and sdist carries OpenSeadragon, so an installed storiiies needs neither
Node.js nor a clone of the repository.

OpenSeadragon comes from npm, pinned in package.json, and is never committed. The hook adds the
build file a site carries and the licence to the archive as `storiiies/_vendor/openseadragon/`
(where storiiies/site/assets.py looks first), straight from where they are:

- in a checkout, from `node_modules/.storiiies/openseadragon/`: npm's build without the parts the
  tour never uses, which `npm ci` writes after installing (scripts/openseadragon.mjs);
- in an unpacked sdist, which has no node_modules, from the sdist's own
  `storiiies/_vendor/openseadragon/`, so `pip install storiiies-X.tar.gz` works without Node.

Either way the version must be the one package.json pins. Editable installs get nothing: they run
from the checkout, and storiiies/assets.py finds its node_modules there.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from hatchling.builders.config import BuilderConfig
from hatchling.builders.hooks.plugin.interface import BuildHookInterface

PACKAGE = "openseadragon"
VENDOR = "storiiies/_vendor/openseadragon"
BUILD_FILE = "openseadragon.min.js"
LICENCE_FILE = "LICENSE.txt"
# The build file opens with `//! openseadragon 6.1.1`: the version of a copy without package.json.
_BANNER = re.compile(r"^//! openseadragon (\S+)")


class OpenSeadragonMissing(Exception):
    """The build cannot find the pinned OpenSeadragon; the message says what to run."""


def pinned_version(root: Path) -> str:
    """The exact OpenSeadragon version package.json pins."""
    manifest = json.loads((root / "package.json").read_text(encoding="utf-8"))
    version = manifest.get("dependencies", {}).get(PACKAGE)
    if not isinstance(version, str) or not re.fullmatch(r"\d+\.\d+\.\d+", version):
        raise OpenSeadragonMissing(
            f'package.json must pin {PACKAGE} to an exact version (e.g. "6.1.1"), not {version!r}'
        )
    return version


def banner_version(build_file: Path) -> str | None:
    with build_file.open(encoding="utf-8") as stream:
        match = _BANNER.match(stream.readline())
    return match.group(1) if match else None


def installed_files(root: Path, pinned: str) -> dict[str, Path]:
    """The build file and the licence to ship, by name, checked against the pinned version."""
    installed = root / "node_modules" / PACKAGE
    if installed.is_dir():
        package_json = json.loads((installed / "package.json").read_text(encoding="utf-8"))
        if package_json.get("version") != pinned:
            raise OpenSeadragonMissing(
                f"node_modules has {PACKAGE} {package_json.get('version')}, but package.json pins "
                f"{pinned}: run `npm ci` first"
            )
        trimmed = root / "node_modules" / ".storiiies" / PACKAGE
        files = {BUILD_FILE: trimmed / BUILD_FILE, LICENCE_FILE: installed / LICENCE_FILE}
        where = f"{trimmed.parent.parent} (run `npm ci` again: it writes {trimmed})"
        if files[BUILD_FILE].is_file() and banner_version(files[BUILD_FILE]) != pinned:
            raise OpenSeadragonMissing(
                f"{files[BUILD_FILE]} is not {PACKAGE} {pinned}: run `npm ci` again"
            )
    elif (root / VENDOR / BUILD_FILE).is_file():  # an unpacked sdist
        files = {name: root / VENDOR / name for name in (BUILD_FILE, LICENCE_FILE)}
        found = banner_version(files[BUILD_FILE])
        if found != pinned:
            raise OpenSeadragonMissing(
                f"{files[BUILD_FILE]} is {PACKAGE} {found}, but package.json pins {pinned}"
            )
        where = str(root / VENDOR)
    else:
        raise OpenSeadragonMissing(
            f"{PACKAGE} {pinned} is not in {installed}: run `npm ci` first "
            "(`make dist` does, then builds the wheel and the sdist)"
        )
    missing = [name for name, path in files.items() if not path.is_file()]
    if missing:
        raise OpenSeadragonMissing(f"{', '.join(missing)} missing from {where}")
    return files


class CustomBuildHook(BuildHookInterface[BuilderConfig]):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name == "wheel" and version == "editable":
            return
        root = Path(self.root)
        for name, source in installed_files(root, pinned_version(root)).items():
            build_data["force_include"][str(source)] = f"{VENDOR}/{name}"
