"""`sources:` on object storage: an s3:// image (any fsspec URL) read from a real S3-compatible
server on 127.0.0.1 (moto's server mode), fetched once into the cache and then built exactly as
the same image given as a local file; every failure one located problem."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import pytest

from storiiies.build import build_if_changed, build_site, check_site
from storiiies.errors import BuildFailed
from storiiies.fingerprint import LastBuild
from tests.conftest import REPO
from tests.helpers import make_image, tree_digest
from tests.s3 import fresh_bucket

STORY = """\
---
title: Gradient
sources:
  grad: {url}
---
The title slide.

## Top left
![The dark top-left corner](grad#xywh=0,0,200,150)

## Bottom right
![Bottom right](grad#xywh=percent:75,75,25,25)
"""
#: Where the `sources:` entry is in STORY: what every problem names.
WHERE = "stories/gradient.md:4:3"


@pytest.fixture
def s3(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Any:
    """A fresh bucket, and the standard AWS environment pointing at the local server."""
    return fresh_bucket(s3_endpoint, monkeypatch, request.node.name)


@pytest.fixture
def image(tmp_path: Path) -> Path:
    return make_image(tmp_path / "originals" / "grad.jpg")


def upload(s3: Any, key: str, data: bytes) -> str:
    s3.put_object(Bucket=s3.bucket, Key=key, Body=data)
    return f"s3://{s3.bucket}/{key}"


def project_over(make_project: Any, url: str) -> Path:
    root = make_project({"stories/gradient.md": STORY.format(url=url)})
    (root / "images").mkdir(exist_ok=True)
    return root


def cached_copies(root: Path) -> list[Path]:
    return sorted((root / ".storiiies-cache" / "objects").rglob("grad.jpg"))


def problems_of(root: Path) -> list[str]:
    return [str(problem) for problem in check_site(root)]


def test_an_s3_image_builds_the_same_tiles_and_crops_as_the_local_file(
    s3, image, make_project, tmp_path
):
    local = project_over(make_project, "images/grad.jpg")
    shutil.copy(image, local / "images" / "grad.jpg")
    build_site(local)
    local_site = tree_digest(local / "_site")
    shutil.move(local, tmp_path / "local")

    remote = project_over(make_project, upload(s3, "scans/grad.jpg", image.read_bytes()))
    build_site(remote)
    remote_site = tree_digest(remote / "_site")

    assert set(remote_site) == set(local_site)
    pixels = {
        name: digest
        for name, digest in local_site.items()
        if name.startswith("images/") or name.endswith((".jpg", ".webp", ".png"))
    }
    assert len(pixels) > 10, "the local build has tiles and crops"
    assert {name: remote_site[name] for name in pixels} == pixels


def test_an_unchanged_object_is_not_downloaded_again(s3, image, make_project):
    root = project_over(make_project, upload(s3, "grad.jpg", image.read_bytes()))
    build_site(root)
    [copy] = cached_copies(root)
    before = copy.stat()
    build_site(root)
    after = copy.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert isinstance(build_if_changed(root), LastBuild)


def test_a_changed_object_is_fetched_and_built_again(s3, image, make_project, tmp_path):
    url = upload(s3, "grad.jpg", image.read_bytes())
    root = project_over(make_project, url)
    build_site(root)
    first = tree_digest(root / "_site")
    assert isinstance(build_if_changed(root), LastBuild)

    other = make_image(tmp_path / "other" / "grad.jpg", 640, 480)
    upload(s3, "grad.jpg", other.read_bytes())
    report = build_if_changed(root)
    assert not isinstance(report, LastBuild)
    assert report.images_tiled == 1
    [copy] = cached_copies(root)
    assert copy.read_bytes() == other.read_bytes()
    assert tree_digest(root / "_site") != first


def test_a_folder_of_objects_is_a_multi_page_source(s3, make_project, tmp_path):
    for name in ("page10.jpg", "page2.jpg", "notes.txt"):
        data = b"notes" if name.endswith(".txt") else make_image(tmp_path / name).read_bytes()
        upload(s3, f"book/{name}", data)
    root = project_over(make_project, f"s3://{s3.bucket}/book/")
    report = build_site(root)
    [story] = report.site.stories
    [source] = story.sources.values()
    assert [c.label for c in source.canvases] == [{"none": ("page2",)}, {"none": ("page10",)}]


def test_a_missing_object_is_one_located_problem(s3, make_project):
    root = project_over(make_project, f"s3://{s3.bucket}/nope.jpg")
    assert problems_of(root) == [
        f"{WHERE}: error: source 'grad': s3://{s3.bucket}/nope.jpg does not exist"
        " — check the bucket and the object's name (they are case-sensitive)"
    ]


def test_a_missing_bucket_is_one_located_problem(s3, make_project):
    root = project_over(make_project, "s3://no-such-bucket/grad.jpg")
    assert problems_of(root) == [
        f"{WHERE}: error: source 'grad': the bucket of s3://no-such-bucket/grad.jpg"
        " does not exist — check the bucket's name in the URL"
    ]


def test_access_denied_is_one_located_problem(s3, image, make_project, monkeypatch):
    url = upload(s3, "grad.jpg", image.read_bytes())
    s3.put_bucket_policy(
        Bucket=s3.bucket,
        Policy=(
            '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*",'
            f'"Action":"s3:*","Resource":["arn:aws:s3:::{s3.bucket}/*",'
            f'"arn:aws:s3:::{s3.bucket}"]}}]}}'
        ),
    )
    root = project_over(make_project, url)
    [problem] = problems_of(root)
    assert problem.startswith(f"{WHERE}: error: source 'grad': access to {url} was refused")
    assert problem.endswith("— check that the credentials in the environment may read that object")


def test_missing_credentials_are_one_located_problem(s3, image, make_project, monkeypatch):
    url = upload(s3, "grad.jpg", image.read_bytes())
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    root = project_over(make_project, url)
    assert problems_of(root) == [
        f"{WHERE}: error: source 'grad': no credentials to read {url}"
        " — set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) in the environment"
    ]


def test_an_unreachable_endpoint_is_one_located_problem(s3, image, make_project, monkeypatch):
    url = upload(s3, "grad.jpg", image.read_bytes())
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    root = project_over(make_project, url)
    [problem] = problems_of(root)
    assert problem.startswith(f"{WHERE}: error: source 'grad': cannot reach the storage endpoint")
    assert problem.endswith(
        "— check AWS_ENDPOINT_URL or publish.endpoint_url in storiiies.yml, and the network"
    )


def test_the_endpoint_may_come_from_storiiies_yml(
    s3, s3_endpoint, image, make_project, monkeypatch
):
    url = upload(s3, "grad.jpg", image.read_bytes())
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    root = make_project(
        {"stories/gradient.md": STORY.format(url=url)},
        config=f"title: Test exhibit\npublish:\n  endpoint_url: {s3_endpoint}\n",
    )
    assert [p for p in check_site(root) if p.is_error] == []


def test_an_object_that_is_not_an_image_is_one_located_problem(s3, make_project):
    url = upload(s3, "grad.jpg", b"this is not a JPEG")
    root = project_over(make_project, url)
    assert problems_of(root) == [
        f"{WHERE}: error: source 'grad': {url} is not an image libvips can read"
        " (not a known image format) — re-export it as JPEG, PNG or TIFF"
    ]
    text = project_over(make_project, upload(s3, "notes.txt", b"notes"))
    assert problems_of(text) == [
        f"{WHERE}: error: source 'grad': s3://{s3.bucket}/notes.txt is not an image file"
        " storiiies knows — use JPEG, PNG, TIFF, WebP or JPEG 2000, or a manifest URL"
    ]


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("s3://AKIAEXAMPLE:VERYSECRET@{bucket}/grad.jpg", "s3://…@{bucket}/grad.jpg"),
        ("s3://{bucket}/grad.jpg?secret=VERYSECRET&key=AKIAEXAMPLE", "s3://{bucket}/grad.jpg?…"),
    ],
)
def test_credentials_in_the_url_are_refused_and_not_repeated(s3, image, make_project, url, shown):
    upload(s3, "grad.jpg", image.read_bytes())
    root = project_over(make_project, url.format(bucket=s3.bucket))
    problems = problems_of(root)
    assert problems == [
        f"{WHERE}: error: source 'grad': the URL {shown.format(bucket=s3.bucket)} carries"
        " credentials; they were not used — remove them from the story and give them to the"
        " store's own configuration (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE,"
        " ~/.aws)"
    ]
    assert "VERYSECRET" not in problems[0] and "AKIAEXAMPLE" not in problems[0]
    assert not (root / ".storiiies-cache" / "objects").exists()


def test_offline_uses_the_cached_copy(s3, image, make_project, monkeypatch):
    root = project_over(make_project, upload(s3, "grad.jpg", image.read_bytes()))
    online = build_site(root)
    first = tree_digest(root / "_site")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    offline = build_site(root, offline=True)
    assert offline.images_cached == online.images_tiled == 1
    assert tree_digest(root / "_site") == first
    assert isinstance(build_if_changed(root, offline=True), LastBuild)


def test_offline_without_a_cached_copy_says_so(s3, image, make_project):
    url = upload(s3, "grad.jpg", image.read_bytes())
    root = project_over(make_project, url)
    assert [str(p) for p in check_site(root, offline=True)] == [
        f"{WHERE}: error: source 'grad': there is no saved copy of {url} to build --offline"
        " from — build once without --offline to fetch it"
    ]


def test_a_failed_build_keeps_the_previous_site(s3, image, make_project):
    url = upload(s3, "grad.jpg", image.read_bytes())
    root = project_over(make_project, url)
    build_site(root)
    before = tree_digest(root / "_site")
    s3.delete_object(Bucket=s3.bucket, Key="grad.jpg")
    with pytest.raises(BuildFailed):
        build_site(root)
    assert tree_digest(root / "_site") == before


def test_without_the_storage_extra_the_build_says_how_to_install_it(make_project, tmp_path):
    root = project_over(make_project, "s3://bucket/grad.jpg")
    # An importable `fsspec` that is not there, as on an installation without the extra.
    blocker = tmp_path / "blocked"
    (blocker / "fsspec").mkdir(parents=True)
    (blocker / "fsspec" / "__init__.py").write_text("raise ImportError('No module fsspec')\n")
    result = subprocess.run(
        [sys.executable, "-m", "storiiies", "build", str(root)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": f"{blocker}{os.pathsep}{REPO}"},
        timeout=120,
    )
    assert result.returncode == 1
    assert (
        f"{WHERE}: error: source 'grad': reading s3://bucket/grad.jpg needs the storage extra"
        " — install it with pip install 'storiiies[storage]'"
    ) in result.stdout + result.stderr
    assert not (root / "_site").exists()


@pytest.mark.skipif(
    find_spec("distributed") is None,
    reason="Dask is not installed: the extra storiiies[cluster] (pip install -e '.[cluster]')",
)
def test_a_cluster_is_sent_the_cached_copy_and_builds_the_same_site(
    s3, image, make_project, tmp_path
):
    from distributed import LocalCluster

    from storiiies.images.cluster import connect

    root = project_over(make_project, upload(s3, "grad.jpg", image.read_bytes()))
    build_site(root)
    expected = tree_digest(root / "_site")
    shutil.rmtree(root / ".storiiies-cache" / "tiles")
    shutil.rmtree(root / "_site")
    with LocalCluster(
        n_workers=1, processes=True, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        executor = connect(cluster.scheduler_address, storage="send")
        try:
            report = build_site(root, executor=executor)
        finally:
            executor.shutdown()
    assert report.images_tiled == 1
    [copy] = cached_copies(root)
    assert executor.bytes_sent == copy.stat().st_size
    assert tree_digest(root / "_site") == expected
