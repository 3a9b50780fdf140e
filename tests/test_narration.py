"""Step narration (docs/authoring.md, "Narration, audio and video"): a link to a local audio
file in a step is played with that step, with its WebVTT captions, copied into media/, and a
kiosk waits for it. Audio is a tone made here with the `wave` module."""

from __future__ import annotations

import io
import json
import math
import struct
import wave
from pathlib import Path

import pytest

from storiiies.build import build_site, check_site
from tests.conftest import EXAMPLES, LiveServer, static_app

TEXT = "A helmeted head: Athena, or the goddess Roma."

STORY = """---
title: Two coins
sources:
  coins: images/coins.png
---
The title slide.

## A helmet

![A helmeted head](coins#xywh=310,152,72,70)

[Listen to this step](audio/helmet.wav)

{text}

## A face

![A face seen from the front](coins#xywh=184,166,58,56)

No narration here.
"""

CAPTIONS = f"WEBVTT\n\n00:00.000 --> 00:02.000\n{TEXT}\n"


def tone(seconds: float, rate: int = 8000) -> bytes:
    """A quiet 440 Hz tone as a mono 16-bit WAV file."""
    frames = b"".join(
        struct.pack("<h", int(3000 * math.sin(2 * math.pi * 440 * i / rate)))
        for i in range(int(seconds * rate))
    )
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(rate)
        audio.writeframes(frames)
    return buffer.getvalue()


def project_files(story: str = STORY.format(text=TEXT)) -> dict[str, str | bytes]:
    return {
        "stories/coins.md": story,
        "images/coins.png": (EXAMPLES / "images" / "coins.png").read_bytes(),
        "audio/helmet.wav": tone(2.0),
        "audio/helmet.vtt": CAPTIONS,
    }


def page_json(html: str, element_id: str) -> dict:
    return json.loads(html.split(f'id="{element_id}">')[1].split("</script>")[0])


@pytest.fixture(scope="module")
def narrated_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("narrated")
    for name, content in project_files().items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    (root / "storiiies.yml").write_text(
        "title: Narrated\nkiosk:\n  step_seconds: 1\n", encoding="utf-8"
    )
    build_site(root)
    return root / "_site"


def test_the_narration_link_becomes_the_steps_player(narrated_site: Path) -> None:
    page = (narrated_site / "coins" / "index.html").read_text()
    data = page_json(page, "story-data")
    narration = data["steps"][1]["narration"]
    assert narration["duration"] == 2.0
    assert narration["local"] is True and narration["format"] == "audio/wav"
    assert data["steps"][2]["narration"] is None
    # The audio and its captions are copied into media/, named by content.
    audio = narrated_site / narration["url"]
    assert audio.read_bytes() == tone(2.0)
    assert audio.parent.name == "media" and audio.name.endswith("-helmet.wav")
    assert (narrated_site / narration["captions"]).read_text() == CAPTIONS
    # The link itself is gone from the text: the player takes its place.
    assert "Listen to this step" not in page
    assert f'src="../{narration["url"]}"' in page
    assert f'<track kind="captions" src="../{narration["captions"]}" srclang="en"' in page
    assert 'aria-label="Narration: A helmet"' in page
    assert 'class="st-button st-sound" aria-pressed="false"' in page


def test_the_text_version_plays_the_narration_too(narrated_site: Path) -> None:
    text = (narrated_site / "coins" / "text.html").read_text()
    assert text.count('class="st-narration-audio"') == 1
    assert TEXT in text


def test_a_kiosk_waits_for_the_narration(narrated_site: Path) -> None:
    settings = page_json((narrated_site / "coins" / "index.html").read_text(), "st-kiosk-settings")
    assert settings["stepSeconds"] == 1.0
    assert settings["mediaSeconds"] == {"1": 3.5}  # 2 s of narration and a short pause


def test_the_export_still_validates(narrated_site: Path, shared: Path) -> None:
    from tests.iiif_schema import schema_errors

    manifest = json.loads((narrated_site / "coins" / "manifest.json").read_text())
    assert schema_errors(manifest, shared) == []


@pytest.mark.parametrize(
    ("files", "line", "message"),
    [
        ({"audio/helmet.wav": None}, 12, "narration file 'audio/helmet.wav' not found"),
        (
            {"audio/helmet.wav": b"not audio at all"},
            12,
            "narration file 'audio/helmet.wav' is not audio storiiies can read",
        ),
        (
            {"audio/helmet.vtt": "1\n00:00 --> 00:01\nhi\n"},
            12,
            "captions file 'helmet.vtt' is not WebVTT",
        ),
        (
            {"stories/coins.md": STORY.format(text="[Again](audio/helmet.wav)")},
            14,
            "step 1 already has a narration",
        ),
        (
            {
                "stories/coins.md": STORY.format(text=TEXT).replace(
                    "The title slide.", "[Listen](audio/helmet.wav)"
                )
            },
            6,
            "narration before the first step",
        ),
    ],
)
def test_narration_mistakes_name_the_story_line(make_project, files, line, message) -> None:
    merged = {**project_files(), **files}
    root = make_project({name: content for name, content in merged.items() if content is not None})
    problems = [p for p in check_site(root) if p.severity == "error"]
    assert [(p.location.path, p.location.line, p.message) for p in problems] == [
        ("stories/coins.md", line, message)
    ]
    assert problems[0].hint


