"""The built example in a real headless Chromium: every step shows its region, at every size."""

from __future__ import annotations

import json

import pytest

from storiiies.build import build_site

pytestmark = pytest.mark.browser

#: Desktop, tablet (portrait), phone: the sizes the tour is designed for.
SIZES = {"desktop": (1280, 800), "tablet": (768, 1024), "phone": (320, 640)}

# For each visible panel: the viewer's bounds and the step's region, in viewport units (canvas
# widths), plus whether the zoom is at its limit (twice the image's native resolution).
GEOMETRY = """
() => window.storiiies.views().filter(v => !v.hidden).map(v => {
  const canvas = window.storiiies.story.canvases[v.canvas];
  const r = v.region || [0, 0, canvas.width, canvas.height];
  const b = v.bounds;
  const element = document.getElementById(v.id);
  const box = element.getBoundingClientRect();
  return {
    bounds: [b.x, b.y, b.w, b.h].map(n => n / canvas.width),
    region: r.map(n => n / canvas.width),
    atMaxZoom: v.zoom >= v.maxZoom * 0.98,
    settled: element.getAttribute("data-settled"),
    box: [box.x, box.y, box.width, box.height],
  };
})
"""


def assert_region_fills_view(panel: dict) -> None:
    bx, by, bw, bh = panel["bounds"]
    rx, ry, rw, rh = panel["region"]
    slack = 0.01 * max(bw, bh)
    if panel["atMaxZoom"]:
        # Too small to fill the view without magnifying past 2× native: centred instead.
        assert abs((bx + bw / 2) - (rx + rw / 2)) < slack + 0.02 * bw, panel
        assert abs((by + bh / 2) - (ry + rh / 2)) < slack + 0.02 * bh, panel
        return
    assert rx >= bx - slack and ry >= by - slack, panel
    assert rx + rw <= bx + bw + slack and ry + rh <= by + bh + slack, panel
    assert max(rw / bw, rh / bh) >= 0.95, panel


def wait_settled(page) -> list[dict]:
    page.wait_for_function(
        "() => window.storiiies?.go && window.storiiies.views().filter(v => !v.hidden)"
        ".every(v => v.settled)"
    )
    return page.evaluate(GEOMETRY)


# Every visible viewer has taken its element's new size, and what a resize does after that
# (refit the region, or keep the reader's zoom) is done: the tour marks it settled again.
RESIZED = """
() => window.storiiies.views().filter(v => !v.hidden).every(v => {
  const element = document.getElementById(v.id);
  return v.size.w === element.clientWidth && v.size.h === element.clientHeight && v.settled;
})
"""


def wait_resized(page) -> list[dict]:
    page.wait_for_function(RESIZED)
    return page.evaluate(GEOMETRY)


def open_tour(new_page, url: str, size: str = "desktop", **options):
    """The tour at `url` in a fresh context of the `new_page` fixture; the page and the errors
    it throws."""
    width, height = SIZES[size]
    page = new_page(viewport={"width": width, "height": height}, **options)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url)
    page.wait_for_function("() => window.storiiies !== undefined")
    return page, errors


