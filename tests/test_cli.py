"""The `storiiies` command as authors run it: real subprocesses, exact messages, no tracebacks."""

from __future__ import annotations

import gc
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.helpers import make_image


def storiiies(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "storiiies", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        env={"COLUMNS": "400", "PATH": "/usr/bin:/bin", "NO_COLOR": "1"},
    )


def test_version_says_the_libvips_and_the_formats_it_reads():
    import pyvips

    from storiiies import __version__

    lines = storiiies("--version").stdout.splitlines()

    assert lines[0] == f"storiiies {__version__}"
    assert lines[1] == f"libvips {pyvips.version(0)}.{pyvips.version(1)}.{pyvips.version(2)} " + (
        f"(pyvips {pyvips.__version__})"
    )
    # Every format docs/authoring.md promises, whichever library decodes it.
    for name in ("JPEG", "PNG", "TIFF", "WebP", "JPEG 2000"):
        assert re.search(rf"(^reads |, ){name}( \(|,|$)", lines[2]), lines[2]
    assert lines[3].startswith("Python 3.")


def test_help():
    for command in ("build", "check", "serve", "new"):
        result = storiiies(command, "--help")
        assert result.returncode == 0 and "Usage:" in result.stdout


def test_new_project_builds_offline(tmp_path):
    created = storiiies("new", str(tmp_path / "exhibit"))
    assert created.returncode == 0, created.stderr
    assert "storiiies serve" in created.stderr
    built = storiiies("build", "--offline", str(tmp_path / "exhibit"))
    assert built.returncode == 0, built.stderr
    assert "Built 1 story" in built.stderr
    assert "warning" not in built.stderr  # the sample credits its own image
    assert (tmp_path / "exhibit" / "_site" / "welcome" / "index.html").is_file()
    again = storiiies("new", str(tmp_path / "exhibit"))
    assert again.returncode == 1 and "already exists" in again.stderr


def test_check_lists_every_problem_with_file_and_line(make_project):
    root = make_project(
        {
            "stories/a.md": "---\ntitle: A\nsources:\n  pic: images/pic.jpg\n---\n"
            "## One\n![](pic)\n\n"
            "## Two\n![x](pik#xywh=1,1,5,5)\n\n## Three\n![x](pic/4)\n",
            "stories/b.md": "---\ntitle: [unclosed\n---\n",
        }
    )
    make_image(root / "images" / "pic.jpg", 400, 300)
    result = storiiies("check", str(root))
    assert result.returncode == 1
    lines = [line for line in result.stderr.strip().splitlines() if ": error: " in line]
    assert lines[:4] == [
        "stories/a.md:7:5: error: region 'pic' has no text alternative"
        " — describe what it shows between the brackets: ![Head of Athena](...)",
        "stories/a.md:10:6: error: unknown source 'pik'"
        " — declare it under `sources:` in the front matter (declared: pic)",
        "stories/a.md:13:6: error: canvas 4 of 'pic' does not exist (it has 1 canvas)"
        " — use a number from 1 to 1; `storiiies inspect` lists them",
        "stories/b.md:2:17: error: invalid YAML: expected ',' or ']', but got '<stream end>'"
        " — check the indentation and quote values that contain ':' or '#'",
    ], result.stderr
    assert "Traceback" not in result.stderr


