"""Kiosk mode (docs/kiosk.md) in a real browser, with the clock shortened by
`storiiies.timeScale`: autoplay, pause on touch, return to the start when idle, the
attract loop on the home page, no way out of the kiosk, and no request off the site."""

from __future__ import annotations

from pathlib import Path

import pytest

from storiiies.build import build_site
from tests.conftest import EXAMPLES

pytestmark = pytest.mark.browser

STORY = """---
title: Two coins
summary: A short story for the kiosk.
sources:
  coins: images/coins.png
kiosk:
  step_seconds: 1
  durations: {2: 4, 3: 20}
---
The title slide.

## A helmet

![A helmeted head](coins#xywh=310,152,72,70)

Athena, or Roma.

## A face

![A face seen from the front](coins#xywh=184,166,58,56)

Hard to strike well.

## The tray

![The whole tray](coins)

Four rows of coins. See [the museum](https://www.brooklynmuseum.org/).
"""

HIDDEN = """---
title: Not in the loop
sources:
  coins: images/coins.png
kiosk:
  attract: false
---
## One

![The tray](coins)
"""

KIOSK_CONFIG = """title: Gallery screen
theme: kiosk
kiosk:
  enabled: true
  step_seconds: 2
  idle_seconds: 30
  attract_seconds: 5
"""


def kiosk_site(make_project, config: str = KIOSK_CONFIG) -> Path:
    root = make_project(
        {
            "stories/two-coins.md": STORY,
            "stories/hidden.md": HIDDEN,
            "images/coins.png": (EXAMPLES / "images" / "coins.png").read_bytes(),
        },
        config=config,
    )
    build_site(root)
    return root / "_site"


def kiosk_page(new_page, url: str, scale: float, size=(1920, 1080)):
    """The page at `url` with the kiosk's clock scaled by `scale`; the page and its errors."""
    page = new_page(viewport={"width": size[0], "height": size[1]}, has_touch=True)
    page.context.add_init_script(f"window.storiiies = {{timeScale: {scale}}};")
    # Record when each step begins, in each page load, to check the per-step durations; and,
    # across page loads of the tab, every step change and when each page was left (both on the
    # one clock of performance.timeOrigin + now).
    page.context.add_init_script(
        """(() => {
          const now = () => performance.timeOrigin + performance.now();
          const log = (entry) => sessionStorage.setItem('kioskLog', JSON.stringify(
            JSON.parse(sessionStorage.getItem('kioskLog') || '[]').concat([entry])));
          window.addEventListener('storiiies:step', e => {
            (window.stepTimes = window.stepTimes || []).push([e.detail.step, performance.now()]);
            log(['step', e.detail.step, now()]);
          });
          window.addEventListener('pagehide', () => log(['left', location.href, now()]));
        })();"""
    )
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url)
    return page, errors


def tap(page, selector: str) -> None:
    """A finger on the element's centre, sent straight to the browser: no waiting for the page
    to be still, because a kiosk never is."""
    box = page.locator(selector).first.bounding_box()
    point = {"x": box["x"] + box["width"] / 2, "y": box["y"] + box["height"] / 2, "id": 0}
    session = page.context.new_cdp_session(page)
    session.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [point]})
    session.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    session.detach()


def test_autoplay_gives_each_step_its_duration_then_returns_home(new_page, make_project, serve_dir):
    server = serve_dir(kiosk_site(make_project))
    # Scaled by 0.25: 250 ms a step, 1 s for step 2 and 5 s for the last, then home.
    page, errors = kiosk_page(new_page, f"{server.url}/two-coins/", 0.25)
    page.wait_for_function("() => window.storiiies?.go && window.storiiies.current === 3")
    assert page.evaluate("window.storiiies?.kiosk.planned") == [
        [0, 250],
        [1, 250],
        [2, 1000],
        [3, 5000],
    ]
    times = page.evaluate("window.stepTimes")
    assert [step for step, _ in times] == [0, 1, 2, 3]
    spent = {times[i][0]: times[i + 1][1] - times[i][1] for i in range(len(times) - 1)}
    assert spent[1] >= 240 and spent[2] >= 990, (
        spent
    )  # timers never fire early; a busy machine may be late
    assert page.evaluate("window.storiiies?.kiosk.playing") is True
    # After the last step the kiosk goes back to its home page and the attract loop.
    page.wait_for_url(f"{server.url}/")
    page.wait_for_function("() => window.storiiies?.kiosk && window.storiiies?.kiosk.attract")
    assert errors == []


def test_a_touch_pauses_autoplay_and_idle_returns_to_the_start(new_page, examples_server):
    # ?kiosk=1 on the plain example: 12 s steps become 1.2 s, 90 s idle becomes 9 s.
    page, _ = kiosk_page(
        new_page, f"{examples_server.url}/fields-family/?kiosk=1", 0.1, (1280, 800)
    )
    tap(page, ".st-steps")
    page.wait_for_function("() => window.storiiies?.kiosk && !window.storiiies?.kiosk.playing")
    paused = page.evaluate("performance.timeOrigin + performance.now()")
    assert page.locator(".st-play").get_attribute("aria-pressed") == "false"
    # What follows a pause is the return to the start once the screen has been idle (9 s);
    # until then, a span of the page's own clock of at least two step durations, no step
    # changes.
    page.wait_for_url(f"{examples_server.url}/?kiosk=1", timeout=60000)
    page.wait_for_function("() => window.storiiies?.kiosk && window.storiiies?.kiosk.attract")
    log = page.evaluate("JSON.parse(sessionStorage.getItem('kioskLog'))")
    left = [time for kind, _, time in log if kind == "left" and time > paused]
    assert left and left[0] - paused >= 2 * 1200, (paused, log)
    assert [entry for entry in log if entry[0] == "step" and paused < entry[2] < left[0]] == []


