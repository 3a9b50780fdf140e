"""`storiiies serve` live reload, against the real server on 127.0.0.1: save a file on disk,
watch the reload message arrive, and fetch what the page says now."""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from storiiies.build import load_site
from storiiies.serve.app import preview_app
from storiiies.serve.livereload import Broadcaster
from storiiies.serve.state import Preview, Snapshot
from tests.conftest import EventStream
from tests.helpers import make_image

STORY = """\
---
title: {title}
sources:
  grad:
    url: images/grad.jpg
    rights: http://creativecommons.org/publicdomain/zero/1.0/
    credit: A test gradient
---
The title slide of {title}.

## First look
![The dark corner](grad#xywh=0,0,200,150)
{title} begins here.

## Second look
![The bright corner](grad#xywh=600,450,200,150)
"""


@pytest.fixture
def project(make_project):
    root = make_project(
        {
            "stories/alpha.md": STORY.format(title="Alpha"),
            "stories/beta.md": STORY.format(title="Beta"),
        }
    )
    make_image(root / "images" / "grad.jpg")
    return root


def events(server) -> EventStream:
    stream = EventStream(f"{server.url}/_storiiies/events?since={server.preview.snapshot.token}")
    first = stream.next()
    assert first["pages"] == [] and first["token"] == server.preview.snapshot.token
    return stream


