"""axe-core (npm, pinned in package.json) on every kind of page, in both bundled themes:
no serious or critical violation, WCAG 2.2 AA colour contrast included."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.browser

AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"

PAGES = [
    "/",
    "/coins/",
    "/coins/#step-3",
    "/fields-family/#step-4",
    "/coins/text.html",
    "/fields-family/text.html",
    "/listen/#step-1",
    "/listen/text.html",
    "/coins/embed.html#step-1",
    "/coins/fr/#step-2",  # a translation, with its language switch
    "/coins/fr/text.html",
    "/?kiosk=1",
    "/fields-family/?kiosk=1#step-2",
    "/?q=coin&tag=archaeology",  # search results and a chosen tag
    "/credits.html",
]


def axe_violations(page) -> list[dict]:
    if not AXE.is_file():
        pytest.fail(f"{AXE} is missing: run `npm ci` (axe-core is a pinned devDependency)")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """() => axe.run(document, {runOnly: {type: 'tag', values:
             ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']}})"""
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


# The page as a visitor sees it once it is still: every image in it loaded, its fonts in, and
# every deep-zoom viewer on screen settled on its region.
STILL = """() => document.readyState === 'complete'
  && [...document.images].every(img => img.complete)
  && (!window.storiiies?.views || window.storiiies.views().filter(v => !v.hidden)
    .every(v => v.settled))"""


def check(new_page, url: str, size: tuple[int, int]) -> list[dict]:
    page = new_page(viewport={"width": size[0], "height": size[1]}, reduced_motion="reduce")
    page.goto(url)
    if page.locator("#story-data").count():
        page.wait_for_function("() => window.storiiies?.go && window.storiiies.views().length > 0")
    if "?q=" in url:
        page.wait_for_function("() => document.querySelectorAll('.st-hits').length > 0")
    page.wait_for_function(STILL)
    page.evaluate("document.fonts.ready.then(() => true)")
    violations = axe_violations(page)
    page.context.close()  # now, not with the other pages at the end (the fixture's backstop)
    return violations


@pytest.mark.parametrize("size", [(1280, 800), (320, 640)], ids=["desktop", "phone"])
def test_default_theme_has_no_serious_violations(new_page, examples_server, size):
    found = {path: check(new_page, examples_server.url + path, size) for path in PAGES}
    assert {path: v for path, v in found.items() if v} == {}


def test_kiosk_theme_has_no_serious_violations(new_page, built_examples: Path, tmp_path, serve_dir):
    import shutil

    from storiiies.build import build_site
    from tests.conftest import EXAMPLES

    project = tmp_path / "kiosk"
    shutil.copytree(EXAMPLES, project, ignore=shutil.ignore_patterns("_site", ".storiiies-cache"))
    # The tiles are the same as the default build's; reuse them rather than cut them again.
    shutil.copytree(built_examples.parent / ".storiiies-cache", project / ".storiiies-cache")
    config = (project / "storiiies.yml").read_text().replace("theme: default", "theme: kiosk")
    (project / "storiiies.yml").write_text(config + "kiosk:\n  enabled: true\n  autoplay: false\n")
    build_site(project)
    server = serve_dir(project / "_site")
    found = {path: check(new_page, server.url + path, (1920, 1080)) for path in PAGES}
    assert {path: v for path, v in found.items() if v} == {}