def test_play_button_resumes_autoplay(new_page, examples_server):
    page, _ = kiosk_page(new_page, f"{examples_server.url}/coins/?kiosk=1", 0.1, (1280, 800))
    tap(page, ".st-steps")
    page.wait_for_function("() => window.storiiies?.kiosk && !window.storiiies?.kiosk.playing")
    assert page.get_by_role("button", name="Autoplay").get_attribute("aria-pressed") == "false"
    start = page.evaluate("window.storiiies.current")
    tap(page, ".st-play")
    page.wait_for_function("() => window.storiiies?.kiosk.playing")
    page.wait_for_function(f"() => window.storiiies.current > {start}")


def test_home_attract_loop_cycles_every_story_and_a_touch_shows_them(
    new_page, make_project, serve_dir
):
    server = serve_dir(kiosk_site(make_project))
    # attract_seconds 5 → 0.5 s; idle_seconds 30 → 3 s.
    page, _ = kiosk_page(new_page, f"{server.url}/", 0.1)
    overlay = page.locator(".st-attract")
    assert overlay.is_visible()
    stories = page.evaluate(
        "JSON.parse(document.getElementById('st-kiosk-settings').textContent).stories"
    )
    assert [s["title"] for s in stories] == ["Two coins"]  # `attract: false` keeps a story out
    assert overlay.locator(".st-attract-title").inner_text() == "Two coins"
    image = overlay.locator(".st-attract-image").get_attribute("src")
    assert image.startswith("crops/")
    page.wait_for_function("() => window.storiiies?.kiosk.slidesShown >= 3")  # it loops
    overlay.tap()
    assert not overlay.is_visible()
    assert page.evaluate("document.activeElement.className") == "st-card-link"
    page.wait_for_function("() => window.storiiies?.kiosk.attract")
    assert overlay.is_visible()


def test_kiosk_keeps_visitors_inside_the_site(new_page, examples_server):
    for path in ("/?kiosk=1", "/coins/?kiosk=1", "/fields-family/?kiosk=1"):
        page, _ = kiosk_page(new_page, examples_server.url + path, 1, (1280, 800))
        page.wait_for_function("() => window.storiiies?.kiosk")
        links = page.evaluate(
            "[...document.querySelectorAll('a[href]')].map(a => [a.href, a.target])"
        )
        for href, target in links:
            assert href.startswith(examples_server.url + "/"), href
            assert not href.endswith(".json") and not href.endswith("text.html"), href
            assert target == ""
            if "#" not in href:
                assert "kiosk=1" in href, href
        assert not page.locator(".st-bar").is_visible() if path != "/?kiosk=1" else True
        assert not page.locator(".st-site-footer").is_visible()
        page.context.close()  # before the next one (the fixture closes it on a failure)


def test_kiosk_runs_with_the_network_cable_pulled(new_page, make_project, serve_dir):
    server = serve_dir(
        kiosk_site(
            make_project, KIOSK_CONFIG.replace("enabled: true", "enabled: true\n  autoplay: false")
        )
    )
    page, errors = kiosk_page(new_page, f"{server.url}/", 0.1)
    outside: list[str] = []

    def guard(route):
        if route.request.url.startswith(server.url + "/"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort("internetdisconnected")

    page.context.route("**/*", guard)
    page.reload()
    page.wait_for_function(
        "() => window.storiiies?.kiosk && window.storiiies?.kiosk.slidesShown >= 2"
    )
    page.locator(".st-attract").tap()
    page.get_by_role("link", name="Two coins").tap()
    page.wait_for_function("() => window.storiiies?.go && window.storiiies.kiosk")
    assert page.locator(".st-play").is_hidden()  # `autoplay: false`
    while page.evaluate("window.storiiies.current") < 3:
        page.keyboard.press("ArrowRight")
    page.wait_for_function(
        "() => window.storiiies?.go && window.storiiies.views()[0].items[0].loaded"
    )
    # The step's link to the museum is switched off rather than followed.
    museum = page.locator("#step-3 a", has_text="the museum")
    assert museum.get_attribute("href") is None and museum.get_attribute("aria-disabled") == "true"
    assert outside == [] and errors == []


def test_kiosk_settings_from_storiiies_yml_and_the_kiosk_theme(new_page, make_project, serve_dir):
    server = serve_dir(kiosk_site(make_project))
    page, _ = kiosk_page(new_page, f"{server.url}/two-coins/#step-1", 1)
    page.wait_for_function("() => window.storiiies?.go && window.storiiies.kiosk")
    assert page.evaluate("document.documentElement.classList.contains('st-kiosk')")
    assert page.locator('link[href$="kiosk-theme.css"]').count() == 1
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(0, 0, 0)"
    home = page.get_by_role("link", name="All stories")
    assert home.is_visible() and home.get_attribute("href") == "../"
    assert page.get_by_role("button", name="Autoplay").is_visible()
    small = page.evaluate(
        """() => [...document.querySelectorAll('button, summary, a[href]')]
        .filter(el => el.offsetParent !== null && !el.closest('dialog'))
        .map(el => [el.className || el.textContent, el.getBoundingClientRect()])
        .filter(([, r]) => r.width < 44 || r.height < 44).map(([c]) => c)"""
    )
    assert small == []
