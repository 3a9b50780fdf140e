"""PARSE: a story's Markdown → StoryDraft.

markdown-it-py tokens carry their source lines (`Token.map`), so every problem names the line
the author has to look at. The front matter plugin keeps body line numbers equal to file lines.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from typing import Any, cast

import nh3
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from mdit_py_plugins.front_matter import front_matter_plugin

from storiiies.errors import Problem, SourceLocation
from storiiies.model import NarrationDraft, RegionDraft, StepDraft, StoryDraft, StorySource
from storiiies.story.frontmatter import StoryMeta
from storiiies.story.narration import is_audio_path
from storiiies.story.references import (
    Reference,
    ReferenceSyntaxError,
    looks_like_reference,
    parse_reference,
)
from storiiies.yaml_lines import YamlSyntaxError, load_yaml, validate

# Raw HTML in stories is allowed for layout and emphasis, but never scripts, event handlers,
# styles or frames (docs/authoring.md, "Raw HTML"): stories are shared and re-published.
_STORY_TAGS = nh3.ALLOWED_TAGS | {"figure", "figcaption", "details", "summary", "mark"}
_STORY_ATTRIBUTES = {
    **nh3.ALLOWED_ATTRIBUTES,
    "a": {"href", "title", "hreflang", "class", "data-storiiies-link"},
    "img": {"src", "alt", "title", "width", "height", "loading"},
    "th": {"align", "scope", "colspan", "rowspan"},
    "td": {"align", "colspan", "rowspan"},
    "ol": {"start", "reversed"},
    "*": {"lang", "dir"},
}


def make_markdown() -> MarkdownIt:
    return (
        MarkdownIt("commonmark", {"html": True, "typographer": False})
        .use(front_matter_plugin)
        .enable(["table", "strikethrough"])
    )


_MD = make_markdown()


def clean_story_html(html: str, relative: Callable[[str], str | None] | None = None) -> str:
    """`html` with only what a story may hold; `relative` rewrites relative URLs (None: drop)."""
    return nh3.clean(
        html,
        tags=_STORY_TAGS,
        attributes=_STORY_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
        url_relative=relative,
    )


def slugify(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return slug[:80] or "story"


def parse_story(source: StorySource, inherited_aliases: frozenset[str] = frozenset()) -> StoryDraft:
    """Parse one story. Never raises for author mistakes: they are returned as problems.

    `inherited_aliases` are sources declared elsewhere that the story may use: a translation's
    original's (translations.py)."""
    parser = _StoryParser(source, inherited_aliases)
    return parser.parse()


