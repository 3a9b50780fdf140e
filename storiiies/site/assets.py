"""Static files every site carries: the theme's own, and OpenSeadragon from npm (pinned in
package.json), copied in at build so the site needs no CDN and works offline.

A built site carries the theme's scripts and stylesheets minified (comments and spaces out,
`/*! … */` notices kept): a reader's first visit downloads a fifth less. The preview serves
them as written, so a theme author reads in the browser what they wrote."""

from __future__ import annotations

import os
from pathlib import Path

import rcssmin
import rjsmin

from storiiies.errors import BuildFailed, Problem, SourceLocation
from storiiies.model import OutputFile
from storiiies.site.themes import Theme

OSD_FILE = "openseadragon.min.js"


def openseadragon_dir() -> Path:
    """Where OpenSeadragon's build is: a wheel's `_vendor` (hatch_build.py puts it there), or
    the trimmed build `npm ci` makes in a checkout's node_modules (scripts/openseadragon.mjs)."""
    package = Path(__file__).resolve().parents[1]
    checkout = package.parent
    candidates = [package / "_vendor" / "openseadragon"]
    if env := os.environ.get("STORIIIES_NODE_MODULES"):
        candidates.insert(0, Path(env) / ".storiiies" / "openseadragon")
    candidates.append(checkout / "node_modules" / ".storiiies" / "openseadragon")
    for candidate in candidates:
        if (candidate / OSD_FILE).is_file():
            return candidate
    if not (checkout / "package.json").is_file():
        # Installed from an archive that lacks it: telling the author to run npm in
        # site-packages would not help.
        raise BuildFailed(
            [
                Problem(
                    SourceLocation("storiiies"),
                    f"OpenSeadragon is missing from this installation of storiiies ({package})",
                    "reinstall storiiies from a wheel or sdist made by `make dist`",
                )
            ]
        )
    raise BuildFailed(
        [
            Problem(
                SourceLocation("storiiies"),
                "OpenSeadragon is not installed",
                f"run `npm ci` in {checkout} (`make example` in a clone of the repository does it;"
                " its postinstall step writes the build the site carries)",
            )
        ]
    )


def asset_files(theme: Theme, *, minify: bool = True) -> list[OutputFile]:
    files: dict[str, OutputFile] = {}
    # Most specific folder first: an override of a static file wins over the theme's own.
    for folder in theme.static_dirs():
        real_folder = folder.resolve()
        for path in sorted(folder.rglob("*")):
            # A symlink out of the theme would publish files from elsewhere on the machine;
            # the preview server refuses them too.
            if path.is_file() and path.resolve().is_relative_to(real_folder):
                name = "assets/" + path.relative_to(folder).as_posix()
                if name not in files:
                    minified = _minified(name, path) if minify else None
                    files[name] = minified or OutputFile(name, source=path)
    osd = openseadragon_dir() / OSD_FILE
    files["assets/openseadragon/" + OSD_FILE] = OutputFile(
        "assets/openseadragon/" + OSD_FILE, source=osd
    )
    return list(files.values())


def _minified(name: str, path: Path) -> OutputFile | None:
    """The theme file at `path` minified, or None when it is not a script or stylesheet (or
    not UTF-8 text, which a minifier would garble): then it is copied as it is."""
    minifier = {".js": rjsmin.jsmin, ".css": rcssmin.cssmin}.get(path.suffix.lower())
    if minifier is None:
        return None
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None
    return OutputFile(name, content=minifier(text, keep_bang_comments=True).encode("utf-8"))
