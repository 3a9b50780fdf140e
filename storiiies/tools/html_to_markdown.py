"""HTML of an annotation body → Markdown for `storiiies import`.

Paragraphs and small headings of simple inline markup (emphasis, links, code, breaks) become
Markdown, so an author can edit them; any other block is kept as raw HTML, which stories
allow. Both render back to the same HTML through the story parser, which is what makes
export → import → export give the same annotations.

The text is someone else's: nothing in it may become story structure. Markdown syntax in text
is escaped (a `## ` line would start a step, `---` under a line would make it a heading, `~~~`
would swallow the steps after it), and a raw block is always one CommonMark HTML block, whose
content Markdown leaves alone: it never holds a blank line (which would end it) and always
starts with a block-level tag (https://spec.commonmark.org/0.31.2/#html-blocks).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser

from markdown_it.common.html_blocks import block_names

#: Rewrites a link target: an exported region link back to the reference it came from, or ""
#: for a link whose words are kept without it.
LinkRewriter = Callable[[str], str]

_INLINE = {"em", "i", "strong", "b", "a", "code", "br"}
_MARKS = {"em": "*", "i": "*", "strong": "**", "b": "**", "code": "`"}
_VOID = {"br", "img", "hr", "wbr", "input", "meta", "link", "source", "area", "col"}
_ESCAPE = re.compile(r"([\\`*_\[\]<])")
_ENTITY_LIKE = re.compile(r"&(?=#?\w+;)")
#: What would start a heading, quote, list or code fence at the start of a line, or make the
#: line above a heading (a `---` or `===` underline); "1936." too.
_LINE_START = re.compile(
    r"^([ \t]*)(#{1,6}(?=\s|$)|[>+-](?=\s|$)|[=-]+(?=[ \t]*$)|~{3,}|\d+(?=[.)](?:\s|$)))",
    re.MULTILINE,
)
#: Raw HTML blocks that may hold blank lines (CommonMark's type 1): they end at their end tag.
_VERBATIM = {"pre", "script", "style", "textarea"}
_BLANK_LINE = re.compile(r"\n[ \t]*(?=\n)")


@dataclass
class Node:
    tag: str
    attrs: dict[str, str | None] = field(default_factory=dict)
    children: list[Node | str] = field(default_factory=list)
    start: int = 0
    end: int = 0


class _TreeBuilder(HTMLParser):
    """A forgiving tree of the body, with each top-level element's span in the source."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.text = text
        self.line_offsets = [0]
        for line in text.splitlines(keepends=True):
            self.line_offsets.append(self.line_offsets[-1] + len(line))
        self.root = Node("#root")
        self.stack = [self.root]

    def position(self) -> int:
        line, column = self.getpos()
        return self.line_offsets[line - 1] + column

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, dict(attrs), start=self.position())
        self.stack[-1].children.append(node)
        if tag in _VOID:
            node.end = node.start + len(self.get_starttag_text() or "")
        else:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, dict(attrs), start=self.position())
        node.end = node.start + len(self.get_starttag_text() or "")
        self.stack[-1].children.append(node)

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                end = self.text.find(">", self.position()) + 1
                for node in self.stack[depth:]:
                    node.end = end
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def html_to_markdown(html: str, rewrite: LinkRewriter = lambda href: href) -> str:
    """Markdown for `html`: blocks separated by blank lines, ending with one newline."""
    builder = _TreeBuilder(html)
    builder.feed(html)
    builder.close()
    for node in builder.stack[1:]:
        node.end = len(html)  # unclosed at the end of the text
    blocks: list[str] = []
    loose: list[Node | str] = []
    for child in builder.root.children:
        if isinstance(child, str) or child.tag in _INLINE or child.tag == "img":
            loose.append(child)  # text outside any block: a paragraph of its own
            continue
        if loose:
            blocks.append(_paragraph(loose, rewrite))
            loose = []
        blocks.append(_block(child, html, rewrite))
    if loose:
        blocks.append(_paragraph(loose, rewrite))
    return "\n\n".join(block for block in blocks if block.strip()) + "\n"


def _block(node: Node, html: str, rewrite: LinkRewriter) -> str:
    simple = _is_simple(node)
    if node.tag == "p" and simple:
        return _paragraph(node.children, rewrite)
    if node.tag in ("h3", "h4", "h5", "h6") and simple:
        return (
            "#" * int(node.tag[1])
            + " "
            + _inline(node.children, rewrite).replace("\n", " ").strip()
        )
    return _raw_block(node, html[node.start : node.end].strip())


def _raw_block(node: Node, raw: str) -> str:
    """`raw` as one HTML block that Markdown passes through whole."""
    if node.tag in _VERBATIM:
        return raw
    # A blank line would end the block and let what follows be read as Markdown; an empty
    # comment keeps the line (and the lines of a <pre> inside), and is dropped when built.
    raw = _BLANK_LINE.sub("\n<!-- -->", raw)
    # An inline element opening a line starts a paragraph, whose text Markdown would read.
    return raw if node.tag in block_names else f"<p>{raw}</p>"


def _is_simple(node: Node) -> bool:
    for child in node.children:
        if isinstance(child, str):
            continue
        if child.tag not in _INLINE or (child.tag != "a" and child.attrs) or not _is_simple(child):
            return False
        if child.tag == "a" and set(child.attrs) - {"href", "rel"}:
            return False
    return True


def _paragraph(children: list[Node | str], rewrite: LinkRewriter) -> str:
    text = _inline(children, rewrite).strip("\n")
    return _LINE_START.sub(_escape_line_start, text)


def _escape_line_start(match: re.Match[str]) -> str:
    space, marker = match.group(1), match.group(2)
    if marker[0].isdigit():
        return f"{space}{marker}\\"  # the escape goes before the "." or ")" that follows
    return f"{space}\\{marker}"


def _inline(children: list[Node | str], rewrite: LinkRewriter) -> str:
    parts = []
    for index, child in enumerate(children):
        if isinstance(child, str):
            text = _ESCAPE.sub(r"\\\1", child)
            parts.append(_ENTITY_LIKE.sub(r"\\&", text))
        elif child.tag == "br":
            parts.append("\\")
            following = children[index + 1] if index + 1 < len(children) else ""
            if not (isinstance(following, str) and following.startswith("\n")):
                parts.append("\n")
        elif child.tag == "a":
            href = rewrite(child.attrs.get("href") or "")
            if not href:  # no address, or none a story may link to: the words stay
                parts.append(_inline(child.children, rewrite))
                continue
            target = f"<{href}>" if re.search(r"[\s()<>]", href) else href
            parts.append(f"[{_inline(child.children, rewrite)}]({target})")
        elif child.tag == "code":
            code = "".join(c for c in child.children if isinstance(c, str))
            fence = "``" if "`" in code else "`"
            parts.append(f"{fence}{code}{fence}")
        else:
            mark = _MARKS.get(child.tag, "")
            parts.append(f"{mark}{_inline(child.children, rewrite)}{mark}")
    return "".join(parts)
