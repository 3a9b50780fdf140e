"""Tiling and crops on a Dask cluster: a real LocalCluster of two worker processes on 127.0.0.1.

Kept few: each cluster test costs seconds on a small machine. They skip, saying why, when the
extra storiiies[cluster] is not installed (`make setup` installs it with the test tools).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import pytest

from storiiies.build import build_site
from tests.helpers import make_image, tree_digest

REPO = Path(__file__).resolve().parent.parent
needs_dask = pytest.mark.skipif(
    find_spec("distributed") is None,
    reason="Dask is not installed: the extra storiiies[cluster] (pip install -e '.[cluster]')",
)


def write_project(root: Path, images: int = 2) -> Path:
    (root / "stories").mkdir(parents=True)
    (root / "storiiies.yml").write_text("title: Cluster\n", encoding="utf-8")
    sources = "".join(
        f"  img{n}:\n    url: images/img{n}.jpg\n"
        "    rights: https://creativecommons.org/publicdomain/zero/1.0/\n"
        for n in range(images)
    )
    steps = "".join(
        f"## Image {n}\n![Part of image {n}](img{n}#xywh=10,10,300,200)\n\n" for n in range(images)
    )
    story = f"---\ntitle: Tour\nsources:\n{sources}---\nIntro.\n\n{steps}"
    (root / "stories" / "tour.md").write_text(story, encoding="utf-8")
    for n in range(images):
        make_image(root / "images" / f"img{n}.jpg", 1500 + 11 * n, 1100)
    return root


def copy_of(project: Path, name: str) -> Path:
    """The project without its cache or site, under another name (so it tiles afresh)."""
    target = project.parent / name
    shutil.copytree(project, target, ignore=shutil.ignore_patterns(".storiiies-cache", "_site"))
    return target


@pytest.fixture(scope="module")
def dask_cluster() -> Iterator[Any]:
    from distributed import LocalCluster

    cluster = LocalCluster(
        n_workers=2,
        processes=True,
        threads_per_worker=1,
        host="127.0.0.1",
        dashboard_address=None,
    )
    yield cluster
    cluster.close()


def test_a_build_without_a_cluster_never_imports_dask(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p", images=1)
    script = (
        "import sys\n"
        "from storiiies.cli import main\n"
        f"main(['build', '--quiet', {str(project)!r}], standalone_mode=False)\n"
        "loaded = [m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')]\n"
        "assert not loaded, loaded\n"
        "print('built without dask')\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    run = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    assert "built without dask" in run.stdout
    assert (project / "_site" / "index.html").is_file()


@needs_dask
def storiiies_build(*args: str) -> subprocess.CompletedProcess[str]:
    """`storiiies build ARGS` as an author runs it, in a process of its own."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "storiiies", "build", *args]
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)


def unreachable_scheduler() -> str:
    """The address of a port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        return f"tcp://127.0.0.1:{holder.getsockname()[1]}"


def test_an_unreachable_scheduler_is_one_error_and_the_site_stays(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p", images=1)
    assert storiiies_build("--quiet", str(project)).returncode == 0
    before = tree_digest(project / "_site")
    config = project / "storiiies.yml"
    config.write_text(config.read_text() + "cluster:\n  address: tcp://x\n  timeout: 2\n")
    (project / "stories" / "tour.md").write_text(
        (project / "stories" / "tour.md").read_text() + "\nChanged.\n"
    )
    started = time.monotonic()
    run = storiiies_build("--quiet", str(project), "--cluster", unreachable_scheduler())
    elapsed = time.monotonic() - started
    assert run.returncode == 1
    errors = [line for line in run.stderr.splitlines() if ": error:" in line]
    assert len(errors) == 1, run.stderr
    assert errors[0].startswith("--cluster: error: cannot reach the Dask scheduler at tcp://")
    assert "within 2 s" in errors[0]
    assert "Traceback" not in run.stderr
    assert "The previous site was left as it was." in run.stderr
    assert elapsed < 20, f"gave up after {elapsed:.1f} s, not about the 2 s asked"
    assert tree_digest(project / "_site") == before


def test_a_current_site_is_not_built_again_and_needs_no_scheduler(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p", images=1)
    assert storiiies_build(str(project)).returncode == 0
    before = tree_digest(project / "_site")
    run = storiiies_build(str(project), "--cluster", unreachable_scheduler())
    assert run.returncode == 0, run.stderr
    assert "Nothing changed since the last build" in run.stdout + run.stderr
    assert "error" not in run.stderr
    assert tree_digest(project / "_site") == before


@needs_dask
def test_a_cluster_build_equals_a_local_build(tmp_path: Path, dask_cluster: Any) -> None:
    from storiiies.images.cluster import connect

    local = write_project(tmp_path / "local")
    build_site(local)
    expected = tree_digest(local / "_site")
    for storage in ("auto", "send"):
        project = copy_of(local, storage)
        executor = connect(dask_cluster.scheduler_address, storage=storage)
        events: list[tuple[str, int, int]] = []
        try:
            report = build_site(
                project, executor=executor, progress=lambda *e, into=events: into.append(e)
            )
        finally:
            executor.shutdown()
        assert report.images_tiled == 2
        assert tree_digest(project / "_site") == expected, storage
        # Progress is told as each image comes back.
        assert [(d, t) for what, d, t in events if what == "tiling"] == [(1, 2), (2, 2)]
        if storage == "send":
            sources = sum(p.stat().st_size for p in (project / "images").iterdir())
            assert executor.bytes_sent == sources
            assert executor.bytes_received > 0
        else:
            assert executor.bytes_sent == executor.bytes_received == 0


def _gated(fn: Callable[..., Any], gate: str, *args: Any) -> Any:
    """Runs on a worker: say which process took the job, wait for the test's go, then work."""
    (Path(gate) / f"started-{os.getpid()}").touch()
    deadline = time.monotonic() + 120
    while not (Path(gate) / "go").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    return fn(*args)


