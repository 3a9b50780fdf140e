"""Make remote manifest text safe to put in our pages.

Manifests are written by strangers, so their HTML is untrusted. Presentation 3 (§4.4) allows only a
small subset of HTML in summaries, requiredStatement values and metadata values; everything else is
plain text. `clean_html` keeps exactly that subset, `to_text` keeps none of it.
"""

from __future__ import annotations

import html
import re

import nh3

ALLOWED_TAGS = frozenset({"a", "b", "br", "i", "img", "p", "small", "span", "sub", "sup"})
ALLOWED_ATTRIBUTES = {"a": {"href"}, "img": {"src", "alt"}}
LINK_SCHEMES = frozenset({"http", "https", "mailto"})
# script and style are dropped with their content; other disallowed tags keep their text.
DROP_WITH_CONTENT = frozenset({"script", "style"})

_URL_ATTRIBUTE_SCHEMES = {
    ("a", "href"): ("http:", "https:", "mailto:"),
    ("img", "src"): ("http:", "https:"),
}
_CONTROL = re.compile(r"[\x00-\x20\x7f]")
_LINE_BREAK = re.compile(r"<\s*br\s*/?\s*>|</\s*p\s*>", re.IGNORECASE)
_SPACES = re.compile(r"\s+")
_NEEDS_CLEANING = re.compile(r"[<>&]")


def _absolute_urls_only(tag: str, attribute: str, value: str) -> str | None:
    # nh3 already drops unknown schemes; this also drops relative URLs, which would resolve
    # against our own site rather than the manifest's, and keeps img sources to http(s).
    schemes = _URL_ATTRIBUTE_SCHEMES.get((tag, attribute))
    if schemes is None:
        return value
    return value if value.strip().lower().startswith(schemes) else None


def clean_html(value: str, link_rel: str | None = "noopener noreferrer") -> str:
    """Sanitise `value` to the Presentation 3 HTML subset. The result is safe to emit unescaped.

    `link_rel` is added to links, for our pages; None for a manifest, where only href counts."""
    if not _NEEDS_CLEANING.search(value):
        return value
    return nh3.clean(
        value,
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(DROP_WITH_CONTENT),
        # "*" empty: without it ammonia also keeps `lang` and `title` on every tag.
        attributes={"*": set(), **{tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()}},
        attribute_filter=_absolute_urls_only,
        strip_comments=True,
        link_rel=link_rel,
        url_schemes=set(LINK_SCHEMES),
    )


#: Blocks become paragraphs and emphasis the subset's own tags; other tags leave their text.
_HEADING_START = re.compile(r"<h[1-6]\b[^>]*>", re.IGNORECASE)
_HEADING_END = re.compile(r"</h[1-6]\s*>", re.IGNORECASE)
_AS_PARAGRAPH = re.compile(
    r"<(/?)(?:li|dt|dd|blockquote|div|section|figure|figcaption|pre|details|summary"
    r"|tr|caption)\b[^>]*>",
    re.IGNORECASE,
)
_AS_SUBSET = {"strong": "b", "em": "i"}
_SUBSET_RENAMED = re.compile(r"<(/?)(strong|em)\b[^>]*>", re.IGNORECASE)
_PARAGRAPH_EDGE = re.compile(r"\s*(</?p>)\s*")
_EMPTY_PARAGRAPH = re.compile(r"<p>(?:\s|<br>)*</p>")
_IMAGE_WITHOUT_SOURCE = re.compile(r"<img(?: alt=\"[^\"]*\")?>")


def presentation_html(value: str) -> str:
    """Our own HTML (a story step) in the Presentation 3 subset, for a manifest: a heading
    becomes a paragraph in bold, list items and other blocks paragraphs, `strong` and `em`
    `b` and `i`, and anything else keeps only its text (clean_html)."""
    value = _HEADING_END.sub("</b></p>", _HEADING_START.sub("<p><b>", value))
    value = _AS_PARAGRAPH.sub(r"<\1p>", value)
    value = _SUBSET_RENAMED.sub(lambda m: f"<{m.group(1)}{_AS_SUBSET[m.group(2).lower()]}>", value)
    value = clean_html(value, link_rel=None)
    value = _IMAGE_WITHOUT_SOURCE.sub("", value)  # its src was not a web address
    value = _PARAGRAPH_EDGE.sub(r"\1", value)
    return _EMPTY_PARAGRAPH.sub("", value).strip()


def text_as_html(text: str) -> str:
    """Plain `text` for a property whose values may be HTML (a summary, a metadata or
    requiredStatement value). Per Presentation 3 §4.4 a value is HTML when it starts with `<`
    and ends with `>`; viewers such as Mirador render any such value as HTML. Text that holds
    `<`, `>` or an entity is therefore written as one escaped `<span>`, shown literally by both."""
    if not re.search(r"[<>]|&#?\w+;", text):
        return text
    return f"<span>{html.escape(text, quote=False)}</span>"


def html_value(value: str) -> str:
    """Sanitised HTML for such a property, wrapped in a `<span>` when it holds markup or an
    entity but would not start with `<` and end with `>` (and so be read as text)."""
    value = clean_html(value, link_rel=None)
    if re.search(r"[<&]", value) and not (value.startswith("<") and value.endswith(">")):
        return f"<span>{value}</span>"
    return value


def text_only(text: str) -> str:
    """Plain `text` for a property that is never HTML (a label). It is written as it is, but
    never as a value that starts with `<` and ends with `>`, which a lenient viewer would take
    for HTML: a WORD JOINER (U+2060, invisible) goes first."""
    return f"\u2060{text}" if text.startswith("<") and text.endswith(">") else text


def to_text(value: str) -> str:
    """Plain text of `value`: tags stripped, entities decoded once, whitespace collapsed.

    The result is *not* escaped: templates autoescape it, so decoding here avoids `&amp;amp;`.
    """
    if _NEEDS_CLEANING.search(value):
        # A line break between words should stay a space once the tags are gone.
        spaced = _LINE_BREAK.sub(" ", value)
        stripped = nh3.clean(spaced, tags=set(), clean_content_tags=set(DROP_WITH_CONTENT))
        value = html.unescape(stripped)
    return _SPACES.sub(" ", value).strip()


def web_url(value: str | None, schemes: tuple[str, ...] = ("http", "https")) -> str | None:
    """`value` if it is an absolute URL with one of `schemes`, else None.

    Manifest URLs end up in `href` and `src` attributes, where autoescaping does not stop a
    `javascript:` or `data:` URL. Browsers drop tabs and newlines inside URLs, so a URL holding
    any control character or space is refused rather than guessed at.
    """
    if value is None:
        return None
    value = value.strip()
    if _CONTROL.search(value):
        return None
    scheme, colon, _ = value.partition(":")
    return value if colon and scheme.lower() in schemes else None
