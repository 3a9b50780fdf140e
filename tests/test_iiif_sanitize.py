"""Remote HTML is untrusted: only the Presentation 3 subset survives, and labels lose all markup."""

from __future__ import annotations

import pytest

from storiiies.iiif.sanitize import clean_html, to_text


def test_the_presentation_3_subset_is_kept() -> None:
    html = (
        "<p>A <b>bold</b> <i>claim</i><br><small>small</small> <sub>2</sub><sup>3</sup> "
        '<span>span</span> <a href="https://example.org/">link</a> '
        '<img src="https://example.org/a.jpg" alt="A duck"></p>'
    )
    assert clean_html(html) == (
        "<p>A <b>bold</b> <i>claim</i><br><small>small</small> <sub>2</sub><sup>3</sup> "
        '<span>span</span> <a href="https://example.org/" rel="noopener noreferrer">link</a> '
        '<img src="https://example.org/a.jpg" alt="A duck"></p>'
    )


def test_other_tags_go_but_their_text_stays() -> None:
    assert clean_html("<div><em>Emphasis</em> and <marquee>scroll</marquee></div>") == (
        "Emphasis and scroll"
    )


def test_mailto_links_are_kept() -> None:
    assert clean_html('<a href="mailto:a@example.org">mail</a>') == (
        '<a href="mailto:a@example.org" rel="noopener noreferrer">mail</a>'
    )


def test_plain_text_passes_through_and_is_escaped_when_needed() -> None:
    assert clean_html("Fish and chips") == "Fish and chips"
    assert clean_html("Fish & chips") == "Fish &amp; chips"


def test_xss_script_tag_is_removed_with_its_content() -> None:
    assert clean_html("<p>hi<script>alert('xss')</script></p>") == "<p>hi</p>"


def test_xss_style_tag_is_removed_with_its_content() -> None:
    assert clean_html("<style>body{display:none}</style>visible") == "visible"


def test_xss_event_handler_attributes_are_removed() -> None:
    cleaned = clean_html('<img src="https://e.org/x.jpg" onerror="alert(1)"><b onclick="x()">b</b>')
    assert "onerror" not in cleaned and "onclick" not in cleaned and "alert" not in cleaned
    assert cleaned == '<img src="https://e.org/x.jpg"><b>b</b>'


@pytest.mark.parametrize(
    "href", ["javascript:alert(1)", "JaVaScRiPt:alert(1)", " javascript:alert(1)", "vbscript:x"]
)
def test_xss_javascript_href_is_removed(href: str) -> None:
    cleaned = clean_html(f'<a href="{href}">click</a>')
    assert "script" not in cleaned.lower()
    assert cleaned == '<a rel="noopener noreferrer">click</a>'


def test_xss_data_image_source_is_removed() -> None:
    cleaned = clean_html('<img src="data:image/svg+xml;base64,PHN2Zz4=" alt="x">')
    assert "data:" not in cleaned
    assert cleaned == '<img alt="x">'


def test_image_sources_must_be_http() -> None:
    assert clean_html('<img src="mailto:a@b.org">') == "<img>"
    assert clean_html('<img src="/relative.png">') == "<img>"


def test_xss_svg_onload_is_removed() -> None:
    cleaned = clean_html('<svg onload="alert(1)"><circle r="1"/></svg>text')
    assert "svg" not in cleaned and "onload" not in cleaned and "alert" not in cleaned
    assert cleaned == "text"


def test_xss_in_broken_markup_is_removed() -> None:
    for broken in (
        "<p>open <b>never closed <script>alert(1)",
        "<img src=x onerror=alert(1)//",
        "<<script>script>alert(1)<</script>/script>",
        '<a href="javascript:alert(1)"<b>x',
        "<!--<script>alert(1)</script>-->comment",
    ):
        cleaned = clean_html(broken)
        assert "<script" not in cleaned and "onerror" not in cleaned
        assert "javascript:" not in cleaned


def test_comments_are_stripped() -> None:
    assert clean_html("a<!-- secret -->b") == "ab"


def test_to_text_strips_every_tag_and_decodes_entities_once() -> None:
    assert to_text("<b>Bold</b> &amp; <i>italic</i>") == "Bold & italic"
    assert to_text("Tom &amp;amp; Jerry") == "Tom &amp; Jerry"
    assert to_text("a < b") == "a < b"


def test_to_text_drops_scripts_and_keeps_breaks_as_spaces() -> None:
    assert to_text("one<br/>two<script>alert(1)</script>") == "one two"
    assert to_text("<p>first</p><p>second</p>") == "first second"


def test_to_text_collapses_whitespace() -> None:
    assert to_text("  Leading\n\n and   trailing  ") == "Leading and trailing"


def test_escaped_markup_in_a_label_stays_text() -> None:
    # Templates autoescape labels, so text that *looks* like a tag is harmless there.
    assert to_text("&lt;script&gt;alert(1)&lt;/script&gt;") == "<script>alert(1)</script>"