@needs_dask
def test_a_worker_killed_mid_job_is_retried(tmp_path: Path, dask_cluster: Any) -> None:
    import cloudpickle

    from storiiies.images import remote
    from storiiies.images.cluster import ClusterExecutor, connect

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    local = write_project(tmp_path / "local", images=1)
    build_site(local)
    project = copy_of(local, "clustered")
    gate = tmp_path / "gate"
    gate.mkdir()

    class Gated(ClusterExecutor):
        def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
            if fn is remote.tile_in_place:
                return super().submit(_gated, fn, str(gate), *args)
            return super().submit(fn, *args, **kwargs)

    executor = Gated(connect(dask_cluster.scheduler_address).client)
    outcome: list[Any] = []
    builder = threading.Thread(
        target=lambda: outcome.append(build_site(project, executor=executor))
    )
    builder.start()
    try:
        deadline = time.monotonic() + 60
        while not list(gate.glob("started-*")) and time.monotonic() < deadline:
            time.sleep(0.05)
        first = list(gate.glob("started-*"))
        assert len(first) == 1, "no worker took the job"
        victim = int(first[0].name.split("-")[1])
        os.kill(victim, signal.SIGKILL)
        first[0].unlink()
        while not list(gate.glob("started-*")) and time.monotonic() < deadline:
            time.sleep(0.05)
        (gate / "go").touch()
        builder.join(timeout=120)
    finally:
        (gate / "go").touch()
        builder.join(timeout=120)
        executor.shutdown()
    retried = [int(p.name.split("-")[1]) for p in gate.glob("started-*")]
    assert retried and victim not in retried, "the job was not run again on another worker"
    assert outcome and outcome[0].images_tiled == 1
    assert tree_digest(project / "_site") == tree_digest(local / "_site")


def test_the_cluster_setting_and_flag_are_checked(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from storiiies.cli import main
    from storiiies.config import load_config

    project = write_project(tmp_path / "p", images=1)
    config = project / "storiiies.yml"
    config.write_text("title: Cluster\ncluster: tcp://10.0.0.5:8786\n", encoding="utf-8")
    settings = load_config(project).settings.cluster
    assert settings is not None
    assert (settings.address, settings.timeout, settings.storage) == (
        "tcp://10.0.0.5:8786",
        10.0,
        "auto",
    )
    config.write_text("title: Cluster\ncluster:\n  address: 10.0.0.5\n", encoding="utf-8")
    run = CliRunner().invoke(main, ["build", "--quiet", str(project)])
    assert run.exit_code == 1
    assert "must be a scheduler address, e.g. tcp://10.0.0.5:8786" in run.output
    config.write_text("title: Cluster\n", encoding="utf-8")
    run = CliRunner().invoke(main, ["build", "--quiet", "--cluster", "10.0.0.5", str(project)])
    assert run.exit_code == 1
    assert "--cluster: error: '10.0.0.5' is not a scheduler address" in run.output
    assert not (project / "_site").exists()
