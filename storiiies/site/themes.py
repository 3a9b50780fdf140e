"""Find themes and make their Jinja environment.

A theme is a folder with `templates/`, `static/` and an optional `theme.toml` naming the theme it
`extends`. The lookup order is: the project's `theme_dir`, the theme, its parents. The same list
serves templates, static files (first folder wins) and interface strings (`strings/*.yml`, merged
key by key, see strings.py), and `!name/` reaches a named theme's own
template so an override can extend it and change one block.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

import jinja2

from storiiies.errors import BuildFailed, Problem, SourceLocation
from storiiies.site.strings import ThemeStrings


def themes_root() -> Path:
    """Bundled themes: `storiiies/_themes` in a wheel, `themes/` beside the package otherwise."""
    package = Path(__file__).resolve().parents[1]
    for candidate in (package / "_themes", package.parent / "themes"):
        if candidate.is_dir():
            return candidate
    raise RuntimeError("storiiies is installed without its themes")


def available_themes() -> list[str]:
    return sorted(p.name for p in themes_root().iterdir() if (p / "templates").is_dir())


@dataclass(frozen=True)
class Theme:
    name: str
    dirs: tuple[Path, ...]  # most specific first
    named: tuple[tuple[str, Path], ...]  # (theme name, its own folder) for `!name/` lookups

    def static_dirs(self) -> list[Path]:
        return [d / "static" for d in self.dirs if (d / "static").is_dir()]


def load_theme(
    name: str, override_dir: Path | None = None, *, config_file: str = "storiiies.yml"
) -> Theme:
    root = themes_root()
    chain: list[tuple[str, Path]] = []
    current: str | None = name
    while current is not None:
        folder = root / current
        if not (folder / "templates").is_dir():
            raise BuildFailed(
                [
                    Problem(
                        SourceLocation(config_file),
                        f"unknown theme '{current}'",
                        f"use one of: {', '.join(available_themes())}",
                    )
                ]
            )
        if any(n == current for n, _ in chain):
            break
        chain.append((current, folder))
        settings_file = folder / "theme.toml"
        settings = tomllib.loads(settings_file.read_text()) if settings_file.is_file() else {}
        current = settings.get("extends")
    dirs = [folder for _, folder in chain]
    if override_dir is not None and override_dir.is_dir():
        dirs.insert(0, override_dir)
    return Theme(name=name, dirs=tuple(dirs), named=tuple(chain))


def make_environment(theme: Theme) -> jinja2.Environment:
    loader = jinja2.ChoiceLoader(
        [
            jinja2.FileSystemLoader([str(d / "templates") for d in theme.dirs]),
            jinja2.PrefixLoader(
                {
                    f"!{name}": jinja2.FileSystemLoader(str(folder / "templates"))
                    for name, folder in theme.named
                },
                delimiter="/",
            ),
        ]
    )
    env = jinja2.Environment(
        loader=loader,
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    # The renderer hands each page the strings of its own language as `s` (see strings.py).
    env.globals["theme_strings"] = ThemeStrings.read(theme.dirs)
    return env


def page_strings(env: jinja2.Environment, lang: str) -> dict[str, object]:
    """The interface strings for a page in `lang`, from the environment's theme."""
    strings: ThemeStrings = env.globals["theme_strings"]  # type: ignore[assignment]
    return strings.for_language(lang)