def assert_no_horizontal_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("story", ["coins", "fields-family"])
def test_keyboard_walks_every_step_and_each_fits_its_region(new_page, examples_server, story, size):
    # The fly-to animation runs on the desktop walk; the others move at once (same fit, less time).
    motion = "no-preference" if size == "desktop" else "reduce"
    page, errors = open_tour(
        new_page, f"{examples_server.url}/{story}/", size, reduced_motion=motion
    )
    steps = page.evaluate("() => window.storiiies.story.steps.length")
    assert steps >= 4
    for number in range(steps):
        if number:
            page.keyboard.press("ArrowRight")
        page.wait_for_function(f"() => window.storiiies.current === {number}")
        panels = wait_settled(page)
        expected = page.evaluate(f"() => window.storiiies.story.steps[{number}].views.length")
        assert len(panels) == expected
        for panel in panels:
            assert_region_fills_view(panel)
        if len(panels) == 2:
            (x1, y1, w1, h1), (x2, y2, _, _) = panels[0]["box"], panels[1]["box"]
            # Side by side where there is room, one above the other on phones.
            assert (y2 >= y1 + h1 - 1) if size == "phone" else (x2 >= x1 + w1 - 1)
        assert page.url.endswith(f"#step-{number}") or number == 0
        assert page.locator(f"#step-{number}").is_visible()
        assert_no_horizontal_scroll(page)
    # Home and End jump to the ends; the last step keeps Next focusable but inert.
    page.keyboard.press("Home")
    page.wait_for_function("() => window.storiiies.current === 0")
    page.keyboard.press("End")
    page.wait_for_function(f"() => window.storiiies.current === {steps - 1}")
    assert page.locator(".st-next").get_attribute("aria-disabled") == "true"
    assert errors == []


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_every_control_is_reachable_by_tab_with_a_visible_focus_ring(
    new_page, examples_server, size
):
    page, _ = open_tour(new_page, f"{examples_server.url}/coins/#step-1", size)
    wait_settled(page)
    seen = []
    for _ in range(40):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            """() => { const el = document.activeElement; const style = getComputedStyle(el);
            const box = el.getBoundingClientRect();
            return {cls: el.className && el.className.baseVal === undefined ? el.className : '',
                    tag: el.tagName, outline: style.outlineStyle,
                    width: parseFloat(style.outlineWidth),
                    shadow: style.boxShadow, visible: box.width > 0 && box.height > 0}; }"""
        )
        if focused["tag"] == "BODY":
            continue
        assert focused["visible"], focused
        assert (focused["outline"] != "none" and focused["width"] >= 2) or focused[
            "shadow"
        ] != "none", focused
        seen.append(focused["cls"])
    names = " ".join(seen)
    for control in (
        "st-skip",
        "st-zoom-in",
        "st-zoom-out",
        "st-zoom-reset",
        "st-fullscreen",
        "st-prev",
        "st-next",
        "st-open-credits",
        "st-open-embed",
        "st-copy-link",
        "openseadragon-canvas",
    ):
        assert control in names, (control, seen)


ZOOM = "() => window.storiiies.views()[0].zoom"


def zoom_in_with_plus(page) -> float:
    """Once the step has settled, press "+" and wait for the zoom; the zoom it started from."""
    wait_settled(page)
    start = page.evaluate(ZOOM)
    page.keyboard.press("+")
    page.wait_for_function(f"() => ({ZOOM})() > {start} * 1.3")
    return start


def test_zoom_keys_and_buttons_zoom_and_zero_returns_to_the_region(new_page, examples_server):
    page, _ = open_tour(
        new_page, f"{examples_server.url}/fields-family/#step-1", reduced_motion="reduce"
    )
    start = zoom_in_with_plus(page)
    page.keyboard.press("0")
    page.wait_for_function(f"() => Math.abs(({ZOOM})() - {start}) < {start} * 0.01")
    page.get_by_role("button", name="Zoom out").click()
    page.wait_for_function(f"() => ({ZOOM})() < {start} * 0.8")
    page.get_by_role("button", name="Show the whole region").click()
    for panel in wait_settled(page):
        assert_region_fills_view(panel)
    # Arrow keys pan a focused viewer instead of changing step: one key press does one or the
    # other, so once the view has panned right the step is known.
    centre = "() => { const to = window.storiiies.views()[0].target; return to.x + to.w / 2; }"
    page.locator(".openseadragon-canvas").first.focus()
    before = page.evaluate(centre)
    page.keyboard.press("ArrowRight")
    page.wait_for_function(f"() => ({centre})() > {before}")
    assert page.evaluate("window.storiiies.current") == 1


