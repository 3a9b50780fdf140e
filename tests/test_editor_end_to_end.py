"""A teacher's whole path through the editor in Chromium, with no text editor: create a story
from an uploaded picture (examples/images/coins.png, credited in the story as CREDITS.md asks),
write four steps (one comparing two regions, one region drawn on the image), reorder by
dragging, delete and undo, save; the file equals a reference Markdown file and passes
`storiiies check`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, REPO, LiveServer

pytestmark = pytest.mark.browser

REFERENCE = REPO / "tests" / "data" / "editor" / "faces-on-coins.md"


@pytest.fixture
def page(new_page):
    return new_page(viewport={"width": 1500, "height": 1000}, reduced_motion="reduce")


def wait_for_text(page, selector: str, text: str) -> None:
    page.wait_for_function(
        "([selector, text]) => { const node = document.querySelector(selector);"
        " return node && node.textContent === text; }",
        arg=[selector, text],
    )


def step(page, number: int):
    return page.locator(".ste-step").nth(number - 1)


def test_a_four_step_story_with_a_comparison_is_authored_entirely_in_the_browser(
    tmp_path: Path, preview_server, page
) -> None:
    project = tmp_path / "exhibit"
    (project / "stories").mkdir(parents=True)
    (project / "storiiies.yml").write_text("title: Our class exhibit\n", encoding="utf-8")
    server: LiveServer = preview_server(project, edit=True)

    page.goto(f"{server.url}/_storiiies/edit/")
    page.get_by_label("Title").fill("Faces on coins")
    page.get_by_label("Summary").fill("Four views of a tray of coins from Pompeii.")
    page.get_by_label("Or upload a picture").set_input_files(EXAMPLES / "images" / "coins.png")
    page.get_by_label("What the whole picture shows").fill("Coins on a grey tray")
    page.get_by_role("button", name="Create the story").click()
    wait_for_text(page, "#ste-new-status", "Created stories/faces-on-coins.md.")
    page.wait_for_function(
        "() => window.storiiiesEditor.story"
        " && window.storiiiesEditor.story.file === 'stories/faces-on-coins.md'"
    )

    # Step 1, written by the form: a better heading, text alternative and text.
    one = step(page, 1)
    one.get_by_label("Heading").fill("The whole tray")
    one.get_by_label("Text alternative").fill("A tray of twenty-four coins in four rows")
    one.get_by_label("Text", exact=True).fill(
        "Coins found at Pompeii, photographed for a museum.\n\n"
        "*Greek coins from Pompeii. Brooklyn Museum. No known copyright restrictions.*"
    )

    # Step 2: a region typed in.
    page.get_by_role("button", name="Add a step").click()
    two = step(page, 2)
    assert page.evaluate("document.activeElement.classList.contains('ste-heading')")
    page.keyboard.type("A god in a helmet")
    two.get_by_label("Text alternative").fill("A helmeted head in profile, facing right")
    two.get_by_label("Where").fill("image#xywh=310,152,72,70")
    two.get_by_label("Text", exact=True).fill("The largest coin shows a crested helmet.")

    # Step 3: a comparison of two regions, the second drawn on the image.
    page.get_by_role("button", name="Add a step").click()
    three = step(page, 3)
    three.get_by_label("Heading").fill("Two figures, side by side")
    three.get_by_label("Text alternative").fill("A naked figure striding to the right")
    three.get_by_label("Where").fill("image#xywh=300,12,68,64")
    three.get_by_role("button", name="Add a region to compare, to step 3").click()
    three.get_by_label("Text alternative 2").fill("The whole tray, for scale")
    page.wait_for_function(
        "() => { const f = document.getElementById('ste-frame');"
        " return !f.hidden && f.contentWindow && f.contentWindow.storiiies"
        " && f.contentWindow.storiiies.picker && f.contentWindow.storiiies.views().length; }"
    )
    frame = page.frame_locator("#ste-frame")
    frame.get_by_role("button", name="Zoom out").first.click()  # the image inside the panel
    three.get_by_role("button", name="Draw on the image: region 2 of step 3").click()
    layer = frame.locator(".sts-layer").first
    layer.wait_for()
    box = layer.bounding_box()
    assert box is not None
    # From the empty margin at the top left to the one at the bottom right: the whole canvas.
    page.mouse.move(box["x"] + 3, box["y"] + 3)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] - 3, box["y"] + box["height"] - 3, steps=6)
    page.mouse.up()
    page.wait_for_function(
        "() => document.querySelectorAll('.ste-target')[3].value === 'image#xywh=0,0,384,303'"
    )
    three.get_by_label("Text", exact=True).fill("A standing and a seated figure.")

    # Step 4, then dragged above step 3.
    page.get_by_role("button", name="Add a step").click()
    four = step(page, 4)
    four.get_by_label("Heading").fill("Facing the viewer")
    four.get_by_label("Text alternative").fill("A head seen from the front, with flowing hair")
    four.get_by_label("Where").fill("image#xywh=184,166,58,56")
    four.get_by_label("Text", exact=True).fill("A face seen from the front was hard to strike.")
    # Drag step 4 by its grip onto the end of step 3, just above it.
    grip = step(page, 4).locator(".ste-handle")
    grip.evaluate("node => node.scrollIntoView({block: 'center'})")
    at = grip.bounding_box()
    assert at is not None
    page.mouse.move(at["x"] + at["width"] / 2, at["y"] + at["height"] / 2)
    page.mouse.down()
    page.mouse.move(at["x"] + 40, at["y"] - 40, steps=10)
    page.mouse.up()
    page.wait_for_function(
        "() => document.querySelectorAll('.ste-heading')[2].value === 'Facing the viewer'"
    )

    # A step deleted by mistake comes back.
    page.get_by_role("button", name="Delete step 2").click()
    page.get_by_role("button", name="Undo").click()
    page.wait_for_function("() => document.querySelectorAll('.ste-step').length === 4")

    page.get_by_role("button", name="Save", exact=True).click()
    wait_for_text(page, "#ste-save-status", "Saved to stories/faces-on-coins.md.")
    written = (project / "stories" / "faces-on-coins.md").read_text(encoding="utf-8")
    assert written == REFERENCE.read_text(encoding="utf-8")
    assert (project / "images" / "coins.png").read_bytes() == (
        EXAMPLES / "images" / "coins.png"
    ).read_bytes()
    # The preview rebuilds it, and its warnings show beside the steps they concern: the three
    # small regions beside steps 2-4, the missing rights statement above the steps.
    page.wait_for_function(
        "() => window.storiiiesEditor.story.tour === 'faces-on-coins/'"
        " && document.querySelectorAll('.ste-step .ste-problem').length === 3"
    )
    beside = [page.locator(".ste-step").nth(n).locator(".ste-problem") for n in range(4)]
    assert [problems.count() for problems in beside] == [0, 1, 1, 1]
    assert (
        beside[1]
        .inner_text()
        .startswith(
            "stories/faces-on-coins.md:18:45: warning: region 310,152,72,70 is small for its image"
        )
    )
    assert page.locator(".ste-problem.ste-error").count() == 0
    check = subprocess.run(
        [sys.executable, "-m", "storiiies", "check", str(project), "--offline"],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert "0 errors, 4 warnings" in check.stdout + check.stderr
