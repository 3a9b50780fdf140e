"""`storiiies serve` in a real headless Chromium: a saved edit reloads the open tour on the same
step, problems appear over the page and go once fixed, and the region picker writes references."""

from __future__ import annotations

import re

import pytest

from tests.helpers import make_image
from tests.test_livereload import STORY, save

pytestmark = pytest.mark.browser


@pytest.fixture
def project(make_project):
    root = make_project({"stories/alpha.md": STORY.format(title="Alpha")})
    make_image(root / "images" / "grad.jpg")
    return root


@pytest.fixture
def page(new_page):
    page = new_page(viewport={"width": 1200, "height": 800})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    assert errors == []


def open_tour(page, url: str) -> None:
    page.goto(url)
    page.wait_for_function("() => window.storiiies?.preview && window.storiiies?.preview.connected")
    page.wait_for_function(
        """() => window.storiiies?.go && window.storiiies.views().length && window.storiiies.views()
          .filter(v => !v.hidden)
          .every(v => v.settled)"""
    )


def test_a_saved_edit_reloads_the_tour_on_the_same_step(project, preview_server, page):
    server = preview_server(project)
    open_tour(page, f"{server.url}/alpha/#step-2")
    story = project / "stories" / "alpha.md"
    save(story, story.read_text().replace("## Second look\n", "## Second look\nFresh words.\n"))
    page.wait_for_function(
        "() => document.querySelector('#step-2').textContent.includes('Fresh words.')"
    )
    page.wait_for_function("() => window.storiiies?.go && window.storiiies.current === 2")
    assert page.url.endswith("/alpha/#step-2")


def test_problems_show_over_the_page_and_go_once_fixed(project, preview_server, page):
    server = preview_server(project)
    open_tour(page, f"{server.url}/alpha/#step-1")
    page.evaluate("() => { window.notReloaded = true; }")
    story = project / "stories" / "alpha.md"
    good = story.read_text()
    save(story, good.replace("grad#xywh=0,0,200,150", "grad#xywh=0,0,9000,150"))
    overlay = page.locator(".sts-overlay")
    overlay.wait_for()
    text = overlay.inner_text()
    assert "1 error" in text and "last good version" in text
    assert "stories/alpha.md:12:20" in text
    assert "region 0,0,9000,150 is outside canvas 1 of 'grad' (800×600)" in text
    assert "the canvas is 800×600 pixels" in text  # the hint
    assert "![The dark corner](grad#xywh=0,0,9000,150)" in text  # the author's line
    save(story, good)
    overlay.wait_for(state="detached")
    assert page.evaluate("() => window.notReloaded") is True  # same content: nothing to reload


def test_the_error_page_of_a_first_failed_build_turns_into_the_story(
    make_project, preview_server, page
):
    root = make_project({"stories/alpha.md": STORY.format(title="Alpha").replace("grad#", "gard#")})
    make_image(root / "images" / "grad.jpg")
    server = preview_server(root)
    page.goto(f"{server.url}/alpha/")
    assert "unknown source 'gard'" in page.inner_text("main")
    page.wait_for_function("() => window.storiiies?.preview && window.storiiies?.preview.connected")
    save(root / "stories" / "alpha.md", STORY.format(title="Alpha"))
    page.wait_for_function("() => window.storiiies?.go && window.storiiies.story.slug === 'alpha'")


def test_region_picker_gives_the_reference_and_inserts_it(project, preview_server, page):
    server = preview_server(project)
    open_tour(page, f"{server.url}/alpha/#step-1")
    page.get_by_role("button", name="Pick a region").click()
    # Where canvas pixels (40, 30) and (160, 120) are on screen (the step shows 0,0,200,150).
    corners = page.evaluate(
        """() => {
      const view = window.storiiies.views()[0];
      const rect = document.getElementById(view.id).getBoundingClientRect();
      const scale = view.size.w / view.bounds.w;  // screen pixels per canvas pixel
      return [[40, 30], [160, 120]].map(([x, y]) => [
        rect.left + (x - view.bounds.x) * scale, rect.top + (y - view.bounds.y) * scale,
      ]);
    }"""
    )
    page.mouse.move(*corners[0])
    page.mouse.down()
    page.mouse.move(*corners[1], steps=5)
    page.mouse.up()
    code = page.locator(".sts-code")
    match = re.fullmatch(r"!\[\]\(grad#xywh=(\d+),(\d+),(\d+),(\d+)\)", code.input_value())
    assert match, code.input_value()
    region = [int(n) for n in match.groups()]
    assert all(abs(n - m) <= 1 for n, m in zip(region, (40, 30, 120, 90), strict=True)), region
    page.locator(".sts-alt").fill("A middle patch")
    picked = code.input_value()
    assert picked.startswith("![A middle patch](grad#xywh=")
    # The insert changes the story, so the page may reload before the browser has read the
    # server's reply: the reply is taken on its way to the page, where it cannot be lost.
    replies = []

    def keep_reply(route) -> None:  # type: ignore[no-untyped-def]
        reply = route.fetch()
        replies.append(reply)
        route.fulfill(response=reply)

    page.route("**/_storiiies/insert", keep_reply)
    page.get_by_role("button", name="Insert into step 1").click()
    # The story reloads on the same step, now comparing the two regions.
    page.wait_for_function(
        "() => window.storiiies?.go && window.storiiies.story.steps[1].views.length === 2"
    )
    assert page.evaluate("() => window.storiiies.current") == 1
    [reply] = replies
    assert reply.json() == {"file": "stories/alpha.md", "line": 12, "markdown": picked}
    lines = (project / "stories" / "alpha.md").read_text().splitlines()
    assert lines[10:12] == ["## First look", picked]


def test_use_this_view_takes_the_region_on_screen(project, preview_server, page):
    server = preview_server(project)
    open_tour(page, f"{server.url}/alpha/#step-2")
    page.get_by_role("button", name="Use this view").click()
    value = page.locator(".sts-code").input_value()
    x, y, w, h = map(
        int, re.fullmatch(r"!\[\]\(grad#xywh=(\d+),(\d+),(\d+),(\d+)\)", value).groups()
    )
    # The step shows 600,450,200,150 fitted into a wider panel: the view contains it, clipped
    # to the canvas (800×600).
    assert x <= 600 and y <= 450 and x + w >= 799 and y + h >= 599