def test_resizing_the_window_refits_the_region(new_page, examples_server):
    page, _ = open_tour(
        new_page, f"{examples_server.url}/fields-family/#step-2", reduced_motion="reduce"
    )
    wait_settled(page)
    for width, height in [(700, 900), (1600, 600), (360, 740)]:
        page.set_viewport_size({"width": width, "height": height})
        for panel in wait_resized(page):
            assert_region_fills_view(panel)


def test_a_readers_zoom_survives_a_resize_until_the_next_step(new_page, examples_server):
    page, _ = open_tour(
        new_page, f"{examples_server.url}/fields-family/#step-1", reduced_motion="reduce"
    )
    start = zoom_in_with_plus(page)
    # A resize (rotating a tablet, a toolbar appearing) keeps what the reader chose …
    page.set_viewport_size({"width": 1200, "height": 760})
    wait_resized(page)
    assert page.evaluate(ZOOM) > start * 1.3
    # … and the next step fits its region again, as does a resize after it.
    page.keyboard.press("ArrowRight")
    page.wait_for_function("() => window.storiiies.current === 2")
    page.set_viewport_size({"width": 1280, "height": 800})
    for panel in wait_resized(page):
        assert_region_fills_view(panel)


def test_reduced_motion_moves_at_once(new_page, examples_server):
    page, _ = open_tour(new_page, f"{examples_server.url}/fields-family/", reduced_motion="reduce")
    wait_settled(page)
    assert page.evaluate("window.storiiies.reduceMotion") is True
    # The moment the step's move is made, the view is already where it is going: no frame of
    # it is left to animate (measured in the page, so a busy machine cannot blur it).
    still_moving = page.evaluate(
        """() => window.storiiies.go(3).then(() => window.storiiies.views()
             .filter(v => !v.hidden)
             .map(v => [v.bounds, v.target, window.storiiies.story.canvases[v.canvas].width])
             .filter(([now, target, width]) => (Math.abs(now.x - target.x)
               + Math.abs(now.y - target.y) + Math.abs(now.w - target.w)
               + Math.abs(now.h - target.h)) / width > 1e-9)
             .length)"""
    )
    assert still_moving == 0
    assert page.evaluate("window.storiiies.current") == 3
    for panel in wait_settled(page):  # the settled mark follows on the viewer's next frame
        assert_region_fills_view(panel)


def test_deep_link_opens_a_step_and_back_walks_back(new_page, examples_server):
    page, _ = open_tour(new_page, f"{examples_server.url}/fields-family/#step-3", "tablet")
    page.wait_for_function("() => window.storiiies.current === 3")
    assert page.locator("#step-3 h2").inner_text() == "Bud"
    page.keyboard.press("ArrowRight")
    page.wait_for_function("() => window.storiiies.current === 4")
    page.get_by_role("button", name="Next step").click()
    page.wait_for_function("() => window.storiiies.current === 5")
    page.go_back()
    page.wait_for_function("() => window.storiiies.current === 4")
    page.go_back()
    page.wait_for_function("() => window.storiiies.current === 3")
    page.go_forward()
    page.wait_for_function("() => window.storiiies.current === 4")


def test_step_list_shows_progress_and_jumps_to_a_step(new_page, examples_server):
    page, _ = open_tour(new_page, f"{examples_server.url}/fields-family/", "phone")
    # The title slide is not a step: it reads "Title", never "Step 0 of 6".
    assert page.locator(".st-toc summary").inner_text().startswith("Title")
    assert "Step 0" not in page.locator(".st-toc summary").inner_text()
    page.locator(".st-toc summary").click()
    page.get_by_role("link", name="Someone at the door").click()
    page.wait_for_function("() => window.storiiies.current === 5")
    assert page.locator(".st-toc summary").inner_text().startswith("Step 5 of 6")
    assert page.locator('.st-toc a[aria-current="step"]').text_content() == "Someone at the door"
    assert page.evaluate("document.activeElement.id") == "step-5-title"
    page.keyboard.press("Home")
    page.wait_for_function("() => window.storiiies.current === 0")
    assert page.locator(".st-toc summary").inner_text().startswith("Title")