def save(path, text: str) -> None:
    """Save as most editors do: a hidden temporary file renamed over the old one, so the
    watcher never sees a half-written file."""
    temporary = path.with_name(f".{path.name}.saving")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def wait_for(condition, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


def test_editing_a_story_reloads_its_page_with_the_new_text(project, preview_server):
    server = preview_server(project)
    stream = events(server)
    assert "Alpha begins here." in httpx.get(f"{server.url}/alpha/").text
    story = project / "stories" / "alpha.md"
    save(story, story.read_text().replace("Alpha begins here.", "Alpha starts over."))
    message = stream.next()
    assert message["pages"] == ["", "alpha"]  # its page and the home page; not beta's
    assert message["errors"] == 0
    page = httpx.get(f"{server.url}/alpha/")
    assert "Alpha starts over." in page.text
    assert f'data-version="{message["token"]}"' in page.text
    stream.close()


def test_an_edit_parses_and_resolves_only_the_edited_story(project, preview_server):
    server = preview_server(project)
    stream = events(server)
    story = project / "stories" / "beta.md"
    save(story, story.read_text().replace("## Second look", "## Another look"))
    stream.next()
    rebuilds = wait_for(lambda: server.rebuilds)
    assert sum(r.parsed for r in rebuilds) == 1  # of the 2 stories
    assert sum(r.resolved for r in rebuilds) == 1
    stream.close()


def test_broken_settings_show_problems_and_fixing_them_clears_them(project, preview_server):
    server = preview_server(project)
    stream = events(server)
    settings = project / "storiiies.yml"
    good = settings.read_text()
    save(settings, good + "description: [unclosed\n")
    message = stream.next()
    assert (message["pages"], message["errors"]) == ([], 1)
    problems = httpx.get(f"{server.url}/_storiiies/problems.json").json()
    assert problems["site"] is True
    (problem,) = problems["problems"]
    assert problem["location"] == "storiiies.yml:3:1"  # where the YAML ends unclosed
    assert problem["message"].startswith("invalid YAML")
    assert problem["hint"]
    # The last good site is still served, with its reload script.
    page = httpx.get(f"{server.url}/alpha/")
    assert page.status_code == 200 and "_storiiies/live.js" in page.text
    save(settings, good)
    message = stream.next()
    assert message["errors"] == 0
    assert httpx.get(f"{server.url}/_storiiies/problems.json").json()["problems"] == []
    stream.close()


def test_a_broken_story_reports_file_line_and_hint_and_keeps_its_last_good_page(
    project, preview_server
):
    server = preview_server(project)
    stream = events(server)
    story = project / "stories" / "alpha.md"
    good = story.read_text()
    save(story, good.replace("grad#xywh=0,0,200,150", "grad#xywh=0,0,9000,150"))
    message = stream.next()
    assert (message["pages"], message["errors"]) == ([], 1)
    (problem,) = httpx.get(f"{server.url}/_storiiies/problems.json").json()["problems"]
    assert problem["location"] == "stories/alpha.md:12:20"
    assert problem["message"] == "region 0,0,9000,150 is outside canvas 1 of 'grad' (800×600)"
    assert problem["hint"] == "the canvas is 800×600 pixels"
    assert problem["source"] == "![The dark corner](grad#xywh=0,0,9000,150)"
    assert "Alpha begins here." in httpx.get(f"{server.url}/alpha/").text
    save(story, good)
    assert stream.next()["errors"] == 0
    stream.close()


def test_a_first_build_that_fails_serves_a_page_that_recovers_by_itself(
    make_project, preview_server
):
    root = make_project({"stories/alpha.md": "---\ntitle: Alpha\nsources: {}\n---\n## A step\n"})
    server = preview_server(root)
    page = httpx.get(f"{server.url}/alpha/")
    assert page.status_code == 500
    assert "data-storiiies-error" in page.text
    assert "stories/alpha.md:" in page.text and "the story declares no sources" in page.text
    assert "_storiiies/live.js" in page.text
    stream = events(server)
    os.replace(make_image(root / "images" / ".grad.jpg"), root / "images" / "grad.jpg")
    save(root / "stories" / "alpha.md", STORY.format(title="Alpha"))
    message = stream.next()
    while message["errors"]:  # the image may land in its own rebuild, before the story
        message = stream.next()
    assert message["pages"] is None  # a first good site: every open page reloads
    assert httpx.get(f"{server.url}/alpha/").status_code == 200
    stream.close()


def test_a_changed_image_is_tiled_again_and_only_then(project, preview_server):
    server = preview_server(project)
    tiles = project / ".storiiies-cache" / "tiles"
    before = {p.name for p in tiles.iterdir() if not p.name.startswith(".")}
    stream = events(server)
    os.replace(
        make_image(project / "images" / ".grad.jpg", 800, 601), project / "images" / "grad.jpg"
    )
    message = stream.next()
    assert message["pages"] == ["", "alpha", "beta"]
    after = {p.name for p in tiles.iterdir() if not p.name.startswith(".")}
    assert len(after - before) == 1
    name = re.search(r"images/grad-[0-9a-f]+", httpx.get(f"{server.url}/alpha/").text)[0]
    info = httpx.get(f"{server.url}/{name}/info.json").json()
    assert (info["width"], info["height"]) == (800, 601)
    # A story edit re-tiles nothing.
    story = project / "stories" / "alpha.md"
    save(story, story.read_text() + "\nMore text.\n")
    stream.next()
    assert {p.name for p in tiles.iterdir() if not p.name.startswith(".")} == after
    stream.close()


def test_a_theme_stylesheet_change_swaps_css_without_reloading(
    make_project, preview_server, project
):
    settings = project / "storiiies.yml"
    settings.write_text(settings.read_text() + "theme_dir: overrides\n")
    css = project / "overrides" / "static" / "storiiies" / "extra.css"
    css.parent.mkdir(parents=True)
    css.write_text("body { color: black; }\n")
    server = preview_server(project)
    stream = events(server)
    save(css, "body { color: navy; }\n")
    message = stream.next()
    assert (message["pages"], message["css"]) == ([], True)
    assert httpx.get(f"{server.url}/assets/storiiies/extra.css").text == "body { color: navy; }\n"
    stream.close()


def test_a_template_error_is_shown_with_its_file_and_line(project, preview_server):
    settings = project / "storiiies.yml"
    settings.write_text(settings.read_text() + "theme_dir: overrides\n")
    template = project / "overrides" / "templates" / "text.html"
    template.parent.mkdir(parents=True)
    server = preview_server(project)
    stream = events(server)
    save(template, '{% extends "base.html" %}\n{% block body %}\n{% if %}\n{% endblock %}\n')
    message = stream.next()
    assert message["errors"] == 1
    (problem,) = httpx.get(f"{server.url}/_storiiies/problems.json").json()["problems"]
    assert problem["location"] == "overrides/templates/text.html:3"
    assert problem["message"].startswith("template error:")
    assert httpx.get(f"{server.url}/alpha/text.html").status_code == 200  # the last good theme
    template.unlink()
    assert stream.next()["errors"] == 0
    stream.close()


def test_a_restarted_server_reloads_every_open_page(project, preview_server):
    server = preview_server(project)
    stream = EventStream(f"{server.url}/_storiiies/events?since=0123abcd.7")
    assert stream.next()["pages"] is None
    stream.close()


def test_a_tab_coming_back_reloads_only_if_its_page_changed_meanwhile():
    broadcaster = Broadcaster()
    seen = broadcaster.token
    broadcaster.publish(frozenset({"", "alpha"}), errors=0, warnings=0)
    broadcaster.publish(frozenset(), errors=1, warnings=0)
    state = broadcaster.state_since(seen)
    assert (state["pages"], state["errors"]) == (["", "alpha"], 1)
    assert broadcaster.state_since(state["token"])["pages"] == []
    broadcaster.publish(None, errors=0, warnings=0)
    assert broadcaster.state_since(seen)["pages"] is None


def test_the_stage_cache_redoes_only_what_a_changed_file_feeds(make_project):
    from storiiies.build import load_site
    from storiiies.config import load_config
    from storiiies.incremental import StageCache

    other = STORY.replace("images/grad.jpg", "images/other.jpg")
    root = make_project(
        {
            "stories/alpha.md": STORY.format(title="Alpha"),
            "stories/beta.md": other.format(title="Beta"),
        }
    )
    make_image(root / "images" / "grad.jpg")
    make_image(root / "images" / "other.jpg")
    config, cache = load_config(root), StageCache()
    first, problems = load_site(config, cache=cache)
    assert first is not None, problems
    assert (cache.parsed, cache.resolved) == (2, 2)
    again, _ = load_site(config, cache=cache)
    assert (cache.parsed, cache.resolved) == (0, 0)
    assert [a is b for a, b in zip(first.stories, again.stories, strict=True)] == [True, True]
    os.replace(make_image(root / "images" / ".other.jpg", 900, 700), root / "images" / "other.jpg")
    changed, _ = load_site(config, cache=cache)
    assert (cache.parsed, cache.resolved) == (0, 1)  # beta uses the image; alpha is kept
    assert changed.stories[0] is first.stories[0]
    assert changed.stories[1].cover.canvas.width == 900


def test_the_server_survives_any_bad_input_and_recovers(project, preview_server):
    server = preview_server(project)
    stream = events(server)
    settings, story, image = (
        project / "storiiies.yml",
        project / "stories" / "alpha.md",
        project / "images" / "grad.jpg",
    )
    good = {path: path.read_bytes() for path in (settings, story, image)}
    for path, junk in [(story, b"\xff\xfe\x00garbage"), (image, b"not a jpeg"), (settings, None)]:
        if junk is None:
            path.unlink()
        else:
            path.write_bytes(junk)
        while not stream.next()["errors"]:
            pass
        assert httpx.get(f"{server.url}/beta/").status_code == 200  # the last good site
    problems = httpx.get(f"{server.url}/_storiiies/problems.json").json()["problems"]
    assert [p["message"] for p in problems] == ["no storiiies.yml here"]
    for path, content in good.items():
        path.write_bytes(content)
    while stream.next()["errors"]:
        pass
    assert "Alpha begins here." in httpx.get(f"{server.url}/alpha/").text


# -- a request that arrives during a rebuild --------------------------------------------------


class HeldRebuild:
    """A preview (not watching) whose next rebuild stops inside its site stage, after the new
    site is loaded and before it is published, until the test releases it."""

    def __init__(self, preview: Preview, url: str) -> None:
        self.preview = preview
        self.url = url
        self.inside = threading.Event()  # the rebuild has reached the held point
        self.release = threading.Event()
        self.waiting = threading.Event()  # a request waits for the rebuild
        self.crash = False

    def load_site(self, *args: Any, **kwargs: Any) -> Any:
        loaded = load_site(*args, **kwargs)
        self.inside.set()
        assert self.release.wait(30)
        if self.crash:
            raise RuntimeError("a bug in a stage")
        return loaded

    async def settled(self, timeout: float) -> Snapshot:
        self.waiting.set()
        return await Preview.settled(self.preview, timeout)


@pytest.fixture
def held(project, serve_app, monkeypatch) -> Iterator[HeldRebuild]:
    preview = Preview(project, offline=True)
    preview.rebuild()
    held = HeldRebuild(preview, serve_app(preview_app(preview, watch=False)).url)
    monkeypatch.setattr("storiiies.serve.state.load_site", held.load_site)
    monkeypatch.setattr(preview, "settled", held.settled)
    # Far beyond the client's timeout: a request that misses the end of the rebuild fails.
    monkeypatch.setattr("storiiies.serve.app._REBUILD_WAIT", 3600.0)
    yield held
    held.release.set()
    preview.close()


def edit_alpha(project) -> set:
    story = project / "stories" / "alpha.md"
    save(story, story.read_text().replace("Alpha begins here.", "Alpha starts over."))
    return {story}


def test_a_page_requested_during_a_rebuild_shows_the_new_version_once_it_ends(project, held):
    old = held.preview.snapshot.token
    with ThreadPoolExecutor(3) as pool:
        rebuild = pool.submit(held.preview.rebuild, edit_alpha(project))
        assert held.inside.wait(10)
        page = pool.submit(httpx.get, f"{held.url}/alpha/", timeout=30)
        assert held.waiting.wait(10)
        assert not page.done()  # no answer from the half-built state
        held.release.set()
        assert rebuild.result(30).published
        text = page.result(30).text
    new = held.preview.snapshot.token
    assert new != old
    assert "Alpha starts over." in text and "Alpha begins here." not in text
    assert f'data-version="{new}"' in text


def test_problems_requested_during_a_rebuild_are_those_of_the_new_version(project, held):
    old = held.preview.snapshot.token
    with ThreadPoolExecutor(3) as pool:
        rebuild = pool.submit(held.preview.rebuild, edit_alpha(project))
        assert held.inside.wait(10)
        problems = pool.submit(httpx.get, f"{held.url}/_storiiies/problems.json", timeout=30)
        assert held.waiting.wait(10)
        held.release.set()
        rebuild.result(30)
        token = problems.result(30).json()["token"]
    assert token == held.preview.snapshot.token != old


def test_a_rebuild_that_crashes_lets_the_waiting_page_show_the_last_good_version(project, held):
    held.crash = True
    with ThreadPoolExecutor(3) as pool:
        rebuild = pool.submit(held.preview.rebuild, edit_alpha(project))
        assert held.inside.wait(10)
        page = pool.submit(httpx.get, f"{held.url}/alpha/", timeout=30)
        assert held.waiting.wait(10)
        held.release.set()
        with pytest.raises(RuntimeError, match="a bug in a stage"):
            rebuild.result(30)
        response = page.result(30)
    assert response.status_code == 200 and "Alpha begins here." in response.text


def test_a_rebuild_that_outlasts_the_wait_leaves_the_page_at_the_last_good_version(
    project, held, monkeypatch
):
    monkeypatch.setattr("storiiies.serve.app._REBUILD_WAIT", 0.0)
    old = held.preview.snapshot.token
    with ThreadPoolExecutor(1) as pool:
        rebuild = pool.submit(held.preview.rebuild, edit_alpha(project))
        assert held.inside.wait(10)
        text = httpx.get(f"{held.url}/alpha/", timeout=30).text  # the rebuild is still held
        held.release.set()
        rebuild.result(30)
    assert "Alpha begins here." in text and f'data-version="{old}"' in text
    assert "Alpha starts over." in httpx.get(f"{held.url}/alpha/").text
