"""`storiiies publish`: the built site to a real S3-compatible server (moto's server mode on
127.0.0.1) and to a folder: changed files only, types and cache headers, the order, a publish
killed midway and run again, a dry run, and the published site walked in Chromium."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from storiiies.build import build_site
from storiiies.publish import publish_site
from storiiies.publish.files import IMMUTABLE, SHORT
from tests.conftest import EXAMPLES, REPO
from tests.helpers import tree_digest
from tests.s3 import fresh_bucket

MANIFEST = ".storiiies-publish.json"
PENDING = ".storiiies-publish.pending.json"


@pytest.fixture
def s3(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Any:
    """A fresh bucket, readable by anyone over HTTP like a website bucket, and the standard
    AWS environment pointing at the local server (inherited by a publish run as a command)."""
    client = fresh_bucket(s3_endpoint, monkeypatch, request.node.name)
    bucket = client.bucket
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/*",
            }
        ],
    }
    client.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    return client


@pytest.fixture(scope="module")
def built_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = tmp_path_factory.mktemp("publish") / "examples"
    shutil.copytree(EXAMPLES, project, ignore=shutil.ignore_patterns("_site", ".storiiies-cache"))
    build_site(project)
    return project


@pytest.fixture
def project(built_project: Path, tmp_path: Path) -> Path:
    """A copy of the built example project that a test may change and rebuild (from cache)."""
    copy = tmp_path / "examples"
    shutil.copytree(built_project, copy)
    return copy


def objects(client: Any, prefix: str = "tours/") -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    for page in client.get_paginator("list_objects_v2").paginate(
        Bucket=client.bucket, Prefix=prefix
    ):
        for item in page.get("Contents", []):
            body = client.get_object(Bucket=client.bucket, Key=item["Key"])["Body"].read()
            found[item["Key"].removeprefix(prefix)] = body
    return found


def site_bytes(project: Path) -> dict[str, bytes]:
    site = project / "_site"
    return {
        path.relative_to(site).as_posix(): path.read_bytes()
        for path in site.rglob("*")
        if path.is_file()
    }


def run_publish(*args: str, **options: Any) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "storiiies", "publish", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        **options,
    )


def uploaded_paths(output: str) -> set[str]:
    return {line.split()[2] for line in output.splitlines() if line.startswith("  uploaded ")}


def test_publish_uploads_the_site_with_types_and_cache_headers(s3, project):
    report = publish_site(project, f"s3://{s3.bucket}/tours/")

    published = objects(s3)
    manifest = json.loads(published.pop(MANIFEST))
    assert published == site_bytes(project)
    assert set(manifest["files"]) == set(published)
    assert len(report.uploads) == len(published) and report.removals == ()

    def head(key: str) -> tuple[str, str]:
        answer = s3.head_object(Bucket=s3.bucket, Key=f"tours/{key}")
        return answer["ContentType"], answer["CacheControl"]

    tile = next(path for path in published if path.endswith("/default.jpg"))
    crop = next(path for path in published if path.startswith("crops/"))
    sound = next(path for path in published if path.endswith(".mp3"))
    captions = next(path for path in published if path.endswith(".vtt"))
    info = next(path for path in published if path.endswith("/info.json"))
    assert head(tile) == ("image/jpeg", IMMUTABLE)
    assert head(crop) == ("image/jpeg", IMMUTABLE)
    assert head(sound) == ("audio/mpeg", IMMUTABLE)
    assert head(captions) == ("text/vtt; charset=utf-8", IMMUTABLE)
    assert head(info) == ("application/json", SHORT)
    assert head("index.html") == ("text/html; charset=utf-8", SHORT)
    assert head("coins/manifest.json") == ("application/json", SHORT)
    assert head("assets/storiiies/tour.js") == ("text/javascript; charset=utf-8", SHORT)
    assert head("assets/storiiies/tour.css") == ("text/css; charset=utf-8", SHORT)
    assert SHORT == "public, max-age=300"


def test_pages_go_after_what_they_show_and_the_home_page_last(s3, project):
    order: list[str] = []
    publish_site(
        project,
        f"s3://{s3.bucket}/tours/",
        step=lambda action, path, done, total: order.append(path) if action == "upload" else None,
    )
    position = {path: index for index, path in enumerate(order)}
    last_content = max(
        position[p]
        for p in order
        if p.startswith(("images/", "crops/", "media/")) and not p.endswith("info.json")
    )
    first_page = min(position[p] for p in order if p.endswith(".html"))
    assert last_content < position["assets/storiiies/tour.js"] < first_page
    assert position["coins/manifest.json"] < position["coins/index.html"]
    assert order[-2:] == ["collection.json", "index.html"]


def test_a_changed_story_moves_only_its_files(s3, project):
    url = f"s3://{s3.bucket}/tours/"
    publish_site(project, url)
    before = site_bytes(project)
    story = project / "stories" / "fields-family.md"
    story.write_text(
        story.read_text(encoding="utf-8").replace("looks straight into", "looks directly into", 1),
        encoding="utf-8",
    )
    build_site(project)
    after = site_bytes(project)
    changed = {path for path in after if before.get(path) != after[path]}
    assert changed and not any(p.startswith(("images/", "crops/", "media/")) for p in changed)

    moved: list[str] = []
    report = publish_site(project, url, step=lambda action, path, done, total: moved.append(path))
    assert {file.path for file in report.uploads} == changed
    assert (
        set(moved) - {"image descriptions and story pages", "home page and collection"} == changed
    )
    published = objects(s3)
    published.pop(MANIFEST)
    assert published == after


def test_a_removed_story_is_removed_after_everything_else(s3, project):
    url = f"s3://{s3.bucket}/tours/"
    publish_site(project, url)
    (project / "stories" / "listen.md").unlink()
    build_site(project)
    steps: list[tuple[str, str]] = []
    report = publish_site(
        project, url, step=lambda action, path, done, total: steps.append((action, path))
    )
    assert "listen/index.html" in report.removals
    removals = [index for index, (action, _) in enumerate(steps) if action == "remove"]
    uploads = [index for index, (action, _) in enumerate(steps) if action == "upload"]
    assert removals and max(uploads) < min(removals)
    published = objects(s3)
    published.pop(MANIFEST)
    assert published == site_bytes(project)


def test_a_publish_killed_midway_completes_when_run_again(s3, project):
    url = f"s3://{s3.bucket}/tours/"
    process = subprocess.Popen(
        [sys.executable, "-m", "storiiies", "publish", url, str(project)],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "400"},
    )
    assert process.stderr is not None
    # A one-page pipe: the publish blocks on its progress lines soon after the test stops
    # reading them, so it cannot finish before the kill, however loaded the machine is.
    fcntl.fcntl(process.stderr.fileno(), fcntl.F_SETPIPE_SZ, 4096)
    uploaded = 0
    for line in process.stderr:
        if line.startswith("  uploaded "):
            uploaded += 1
            if uploaded == 40:
                process.send_signal(signal.SIGKILL)
                break
    process.wait(timeout=30)
    process.stderr.close()
    assert process.returncode == -signal.SIGKILL

    stopped = objects(s3)
    assert MANIFEST not in stopped  # the destination claims no state it does not hold
    assert PENDING in stopped
    assert 40 <= len(stopped) - 1 < len(site_bytes(project))

    again = run_publish(url, str(project))
    assert again.returncode == 0, again.stderr
    published = objects(s3)
    assert PENDING not in published
    manifest = json.loads(published.pop(MANIFEST))
    assert published == site_bytes(project)
    assert set(manifest["files"]) == set(published)
    # What the stopped run had put there was checked, not sent again. (An upload in flight at
    # the kill may still land after the snapshot above: hence "at most".)
    sent = uploaded_paths(again.stderr)
    assert not sent & (set(stopped) - {PENDING})
    assert len(sent) <= len(published) - (len(stopped) - 1)
    assert "re-checked after an interrupted publish" in again.stderr


def test_a_dry_run_lists_what_would_change_and_changes_nothing(s3, project):
    url = f"s3://{s3.bucket}/tours/"
    first = run_publish(url, str(project), "--dry-run")
    assert first.returncode == 0, first.stderr
    assert objects(s3) == {}
    files = site_bytes(project)
    total = sum(len(data) for data in files.values())
    assert f"would upload {len(files)} files ({total:,} bytes)" in first.stderr
    assert "  would upload coins/index.html (" in first.stderr

    publish_site(project, url)
    snapshot = objects(s3)
    (project / "stories" / "listen.md").unlink()
    build_site(project)
    second = run_publish(url, str(project), "--dry-run")
    assert second.returncode == 0, second.stderr
    assert "  would remove listen/index.html" in second.stderr
    assert objects(s3) == snapshot


def test_a_missing_bucket_is_one_line(s3, project):
    result = run_publish("s3://no-such-bucket/tours/", str(project))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "error: the bucket of s3://no-such-bucket/tours/ does not exist — create it first, "
        "or check the bucket name in the URL"
    ]


def test_missing_credentials_are_one_line(s3, project, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    result = run_publish(f"s3://{s3.bucket}/tours/", str(project))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"error: no credentials to publish to s3://{s3.bucket}/tours/ — set AWS_ACCESS_KEY_ID "
        "and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) in the environment"
    ]


def test_an_unreachable_endpoint_is_one_line(s3, project, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    result = run_publish(f"s3://{s3.bucket}/tours/", str(project))
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"error: cannot reach the storage endpoint for s3://{s3.bucket}/tours/")
    assert line.endswith(
        "check AWS_ENDPOINT_URL or publish.endpoint_url in storiiies.yml, and the network"
    )


def test_the_endpoint_may_come_from_storiiies_yml(s3, project, s3_endpoint, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    settings = project / "storiiies.yml"
    settings.write_text(
        settings.read_text(encoding="utf-8")
        + f"publish:\n  url: s3://{s3.bucket}/tours/\n  endpoint_url: {s3_endpoint}\n",
        encoding="utf-8",
    )
    report = publish_site(project)  # no URL given: publish.url
    assert len(report.uploads) == len(site_bytes(project))


def test_publish_to_a_folder(project, tmp_path):
    target = tmp_path / "www" / "tours"
    first = run_publish(str(target), str(project))
    assert first.returncode == 0, first.stderr
    published = tree_digest(target)
    manifest = json.loads((target / MANIFEST).read_text(encoding="utf-8"))
    del published[MANIFEST]
    assert published == tree_digest(project / "_site")
    assert set(manifest["files"]) == set(published)

    again = publish_site(project, str(target))
    assert again.uploads == () and again.removals == ()

    (project / "stories" / "listen.md").unlink()
    build_site(project)
    third = publish_site(project, str(target))
    assert "listen/index.html" in third.removals
    published = tree_digest(target)
    del published[MANIFEST]
    assert published == tree_digest(project / "_site")


@pytest.mark.browser
def test_the_published_site_plays_from_the_bucket(s3, s3_endpoint, project, new_page):
    publish_site(project, f"s3://{s3.bucket}/tours/")
    page = new_page()
    base = f"{s3_endpoint}/{s3.bucket}/tours/"
    with page.expect_response(
        lambda response: (
            "/images/" in response.url
            and response.url.endswith("/default.jpg")
            and response.status == 200
        )
    ) as tile:
        # A bare bucket serves keys, not folders: the page by its full name.
        page.goto(base + "fields-family/index.html")
    assert tile.value.url.startswith(base)
    assert tile.value.headers["cache-control"] == IMMUTABLE
    page.wait_for_function(
        "() => window.storiiies && window.storiiies.views && window.storiiies.views()[0]"
        " && window.storiiies.views()[0].items.length > 0"
        " && window.storiiies.views()[0].items[0].loaded"
    )


class Stopped(Exception):
    pass


def test_a_publish_stopped_over_an_older_one_trusts_nothing_it_may_have_changed(s3, project):
    # v1 published whole; v2 stopped after a few uploads; the author goes back to v1. The
    # record still says v1, but some objects now hold v2: they must be found and put back.
    url = f"s3://{s3.bucket}/tours/"
    publish_site(project, url)
    first = site_bytes(project)
    story = project / "stories" / "fields-family.md"
    original = story.read_text(encoding="utf-8")
    story.write_text(original.replace("looks straight into", "looks right into", 1), "utf-8")
    build_site(project)

    def stop_after_three(action: str, path: str, done: int, total: int) -> None:
        if action == "upload" and done == 3:
            raise Stopped

    with pytest.raises(Stopped):
        publish_site(project, url, step=stop_after_three)
    stopped = objects(s3)
    assert PENDING in stopped
    assert json.loads(stopped.pop(MANIFEST))["files"].keys() == first.keys()
    assert any(stopped[path] != first[path] for path in first)  # v2 files are up

    story.write_text(original, "utf-8")
    build_site(project)
    assert site_bytes(project) == first
    report = publish_site(project, url)
    assert report.uploads and report.checked
    published = objects(s3)
    published.pop(MANIFEST)
    assert published == first


def test_without_the_publish_extra_publish_says_how_to_install_it(project, tmp_path):
    # An importable `fsspec` that is not there, as on an installation without the extra.
    blocker = tmp_path / "blocked"
    (blocker / "fsspec").mkdir(parents=True)
    (blocker / "fsspec" / "__init__.py").write_text("raise ImportError('No module fsspec')\n")
    result = subprocess.run(
        [sys.executable, "-m", "storiiies", "publish", str(tmp_path / "out"), str(project)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": f"{blocker}{os.pathsep}{REPO}"},
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "error: publishing needs the publish extra — install it with "
        "pip install 'storiiies[publish]'"
    ]
    assert not (tmp_path / "out").exists()
