"""Site settings from storiiies.yml, validated with line-accurate errors."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from storiiies.errors import BuildFailed, Problem, SourceLocation
from storiiies.yaml_lines import PositionedYaml, YamlSyntaxError, load_yaml, validate

CONFIG_NAME = "storiiies.yml"
DEFAULT_BASE_URL = "http://127.0.0.1:8000/"
CACHE_NAME = ".storiiies-cache"
#: The largest image a build decodes unless `max_image_megapixels` says otherwise. A JPEG of a
#: few hundred bytes can declare 65,000 × 65,000 pixels: decoding it took 95 s and 4.4 GB.
DEFAULT_MAX_MEGAPIXELS = 1_000


class KioskSettings(BaseModel):
    """Museum kiosk behaviour; see docs/kiosk.md. `?kiosk=1` turns it on for any one page."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = False  # every page starts in kiosk mode
    autoplay: bool = True  # steps advance by themselves until a visitor touches the screen
    step_seconds: float = Field(default=12.0, gt=0)  # how long autoplay stays on each step
    idle_seconds: float = Field(default=90.0, gt=0)  # untouched this long: back to the start
    attract: bool = True  # the home page cycles through every story while idle
    attract_seconds: float = Field(default=8.0, gt=0)  # each story's time in the attract loop


class BundleSettings(BaseModel):
    """`storiiies bundle`: an offline copy of the site; see docs/offline.md."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    output_dir: str = "_bundle"  # where the bundle folder goes, inside the project
    # Screen sizes in device pixels the copy must look sharp on; smaller screens of the same
    # orientation are covered too. A portrait kiosk adds its own, e.g. [2160, 3840].
    screens: tuple[tuple[int, int], ...] = ((3840, 2160),)
    zip: bool = False  # also write OUTPUT_DIR.zip
    per_host: int = Field(default=4, ge=1, le=16)  # parallel downloads from one institution
    # The largest remote image without an image service the bundle downloads, in MB (2**20
    # bytes): a server that declares or sends more is refused. Tiles have a fixed 32 MB.
    max_image_mb: int = Field(default=256, ge=1, le=16384)

    @field_validator("screens")
    @classmethod
    def _screens(cls, value: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
        if not value or any(not 100 <= side <= 16384 for screen in value for side in screen):
            raise ValueError(
                "must list [width, height] pairs between 100 and 16384, e.g. [[3840, 2160]]"
            )
        return value

    @field_validator("output_dir")
    @classmethod
    def _relative_dir(cls, value: str) -> str:
        if not _inside(value):
            raise ValueError("must be a folder inside the project, e.g. _bundle")
        return value


class ClusterSettings(BaseModel):
    """`cluster:` tiles on a Dask scheduler's workers (the extra storiiies[cluster]); see
    docs/scale.md. `cluster: tcp://host:8786` is short for `cluster: {address: …}`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    address: str
    timeout: float = Field(default=10.0, gt=0, le=600)  # seconds to reach the scheduler
    # auto: workers that see the project's cache folder read and write there; send: images
    # go to the workers as bytes and tile trees come back as bytes.
    storage: Literal["auto", "send"] = "auto"

    @field_validator("address")
    @classmethod
    def _address(cls, value: str) -> str:
        if "://" not in value:
            raise ValueError("must be a scheduler address, e.g. tcp://10.0.0.5:8786")
        return value


