"""The editor page in Chromium: keyboard-only editing, reordering, delete and undo, problems
beside their step, a conflict shown, drawing a region with the picker, and axe-core."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, LiveServer
from tests.test_tour_a11y import axe_violations

pytestmark = pytest.mark.browser


@pytest.fixture
def project(tmp_path: Path) -> Path:
    copy = tmp_path / "examples"
    shutil.copytree(EXAMPLES, copy, ignore=shutil.ignore_patterns("_site", ".storiiies-cache"))
    return copy


@pytest.fixture
def editor(project: Path, preview_server) -> LiveServer:
    return preview_server(project, edit=True)


@pytest.fixture
def page(new_page):
    return new_page(viewport={"width": 1500, "height": 1000})


def open_story(page, server: LiveServer, file: str) -> None:
    page.goto(f"{server.url}/_storiiies/edit/#{file.replace('/', '%2F')}")
    page.wait_for_function(
        "file => window.storiiiesEditor && window.storiiiesEditor.story"
        " && window.storiiiesEditor.story.file === file",
        arg=file,
    )


def wait_for_picker(page) -> None:
    page.wait_for_function(
        "() => { const f = document.getElementById('ste-frame');"
        " return f.contentWindow && f.contentWindow.storiiies"
        " && f.contentWindow.storiiies.picker && f.contentWindow.storiiies.views().length; }"
    )


def test_every_preview_page_links_to_the_editor(editor: LiveServer, page) -> None:
    page.goto(f"{editor.url}/coins/")
    link = page.locator(".sts-edit-link")
    link.wait_for()
    assert link.inner_text() == "Edit stories"
    assert link.get_attribute("href") == f"{editor.url}/_storiiies/edit/"


def test_keyboard_alone_moves_deletes_restores_and_saves_a_step(
    editor: LiveServer, page, project: Path
) -> None:
    path = project / "stories" / "coins.md"
    before = path.read_text(encoding="utf-8")
    open_story(page, editor, "stories/coins.md")
    # Move step 1 down with its button, from the keyboard.
    page.get_by_role("button", name="Move down step 1").focus()
    page.keyboard.press("Enter")
    page.wait_for_function(
        "() => document.querySelector('#ste-toast').textContent"
        " === 'Step moved to position 2 of 4.'"
    )
    headings = page.locator(".ste-heading")
    assert headings.nth(0).input_value() == "Facing the viewer"
    assert headings.nth(1).input_value() == "A god in a helmet"
    # The focus stayed on the moved step's button; Alt+ArrowUp moves it back.
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == (
        "Move down step 2"
    )
    page.keyboard.press("Alt+ArrowUp")
    page.wait_for_function(
        "() => document.querySelector('.ste-heading').value === 'A god in a helmet'"
    )
    # Delete step 4; the focus goes to Undo, which brings it back.
    page.get_by_role("button", name="Delete step 4").focus()
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelectorAll('.ste-step').length === 3")
    assert page.evaluate("document.activeElement.textContent") == "Undo"
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelectorAll('.ste-step').length === 4")
    # Type a new heading and save with the keyboard.
    heading = page.locator(".ste-heading").nth(1)
    heading.focus()
    page.keyboard.press("End")
    page.keyboard.type(", again")
    page.locator(".ste-save").focus()
    page.keyboard.press("Enter")
    page.wait_for_function(
        "() => document.querySelector('#ste-save-status').textContent"
        " === 'Saved to stories/coins.md.'"
    )
    assert path.read_text(encoding="utf-8") == before.replace(
        "## Facing the viewer", "## Facing the viewer, again"
    )


def test_problems_show_beside_the_step_they_concern(project: Path, preview_server, page) -> None:
    path = project / "stories" / "coins.md"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("](coins#xywh=184,166,58,56)", "](coin#xywh=184,166,58,56)"))
    server = preview_server(project, edit=True)
    open_story(page, server, "stories/coins.md")
    problems = page.locator(".ste-step").nth(1).locator(".ste-problem")
    assert problems.count() == 1
    assert problems.inner_text() == (
        "stories/coins.md:29:50: error: unknown source 'coin'"
        " — declare it under `sources:` in the front matter (declared: coins)"
    )
    # Step 1 has only the examples' own warning (a small region), no error.
    assert page.locator(".ste-step").nth(0).locator(".ste-problem.ste-error").count() == 0


def test_a_file_changed_on_disk_is_shown_as_a_conflict(
    editor: LiveServer, page, project: Path
) -> None:
    path = project / "stories" / "coins.md"
    open_story(page, editor, "stories/coins.md")
    page.locator(".ste-heading").nth(0).fill("A god")
    changed = path.read_text(encoding="utf-8") + "\nSaved in a text editor.\n"
    path.write_text(changed, encoding="utf-8")
    page.locator(".ste-save").click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert alert.inner_text() == (
        "Not saved: coins.md changed on disk since the editor opened it; reload it to see the"
        " new version (your unsaved changes are shown beside it)"
    )
    assert path.read_text(encoding="utf-8") == changed
    page.get_by_role("button", name="Reload the file").click()
    kept = page.get_by_label("Your unsaved steps")
    kept.wait_for()
    assert kept.input_value().startswith("## A god\n\n![A helmeted head in profile")
    assert page.locator(".ste-heading").nth(0).input_value() == "A god in a helmet"


def test_a_region_drawn_on_the_image_fills_in_the_step(editor: LiveServer, page) -> None:
    open_story(page, editor, "stories/coins.md")
    wait_for_picker(page)
    page.get_by_role("button", name="Draw on the image: region 1 of step 1").click()
    frame = page.frame_locator("#ste-frame")
    layer = frame.locator(".sts-layer").first
    layer.wait_for()
    box = layer.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + 100, box["y"] + 100)
    page.mouse.down()
    page.mouse.move(box["x"] + 220, box["y"] + 180, steps=5)
    page.mouse.up()
    target = page.locator(".ste-target").nth(0)
    page.wait_for_function(
        "() => document.querySelector('.ste-target').value !== 'coins#xywh=310,152,72,70'"
    )
    assert target.input_value().startswith("coins#xywh=")
    assert page.evaluate("document.activeElement === document.querySelector('.ste-target')")


@pytest.mark.parametrize("file", ["stories/coins.md", "stories/coins.fr.md"])
def test_the_editor_has_no_serious_accessibility_violation(
    editor: LiveServer, page, file: str
) -> None:
    open_story(page, editor, file)
    wait_for_picker(page)
    page.wait_for_function("() => document.querySelector('.ste-preview').innerHTML !== ''")
    assert axe_violations(page) == []
    page.get_by_role("button", name="Delete step 2").click()  # with the Undo toast showing
    assert axe_violations(page) == []


def test_a_missing_text_alternative_is_shown_beside_its_step_with_a_hint(
    editor: LiveServer, page, project: Path
) -> None:
    path = project / "stories" / "coins.md"
    before = path.read_bytes()
    open_story(page, editor, "stories/coins.md")
    page.get_by_label("Text alternative").nth(1).fill("")
    page.locator(".ste-save").click()
    note = page.locator('.ste-step[data-index="1"] .ste-step-error')
    note.wait_for()
    assert note.inner_text().startswith(
        "a region of step 2 ('Facing the viewer') has no text alternative — describe what"
    )
    # The focus is on the empty field, which names the message as its description.
    focused = page.evaluate("document.activeElement.getAttribute('aria-invalid')")
    assert focused == "true"
    assert path.read_bytes() == before


def test_the_story_s_pictures_are_shown_as_thumbnails_to_choose_from(
    editor: LiveServer, page
) -> None:
    open_story(page, editor, "stories/coins.md")
    thumbnail = page.locator(".ste-canvas img").first
    thumbnail.wait_for()
    page.wait_for_function(
        "() => { const i = document.querySelector('.ste-canvas img');"
        " return i.complete && i.naturalWidth === 200; }"
    )
    page.locator(".ste-canvas").first.click()  # no region chosen: a new step shows it
    page.wait_for_function("() => document.querySelectorAll('.ste-step').length === 5")
    assert page.locator(".ste-target").last.input_value() == "coins/1"
    # With a region being edited, the picture goes into it, and the focus back to it.
    page.get_by_label("Text alternative").first.focus()
    page.locator(".ste-canvas").first.click()
    page.wait_for_function("() => document.querySelector('.ste-target').value === 'coins/1'")
    assert page.evaluate("document.activeElement === document.querySelector('.ste-target')")
    assert page.locator(".ste-step").count() == 5


@pytest.mark.parametrize("file", ["stories/coins.md", "stories/coins.fr.md"])
def test_opening_and_saving_without_a_change_leaves_the_file_byte_identical(
    editor: LiveServer, page, project: Path, file: str
) -> None:
    path = project / file
    before = path.read_bytes()
    open_story(page, editor, file)
    page.locator(".ste-save").click()
    page.wait_for_function(
        "file => document.querySelector('#ste-save-status').textContent === `Saved to ${file}.`",
        arg=file,
    )
    assert path.read_bytes() == before