def test_build_failure_keeps_previous_site_and_exits_1(make_project):
    root = make_project(
        {"stories/a.md": "---\ntitle: A\nsources:\n  pic: images/pic.jpg\n---\n## One\n![x](pic)\n"}
    )
    make_image(root / "images" / "pic.jpg", 400, 300)
    assert storiiies("build", str(root)).returncode == 0
    index = (root / "_site" / "index.html").read_bytes()
    (root / "images" / "pic.jpg").write_bytes(b"not an image at all")
    result = storiiies("build", str(root))
    assert result.returncode == 1
    assert result.stderr.splitlines()[0] == (
        "stories/a.md:4:3: error: source 'pic': pic.jpg is not an image libvips can read"
        + result.stderr.splitlines()[0].split("is not an image libvips can read", 1)[1]
    )
    assert "previous site was left as it was" in result.stderr
    assert (root / "_site" / "index.html").read_bytes() == index
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            "title: T\nbase_url: example.org\n",
            "storiiies.yml:2:1: error: 'base_url' in storiiies.yml:"
            " must be an absolute http(s) URL",
        ),
        ("titel: T\n", "storiiies.yml:1:1: error: unknown setting 'titel' in storiiies.yml"),
        (
            "title: T\noutput_dir: ../elsewhere\n",
            "storiiies.yml:2:1: error: 'output_dir' in storiiies.yml:"
            " must be a folder inside the project",
        ),
        (
            "title: T\ntheme: nope\n",
            "storiiies.yml: error: unknown theme 'nope' — use one of: default",
        ),
    ],
)
def test_settings_errors_name_their_line(make_project, config, message):
    root = make_project(
        {
            "stories/a.md": (
                "---\ntitle: A\nsources:\n  pic: images/pic.jpg\n---\n## One\n![x](pic)\n"
            )
        },
        config=config,
    )
    make_image(root / "images" / "pic.jpg", 400, 300)
    result = storiiies("build", str(root))
    assert result.returncode == 1
    assert any(line.startswith(message) for line in result.stderr.splitlines()), result.stderr
    assert "Traceback" not in result.stderr


def test_no_project_here(tmp_path):
    result = storiiies("build", str(tmp_path))
    assert result.returncode == 1
    assert "error: no storiiies.yml here" in result.stderr


def test_messages_keep_their_square_brackets(make_project):
    root = make_project({}, config="title: T\nbundle:\n  screens: [[10, 10]]\n")
    result = storiiies("check", str(root))
    assert (
        "must list [width, height] pairs between 100 and 16384, e.g. [[3840, 2160]]"
        in result.stderr
    )


PIC_STORY = "---\ntitle: A\nsources:\n  pic: images/pic.jpg\n---\n## One\n![x](pic)\n"


def project_with_index_override(make_project, template: str) -> Path:
    """A one-story project whose theme_dir overrides the home page with `template`."""
    root = make_project(
        {"stories/a.md": PIC_STORY, "overrides/templates/index.html": template},
        config="title: T\ntheme_dir: overrides\n",
    )
    make_image(root / "images" / "pic.jpg", 400, 300)
    return root


def test_template_syntax_error_is_a_problem_not_a_traceback(make_project):
    root = project_with_index_override(
        make_project,
        '{% extends "!default/index.html" %}\n{% block body %}{% if %}{% endblock %}\n',
    )
    result = storiiies("build", str(root))
    assert result.returncode == 1
    assert "overrides/templates/index.html:2: error: template error: " in result.stderr
    assert "Traceback" not in result.stderr


def test_template_that_fails_while_rendering_is_a_problem_at_its_line(make_project):
    root = project_with_index_override(
        make_project,
        '{% extends "!default/index.html" %}\n'
        "{% block body %}\n{{ no_such.name }}\n{% endblock %}\n",
    )
    result = storiiies("build", str(root))
    assert result.returncode == 1
    assert (
        "overrides/templates/index.html:3: error: template error: 'no_such' is undefined"
        in result.stderr
    )
    assert "Traceback" not in result.stderr
    assert not (root / "_site").exists()


def test_check_reports_an_unknown_theme_and_a_broken_template(make_project):
    root = make_project({"stories/a.md": PIC_STORY}, config="title: T\ntheme: nosuch\n")
    make_image(root / "images" / "pic.jpg", 400, 300)
    result = storiiies("check", str(root))
    assert result.returncode == 1
    assert (
        "storiiies.yml: error: unknown theme 'nosuch' — use one of: default, kiosk" in result.stderr
    )
    (root / "storiiies.yml").write_text("title: T\ntheme_dir: overrides\n", encoding="utf-8")
    (root / "overrides" / "templates").mkdir(parents=True)
    (root / "overrides" / "templates" / "index.html").write_text("{% if %}\n", encoding="utf-8")
    result = storiiies("check", str(root))
    assert result.returncode == 1
    assert "overrides/templates/index.html:1: error: template error: " in result.stderr