def test_a_narration_beside_the_story_is_found_there_too(make_project) -> None:
    files = project_files(STORY.format(text=TEXT).replace("audio/helmet.wav", "helmet.wav"))
    files["stories/helmet.wav"] = files.pop("audio/helmet.wav")
    files.pop("audio/helmet.vtt")
    root = make_project(files)
    build_site(root)
    data = page_json((root / "_site" / "coins" / "index.html").read_text(), "story-data")
    assert data["steps"][1]["narration"]["duration"] == 2.0
    assert data["steps"][1]["narration"]["captions"] is None  # the step text is the transcript


@pytest.fixture(scope="module")
def narrated_server(narrated_site: Path):
    server = LiveServer(static_app(narrated_site)).start()
    yield server
    server.stop()


PLAYING = (
    "n => { const a = window.storiiies.media.narration(n); return !a.paused && a.currentTime > 0; }"
)


@pytest.mark.browser
def test_narration_plays_with_its_step_only_after_opting_in(new_page, narrated_server) -> None:
    page = new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{narrated_server.url}/coins/#step-1")
    page.wait_for_function("() => window.storiiies?.media")
    # Nothing plays by itself: a screen reader user has not asked for a voice. The step's
    # narration is ready to play (its metadata read) and stays paused.
    page.wait_for_function("() => window.storiiies?.media.narration(1).readyState >= 1")
    assert page.evaluate("window.storiiies?.media.on") is False
    assert page.evaluate("window.storiiies?.media.narration(1).paused") is True
    sound = page.get_by_role("button", name="Play narration with each step")
    sound.click()
    assert sound.get_attribute("aria-pressed") == "true"
    page.wait_for_function(PLAYING, arg=1)
    page.wait_for_function(
        "() => document.querySelector('.st-live').textContent.startsWith('Narration on')"
    )
    # The next step stops it; coming back plays it again from the start.
    page.keyboard.press("ArrowRight")
    page.wait_for_function("() => window.storiiies.current === 2")
    assert page.evaluate("window.storiiies?.media.narration(1).paused") is True
    page.keyboard.press("ArrowLeft")
    page.wait_for_function(PLAYING, arg=1)
    # The choice holds for the session, on a reload too.
    page.reload()
    page.wait_for_function("() => window.storiiies?.media")
    assert sound.get_attribute("aria-pressed") == "true"
    sound.click()
    assert page.evaluate("window.storiiies?.media.narration(1).paused") is True
    assert errors == []


@pytest.mark.browser
def test_kiosk_autoplay_waits_for_the_narration(new_page, narrated_server) -> None:
    page = new_page()
    page.context.add_init_script("window.storiiies = {timeScale: 0.1};")
    # The kiosk's plan outlives the tour page (the last step lasts 100 ms before the kiosk goes
    # home, too short to be sure of catching it on a busy machine): kept when the page is left.
    page.context.add_init_script(
        "window.addEventListener('pagehide', () => window.storiiies?.kiosk"
        " && window.storiiies?.kiosk.planned.length && sessionStorage.setItem('planned',"
        " JSON.stringify(window.storiiies?.kiosk.planned)));"
    )
    page.goto(f"{narrated_server.url}/coins/?kiosk=1")
    planned = page.wait_for_function(
        """() => { const kept = sessionStorage.getItem('planned');
          const plan = kept ? JSON.parse(kept) : (window.storiiies?.kiosk || {}).planned || [];
          return plan.length >= 3 && plan.slice(0, 3); }"""
    ).json_value()
    # 1 s steps, but step 1 lasts its 2 s narration and a pause (scaled by 0.1).
    assert [[step, round(ms)] for step, ms in planned] == [[0, 100], [1, 350], [2, 100]]


def test_a_narration_outside_the_project_is_never_copied(make_project, tmp_path: Path) -> None:
    (tmp_path / "secret.wav").write_bytes(tone(1.0))
    story = STORY.format(text=TEXT).replace("audio/helmet.wav", "../../secret.wav")
    root = make_project({**project_files(story)})
    problems = [p for p in check_site(root) if p.is_error]
    assert [p.message for p in problems] == ["narration file '../../secret.wav' not found"]


def test_the_preview_serves_the_narration(make_project, preview_server) -> None:
    import httpx

    server = preview_server(make_project(project_files()))
    page = httpx.get(f"{server.url}/coins/").text
    audio = page.split('class="st-narration-audio" controls preload="metadata" src="../')[1].split(
        '"'
    )[0]
    response = httpx.get(f"{server.url}/{audio}")
    assert response.status_code == 200 and response.content == tone(2.0)


def test_the_example_story_is_narrated_with_captions(built_examples: Path) -> None:
    data = page_json((built_examples / "listen" / "index.html").read_text(), "story-data")
    narrations = [step["narration"] for step in data["steps"][1:]]
    assert len(narrations) == 3
    for narration in narrations:
        assert narration["format"] == "audio/mpeg"
        assert 5 < narration["duration"] < 10  # read from the MP3 at build time
        assert (built_examples / narration["captions"]).read_text().startswith("WEBVTT")