def test_live_region_announces_step_changes(new_page, examples_server):
    page, _ = open_tour(new_page, f"{examples_server.url}/coins/")
    assert page.locator(".st-live").get_attribute("aria-live") == "polite"
    page.get_by_role("button", name="Next step").click()
    page.wait_for_function("() => window.storiiies.current === 1")
    page.wait_for_function(
        "() => document.querySelector('.st-live').textContent === 'Step 1 of 4: A god in a helmet'"
    )
    assert "helmeted head" in page.locator("#st-region-alt").inner_text()
    label = page.locator(".openseadragon-canvas").first.get_attribute("aria-label")
    alt = "A helmeted head in profile, facing right, on a large bronze coin"
    assert label == f"Deep-zoom image 1 of 1: {alt}"


def test_fullscreen_button_and_escape(new_page, examples_server):
    page, _ = open_tour(new_page, f"{examples_server.url}/coins/#step-2")
    button = page.get_by_role("button", name="Full screen")
    button.click()
    page.wait_for_function("() => document.documentElement.classList.contains('st-immersive')")
    assert button.get_attribute("aria-pressed") == "true"
    assert not page.locator(".st-bar").is_visible()
    page.keyboard.press("Escape")
    page.wait_for_function("() => !document.documentElement.classList.contains('st-immersive')")
    assert page.evaluate("document.fullscreenElement") is None
    assert page.locator(".st-bar").is_visible()


def test_copy_link_button_copies_the_steps_address(new_page, examples_server):
    page, _ = open_tour(new_page, f"{examples_server.url}/coins/#step-2")
    page.context.grant_permissions(
        ["clipboard-read", "clipboard-write"], origin=examples_server.url
    )
    page.locator("#step-2").get_by_role("button", name="Copy link to this step").click()
    page.wait_for_function("() => document.querySelector('.st-live').textContent === 'Link copied'")
    assert page.evaluate("navigator.clipboard.readText()") == f"{examples_server.url}/coins/#step-2"


def test_tiles_load_from_the_site_itself(new_page, examples_server):
    page, _ = open_tour(new_page, f"{examples_server.url}/fields-family/#step-1")
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.reload()
    wait_settled(page)
    page.wait_for_function("() => window.storiiies.views()[0].items[0].loaded")
    assert requests and all(url.startswith(examples_server.url) for url in requests), requests
    assert any("/images/" in url and url.endswith("default.jpg") for url in requests)


def test_comparison_panels_move_together(new_page, examples_server):
    page, _ = open_tour(
        new_page, f"{examples_server.url}/fields-family/#step-4", reduced_motion="reduce"
    )
    first, _second = wait_settled(page)
    fitted = page.evaluate(ZOOM)
    x, y, w, h = first["box"]
    page.mouse.move(x + w / 2, y + h / 2)
    page.mouse.down()
    page.mouse.move(x + w / 2 - 120, y + h / 2 - 60, steps=6)
    page.mouse.up()
    page.mouse.wheel(0, -300)
    # The wheel comes after the drag: once it has zoomed, and every panel is still, both are done.
    page.wait_for_function(
        f"""() => ({ZOOM})() > {fitted} * 1.05 && window.storiiies.views()
          .filter(v => !v.hidden).every(v => {{
            const now = v.bounds, target = v.target;
            const width = window.storiiies.story.canvases[v.canvas].width;
            return v.settled
              && (Math.abs(now.x - target.x) + Math.abs(now.y - target.y)
               + Math.abs(now.w - target.w)) / width < 1e-9;
          }})"""
    )
    left, right = page.evaluate(GEOMETRY)
    assert left["bounds"] != first["bounds"]  # the reader moved the first panel …

    def relative(panel):  # … and the view, relative to each panel's own region, is the same
        bx, by, bw, _ = panel["bounds"]
        rx, ry, rw, _ = panel["region"]
        return [(bx - rx) / rw, (by - ry) / rw, bw / rw]

    for a, b in zip(relative(left), relative(right), strict=True):
        assert abs(a - b) < 0.02, (relative(left), relative(right))