class _StoryParser:
    def __init__(
        self, source: StorySource, inherited_aliases: frozenset[str] = frozenset()
    ) -> None:
        self.source = source
        self.inherited_aliases = inherited_aliases
        # Lines as markdown-it counts them: only \n ends a line (splitlines would also split
        # at \x1c, \u2028 … and shift every line number after one).
        self.lines = source.text.split("\n")
        self.problems: list[Problem] = []
        self.cursor = (0, 0)  # where the last reference was found, so repeats get their own line
        self.narrations: list[NarrationDraft] = []  # narration links of the section being read
        #: the front matter could not be read, so its source names are unknown: a reference is
        #: not reported as naming an unknown source (the front matter's error is the cause)
        self.sources_unread = False

    def at(self, line: int | None, column: int | None = None) -> SourceLocation:
        return SourceLocation(self.source.name, line, column)

    def problem(self, line: int | None, message: str, hint: str | None = None) -> None:
        self.problems.append(Problem(self.at(line), message, hint))

    def parse(self) -> StoryDraft:
        tokens = _MD.parse(self.source.text)
        meta, meta_locations = self.read_front_matter(tokens)
        aliases = set(meta.sources) | self.inherited_aliases
        body = [t for t in tokens if t.type != "front_matter"]
        sections = _split_at_steps(body)
        intro_tokens = sections[0]
        title = meta.title or _take_h1(intro_tokens, _MD) or ""
        if not title and meta_locations:
            self.problem(
                1, "the story has no title", "add `title: ...` to the front matter at the top"
            )
        intro_regions, intro_links = self.collect_references(intro_tokens, aliases, 0)
        for narration in self.narrations:
            self.problems.append(
                Problem(
                    narration.location,
                    "narration before the first step",
                    "put the narration link under the `## Heading` of the step it belongs to",
                )
            )
        intro_html = clean_story_html(_MD.renderer.render(intro_tokens, _MD.options, {}))
        steps = []
        for number, section in enumerate(sections[1:], start=1):
            steps.append(self.read_step(number, section, aliases))
        if not steps:
            self.problem(
                len(self.lines) or 1,
                "the story has no steps",
                "start each step with a `## Heading` line followed by a region image",
            )
        for number in sorted(n for n in meta.kiosk.durations if n > len(steps)):
            where = meta_locations.get(("kiosk", "durations", number)) or self.at(1)
            self.problems.append(
                Problem(
                    where,
                    f"kiosk duration for step {number}, but the story has {len(steps)}"
                    f" step{'' if len(steps) == 1 else 's'}",
                    "steps count from 1 in the order of their `##` headings (0 is the title slide)",
                    "warning",
                )
            )
        cover = intro_regions[0] if intro_regions else None
        if meta.cover:
            try:
                reference = parse_reference(meta.cover)
            except ReferenceSyntaxError as error:
                loc = meta_locations.get(("cover",), self.at(1))
                self.problems.append(Problem(loc, f"cover: {error.message}", error.hint))
            else:
                cover = RegionDraft(reference, title, meta_locations.get(("cover",), self.at(1)))
        if meta_locations and not aliases:
            self.problem(
                2,
                "the story declares no sources",
                "list its images under `sources:`, e.g. `coins: images/coins.png`",
            )
        return StoryDraft(
            source=self.source,
            slug=slugify(self.source.path.stem),
            meta=meta,
            title=title,
            intro_html=intro_html,
            steps=tuple(steps),
            cover=cover,
            problems=tuple(self.problems),
            meta_locations=meta_locations,
        )

    def read_front_matter(
        self, tokens: Sequence[Token]
    ) -> tuple[StoryMeta, dict[tuple[str | int, ...], SourceLocation]]:
        front = next((t for t in tokens if t.type == "front_matter"), None)
        if front is None:
            self.problem(
                1,
                "the story has no front matter",
                "start the file with a `---` line, then `title:` and `sources:`, then `---`",
            )
            self.sources_unread = True
            return StoryMeta(), {}
        try:
            yaml_source = load_yaml(front.content, self.source.name, first_line=2)
        except YamlSyntaxError as error:
            self.problems.append(error.problem)
            self.sources_unread = True
            return StoryMeta(), {}
        meta, problems = validate(StoryMeta, yaml_source, self.source.name, what="front matter")
        self.problems.extend(problems)
        if meta is None:
            meta = _lenient_meta(yaml_source.data)
            if meta is None:
                self.sources_unread = True
                return StoryMeta(), {}
        locations = {
            keys: SourceLocation(self.source.name, line, column)
            for keys, (line, column) in yaml_source.positions.items()
        }
        return meta or StoryMeta(), locations

    def read_step(self, number: int, tokens: list[Token], aliases: set[str]) -> StepDraft:
        heading = tokens[1]
        line = (tokens[0].map or [0])[0] + 1
        title = _inline_text(heading)
        body = tokens[3:]
        self.narrations = []
        regions, links = self.collect_references(body, aliases, number)
        body_html = clean_story_html(_MD.renderer.render(body, _MD.options, {}))
        for extra in self.narrations[1:]:
            self.problems.append(
                Problem(
                    extra.location,
                    f"step {number} already has a narration",
                    "a step plays one narration; keep one link to an audio file or time range",
                )
            )
        return StepDraft(
            number=number,
            title=title,
            body_html=body_html,
            regions=tuple(regions),
            links=tuple(links),
            location=self.at(line),
            narration=self.narrations[0] if self.narrations else None,
        )

    def collect_references(
        self, tokens: list[Token], aliases: set[str], step: int
    ) -> tuple[list[RegionDraft], list[RegionDraft]]:
        """Take region images out of the text and turn region links into in-step view moves."""
        regions: list[RegionDraft] = []
        links: list[RegionDraft] = []
        emptied: set[int] = set()
        for index, token in enumerate(tokens):
            if token.type != "inline" or not token.children:
                continue
            block_line = (token.map or [0])[0]
            kept: list[Token] = []
            in_narration = False
            for child in token.children:
                # A narration link becomes the step's player, so its text leaves the body.
                if in_narration:
                    in_narration = child.type != "link_close"
                    continue
                if child.type == "link_open" and self.read_narration(
                    child.attrs.get("href"), block_line, aliases
                ):
                    in_narration = True
                    continue
                target = child.attrs.get("src") if child.type == "image" else None
                if child.type == "link_open":
                    target = child.attrs.get("href")
                if not isinstance(target, str) or not looks_like_reference(target, aliases):
                    kept.append(child)
                    continue
                location = self.locate(target, block_line)
                draft = self.read_reference(target, location, child, aliases)
                if child.type == "image":
                    if draft is not None:
                        regions.append(draft)
                    continue
                if draft is not None:
                    child.attrs = {
                        "href": f"#step-{step}",
                        "class": "st-region-link",
                        "data-storiiies-link": str(len(links)),
                    }
                    links.append(draft)
                kept.append(child)
            while kept and kept[0].type in ("softbreak", "hardbreak"):
                del kept[0]
            token.children = kept
            if all(c.type == "softbreak" or not c.content.strip() for c in kept):
                emptied.add(index)
        for index in sorted(emptied, reverse=True):
            if 0 < index < len(tokens) - 1 and tokens[index - 1].type == "paragraph_open":
                del tokens[index - 1 : index + 2]
        return regions, links

    def read_narration(self, target: object, block_line: int, aliases: set[str]) -> bool:
        """Note a narration link (a local audio file, or `alias#t=start,end`); False if the
        link is something else."""
        if not isinstance(target, str):
            return False
        if is_audio_path(target):
            self.narrations.append(NarrationDraft(target, None, self.locate(target, block_line)))
            return True
        if "#t=" not in target or not looks_like_reference(target, aliases):
            return False
        location = self.locate(target, block_line)
        reference = self.known_reference(target, location, aliases)
        if reference is not None:
            self.narrations.append(NarrationDraft(target, reference, location))
        return True

    def known_reference(
        self, target: str, location: SourceLocation, aliases: set[str]
    ) -> Reference | None:
        """The reference `target`, if it parses and names a declared source (else a problem)."""
        try:
            reference = parse_reference(target)
        except ReferenceSyntaxError as error:
            self.problems.append(Problem(location, error.message, error.hint))
            return None
        if reference.alias not in aliases and self.sources_unread:
            return None  # the front matter's own error is reported
        if reference.alias not in aliases:
            known = ", ".join(sorted(aliases)) or "none yet"
            self.problems.append(
                Problem(
                    location,
                    f"unknown source '{reference.alias}'",
                    f"declare it under `sources:` in the front matter (declared: {known})",
                )
            )
            return None
        return reference

    def read_reference(
        self, target: str, location: SourceLocation, token: Token, aliases: set[str]
    ) -> RegionDraft | None:
        reference = self.known_reference(target, location, aliases)
        if reference is None:
            return None
        alt = _render_alt(token) if token.type == "image" else ""
        if token.type == "image" and not alt.strip():
            self.problems.append(
                Problem(
                    location,
                    f"region '{target}' has no text alternative",
                    "describe what it shows between the brackets: ![Head of Athena](...)",
                )
            )
        return RegionDraft(reference, alt.strip(), location)

    def locate(self, target: str, first_line: int) -> SourceLocation:
        """Line and column of `target` in the file, searching from the block's first line."""
        needle = "](" + target.split("#", 1)[0].split("/", 1)[0]
        start_line, start_column = self.cursor if self.cursor[0] >= first_line else (first_line, 0)
        for number in range(start_line, len(self.lines)):
            column = self.lines[number].find(needle, start_column if number == start_line else 0)
            if column >= 0:
                self.cursor = (number, column + 1)
                return self.at(number + 1, column + 3)
        return self.at(first_line + 1)


