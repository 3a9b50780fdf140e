"""The user guide stays true to the code: its links lead somewhere, the commands the getting
started guide names exist, and every message storiiies can print to an author is explained in
docs/troubleshooting.md."""

from __future__ import annotations

import ast
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from storiiies.cli import main

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PACKAGE = ROOT / "storiiies"
GUIDE_FILES = sorted(DOCS.glob("*.md")) + [ROOT / "README.md"]

# --- links ----------------------------------------------------------------------------------

_FENCE = re.compile(r"^(```|~~~)")
_INLINE_CODE = re.compile(r"(`+).+?\1")
_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def prose_lines(text: str) -> Iterator[str]:
    """The lines of a Markdown file outside fenced code blocks."""
    fenced = False
    for line in text.splitlines():
        if _FENCE.match(line.strip()):
            fenced = not fenced
            continue
        if not fenced:
            yield line


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, markup and punctuation dropped, spaces
    to hyphens (each space its own hyphen, so `a — b` becomes `a--b`)."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # links keep their text
    text = text.replace("`", "").replace("*", "")
    text = unicodedata.normalize("NFC", text).strip().lower()
    text = "".join(ch for ch in text if ch.isalnum() or ch in " -_")
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every heading anchor of a Markdown file, with GitHub's -1, -2 … for repeated ones."""
    seen: dict[str, int] = {}
    result = set()
    for line in prose_lines(path.read_text(encoding="utf-8")):
        match = _HEADING.match(line)
        if not match:
            continue
        slug = github_slug(match.group(2))
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        result.add(slug if count == 0 else f"{slug}-{count}")
    return result


@dataclass(frozen=True)
class Link:
    source: Path
    line: int
    target: str


def relative_links(path: Path) -> Iterator[Link]:
    """Links and images of `path` that point into the repository (not web or mail addresses)."""
    fenced = False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if _FENCE.match(line.strip()):
            fenced = not fenced
            continue
        if fenced:
            continue
        for match in _LINK.finditer(_INLINE_CODE.sub("", line)):
            target = match.group(1)
            if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):
                continue  # https:, mailto: …
            yield Link(path, number, target)


def test_guide_has_the_documents_readme_promises() -> None:
    for name in ("getting-started.md", "deploying.md", "troubleshooting.md", "README.md"):
        assert (DOCS / name).is_file(), name


def broken_links(path: Path) -> list[str]:
    """The relative links of `path` whose file, or heading anchor, does not exist."""
    broken = []
    for link in relative_links(path):
        file_part, _, anchor = link.target.partition("#")
        target = (path.parent / file_part).resolve() if file_part else path
        where = f"{path.name}:{link.line}: {link.target}"
        if not target.exists():
            broken.append(f"{where} (no such file)")
        elif anchor and target.suffix == ".md" and anchor not in anchors(target):
            broken.append(f"{where} (no heading with that anchor in {target.name})")
    return broken


