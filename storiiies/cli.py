"""The `storiiies` command. Each subcommand maps its flags to one call into the package.

Author mistakes are printed as `path:line:column: error: message — hint` lines and exit 1;
a traceback only ever means a bug in storiiies.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from storiiies import __version__

PROJECT = click.argument("project", default=".", type=click.Path(file_okay=False, path_type=Path))
OFFLINE = click.option("--offline", is_flag=True, help="Use cached remote documents only; never touch the network.")


def _console():  # type: ignore[no-untyped-def]
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


def print_problems(problems) -> None:  # type: ignore[no-untyped-def]
    console = _console()
    for problem in problems:
        style = "red" if problem.is_error else "yellow"
        console.print(f"[{style}]{problem.location}: {problem.severity}:[/] {problem.message}"
                      + (f" [dim]— {problem.hint}[/]" if problem.hint else ""), markup=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="storiiies")
def main() -> None:
    """Turn Markdown stories into guided deep-zoom tours of IIIF images."""


@main.command()
@PROJECT
@OFFLINE
@click.option("--quiet", "-q", is_flag=True, help="Print only problems.")
def build(project: Path, offline: bool, quiet: bool) -> None:
    """Build the static site of PROJECT (default: the current folder)."""
    from storiiies.build import build_site
    from storiiies.errors import BuildFailed

    console = _console()
    progress = None
    if not quiet and sys.stderr.isatty():
        from rich.progress import Progress

        bar = Progress(console=console, transient=True)
        task = bar.add_task("Tiling images", total=None)
        bar.start()

        def progress(what: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)
    try:
        report = build_site(project, offline=offline, progress=progress)
    except BuildFailed as failure:
        if progress is not None:
            bar.stop()
        print_problems(failure.problems)
        console.print(f"[red]Build failed[/]: {_count(failure.problems)}. The previous site was left as it was.")
        sys.exit(1)
    if progress is not None:
        bar.stop()
    print_problems(report.problems)
    if not quiet:
        stories = len(report.site.stories)
        console.print(
            f"Built {stories} stor{'y' if stories == 1 else 'ies'} into {report.output} "
            f"in {report.seconds:.1f} s ({report.images_tiled} images tiled, {report.images_cached} from cache)."
        )


@main.command()
@PROJECT
@OFFLINE
def check(project: Path, offline: bool) -> None:
    """List every problem of PROJECT without building it; exit 1 if there is an error."""
    from storiiies.build import check_site
    from storiiies.errors import has_errors

    problems = check_site(project, offline=offline)
    print_problems(problems)
    if has_errors(problems):
        _console().print(f"[red]{_count(problems)}[/]")
        sys.exit(1)
    _console().print("No problems found." if not problems else _count(problems))


@main.command()
@PROJECT
@OFFLINE
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
def serve(project: Path, offline: bool, host: str, port: int) -> None:
    """Build PROJECT, then preview it at http://127.0.0.1:8000/."""
    from storiiies.server import run_server

    sys.exit(run_server(project, host=host, port=port, offline=offline))


@main.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def new(directory: Path) -> None:
    """Start a new project in DIRECTORY with a sample story."""
    from storiiies.scaffold import create_project

    try:
        created = create_project(directory)
    except FileExistsError as exc:
        _console().print(f"[red]error:[/] {exc}")
        sys.exit(1)
    console = _console()
    for path in created:
        console.print(f"  created {path}")
    console.print(f"\nNext: [bold]storiiies serve {directory}[/] and open http://127.0.0.1:8000/")


def _count(problems) -> str:  # type: ignore[no-untyped-def]
    errors = sum(1 for p in problems if p.is_error)
    warnings = len(problems) - errors
    parts = [f"{errors} error{'s' if errors != 1 else ''}"]
    if warnings:
        parts.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
    return ", ".join(parts)
