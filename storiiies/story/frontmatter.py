"""The front matter of a story: what it is called and which sources it uses."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from storiiies.story.references import ALIAS_PATTERN

#: Keys that mark a mapping under `sources:` as pasted IIIF JSON rather than settings.
_IIIF_KEYS = {"@context", "type", "@type", "id", "@id", "target", "motivation"}


def _spec_error(message: str, hint: str) -> PydanticCustomError:
    # yamlpos.validation_problems shows `hint` under the message.
    return PydanticCustomError("source", message, {"hint": hint})


class SourceSpec(BaseModel):
    """One entry under `sources:`. A plain string is shorthand for `url:` (a URL or a path)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str | None = None
    #: A virtual canvas instead of a url: parts of this story's other sources, laid side
    #: by side (`alias[/canvas][#xywh=…]` each). See docs/authoring.md, "Virtual canvases".
    compose: tuple[str, ...] | None = None
    layout: Literal["row", "column"] | None = None  # how the parts are laid out (default row)
    manifest: int | str | None = None  # which manifest of a IIIF Collection (1-based or id)
    canvas: int | str | None = None  # only this canvas of the manifest (1-based or id)
    label: str | None = None  # overrides the source's own label in the credits
    # For local images (or to correct a remote source): a rights URI and a credit line.
    rights: str | None = None
    credit: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"url": value}
        if isinstance(value, dict) and not {"url", "path"} & set(value) and _IIIF_KEYS & set(value):
            # A content state pasted as JSON reads as a YAML mapping: keep it as the text it was.
            return {"url": json.dumps(value)}
        if isinstance(value, dict) and "path" in value and "url" not in value:
            value = dict(value)
            value["url"] = value.pop("path")
        return value

    @field_validator("url")
    @classmethod
    def _not_empty(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("give a manifest or info.json URL, or a path to a local image")
        if value is not None and any(ord(c) < 32 or ord(c) == 127 for c in value.strip()):
            # A NUL or a line break pasted inside a quoted value names no file and no URL.
            raise ValueError("contains a control character: write the URL or path on one line")
        return value.strip() if value is not None else None

    @field_validator("compose", mode="before")
    @classmethod
    def _parts(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _url_or_compose(self) -> SourceSpec:
        if self.url is not None and self.compose is not None:
            raise _spec_error(
                "give either `url:` (one source) or `compose:` (a virtual canvas), not both",
                "a virtual canvas names its parts' sources under `compose:` instead of a url",
            )
        if self.url is None and self.compose is None:
            raise _spec_error(
                "give a manifest or info.json URL, or a path to a local image",
                "or `compose:` a list of parts of other sources, for a virtual canvas",
            )
        if self.compose is not None and not self.compose:
            raise _spec_error(
                "`compose:` lists no parts", "list at least one part, e.g. `- paris/3`"
            )
        if self.compose is not None and (self.manifest is not None or self.canvas is not None):
            raise _spec_error(
                "`manifest:` and `canvas:` do not apply to a virtual canvas",
                "name the canvas in each part instead, e.g. `- paris/3`",
            )
        if self.layout is not None and self.compose is None:
            raise _spec_error(
                "`layout:` only applies to a virtual canvas", "remove it, or add `compose:`"
            )
        return self

    @field_validator("rights")
    @classmethod
    def _rights_uri(cls, value: str | None) -> str | None:
        # It becomes a link in the credits, so only a web address will do.
        if value is not None and not value.strip().lower().startswith(("http://", "https://")):
            raise ValueError("must be the http(s) URI of a licence or rights statement")
        return value.strip() if value else value

    @property
    def is_remote(self) -> bool:
        return self.url is not None and self.url.startswith(("http://", "https://"))

    @property
    def is_virtual(self) -> bool:
        """A canvas composed from parts of other sources (`compose:`), not fetched or read."""
        return self.compose is not None


class KioskOverrides(BaseModel):
    """A story's own kiosk timing; unset values come from storiiies.yml. See docs/kiosk.md."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    step_seconds: float | None = Field(default=None, gt=0)
    #: Seconds for single steps, by step number (0 is the title slide): `durations: {3: 25}`.
    durations: dict[int, Annotated[float, Field(gt=0)]] = Field(default_factory=dict)
    #: False leaves the story out of the home page's attract loop.
    attract: bool = True


class StoryMeta(BaseModel):
    """What a story's front matter may say. See docs/authoring.md."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str | None = None
    summary: str = ""
    lang: str | None = None
    author: str = ""
    tags: tuple[str, ...] = ()
    order: int | None = None
    cover: str | None = None
    draft: bool = False
    sources: dict[str, SourceSpec] = Field(default_factory=dict)
    kiosk: KioskOverrides = KioskOverrides()

    @field_validator("sources")
    @classmethod
    def _aliases(cls, value: dict[str, SourceSpec]) -> dict[str, SourceSpec]:
        for alias in value:
            if not ALIAS_PATTERN.match(str(alias)):
                raise ValueError(
                    f"'{alias}' is not a valid source name: use letters, digits, '-', '_' and '.'"
                )
        return value

    @field_validator("tags", mode="before")
    @classmethod
    def _tags(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value