def _lenient_meta(data: object) -> StoryMeta | None:
    """The front matter without its invalid keys, so one typo does not hide the sources and
    turn every region of the story into an 'unknown source' error."""
    if not isinstance(data, dict):
        return None
    from pydantic import ValidationError

    data = dict(data)
    for _ in range(64):  # each round removes at least one value, and front matter is small
        try:
            return StoryMeta.model_validate(data)
        except ValidationError as error:
            locations = [e["loc"] for e in error.errors() if e["loc"]]
            if _drop_bad_source_settings(data, locations):
                continue
            bad = {loc[0] for loc in locations}
            if not bad & set(data):
                return None
            for key in bad:
                data.pop(key, None)
    return None


def _drop_bad_source_settings(data: dict[str, Any], locations: list[tuple[Any, ...]]) -> bool:
    """Remove the invalid settings of single sources (`rights: CC-BY`), keeping the sources
    themselves, so one bad line is one error and not an error at every reference."""
    sources = data.get("sources")
    if not isinstance(sources, dict):
        return False
    kept = dict(sources)
    for loc in locations:
        if len(loc) < 2 or loc[0] != "sources" or loc[1] not in kept:
            continue
        entry = kept[loc[1]]
        if len(loc) > 2 and loc[2] != "url" and isinstance(entry, dict) and loc[2] in entry:
            kept[loc[1]] = {key: value for key, value in entry.items() if key != loc[2]}
        else:
            del kept[loc[1]]
    if kept == sources:
        return False
    data["sources"] = kept
    return True


def _split_at_steps(tokens: list[Token]) -> list[list[Token]]:
    """[intro tokens, step 1 tokens, ...]; a step starts at a top-level `##` heading."""
    sections: list[list[Token]] = [[]]
    for token in tokens:
        if token.type == "heading_open" and token.tag == "h2" and token.level == 0:
            sections.append([])
        sections[-1].append(token)
    return sections


def _take_h1(tokens: list[Token], md: MarkdownIt) -> str | None:
    """Use a leading `# Title` as the title (so stories read well on GitHub) and drop it."""
    for index, token in enumerate(tokens):
        if token.type == "heading_open" and token.tag == "h1" and token.level == 0:
            title = _inline_text(tokens[index + 1])
            del tokens[index : index + 3]
            return title
    return None


def _inline_text(token: Token) -> str:
    return (
        "".join(
            child.content for child in token.children or [] if child.type in ("text", "code_inline")
        ).strip()
        or token.content.strip()
    )


def _render_alt(token: Token) -> str:
    renderer = cast(RendererHTML, _MD.renderer)  # MarkdownIt() renders HTML
    return renderer.renderInlineAsText(token.children or [], _MD.options, {})