SETTLED_LOG = """
() => {
  window.settledLog = [];
  const element = document.getElementById(window.storiiies.views()[0].id);
  new MutationObserver(() => {
    if (element.getAttribute("data-settled") !== "true") return;
    const view = window.storiiies.views()[0];
    window.settledLog.push({
      step: window.storiiies.current,
      canvas: view.canvas,
      images: window.storiiies.story.canvases[view.canvas].images.length,
      items: view.items.length,
    });
  }).observe(element, { attributes: true, attributeFilter: ["data-settled"] });
}
"""


def test_settled_waits_until_a_new_canvas_has_opened(new_page, make_project, serve_dir):
    import shutil
    import time
    from pathlib import Path

    from storiiies.build import build_site

    examples = Path(__file__).resolve().parent.parent / "examples" / "images"
    root = make_project(
        {
            "stories/two.md": "---\ntitle: Two images\nsources:\n  coins: images/coins.png\n"
            "  photo: images/evans-fields-family-a.jpg\n---\n## Coins\n\n"
            "![The coins](coins#xywh=10,10,200,150)\n\n## Photo\n\n"
            "![The family](photo#xywh=100,100,600,400)\n"
        }
    )
    shutil.copytree(examples, root / "images")
    build_site(root)
    server = serve_dir(root / "_site")
    page, errors = open_tour(new_page, f"{server.url}/two/#step-1")
    wait_settled(page)
    page.evaluate(SETTLED_LOG)

    # A slow image server: the second canvas's info.json takes a while to arrive.
    def slow(route):
        time.sleep(0.4)
        route.continue_()

    page.route("**/info.json", slow)
    page.keyboard.press("ArrowRight")
    page.wait_for_function("() => window.storiiies.current === 2")
    wait_settled(page)
    log = [e for e in page.evaluate("window.settledLog") if e["step"] == 2]
    photo = page.evaluate("window.storiiies.story.steps[2].views[0].canvas")
    assert log and all(
        entry["canvas"] == photo and entry["items"] == entry["images"] for entry in log
    ), log
    assert errors == []


def test_an_image_that_fails_to_load_says_so_in_its_panel(
    new_page, make_project, serve_dir, tmp_path
):
    # A manifest whose image server answers 404 for the info.json (down, moved, or CORS).
    served = tmp_path / "served"
    served.mkdir()
    server = serve_dir(served)
    manifest = {
        "@context": "http://iiif.io/api/presentation/3/context.json",
        "id": f"{server.url}/manifest.json",
        "type": "Manifest",
        "label": {"en": ["Lost drawings"]},
        "homepage": [
            {
                "id": "https://museum.example.org/lost",
                "type": "Text",
                "label": {"en": ["Lost drawings"]},
                "format": "text/html",
            }
        ],
        "items": [
            {
                "id": f"{server.url}/canvas/1",
                "type": "Canvas",
                "width": 1000,
                "height": 800,
                "items": [
                    {
                        "id": f"{server.url}/page/1",
                        "type": "AnnotationPage",
                        "items": [
                            {
                                "id": f"{server.url}/annotation/1",
                                "type": "Annotation",
                                "motivation": "painting",
                                "target": f"{server.url}/canvas/1",
                                "body": {
                                    "id": f"{server.url}/iiif/gone/full/max/0/default.jpg",
                                    "type": "Image",
                                    "format": "image/jpeg",
                                    "width": 1000,
                                    "height": 800,
                                    "service": [
                                        {
                                            "id": f"{server.url}/iiif/gone",
                                            "type": "ImageService3",
                                            "profile": "level1",
                                        }
                                    ],
                                },
                            }
                        ],
                    }
                ],
            }
        ],
    }
    (served / "manifest.json").write_text(json.dumps(manifest))
    root = make_project(
        {
            "stories/lost.md": (
                f"---\ntitle: Lost\nsources:\n  lost: {server.url}/manifest.json\n---\n"
                "## A detail\n![A detail](lost#xywh=10,10,400,300)\n"
            )
        }
    )
    build_site(root)
    site = serve_dir(root / "_site")
    page, errors = open_tour(new_page, f"{site.url}/lost/")
    message = page.locator(".st-viewer:not([hidden]) .st-viewer-error")
    message.wait_for(state="visible", timeout=15000)
    assert message.locator("p").all_inner_texts() == [
        "This image could not be loaded: Lost drawings.",
        "View it at the source",
    ]
    assert message.get_attribute("role") == "alert"
    link = message.locator("a")
    assert link.get_attribute("href") == "https://museum.example.org/lost"
    assert errors == []


