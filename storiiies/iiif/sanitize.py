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


def clean_html(value: str) -> str:
    """Sanitise `value` to the Presentation 3 HTML subset. The result is safe to emit unescaped."""
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
        link_rel="noopener noreferrer",
        url_schemes=set(LINK_SCHEMES),
    )


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
