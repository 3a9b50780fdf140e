"""The embed view in an iframe on another site: it fills the frame, keeps deep links and tells
the host page about every step change (docs/embedding.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_tour_browser import assert_region_fills_view, open_tour

pytestmark = pytest.mark.browser

HOST_PAGE = """<!doctype html><html lang="en"><head><title>A course page</title></head><body>
<h1>Week 3</h1>
<iframe id="tour" src="{src}" title="Guided tour" width="640" height="420" style="border:0"
  allow="fullscreen"></iframe>
<script>
  window.messages = [];
  window.addEventListener("message", (event) => window.messages.push(event.data));
</script>
</body></html>
"""


@pytest.fixture
def host_server(serve_dir, tmp_path: Path, examples_server):
    """A page on a different origin (another port) that embeds the example's fields-family story."""

    def make(fragment: str = ""):
        (tmp_path / "index.html").write_text(
            HOST_PAGE.format(src=f"{examples_server.url}/fields-family/embed.html{fragment}"),
            encoding="utf-8",
        )
        return serve_dir(tmp_path)

    return make


def test_embed_posts_step_changes_to_the_host_page_and_keeps_deep_links(new_page, host_server):
    host = host_server("#step-2")
    page = new_page(viewport={"width": 900, "height": 700})
    page.goto(host.url + "/")
    page.wait_for_function("() => window.messages.some(m => m.type === 'storiiies:step')")
    first = page.evaluate("window.messages.filter(m => m.type === 'storiiies:step')[0]")
    assert first["step"] == 2 and first["story"] == "fields-family" and first["title"] == "Ellen"
    assert first["total"] == 6 and first["url"].endswith("/fields-family/#step-2")

    frame = page.frame_locator("#tour")
    frame.get_by_role("button", name="Next step").click()
    page.wait_for_function("() => window.messages.some(m => m.step === 3)")
    # The host can drive the tour too.
    page.evaluate(
        "document.getElementById('tour').contentWindow"
        ".postMessage({type: 'storiiies:go', step: 5}, '*')"
    )
    page.wait_for_function(
        "() => window.messages.some(m => m.step === 5 && m.title === 'Someone at the door')"
    )
    inner = page.frames[1]
    assert inner.evaluate("location.hash") == "#step-5"


def test_embed_fills_its_frame_and_fits_regions(new_page, host_server):
    host = host_server("#step-4")
    page = new_page(viewport={"width": 900, "height": 700})
    page.goto(host.url + "/")
    inner = page.frame_locator("#tour")
    inner.locator(".st-viewer").first.wait_for()
    frame = page.frames[1]
    frame.wait_for_function(
        "() => window.storiiies?.go && window.storiiies.current === 4 && window.storiiies.views()"
        ".filter(v => !v.hidden)"
        ".every(v => v.settled)"
    )
    size = frame.evaluate(
        "({w: document.documentElement.scrollWidth, h: document.documentElement.scrollHeight,"
        " body: document.body.getBoundingClientRect().height})"
    )
    assert size == {"w": 640, "h": 420, "body": 420}
    from tests.test_tour_browser import GEOMETRY

    for panel in frame.evaluate(GEOMETRY):
        assert_region_fills_view(panel)
    # The site bar gives way to one link out, which opens the full tour in a new window.
    link = inner.get_by_role("link", name="Open the full tour")
    assert link.get_attribute("target") == "_blank"
    assert inner.locator(".st-open-embed").count() == 0


def test_tour_page_offers_a_ready_to_paste_snippet(new_page, examples_server):
    page, _ = open_tour(new_page, f"{examples_server.url}/coins/")
    page.get_by_role("button", name="Embed").click()
    dialog = page.get_by_role("dialog", name="Embed this story")
    assert dialog.is_visible()
    code = dialog.get_by_label("Embed code").input_value()
    assert code.startswith(
        f'<iframe src="{examples_server.url}/coins/embed.html" title="Coins of Pompeii"'
    )
    assert 'allow="fullscreen' in code
    page.context.grant_permissions(
        ["clipboard-read", "clipboard-write"], origin=examples_server.url
    )
    dialog.get_by_role("button", name="Copy code").click()
    page.wait_for_function(
        "() => document.querySelector('.st-live').textContent === 'Embed code copied'"
    )
    assert page.evaluate("navigator.clipboard.readText()") == code
    page.keyboard.press("Escape")
    assert not dialog.is_visible()
    # The credits dialog shows the same sources as the title slide.
    page.get_by_role("button", name="Credits").click()
    credits = page.get_by_role("dialog", name="Sources and rights")
    assert "Greek coins from Pompeii" in credits.inner_text()
