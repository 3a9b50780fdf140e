"""An exported story plays in Mirador: its steps are listed in Mirador's annotation panel.

Mirador (npm `mirador`, pinned, a test-only devDependency) runs from its own UMD bundle in a
throwaway page; the manifest comes from the built example site, over HTTP with CORS.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from storiiies.build import build_site
from tests.conftest import EXAMPLES
from tests.test_export_text import IMG, PLAIN, STORY

pytestmark = [pytest.mark.browser]

MIRADOR = (
    Path(__file__).resolve().parent.parent / "node_modules" / "mirador" / "dist" / "mirador.min.js"
)

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Mirador</title>
<style>html, body, #mirador {{ margin: 0; width: 100%; height: 100%; }}</style>
<script src="mirador.min.js"></script></head>
<body><div id="mirador"></div>
<script>
Mirador.viewer({{
  id: "mirador",
  windows: [{{ manifestId: {manifest}, sideBarOpen: true, defaultSideBarPanel: "annotations" }}],
  window: {{ panels: {{ annotations: true }} }},
}});
</script></body></html>
"""


@pytest.fixture
def mirador_page(tmp_path, serve_dir):
    if not MIRADOR.is_file():
        pytest.skip("needs Mirador from npm (run `npm ci`)")
    folder = tmp_path / "mirador"
    folder.mkdir()
    shutil.copy(MIRADOR, folder / "mirador.min.js")  # a scratch page only, never the tree

    def page_for(manifest_url: str) -> str:
        (folder / "index.html").write_text(PAGE.format(manifest=json.dumps(manifest_url)))
        return serve_dir(folder).url + "/"

    return page_for


def annotations_panel(new_page, url: str) -> tuple[str, list[str]]:
    """The text of Mirador's page at `url` once its annotations panel lists them, and the
    page's script errors."""
    page = new_page(viewport={"width": 1400, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url)
    tab = "[role=tab][aria-label=Annotations]"
    page.wait_for_selector(tab, state="attached", timeout=60000)
    page.evaluate(f"() => document.querySelector('{tab}').click()")
    page.wait_for_function(
        "() => /Showing \\d+ annotations/.test(document.body.innerText)", timeout=30000
    )
    return page.inner_text("body"), errors


def test_mirador_lists_the_steps_of_an_exported_story(
    new_page, examples_server, mirador_page, built_examples
):
    manifest = json.loads((built_examples / "fields-family" / "manifest.json").read_text())
    steps = manifest["items"][0]["annotations"][0]["items"]
    text, errors = annotations_panel(
        new_page, mirador_page(f"{examples_server.url}/fields-family/manifest.json")
    )
    assert f"Showing {len(steps)} annotations" in text
    for title in (
        "A Family in Hale County",
        "Ivy",
        "Ellen",
        "Bud",
        "Two faces",
        "Someone at the door",
        "The room",
    ):
        assert f"\n{title}\n" in text, title
    assert "Bud wears a patterned scarf over his bare shoulders." in text
    assert errors == []


def test_mirador_lists_the_steps_of_a_story_with_a_translation(
    new_page, examples_server, mirador_page, built_examples
):
    """The coins story also exists in French: each step's annotation has a body per language."""
    manifest = json.loads((built_examples / "coins" / "manifest.json").read_text())
    steps = manifest["items"][0]["annotations"][0]["items"]
    assert {body["language"] for body in steps[1]["body"]} == {"en", "fr"}
    text, errors = annotations_panel(
        new_page, mirador_page(f"{examples_server.url}/coins/manifest.json")
    )
    assert f"Showing {len(steps)} annotations" in text
    # Mirador shows every body of an annotation: each step in English, then in French.
    english, french = text.index("\nA god in a helmet\n"), text.index("\nUn dieu casqué\n")
    assert english < french < text.index("\nFacing the viewer\n")
    assert errors == []


def test_mirador_shows_a_story_s_text_as_text(new_page, make_project, serve_dir, mirador_page):
    """Markup in a story's title, summary, headings and text reaches Mirador as words: no
    element it names is made (before: the summary's <img src=x> was an image)."""
    root = make_project(
        {
            "stories/hostile.md": STORY,
            "images/coins.png": (EXAMPLES / "images" / "coins.png").read_bytes(),
        }
    )
    build_site(root)
    site = serve_dir(root / "_site")
    page = new_page(viewport={"width": 1400, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(mirador_page(f"{site.url}/hostile/manifest.json"))
    tab = "[role=tab][aria-label=Annotations]"
    page.wait_for_selector(tab, state="attached", timeout=60000)
    page.evaluate(f"() => document.querySelector('{tab}').click()")
    page.wait_for_function(
        "() => /Showing \\d+ annotations/.test(document.body.innerText)", timeout=30000
    )
    text = page.inner_text("body")
    assert f"\n{IMG}\n" in text and f"\n{PLAIN}\n" in text
    # The About panel shows the summary and metadata.
    page.evaluate("() => document.querySelector('[role=tab][aria-label=Information]').click()")
    page.wait_for_function("(words) => document.body.innerText.includes(words)", arg=PLAIN)
    assert page.evaluate("() => document.querySelectorAll('img[src=\"x\"]').length") == 0
    assert IMG in page.inner_text("body")
    assert errors == []