class PublishSettings(BaseModel):
    """`storiiies publish`: where the site goes; see docs/publish.md. Credentials are never
    read from here: they come from the store's own environment (AWS_ACCESS_KEY_ID, …)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str | None = None  # the destination when the command names none: s3://BUCKET/PREFIX/
    # An S3-compatible store that is not AWS (MinIO, Cloudflare R2, Google Cloud Storage's XML
    # API). AWS_ENDPOINT_URL in the environment does the same; this wins when both are set.
    endpoint_url: str | None = None
    region: str | None = None

    @field_validator("endpoint_url")
    @classmethod
    def _endpoint(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(
                "must be an http(s) URL, e.g. https://ACCOUNT.r2.cloudflarestorage.com"
            )
        return value

    def storage_options(self, url: str) -> dict[str, Any]:
        """fsspec options for `url`: the endpoint and region apply to s3:// only."""
        if not url.startswith(("s3://", "s3a://")):
            return {}
        options: dict[str, Any] = {}
        if self.endpoint_url:
            options["endpoint_url"] = self.endpoint_url
        if self.region:
            options["client_kwargs"] = {"region_name": self.region}
        return options


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
    # The largest image storiiies decodes, in megapixels; checked against the file's header
    # before decoding, so a few-hundred-byte file declaring 65,000 × 65,000 is stopped.
    max_image_megapixels: int = Field(default=DEFAULT_MAX_MEGAPIXELS, ge=1, le=10_000)
    kiosk: KioskSettings = KioskSettings()
    bundle: BundleSettings = BundleSettings()
    cluster: ClusterSettings | None = None
    publish: PublishSettings = PublishSettings()

    @field_validator("cluster", mode="before")
    @classmethod
    def _cluster_address(cls, value: Any) -> Any:
        return {"address": value} if isinstance(value, str) else value

    @field_validator("base_url")
    @classmethod
    def _absolute_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an absolute http(s) URL, e.g. https://example.org/exhibit/")
        return value if value.endswith("/") else value + "/"

    @field_validator("output_dir")
    @classmethod
    def _output_dir(cls, value: str) -> str:
        if not _inside(value):
            raise ValueError("must be a folder inside the project, e.g. _site")
        return value

    @field_validator("stories_dir")
    @classmethod
    def _stories_dir(cls, value: str) -> str:
        if not value or Path(value).is_absolute() or ".." in Path(value).parts:
            raise ValueError("must be a folder inside the project, e.g. stories")
        return value


def _inside(value: str) -> bool:
    """A folder strictly inside the project: not absolute, no `..`, and not `.` itself (a build
    replaces its output folder whole, so `.` would replace the project)."""
    path = Path(value)
    return bool(value) and not path.is_absolute() and ".." not in path.parts and bool(path.parts)


def _overlap_problems(settings: SiteSettings, source: PositionedYaml) -> list[Problem]:
    """An output folder is replaced whole by every build: it must hold none of the project's
    own files (stories, theme overrides, the cache) and must not sit inside them."""
    inputs = {"stories": settings.stories_dir, "theme": settings.theme_dir, "cache": CACHE_NAME}
    outputs = {
        ("output_dir",): settings.output_dir,
        ("bundle", "output_dir"): settings.bundle.output_dir,
    }
    problems = []
    for keys, output in outputs.items():
        out, name = Path(output), ".".join(keys)
        for label, folder in inputs.items():
            other = Path(folder or ".")
            if not other.parts:
                continue  # stories in the project folder itself: outputs beside them are fine
            if out == other:
                message = f"'{name}' {output} is the {label} folder"
            elif other in out.parents:
                message = f"'{name}' {output} is inside the {label} folder {folder}"
            elif out in other.parents:
                message = f"'{name}' {output} holds the {label} folder {folder}"
            else:
                continue
            problems.append(Problem(source.location(CONFIG_NAME, keys), message, _OWN_FOLDER))
    if Path(settings.output_dir) == Path(settings.bundle.output_dir):
        message = "'bundle.output_dir' is the same folder as 'output_dir'"
        where = source.location(CONFIG_NAME, ("bundle", "output_dir"))
        problems.append(Problem(where, message, _OWN_FOLDER))
    return problems


_OWN_FOLDER = "a build replaces its output folder whole: give it a folder of its own, e.g. _site"


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
        return self.root / CACHE_NAME


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
    if not problems:
        problems = _overlap_problems(settings, source)
    if problems:
        raise BuildFailed(problems)
    return SiteConfig(root=root, settings=settings)
