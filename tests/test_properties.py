"""Property-based tests: whatever an author writes or a server returns, the parsers answer with a
value or with storiiies' own error, never with another exception.

The strategies mix pure noise with the pieces real input is made of (front matter keys, YAML
punctuation, Markdown headings, region references, raw HTML, real corpus manifests) so the
examples reach deep into each parser instead of failing at the first character.
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from storiiies.config import load_config
from storiiies.errors import BuildFailed, NotIIIF, SourceError
from storiiies.iiif.fetch import _decode, _parse_json
from storiiies.iiif.locate import locate
from storiiies.iiif.model import SourceDocument
from storiiies.iiif.presentation import read_source_json
from storiiies.iiif.sanitize import clean_html, to_text, web_url
from storiiies.model import StoryDraft, StorySource
from storiiies.story.parse import clean_story_html, parse_story, slugify
from storiiies.story.references import Reference, ReferenceSyntaxError, parse_reference
from tests.conftest import SHARED
from tests.helpers import json_paths, mutate

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- references -------------------------------------------------------------------------------

NUMBER = st.one_of(
    st.integers(min_value=0, max_value=10**7).map(str),
    st.floats(min_value=0, max_value=1e6, allow_nan=False).map(lambda f: f"{f:.3f}"),
    st.sampled_from(["", "-1", "1e3", "٣", " 7 ", "0x10", "NaN", "inf", "9" * 400]),
)
XYWH = st.builds(
    lambda unit, numbers, sep: unit + sep.join(numbers),
    st.sampled_from(["", "percent:", "pixel:", "pct:", "PERCENT:"]),
    st.lists(NUMBER, min_size=0, max_size=6),
    st.sampled_from([",", ", ", ";"]),
)
REFERENCE = st.one_of(
    st.text(max_size=60),
    st.builds(
        lambda alias, canvas, fragment: alias + canvas + fragment,
        st.one_of(
            st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,12}", fullmatch=True), st.text(max_size=8)
        ),
        st.one_of(
            st.just(""), st.builds(lambda c: "/" + c, st.one_of(NUMBER, st.text(max_size=30)))
        ),
        st.one_of(
            st.just(""),
            XYWH.map(lambda r: "#xywh=" + r),
            st.text(max_size=20).map(lambda t: "#" + t),
        ),
    ),
    st.builds(lambda t: t.replace("%", "%25"), st.text(max_size=30)).map(lambda t: "a/" + t),
)


@SETTINGS
@given(REFERENCE)
@example("0/¹")  # a superscript is a digit to str.isdigit, but not to int()
@example("a#xywh=1,2,3,4\n")
@example("0#xywh=0,0,1,100000.1")  # seven significant digits must survive being written back
def test_parse_reference_gives_a_reference_or_its_own_error(target: str) -> None:
    try:
        reference = parse_reference(target)
    except ReferenceSyntaxError as error:
        assert error.message and "\n" not in error.message
        return
    assert isinstance(reference, Reference)
    if reference.region is not None:
        assert reference.region.w > 0 and reference.region.h > 0
    # What the parser accepted, written back, reads the same.
    assert (
        parse_reference(str(reference)) == reference
        or "%" in target
        or "#" in (reference.canvas or "")
    )


#: What authors paste as a source: Image API image URLs (well and badly formed), content-state
#: URLs, encoded states and plain text.
SOURCE_TEXT = st.one_of(
    st.builds(
        lambda region, size, rest: f"https://example.org/iiif/img/{region}/{size}/0/{rest}",
        st.one_of(
            st.sampled_from(["full", "square", "pct:1.2.3,1,1,1", "pct:0,0,0,0", "0,0,0,0"]),
            st.lists(st.from_regex(r"[\d.]{1,6}", fullmatch=True), min_size=3, max_size=5).map(
                lambda numbers: ("pct:" if len(numbers) % 2 else "") + ",".join(numbers)
            ),
        ),
        st.sampled_from(["max", "full", "!200,200", "200,"]),
        st.sampled_from(["default.jpg", "color.png", "default.webp", "x.jpg"]),
    ),
    st.text(max_size=60).map(lambda t: "https://example.org/view?iiif-content=" + t),
    st.text(max_size=80),
)


@SETTINGS
@given(SOURCE_TEXT)
@example("https://example.org/iiif/img/pct:1.2.3,1,1,1/full/0/default.jpg")
def test_locating_a_pasted_source_never_raises(text: str) -> None:
    located = locate(text)
    if located is not None and located.region is not None:
        assert located.region.w > 0 and located.region.h > 0


# --- stories ----------------------------------------------------------------------------------

LINE = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "---",
            "title: T",
            "title:",
            "title: [a, b",
            "sources:",
            "  a: images/a.png",
            "  b: https://example.org/m.json",
            "  c:",
            "    url: https://example.org/m.json",
            "    manifest: 2",
            "    canvas: x",
            "  a: {url: 1}",
            "summary: >",
            "lang: 3",
            "draft: yes",
            "order: -1",
            "cover: a#xywh=1,2,3,4",
            "kiosk: {step_seconds: -1}",
            "tags: a",
            "tags: [1, {a: b}]",
            "\t- x",
            ": :",
            "&anchor x",
            "*anchor",
            "!!python/object:os.system ls",
            "%YAML 1.1",
            "? complex key",
            "## Step",
            "# Title",
            "### sub",
            "##",
            "## ",
            "![alt](a)",
            "![](a#xywh=1,1,5,5)",
            "![x](a/2#xywh=percent:0,0,100,100)",
            "[link](b#xywh=1,2,3,4)",
            "[l](a#nope)",
            "![x](zz#xywh=1,2)",
            "![x](a/0)",
            "<script>alert(1)</script>",
            "<div>",
            "</div>",
            "```",
            "~~~",
            "> quote",
            "- item",
            "| a | b |",
            "|---|---|",
            "<!--",
            "-->",
            "\ufeff",
            "\r",
            "\x00",
            "\u2028",
            "::: note",
            "***",
        ]
    ),  # fmt: skip
)
STORY = st.one_of(
    st.text(max_size=300),
    st.lists(LINE, max_size=30).map("\n".join),
    st.lists(LINE, max_size=30).map(lambda lines: "---\n" + "\n".join(lines)),
)


def check_draft(text: str) -> StoryDraft:
    draft = parse_story(StorySource(Path("stories/s.md"), "stories/s.md", text))
    assert isinstance(draft, StoryDraft)
    lines = max(1, text.count("\n") + 1)
    for problem in draft.problems:
        shown = str(problem)
        assert "\n" not in shown, shown
        assert problem.location.path == "stories/s.md"
        assert problem.location.line is None or 1 <= problem.location.line <= lines + 1, shown
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", draft.slug)
    return draft


@SETTINGS
@given(STORY)
def test_parse_story_gives_a_draft_and_problems(text: str) -> None:
    check_draft(text)


def test_parse_story_survives_huge_and_deep_input() -> None:
    check_draft("---\ntitle: T\nsources:\n  a: x.png\n---\n" + "> " * 5000 + "deep quote")
    check_draft("---\ntitle: " + "[" * 1500 + "\n---\n## A\n")
    check_draft("## step\n" * 3000)
    check_draft("---\ntitle: T\n" + "a: &a [*a]\n" + "---\n")


# --- manifests, bodies and config -------------------------------------------------------------

JSON_VALUE = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=30)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=5), st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=30,
)


def corpus_documents() -> list[Any]:
    """A few real manifests of the shared corpus (P2 and P3, several institutions)."""
    folder = SHARED / "fixtures" / "manifests" / "documents"
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.rglob("*.json"))[::12]:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            continue
        if isinstance(data, dict):
            found.append(data)
    return found


CORPUS = corpus_documents()


def assert_read_or_rejected(data: Any) -> None:
    try:
        document = read_source_json(data, "https://example.org/manifest.json")
    except SourceError as error:
        assert error.message and "\n" not in error.message
        return
    assert isinstance(document, SourceDocument)
    assert document.canvases and all(c.width > 0 and c.height > 0 for c in document.canvases)


@SETTINGS
@given(JSON_VALUE)
def test_read_source_json_on_any_json(data: Any) -> None:
    assert_read_or_rejected(data)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_read_source_json_on_mutated_corpus_manifests(data: st.DataObject) -> None:
    if not CORPUS:
        pytest.skip("needs the shared corpus")
    document = data.draw(st.sampled_from(CORPUS))
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(json_paths(document)))
        document = mutate(document, path, data.draw(JSON_VALUE))
    assert_read_or_rejected(document)


@SETTINGS
@given(st.one_of(st.binary(max_size=200), st.text(max_size=200).map(lambda t: t.encode("utf-16")),
                 JSON_VALUE.map(lambda v: b"\xef\xbb\xbf" + json.dumps(v).encode())))  # fmt: skip
def test_any_response_body_is_json_or_not_iiif(body: bytes) -> None:
    try:
        _parse_json("https://example.org/m.json", _decode(body))
    except NotIIIF as error:
        assert error.message.startswith("https://example.org/m.json ") and "\n" not in error.message


SETTING_LINE = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "title: T",
            "title:",
            "base_url: https://e.org/x",
            "base_url: e.org",
            "output_dir: _site",
            "output_dir: ..",
            "output_dir: /tmp",
            "output_dir: .",
            "output_dir: stories",
            "stories_dir: ../x",
            "theme: nope",
            "theme_dir: t",
            "language: 3",
            "kiosk:",
            "  enabled: maybe",
            "  step_seconds: -2",
            "unknown: 1",
            "- list",
            "title: [",
            "\t",
            "\ufeff",
            "'",
            "title: &a x",
            "x: *a",
        ]
    ),  # fmt: skip
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(SETTING_LINE, max_size=8).map("\n".join))
def test_any_settings_file_loads_or_fails_with_problems(text: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "storiiies.yml").write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            config = load_config(folder)
        except BuildFailed as failure:
            assert failure.problems
            assert all("\n" not in str(problem) for problem in failure.problems)
            return
        out = config.output_dir.resolve()
        assert out != config.root and out.is_relative_to(config.root)


# --- sanitising -------------------------------------------------------------------------------

HTML = st.one_of(
    st.text(max_size=80),
    st.lists(
        st.sampled_from(
            [
                "<script>", "</script>", "<img src=x onerror=alert(1)>",
                "<a href='javascript:x'>", "</a>", "<svg onload=x>", "<style>", "<p>", "<b>",
                "</b>", "<!--", "-->", "<![CDATA[", "]]>", "&lt;", "&#106;", "javascript:",
                "<iframe>", "<math>", "<mglyph>", "<noscript>",
                "\"", "'", ">", "<", "<a href=\"data:text/html,x\">", "<form action=x>",
                "<base href=x>", "text", " ", "\x00",
            ]
        ),
        max_size=14,
    ).map("".join),
)  # fmt: skip
DANGER = re.compile(
    r"<\s*(script|iframe|object|embed|style|base|form|svg|math)\b|\son\w+\s*=|javascript:|data:",
    re.I,
)


@SETTINGS
@given(HTML)
def test_cleaned_html_holds_nothing_that_runs(value: str) -> None:
    for cleaned in (clean_html(value), clean_story_html(value)):
        tags = re.findall(r"<[^>]*>", cleaned)
        assert not any(DANGER.search(tag) for tag in tags), cleaned
        assert clean_html(clean_html(value)) == clean_html(value)
    assert "\n" not in to_text(value)  # text for one line of a template, which escapes it


URL_LIKE = st.builds(
    lambda scheme, rest: scheme + rest,
    st.sampled_from(["", "http:", "https://", "HTTPS://", " http://", "javascript:",
                     "JaVa\tScRiPt:", "data:", "vbscript:", "http:\t//", "\x00https://",
                     "https\u2028://", "file:///", "//", "ht tp://"]),
    st.text(max_size=20),
)  # fmt: skip


@SETTINGS
@given(URL_LIKE)
def test_web_url_keeps_only_web_addresses(value: str) -> None:
    kept = web_url(value)
    if kept is not None:
        assert kept.lower().startswith(("http:", "https:")) and not re.search(
            r"[\x00-\x20\x7f]", kept
        )


@SETTINGS
@given(st.text(max_size=120))
def test_slugs_are_safe_folder_names(name: str) -> None:
    slug = slugify(name)
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", slug) and len(slug) <= 80
