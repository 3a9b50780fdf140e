"""The tour on a touch screen: swipe the text between steps, tap the buttons, pinch the image."""

from __future__ import annotations

import pytest

from tests.test_tour_browser import assert_region_fills_view, open_tour, wait_settled

pytestmark = pytest.mark.browser


def touch(session, kind: str, points: list[tuple[float, float]]) -> None:
    session.send(
        "Input.dispatchTouchEvent",
        {
            "type": kind,
            "touchPoints": [{"x": x, "y": y, "id": i} for i, (x, y) in enumerate(points)],
        },
    )


def swipe(page, session, selector: str, dx: float) -> None:
    box = page.locator(selector).bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    touch(session, "touchStart", [(x - dx / 2, y)])
    for i in range(1, 6):
        touch(session, "touchMove", [(x - dx / 2 + dx * i / 5, y)])
    session.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


@pytest.mark.parametrize("size", ["phone", "tablet"])
def test_swiping_the_text_walks_the_steps_and_each_fits(new_page, examples_server, size):
    page, errors = open_tour(
        new_page,
        f"{examples_server.url}/fields-family/",
        size,
        has_touch=True,
        is_mobile=True,
        reduced_motion="reduce",
    )
    session = page.context.new_cdp_session(page)
    steps = page.evaluate("window.storiiies.story.steps.length")
    for number in range(1, steps):
        swipe(page, session, ".st-steps", -160)
        page.wait_for_function(f"() => window.storiiies.current === {number}")
        for panel in wait_settled(page):
            assert_region_fills_view(panel)
    swipe(page, session, ".st-steps", 160)
    page.wait_for_function(f"() => window.storiiies.current === {steps - 2}")
    # A mostly vertical drag scrolls the text; it does not change the step. Input reaches the
    # page in order, so a key after it that goes one step back, the only step change since,
    # shows that the drag moved nothing. (Not a swipe: one that comes while the scroll still
    # flings only stops the fling.)
    page.evaluate(
        "() => { window.stepChanges = 0;"
        " window.addEventListener('storiiies:step', () => window.stepChanges++); }"
    )
    box = page.locator(".st-steps").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    touch(session, "touchStart", [(x, y + 40)])
    touch(session, "touchMove", [(x - 30, y - 40)])
    session.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    page.keyboard.press("ArrowLeft")
    page.wait_for_function(f"() => window.storiiies.current === {steps - 3}")
    assert page.evaluate("window.stepChanges") == 1
    assert errors == []


def test_tapping_next_and_previous(new_page, examples_server):
    page, _ = open_tour(
        new_page, f"{examples_server.url}/coins/", "phone", has_touch=True, is_mobile=True
    )
    page.locator(".st-next").tap()
    page.wait_for_function("() => window.storiiies.current === 1")
    page.locator(".st-next").tap()
    page.wait_for_function("() => window.storiiies.current === 2")
    page.locator(".st-prev").tap()
    page.wait_for_function("() => window.storiiies.current === 1")
    # Every control a finger can reach is at least 44 px each way (WCAG 2.5.5).
    small = page.evaluate(
        """() => [...document.querySelectorAll('button, summary, .st-bar a')]
        .filter(el => el.offsetParent !== null)
        .map(el => [el.className, el.getBoundingClientRect()])
        .filter(([, r]) => r.width < 44 || r.height < 44).map(([c]) => c)"""
    )
    assert small == []


def test_pinching_the_image_zooms_it(new_page, examples_server):
    page, _ = open_tour(
        new_page,
        f"{examples_server.url}/fields-family/#step-6",
        "phone",
        has_touch=True,
        is_mobile=True,
        reduced_motion="reduce",
    )
    wait_settled(page)
    session = page.context.new_cdp_session(page)
    zoom = "window.storiiies.views()[0].zoom"
    before = page.evaluate(zoom)
    box = page.locator(".st-viewer").first.bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    touch(session, "touchStart", [(cx - 20, cy), (cx + 20, cy)])
    for i in range(1, 9):
        touch(session, "touchMove", [(cx - 20 - 10 * i, cy), (cx + 20 + 10 * i, cy)])
    session.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    page.wait_for_function(f"() => {zoom} > {before} * 1.5")
    assert page.evaluate("window.storiiies.current") == 6
