"""Static files every site carries: the theme's own, and OpenSeadragon from npm (pinned in
package.json), copied in at build so the site needs no CDN and works offline."""

from __future__ import annotations

import os
from pathlib import Path

from storiiies.errors import BuildFailed, Problem, SourceLocation
from storiiies.model import OutputFile
from storiiies.site.themes import Theme

OSD_FILE = "openseadragon.min.js"


def openseadragon_dir() -> Path:
    """Where OpenSeadragon's build is: a wheel's `_vendor`, or node_modules of a checkout."""
    package = Path(__file__).resolve().parents[1]
    candidates = [package / "_vendor" / "openseadragon"]
    if env := os.environ.get("STORIIIES_NODE_MODULES"):
        candidates.insert(0, Path(env) / "openseadragon" / "build" / "openseadragon")
    candidates.append(package.parent / "node_modules" / "openseadragon" / "build" / "openseadragon")
    for candidate in candidates:
        if (candidate / OSD_FILE).is_file():
            return candidate
    raise BuildFailed(
        [
            Problem(
                SourceLocation("storiiies"),
                "OpenSeadragon is not installed",
                f"run `npm ci` in {package.parent} (`make example` in a clone of the repository does it)",
            )
        ]
    )


def asset_files(theme: Theme) -> list[OutputFile]:
    files: dict[str, OutputFile] = {}
    # Most specific folder first: an override of a static file wins over the theme's own.
    for folder in theme.static_dirs():
        real_folder = folder.resolve()
        for path in sorted(folder.rglob("*")):
            # A symlink out of the theme would publish files from elsewhere on the machine;
            # the preview server refuses them too.
            if path.is_file() and path.resolve().is_relative_to(real_folder):
                name = "assets/" + path.relative_to(folder).as_posix()
                files.setdefault(name, OutputFile(name, source=path))
    osd = openseadragon_dir() / OSD_FILE
    files["assets/openseadragon/" + OSD_FILE] = OutputFile(
        "assets/openseadragon/" + OSD_FILE, source=osd
    )
    return list(files.values())