# Records which drawing context each canvas of the page is asked for, before any script runs.
CONTEXTS_ASKED = """(() => {
  const asked = window.contextsAsked = [];
  const getContext = HTMLCanvasElement.prototype.getContext;
  HTMLCanvasElement.prototype.getContext = function (type, ...rest) {
    asked.push(type);
    return getContext.call(this, type, ...rest);
  };
})();"""


def test_a_tour_draws_its_tiles_in_2d_without_starting_webgl(new_page, examples_server):
    page = new_page(viewport={"width": 1280, "height": 800})
    page.context.add_init_script(CONTEXTS_ASKED)
    page.goto(f"{examples_server.url}/fields-family/")
    wait_settled(page)
    page.wait_for_function("() => window.storiiies.views()[0].items[0].loaded")
    asked = page.evaluate("window.contextsAsked")
    assert "2d" in asked
    assert [kind for kind in asked if "webgl" in kind] == []


# The addresses the page has fetched by the time the tour says it is ready.
FETCHED_BY_READY = """(() => {
  const fetched = [];
  const original = window.fetch;
  window.fetch = function (input, ...rest) {
    fetched.push(String(input && input.url ? input.url : input));
    return original.call(this, input, ...rest);
  };
  window.addEventListener("storiiies:ready", () => { window.fetchedByReady = fetched.slice(); });
})();"""


def test_the_first_views_info_json_is_asked_for_before_the_layout_frames(new_page, examples_server):
    page = new_page(viewport={"width": 1280, "height": 800})
    page.context.add_init_script(FETCHED_BY_READY)
    page.goto(f"{examples_server.url}/fields-family/")
    page.wait_for_function("() => window.fetchedByReady !== undefined")
    fetched = page.evaluate("window.fetchedByReady")
    assert [url for url in fetched if url.endswith("/info.json")] != [], fetched


def test_the_first_views_info_json_is_preloaded_by_the_page_and_fetched_once(
    new_page, examples_server
):
    page = new_page(viewport={"width": 1280, "height": 800})
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{examples_server.url}/fields-family/")
    wait_settled(page)
    page.wait_for_function("() => window.storiiies.views()[0].items[0].loaded")
    infos = [url for url in requested if url.endswith("/info.json")]
    assert len(infos) == 1, requested
    initiators = page.evaluate(
        "(url) => performance.getEntriesByName(url).map((entry) => entry.initiatorType)",
        infos[0],
    )
    assert initiators == ["link"]


# Every address the page's scripts give an image element (OpenSeadragon's tiles among them).
IMAGE_SOURCES = """(() => {
  window.imageSources = [];
  const src = Object.getOwnPropertyDescriptor(HTMLImageElement.prototype, "src");
  Object.defineProperty(HTMLImageElement.prototype, "src", {
    get() { return src.get.call(this); },
    set(value) {
      window.imageSources.push(new URL(value, location.href).href);
      src.set.call(this, value);
    },
    configurable: true,
  });
})();"""


