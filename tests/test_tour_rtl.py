"""Right-to-left stories (`lang: ar`, he, fa, ur …): the page reads and moves from the right."""

from __future__ import annotations

import pytest

from storiiies.build import build_site
from tests.helpers import make_image
from tests.test_tour_browser import open_tour, wait_settled

pytestmark = pytest.mark.browser

STORY = """---
title: عملات Pompeii القديمة
lang: ar
sources:
  coins: images/coins.png
---
مقدمة القصة.

## رأس في خوذة (Athena)
![رأس في خوذة](coins#xywh=100,100,200,150)

نص الخطوة الأولى.

## الوجه الآخر
![الوجه الآخر](coins#xywh=400,300,200,150)
"""

LAYOUT = """() => {
  const box = s => document.querySelector(s).getBoundingClientRect();
  const style = getComputedStyle(document.querySelector('.st-step:not([hidden]) h2, #story-title'));
  return {
    dir: document.documentElement.getAttribute('dir'),
    direction: style.direction,
    textRight: Math.round(box('.st-steps').right - box('#story-title').right),
    panelLeftOfViewer: box('.st-panel').right <= box('.st-viewers').left + 1,
    nextLeftOfPrevious: box('.st-next').right <= box('.st-prev').left,
    zoomAtLeft: box('.st-zoom').left - box('.st-viewers').left < 40,
    titleDir: document.querySelector('#story-title').getAttribute('dir'),
    nextIconFlipped: getComputedStyle(document.querySelector('.st-next svg')).transform !== 'none',
  };
}"""


@pytest.fixture
def rtl_site(make_project, serve_dir):
    root = make_project({"stories/ar.md": STORY})
    make_image(root / "images" / "coins.png", 800, 600)
    build_site(root)
    return serve_dir(root / "_site")


def test_an_arabic_story_is_laid_out_right_to_left(new_page, rtl_site):
    page, errors = open_tour(new_page, f"{rtl_site.url}/ar/", "desktop")
    wait_settled(page)
    layout = page.evaluate(LAYOUT)
    page.screenshot(path="/tmp/rtl-desktop.png")
    assert layout == {
        "dir": "rtl",
        "direction": "rtl",
        "textRight": layout["textRight"],
        "panelLeftOfViewer": True,
        "nextLeftOfPrevious": True,
        "zoomAtLeft": True,
        "titleDir": "auto",
        "nextIconFlipped": True,
    }
    assert 0 <= layout["textRight"] < 40  # the title starts at the panel's right edge
    # The arrow keys keep their meaning for the reader: left goes on, as the Next button does.
    page.keyboard.press("ArrowLeft")
    page.wait_for_function("() => window.storiiies.current === 1")
    page.keyboard.press("ArrowRight")
    page.wait_for_function("() => window.storiiies.current === 0")
    assert errors == []


def test_an_arabic_story_on_a_phone_mirrors_its_step_bar(new_page, rtl_site):
    page, errors = open_tour(new_page, f"{rtl_site.url}/ar/#step-1", "phone")
    wait_settled(page)
    layout = page.evaluate(LAYOUT)
    page.screenshot(path="/tmp/rtl-phone.png")
    assert (layout["dir"], layout["direction"]) == ("rtl", "rtl")
    assert layout["nextLeftOfPrevious"] and layout["nextIconFlipped"]
    heading = page.locator("#step-1-title")
    assert heading.get_attribute("dir") == "auto"
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    assert errors == []
