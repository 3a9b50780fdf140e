"""Site settings from storiiies.yml, validated with line-accurate errors."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from storiiies.errors import BuildFailed, Problem, SourceLocation
from storiiies.yamlpos import YamlSyntaxError, load_yaml, validate

CONFIG_NAME = "storiiies.yml"
DEFAULT_BASE_URL = "http://127.0.0.1:8000/"


class KioskSettings(BaseModel):
    """Museum kiosk behaviour; see docs/kiosk.md."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = False
    step_seconds: float = Field(12.0, gt=0)
    idle_seconds: float = Field(90.0, gt=0)
    attract: bool = True


class SiteSettings(BaseModel):
    """What storiiies.yml may say. Every key is optional except `title`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str
    description: str = ""
    base_url: str = DEFAULT_BASE_URL
    language: str = "en"
    theme: str = "default"
    output_dir: str = "_site"
    stories_dir: str = "stories"
    theme_dir: str | None = None
    kiosk: KioskSettings = KioskSettings()

    @field_validator("base_url")
    @classmethod
    def _absolute_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an absolute http(s) URL, e.g. https://example.org/exhibit/")
        return value if value.endswith("/") else value + "/"

    @field_validator("output_dir", "stories_dir")
    @classmethod
    def _relative_dir(cls, value: str) -> str:
        if not value or Path(value).is_absolute() or ".." in Path(value).parts:
            raise ValueError("must be a folder inside the project, e.g. _site")
        return value


@dataclass(frozen=True)
class SiteConfig:
    """Settings plus where the project lives on disk."""

    root: Path
    settings: SiteSettings
    config_file: str = CONFIG_NAME

    @property
    def output_dir(self) -> Path:
        return self.root / self.settings.output_dir

    @property
    def stories_dir(self) -> Path:
        return self.root / self.settings.stories_dir

    @property
    def cache_dir(self) -> Path:
        return self.root / ".storiiies-cache"


def load_config(project: Path | str = ".") -> SiteConfig:
    """Read `storiiies.yml` in `project`; raises BuildFailed listing every problem."""
    root = Path(project).resolve()
    path = root / CONFIG_NAME
    if not path.is_file():
        hint = (
            f"run `storiiies new {project}` to start a project"
            if not root.exists()
            else "create one with a `title:` line, or run `storiiies new DIR`"
        )
        raise BuildFailed([Problem(SourceLocation(str(path)), f"no {CONFIG_NAME} here", hint)])
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise BuildFailed(
            [Problem(SourceLocation(CONFIG_NAME), f"cannot read the settings file: {exc}")]
        ) from None
    try:
        source = load_yaml(text, CONFIG_NAME)
    except YamlSyntaxError as exc:
        raise BuildFailed([exc.problem]) from None
    settings, problems = validate(SiteSettings, source, CONFIG_NAME, what=CONFIG_NAME)
    if problems:
        raise BuildFailed(problems)
    return SiteConfig(root=root, settings=settings)