@pytest.mark.parametrize("path", GUIDE_FILES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_leads_to_a_file_and_heading(path: Path) -> None:
    broken = broken_links(path)
    assert not broken, "\n".join(broken)


def test_broken_links_are_found(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# Other\n\n## Two words\n", encoding="utf-8")
    page = tmp_path / "page.md"
    page.write_text(
        "# Page\n\n[ok](other.md#two-words) [ok](#page) [web](https://example.org/x.md)\n"
        "[gone](missing.md) [bad anchor](other.md#three) ![img](missing.png)\n"
        "```\n[in code](nowhere.md)\n```\n`[in a span](nowhere.md)`\n",
        encoding="utf-8",
    )
    assert broken_links(page) == [
        "page.md:4: missing.md (no such file)",
        "page.md:4: other.md#three (no heading with that anchor in other.md)",
        "page.md:4: missing.png (no such file)",
    ]


def test_slugs_follow_github() -> None:
    assert github_slug("Site settings: `storiiies.yml`") == "site-settings-storiiiesyml"
    assert github_slug("1. Open a terminal") == "1-open-a-terminal"
    assert (
        github_slug("CORS errors from an institution's server")
        == "cors-errors-from-an-institutions-server"
    )
    assert github_slug('Where "the start" is') == "where-the-start-is"


def test_docs_index_lists_every_document() -> None:
    index = (DOCS / "README.md").read_text(encoding="utf-8")
    listed = {link.target.partition("#")[0] for link in relative_links(DOCS / "README.md")}
    missing = [p.name for p in DOCS.glob("*.md") if p.name != "README.md" and p.name not in listed]
    assert not missing, f"docs/README.md does not list {missing}"
    assert index.startswith("# ")


# --- commands of the getting started guide --------------------------------------------------

_COMMAND = re.compile(r"(?<![\w/.\\-])storiiies[ \t]+([a-z][a-z-]*)")


def commands_in_code(text: str) -> set[str]:
    """The words after `storiiies ` in the code blocks and code spans of a Markdown text."""
    code = re.findall(r"```[a-z]*\n(.*?)```", text, re.S)
    code += re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", text, flags=re.S))
    return {command for block in code for command in _COMMAND.findall(block)}


def test_getting_started_names_only_real_commands() -> None:
    named = commands_in_code((DOCS / "getting-started.md").read_text(encoding="utf-8"))
    assert {"new", "serve", "inspect", "check", "build"} <= named
    runner = CliRunner()
    for command in sorted(named):
        result = runner.invoke(main, [command, "--help"])
        assert result.exit_code == 0, f"`storiiies {command}` is not a command: {result.output}"


# --- messages -------------------------------------------------------------------------------

#: Calls whose message argument an author reads: (position of the message, keyword).
MESSAGE_CALLS = {
    "Problem": 1,
    "problem": 1,  # story/parse.py's self.problem(line, message, hint)
    "SourceError": 0,
    "FetchError": 0,
    "NotIIIF": 0,
    "ImageError": 0,
    "ReferenceSyntaxError": 0,
    "ContentStateError": 0,
    "UnusableService": 0,
    "EditRefused": 0,
    "SaveConflict": 0,
    "Invalid": 0,  # serve/editor.py: a 422 with a hint
    "_Unreadable": 1,  # yaml_lines.py: printed as `invalid YAML: <reason>`
    "_spec_error": 0,  # frontmatter.py: a PydanticCustomError with a hint
    "PydanticCustomError": 1,
}
_VALIDATORS = {"field_validator", "model_validator"}


@dataclass(frozen=True)
class Message:
    where: str
    shape: str  # literal pieces joined by `…` where a value is filled in


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _literal_parts(node: ast.expr) -> list[str] | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        return [
            v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)
        ]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _literal_parts(node.left), _literal_parts(node.right)
        return (left or []) + (right or []) if left is not None or right is not None else None
    return None


def message_pattern(node: ast.expr) -> str | None:
    """The shape of a message: its literal pieces in order, `…` where a value is filled in
    (`f"{url} is larger than {size}"` → `… is larger than …`). None for a message that is all
    placeholders (`f"{kind}: {error}"`, a variable): nothing in it can be documented."""
    parts = _literal_parts(node)
    if not parts or sum(ch.isalpha() for part in parts for ch in part) < 4:
        return None
    shape = "…".join(re.sub(r"\s+", " ", part) for part in parts)
    if isinstance(node, ast.JoinedStr):
        if node.values and not isinstance(node.values[0], ast.Constant):
            shape = "…" + shape
        if node.values and not isinstance(node.values[-1], ast.Constant):
            shape += "…"
    return re.sub(r"…+", "…", shape)


def _pattern(shape: str) -> re.Pattern[str]:
    """A message shape as a regular expression over one normalised line of the guide, where
    `<url>`, `N` or any other short text stands for each placeholder."""
    pieces = [re.escape(_normalised(piece)) for piece in shape.split("…")]
    return re.compile(r".{0,160}?".join(pieces))


def _message_argument(call: ast.Call, position: int) -> ast.expr | None:
    for keyword in call.keywords:
        if keyword.arg == "message":
            return keyword.value
    return call.args[position] if len(call.args) > position else None


def _is_validator(function: ast.FunctionDef) -> bool:
    for decorator in function.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if _name(target) in _VALIDATORS:
            return True
    return False


def author_messages(package: Path = PACKAGE) -> list[Message]:
    """Every message text in the package that reaches an author: the message argument of each
    Problem and storiiies error, and the ValueErrors of the settings' validators (printed as
    `'<key>' in front matter: <message>`)."""
    found = []
    for path in sorted(package.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        validators = [
            node
            for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef) and _is_validator(node)
        ]
        validator_errors = {
            id(node.exc)
            for function in validators
            for node in ast.walk(function)
            if isinstance(node, ast.Raise)
            and isinstance(node.exc, ast.Call)
            and _name(node.exc.func) == "ValueError"
        }
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = _name(node.func)
            if name in MESSAGE_CALLS:
                argument = _message_argument(node, MESSAGE_CALLS[name])
            elif id(node) in validator_errors:
                argument = node.args[0] if node.args else None
            else:
                continue
            shape = message_pattern(argument) if argument is not None else None
            if shape:
                found.append(Message(f"{path.relative_to(package.parent)}:{node.lineno}", shape))
    return found


def _normalised(text: str) -> str:
    return " ".join(text.split()).casefold()


def test_messages_are_collected_from_the_code() -> None:
    shapes = {message.shape for message in author_messages()}
    # A sample from each stage, so a change to the collector cannot silently find nothing.
    for expected in (
        "no stories found",
        "the story has no front matter",
        "… is not in the cache and --offline is set",
        "region '…' has no text alternative",
        "OpenSeadragon is not installed",
        "must be an absolute http(s) URL, e.g. https://example.org/exhibit/",
        "canvas … of '…' does not exist (…)",
    ):
        assert expected in shapes, expected
    assert len(shapes) >= 60


def test_message_shapes_match_the_guide_with_placeholders() -> None:
    pattern = _pattern("canvas … of '…' does not exist (…)")
    documented = "canvas <n> of '<alias>' does not exist (it has <count> canvases)"
    assert pattern.search(_normalised(documented))
    assert not pattern.search(_normalised("canvas <n> of '<alias>' is missing"))


def test_troubleshooting_explains_every_message() -> None:
    text = (DOCS / "troubleshooting.md").read_text(encoding="utf-8")
    lines = [_normalised(line) for line in text.splitlines()]
    missing = sorted(
        {
            f"{m.where}: {m.shape}"
            for m in author_messages()
            if not any(_pattern(m.shape).search(line) for line in lines)
        }
    )
    assert not missing, "docs/troubleshooting.md does not explain:\n" + "\n".join(missing)