def test_the_first_views_top_tile_is_preloaded_and_openseadragon_takes_that_copy(
    new_page, examples_server
):
    page = new_page(viewport={"width": 1280, "height": 800})
    page.context.add_init_script(IMAGE_SOURCES)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{examples_server.url}/fields-family/")
    wait_settled(page)
    page.wait_for_function("() => window.storiiies.views()[0].items[0].loaded")
    (tile,) = page.eval_on_selector_all(
        'link[rel="preload"][as="image"]', "links => links.map((link) => link.href)"
    )
    assert tile.endswith("/0/default.jpg") and "/images/" in tile, tile
    assert tile in page.evaluate("window.imageSources")  # OpenSeadragon asked for it ...
    assert requested.count(tile) == 1, requested  # ... and was given the preloaded copy
    initiators = page.evaluate(
        "(url) => performance.getEntriesByName(url).map((entry) => entry.initiatorType)", tile
    )
    assert initiators == ["link"]


# Animation frames held back: callbacks are kept and never run.
FRAMES_HELD = """(() => {
  window.heldFrames = [];
  window.requestAnimationFrame = (callback) => window.heldFrames.push(callback);
})();"""


def test_a_steps_image_is_opened_without_waiting_for_layout_frames(new_page, examples_server):
    page = new_page(viewport={"width": 1280, "height": 800})
    page.context.add_init_script(FRAMES_HELD)
    page.goto(f"{examples_server.url}/fields-family/")
    page.wait_for_function(
        "() => window.storiiies && window.storiiies.views()[0].items.length === 1",
        polling=50,
    )
    assert page.evaluate("window.heldFrames.length") > 0


# Every value the page's scripts can reach from `window` without calling anything: its own
# properties (enumerable or not) one level into plain objects and arrays, the namespace's three
# levels deep (`storiiies.panels[0].viewer` is found), and what `storiiies.views()` returns. A
# viewer is an object with a `viewport` and a `world`, as an OpenSeadragon.Viewer has.
VIEWERS_REACHABLE = """() => {
  const found = [];
  const isViewer = (value) => value !== null && typeof value === "object"
    && "viewport" in value && "world" in value;
  const isPlain = (value) => Array.isArray(value) || (value !== null && typeof value === "object"
    && [Object.prototype, null].includes(Object.getPrototypeOf(value)));
  const walk = (value, path, levels) => {
    if (isViewer(value)) { found.push(path); return; }
    if (!levels || !isPlain(value)) return;
    for (const name of Object.getOwnPropertyNames(value)) {
      let child;
      try { child = value[name]; } catch (error) { continue; }
      walk(child, path + "." + name, levels - 1);
    }
  };
  for (const name of Object.getOwnPropertyNames(window)) {
    let value;
    try { value = window[name]; } catch (error) { continue; }
    walk(value, "window." + name, value === window.storiiies ? 3 : 1);
  }
  if (typeof window.storiiies.views === "function") {
    walk(window.storiiies.views(), "window.storiiies.views()", 3);
  }
  return found;
}"""


def test_no_viewer_is_reachable_from_window(new_page, examples_server):
    page, errors = open_tour(new_page, f"{examples_server.url}/fields-family/#step-4")
    # Ready, and both panels of the comparison step settled.
    page.wait_for_function(
        """() => window.storiiies?.go && window.storiiies.current === 4
          && [...document.querySelectorAll('.st-viewer:not([hidden])')].length === 2
          && [...document.querySelectorAll('.st-viewer:not([hidden])')]
            .every(element => element.getAttribute('data-settled') === 'true')"""
    )
    page.evaluate("() => window.storiiies.ready")
    assert page.evaluate(VIEWERS_REACHABLE) == []
    assert page.evaluate("() => 'panels' in window.storiiies") is False
    assert errors == []
