"""The editor's write path (storiiies/serve/story_write.py): a story file read as steps and
written back with minimal changes, saved atomically, and never over a file changed on disk."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storiiies.atomic import create_new
from storiiies.model import StorySource
from storiiies.serve.story_edit import EditRefused
from storiiies.serve.story_write import (
    Region,
    SaveConflict,
    Step,
    StepEdit,
    create_story,
    read_story_file,
    save_story,
    write_steps,
)
from storiiies.story.parse import parse_story
from tests.conftest import EXAMPLES

SETTINGS = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])

STORY = """\
---
title: Coins
sources:
  coins: images/coins.png   # the tray
---
Intro text.

## A god in a helmet ##

![A helmeted head](coins#xywh=310,152,72,70)

The largest coin <!-- check the date -->
shows a *helmet*.

<div class="note">unknown markup</div>

Facing
------
![A face](coins#xywh=percent:10,10,20,20)

```
![not a region](coins#xywh=1,1,1,1)
```

## The tray
![The tray, four rows](coins)
"""


def unchanged(raw: bytes) -> list[StepEdit]:
    return [StepEdit(i, step) for i, step in enumerate(read_story_file(raw).steps)]


def edited(raw: bytes, number: int, **changes: object) -> bytes:
    story = read_story_file(raw)
    edits = unchanged(raw)
    step = edits[number - 1].step
    edits[number - 1] = StepEdit(number - 1, Step(**{**step.__dict__, **changes}))
    return write_steps(story, edits)


def test_a_story_reads_as_headings_regions_and_text() -> None:
    steps = read_story_file(STORY.encode()).steps
    assert steps == (
        Step(
            "A god in a helmet",
            (Region("A helmeted head", "coins#xywh=310,152,72,70"),),
            "The largest coin <!-- check the date -->\nshows a *helmet*.\n\n"
            '<div class="note">unknown markup</div>',
        ),
        Step(
            "Facing",
            (Region("A face", "coins#xywh=percent:10,10,20,20"),),
            "```\n![not a region](coins#xywh=1,1,1,1)\n```",
        ),
        Step("The tray", (Region("The tray, four rows", "coins"),), ""),
    )


def test_each_step_knows_its_first_and_last_line() -> None:
    # Lines 8-15: the `##` step up to its last text line; 17-23: the setext step and its
    # fenced code; 25-26: the last step (blank lines after a step are not its own).
    assert read_story_file(STORY.encode()).block_lines == ((8, 15), (17, 23), (25, 26))


def test_saving_without_a_change_gives_the_same_bytes_for_every_example() -> None:
    for path in sorted((EXAMPLES / "stories").glob("*.md")):
        raw = path.read_bytes()
        story = read_story_file(raw, {"coins"} if path.name == "coins.fr.md" else None)
        assert story.steps
        assert write_steps(story, [StepEdit(i, s) for i, s in enumerate(story.steps)]) == raw


def test_a_new_alt_text_changes_only_its_region_line() -> None:
    new = edited(
        STORY.encode(),
        1,
        regions=(Region("A head [Athena?] in a crested helmet", "coins#xywh=310,152,72,70"),),
    )
    assert new.decode() == STORY.replace(
        "![A helmeted head]", "![A head \\[Athena?\\] in a crested helmet]"
    )


def test_a_new_heading_keeps_the_closing_hashes_and_the_setext_underline() -> None:
    new = edited(STORY.encode(), 1, heading="A god")
    assert new.decode() == STORY.replace("## A god in a helmet ##", "## A god ##")
    new = edited(STORY.encode(), 2, heading="From the front")
    assert new.decode() == STORY.replace("Facing\n---", "From the front\n---")


def test_a_text_edit_keeps_the_comment_and_the_unknown_markup() -> None:
    step = read_story_file(STORY.encode()).steps[0]
    new = edited(STORY.encode(), 1, text=step.text.replace("*helmet*", "*crested helmet*"))
    assert new.decode() == STORY.replace("*helmet*", "*crested helmet*")


def test_blank_lines_typed_in_a_text_are_kept_as_typed() -> None:
    text = "Some text.\n\n\nMore text, after two blank lines."
    new = edited(STORY.encode(), 3, text=text)
    assert new.decode() == STORY + "\n" + text + "\n"
    assert read_story_file(new).steps[2].text == text


def test_a_second_region_makes_a_comparison_written_under_the_first() -> None:
    step = read_story_file(STORY.encode()).steps[2]
    second = Region("A seated figure", "coins/1#xywh=188,26,56,52")
    new = edited(STORY.encode(), 3, regions=(*step.regions, second))
    assert new.decode() == STORY.replace(
        "![The tray, four rows](coins)\n",
        "![The tray, four rows](coins)\n![A seated figure](coins/1#xywh=188,26,56,52)\n",
    )


def test_backticks_in_text_alternatives_cannot_join_two_regions_into_one_code_span() -> None:
    # Unescaped, `![`](coins)` over `![`](coins)` is one paragraph holding a code span from the
    # first backtick to the second, and no images at all.
    step = read_story_file(STORY.encode()).steps[2]
    pair = (Region("`", "coins"), Region("a `tick", "coins/1#xywh=188,26,56,52"))
    new = edited(STORY.encode(), 3, regions=pair)
    assert "![\\`](coins)\n![a \\`tick](coins/1#xywh=188,26,56,52)\n" in new.decode()
    draft = parse_story(StorySource(Path("stories/coins.md"), "coins", new.decode()))
    assert [region.alt for region in read_story_file(new).steps[2].regions] == ["`", "a `tick"]
    assert len(draft.steps[2].regions) == 2, step


def test_steps_are_reordered_deleted_and_added_with_the_file_s_spacing() -> None:
    raw = STORY.encode()
    story = read_story_file(raw)
    one, two, three = story.steps
    added = Step("New", (Region("Everything", "coins"),), "Some text.")
    new = write_steps(story, [StepEdit(2, three), StepEdit(0, one), StepEdit(None, added)])
    head, rest = STORY.split("## A god", 1)
    first = "## A god" + rest.split("Facing\n")[0].rstrip("\n")
    assert new.decode() == (
        head
        + "## The tray\n![The tray, four rows](coins)\n\n"
        + first
        + "\n\n## New\n\n![Everything](coins)\n\nSome text.\n"
    )
    assert read_story_file(new).steps == (three, one, added)


def test_a_crlf_file_with_a_byte_order_mark_keeps_both() -> None:
    raw = b"\xef\xbb\xbf" + STORY.replace("\n", "\r\n").encode()
    assert write_steps(read_story_file(raw), unchanged(raw)) == raw
    new = edited(raw, 3, text="A new line.")
    assert new == raw + b"\r\nA new line.\r\n"


def test_a_region_naming_an_unknown_source_is_refused_with_the_source_named() -> None:
    with pytest.raises(EditRefused) as refused:
        edited(STORY.encode(), 1, regions=(Region("A head", "cions#xywh=1,2,3,4"),))
    assert refused.value.message == "step 1: unknown source 'cions'"


def test_a_region_without_a_text_alternative_is_refused() -> None:
    with pytest.raises(EditRefused) as refused:
        edited(STORY.encode(), 2, regions=(Region("  ", "coins#xywh=1,2,3,4"),))
    assert refused.value.message == (
        "a region of step 2 has no text alternative; describe what it shows"
    )


def test_a_step_text_with_a_level_two_heading_is_refused() -> None:
    with pytest.raises(EditRefused) as refused:
        edited(STORY.encode(), 1, text="Fine.\n\n## Sneaky")
    assert refused.value.message == (
        "the text of step 1 has a `##` heading, which would start a new step;"
        " add a step instead, or use `###`"
    )


# --- saving -----------------------------------------------------------------------------------


def test_a_save_replaces_the_file_and_keeps_its_permissions(tmp_path: Path) -> None:
    path = tmp_path / "coins.md"
    path.write_text(STORY, encoding="utf-8")
    os.chmod(path, 0o640)
    loaded = path.read_bytes()
    save_story(path, loaded, edited(loaded, 1, heading="A god"))
    assert path.read_text(encoding="utf-8").startswith("---\ntitle: Coins")
    assert "## A god ##" in path.read_text(encoding="utf-8")
    assert path.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["coins.md"]


def test_a_file_changed_on_disk_is_a_conflict_and_is_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "coins.md"
    path.write_text(STORY, encoding="utf-8")
    loaded = path.read_bytes()
    path.write_text(STORY + "\nSaved in a text editor.\n", encoding="utf-8")
    with pytest.raises(SaveConflict) as conflict:
        save_story(path, loaded, edited(loaded, 1, heading="A god"))
    assert conflict.value.message == (
        "coins.md changed on disk since the editor opened it; reload it to see the new"
        " version (your unsaved changes are shown beside it)"
    )
    assert path.read_text(encoding="utf-8").endswith("Saved in a text editor.\n")


_SAVER = """
import sys
from pathlib import Path
from storiiies.serve.story_write import save_story
path = Path(sys.argv[1])
contents = [b"A" * 3_000_000, b"B" * 2_000_000]
print("ready", flush=True)
while True:
    current = path.read_bytes()
    save_story(path, current, contents[1] if current == contents[0] else contents[0])
"""


def test_a_save_killed_at_any_moment_leaves_the_old_or_the_new_file(tmp_path: Path) -> None:
    path = tmp_path / "coins.md"
    path.write_bytes(b"A" * 3_000_000)
    for attempt in range(8):
        saver = subprocess.Popen(
            [sys.executable, "-c", _SAVER, str(path)], stdout=subprocess.PIPE, text=True
        )
        assert saver.stdout is not None and saver.stdout.readline() == "ready\n"
        time.sleep(0.02 + attempt * 0.013)  # a real kill, at a different moment each time
        saver.send_signal(signal.SIGKILL)
        saver.wait()
        saver.stdout.close()
        assert path.read_bytes() in (b"A" * 3_000_000, b"B" * 2_000_000)


# --- properties -------------------------------------------------------------------------------

PIECES = st.sampled_from(
    [
        "## A step",
        "## Step ##",
        "##",
        "Setext",
        "------",
        "===",
        "![A region](coins#xywh=1,2,3,4)",
        "![Alt \\[x\\] \\* y](coins/2)",
        "  ![indented](coins)",
        "![two](coins) ![on a line](coins)",
        "![photo](https://example.org/a.jpg)",
        "Text with **bold** and a [link](coins#xywh=1,1,2,2).",
        "<!-- a comment -->",
        "<div>",
        "</div>",
        "```",
        "    code",
        "> ## quoted",
        "- ## listed",
        "---",
        "title: x",
        "",
        "",
        " ",
        "\t",
        "\r",
        "Text\r",
    ]
)
LINES = st.lists(st.one_of(PIECES, st.text(max_size=12)), max_size=30)
FILES = st.builds(
    lambda bom, lines, end: (b"\xef\xbb\xbf" if bom else b"") + ("\n".join(lines) + end).encode(),
    st.booleans(),
    LINES,
    st.sampled_from(["", "\n", "\n\n", "\r\n"]),
)


@SETTINGS
@given(FILES)
def test_any_file_opened_and_saved_without_a_change_is_byte_identical(raw: bytes) -> None:
    story = read_story_file(raw, {"coins"})
    edits = [StepEdit(i, s) for i, s in enumerate(story.steps)]
    assert write_steps(story, edits) == raw


ALT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=20).filter(
    lambda alt: alt.strip() != ""
)
TARGET = st.builds(
    lambda canvas, xywh: "coins" + canvas + xywh,
    st.sampled_from(["", "/2"]),
    st.sampled_from(["", "#xywh=1,2,3,4", "#xywh=percent:5,5,50,50"]),
)
REGION = st.builds(Region, ALT.map(lambda a: " ".join(a.split())), TARGET)
TEXT_LINE = st.sampled_from(
    ["Some text.", "More *text*.", "<!-- note -->", "", "- a list", "### A subheading", "> quote"]
)
STEP = st.builds(
    Step,
    st.from_regex(r"[A-Za-z][A-Za-z ,']{0,20}[A-Za-z]", fullmatch=True),
    st.lists(REGION, max_size=3).map(tuple),
    st.lists(TEXT_LINE, max_size=6).map(lambda lines: "\n".join(lines).strip("\n")),
)


@SETTINGS
@given(
    STORY_STEPS=st.lists(STEP, min_size=0, max_size=4),
    changes=st.lists(st.tuples(st.booleans(), STEP), max_size=6),
    order=st.randoms(use_true_random=False),
    crlf=st.booleans(),
)
def test_any_edit_reads_back_as_written_and_leaves_other_steps_alone(
    STORY_STEPS: list[Step], changes: list[tuple[bool, Step]], order: object, crlf: bool
) -> None:
    start = write_steps(read_story_file(STORY.encode()), [StepEdit(None, s) for s in STORY_STEPS])
    if crlf:
        start = start.replace(b"\n", b"\r\n")
    story = read_story_file(start)
    assert story.steps == tuple(STORY_STEPS)
    edits = [StepEdit(i, s) for i, s in enumerate(story.steps)]
    for replace, step in changes:  # replace a step's content, or add a new one
        if replace and edits:
            index = len(step.heading) % len(edits)
            edits[index] = StepEdit(edits[index].origin, step)
        else:
            edits.append(StepEdit(None, step))
    order.shuffle(edits)  # type: ignore[attr-defined]
    edits = edits[: max(0, len(edits) - len(changes) % 2)]  # and sometimes delete one
    written = write_steps(story, edits)
    again = read_story_file(written)
    assert again.steps == tuple(e.step for e in edits)
    assert again.head == story.head
    # A step whose content did not change keeps its lines exactly.
    for edit in edits:
        if edit.origin is not None and edit.step == story.steps[edit.origin]:
            block = "\n".join(story.blocks[edit.origin].lines).rstrip("\r").encode()
            assert block in written
    # And the preview's own parser sees the same steps.
    draft = parse_story(StorySource(Path("story.md"), "story.md", written.decode("utf-8-sig")))
    assert [s.title for s in draft.steps] == [e.step.heading for e in edits]
    assert [len(s.regions) for s in draft.steps] == [len(e.step.regions) for e in edits]


def test_a_new_story_never_replaces_a_file_that_appears_meanwhile(tmp_path: Path) -> None:
    path = tmp_path / "mine.md"
    create_story(path, b"# the editor's\n")
    assert path.read_bytes() == b"# the editor's\n"
    with pytest.raises(EditRefused, match="mine.md already exists"):
        create_story(path, b"# another\n")
    assert path.read_bytes() == b"# the editor's\n"


def test_create_new_takes_the_first_free_name_and_leaves_no_temporary(tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(b"taken")
    names = [tmp_path / "a.png", tmp_path / "a-2.png", tmp_path / "a-3.png"]
    assert create_new(names, b"new") == tmp_path / "a-2.png"
    assert (tmp_path / "a.png").read_bytes() == b"taken"
    assert create_new(names[:1], b"new") is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-2.png", "a.png"]