def test_source_paths_no_file_system_accepts_are_errors_at_their_line(make_project):
    story = (
        '---\ntitle: T\nsources:\n  nul: "images/a\\0.png"\n  long: "' + "x" * 5000 + '"\n---\n'
        "## One\n![x](nul)\n![y](long)\n"
    )
    root = make_project({"stories/t.md": story})
    result = storiiies("check", str(root))
    assert result.returncode == 1
    assert (
        "stories/t.md:4:3: error: 'sources.nul.url' in front matter: contains a control"
        " character: write the URL or path on one line"
    ) in result.stderr
    assert "stories/t.md:5:3: error: source 'long': xxxx" in result.stderr
    assert "does not exist" in result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr


def test_a_bug_is_one_line_with_a_report_file_not_a_traceback(tmp_path, monkeypatch):
    """The last guard: an exception no check foresaw (simulated here) is reported as a bug."""
    from click.testing import CliRunner

    import storiiies.build
    from storiiies.cli import main

    def broken(*args, **kwargs):
        raise RuntimeError("something storiiies did not expect")

    monkeypatch.setattr(storiiies.build, "check_site", broken)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.delenv("STORIIIES_DEBUG", raising=False)
    result = CliRunner().invoke(main, ["check", str(tmp_path)])
    assert result.exit_code == 2
    assert (
        "storiiies: internal error: RuntimeError: something storiiies did not expect"
        in result.output
    )
    assert "Traceback" not in result.output
    (report,) = tmp_path.glob("storiiies-crash-*.txt")
    assert (
        "Traceback" in report.read_text()
        and "something storiiies did not expect" in report.read_text()
    )


def test_a_build_called_by_another_program_leaves_its_collector_as_it_was(make_project):
    """The `storiiies` process pauses Python's collector while a build imports its modules and
    then freezes what they made (cli._imports). A program that calls `main` itself (here
    click's runner) must keep its collector as it was, or its own garbage would be kept."""
    from click.testing import CliRunner

    from storiiies.cli import main

    root = make_project(
        {
            "stories/a.md": "---\ntitle: A\nsources:\n  pic: images/pic.jpg\n---\n"
            "## One\n![A picture](pic)\n"
        }
    )
    make_image(root / "images" / "pic.jpg", 400, 300)
    frozen = gc.get_freeze_count()
    result = CliRunner().invoke(main, ["build", "--quiet", str(root)])
    assert result.exit_code == 0, result.output
    assert (root / "_site" / "a" / "index.html").is_file()
    assert gc.isenabled() and gc.get_freeze_count() == frozen


@pytest.mark.parametrize(
    ("story", "message"),
    [
        (
            "---\ntitle: A\nsources:\n  pic: images/pic.jpg\n---\n## One\n![x](pic#xywh=1,1,0,5)\n",
            "stories/a.md:7:6: error: region '1,1,0,5' has no area"
            " — width and height must be greater than 0",
        ),
        (
            "---\ntitle: A\nsources:\n  pic: images/pic.jpg\n---\n## One\n![x](pik#xywh=1,1,5,5)\n",
            "stories/a.md:7:6: error: unknown source 'pik'"
            " — declare it under `sources:` in the front matter (declared: pic)",
        ),
        (
            "---\ntitle: A\nsources: [\n  pic: images/pic.jpg\n---\n"
            "## One\n![x](pic#xywh=1,1,5,5)\n",
            "stories/a.md:4:22: error: invalid YAML: expected ',' or ']', but got '<stream end>'"
            " — check the indentation and quote values that contain ':' or '#'",
        ),
    ],
    ids=["bad region", "unknown source", "broken YAML"],
)
def test_one_mistake_is_one_error_line_naming_its_cause(make_project, story, message):
    from storiiies.build import check_site

    root = make_project({"stories/a.md": story})
    make_image(root / "images" / "pic.jpg", 400, 300)
    errors = [str(p) for p in check_site(root) if p.is_error]
    assert len(errors) == 1 and errors[0].startswith(message), errors


def test_a_first_build_that_fails_does_not_speak_of_a_previous_site(make_project):
    root = make_project({"stories/a.md": "---\ntitle: A\nsources:\n  pic: images/pic.jpg\n---\n"})
    result = storiiies("build", str(root))
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == "Build failed: 2 errors. Nothing was written."
    assert not (root / "_site").exists()
    bundle = storiiies("bundle", str(root))
    assert bundle.returncode == 1
    assert bundle.stderr.splitlines()[-1] == "Bundle failed: 2 errors. Nothing was written."
