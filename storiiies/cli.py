"""The `storiiies` command. Each subcommand maps its flags to one call into the package.

Author mistakes are printed as `path:line:column: error: message — hint` lines and exit 1;
a bug in storiiies is one `internal error` line (exit 2) with the traceback saved to a file.
"""

from __future__ import annotations

import gc
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from storiiies import __version__
from storiiies.console import count_problems, make_console, plural, print_problems, shown

PROJECT = click.argument("project", default=".", type=click.Path(file_okay=False, path_type=Path))
OFFLINE = click.option(
    "--offline", is_flag=True, help="Use cached remote documents only; never touch the network."
)

#: True once this module runs as the `storiiies` process, not inside another program (tests
#: call `main` through click's runner): see `_Commands.__call__` and `_imports`.
_whole_process = False


class _Commands(click.Group):
    """The command group. An exception that reaches it is a bug of storiiies, never the author's
    mistake (those are Problems): say so in one line and keep the traceback in a file for the
    bug report. STORIIIES_DEBUG=1 lets it through instead."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as error:
            if os.environ.get("STORIIIES_DEBUG") == "1":
                raise
            report = _crash_report(error)
            make_console().print(
                f"[red]storiiies: internal error[/]: {shown(type(error).__name__)}: "
                f"{shown(str(error))} [dim]— this is a bug in storiiies, not in your project;"
                f" please report it with the details saved in {shown(str(report))}[/]"
            )
            sys.exit(2)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """The `storiiies` process (the script, `python -m storiiies`). It ends with its
        command, so what the command made is left to the exit rather than walked once more by
        Python's cycle collector as the interpreter shuts down (0.07 s after a build)."""
        global _whole_process
        _whole_process = True
        try:
            return super().__call__(*args, **kwargs)
        finally:
            gc.freeze()


@contextmanager
def _imports() -> Iterator[None]:
    """Around the imports of a command that builds. In the `storiiies` process the collector
    is paused while they run (they make hundreds of thousands of objects, none of them
    garbage: collecting took 0.04 of the 0.4 s they take) and what they made is frozen after,
    so that the build's full collections do not walk every module again. Inside another
    program (a test calling `main`) a freeze would keep that program's garbage for good, so
    nothing changes there."""
    if not _whole_process:
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


def _crash_report(error: Exception) -> Path:
    import tempfile
    import traceback

    text = "".join(traceback.format_exception(error))
    with tempfile.NamedTemporaryFile(
        "w", prefix="storiiies-crash-", suffix=".txt", delete=False, encoding="utf-8"
    ) as file:
        file.write(f"storiiies {__version__}\n{' '.join(sys.argv)}\n\n{text}")
    return Path(file.name)


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    """The version, with what decodes images: a bug report about an image needs both."""
    if not value or ctx.resilient_parsing:
        return
    import platform

    import pyvips

    from storiiies.images.decode import libvips_version, readable_formats

    click.echo(f"storiiies {__version__}")
    click.echo(f"libvips {libvips_version()} (pyvips {pyvips.__version__})")
    click.echo(f"reads {', '.join(readable_formats())}")
    click.echo(f"Python {platform.python_version()} on {platform.platform(terse=True)}")
    ctx.exit()


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--version",
    "-V",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Show the version, the libvips it uses and the image formats it reads, then exit.",
)
def main() -> None:
    """Turn Markdown stories into guided deep-zoom tours of IIIF images."""


def _previous_output(project: Path, output: Path | None, *, bundle: bool) -> bool:
    """Whether a site (or bundle) from an earlier run is there, which a failed run keeps."""
    from storiiies.config import load_config
    from storiiies.errors import BuildFailed

    if output is None:
        try:
            config = load_config(project)
        except BuildFailed:
            return (project / ("_bundle" if bundle else "_site")).is_dir()
        settings = config.settings
        output = config.root / (settings.bundle.output_dir if bundle else settings.output_dir)
    return output.is_dir() and any(output.iterdir())


def _cluster_executor(project: Path, address: str | None) -> Any:
    """The Dask cluster of --cluster or of `cluster:` in storiiies.yml, connected; None when
    neither names one (and then Dask is never imported). Raises BuildFailed."""
    from storiiies.config import CONFIG_NAME, ClusterSettings, load_config
    from storiiies.errors import BuildFailed, ImageError, Problem, SourceLocation

    try:
        settings = load_config(project).settings.cluster
    except BuildFailed:
        settings = None  # the build says what is wrong with the settings
    where = SourceLocation("--cluster" if address else CONFIG_NAME)
    if address is not None:
        if "://" not in address:
            hint = "give the scheduler's address, e.g. tcp://10.0.0.5:8786"
            raise BuildFailed([Problem(where, f"{address!r} is not a scheduler address", hint)])
        settings = (settings or ClusterSettings(address=address)).model_copy(
            update={"address": address}
        )
    if settings is None:
        return None
    try:
        # Imported here only: Dask is an optional extra, and a build without a cluster
        # never loads it.
        from storiiies.images.cluster import connect
    except ImportError:
        hint = "install it with: pip install 'storiiies[cluster]'"
        raise BuildFailed([Problem(where, "tiling on a cluster needs Dask", hint)]) from None
    try:
        return connect(settings.address, timeout=settings.timeout, storage=settings.storage)
    except ImageError as error:
        raise BuildFailed([Problem(where, error.message, error.hint)]) from None


@main.command()
@PROJECT
@OFFLINE
@click.option("--quiet", "-q", is_flag=True, help="Print only problems.")
@click.option(
    "--force", is_flag=True, help="Build even when nothing has changed since the last build."
)
@click.option(
    "--cluster",
    metavar="ADDRESS",
    help="Tile on the workers of this Dask scheduler, e.g. tcp://10.0.0.5:8786 "
    "(overrides `cluster:` in storiiies.yml; needs storiiies[cluster]).",
)
def build(project: Path, offline: bool, quiet: bool, force: bool, cluster: str | None) -> None:
    """Build the static site of PROJECT (default: the current folder).

    When nothing the site is made from has changed since the last build, and the site is as
    that build left it, nothing is built again (--force builds anyway)."""
    with _imports():
        from storiiies.build import BuildReport, build_if_changed, build_site
        from storiiies.errors import BuildFailed
        from storiiies.fingerprint import LastBuild

    console = make_console()
    progress = None
    if not quiet and sys.stderr.isatty():
        from rich.progress import Progress

        bar = Progress(console=console, transient=True)
        task = bar.add_task("Tiling images", total=None)
        bar.start()

        def progress(what: str, done: int, total: int) -> None:
            bar.update(task, description=what, completed=done, total=total)

    previous = _previous_output(project, None, bundle=False)
    connected: list[Any] = []  # the cluster, once a build needs it

    def connect() -> Any:
        connected.append(_cluster_executor(project, cluster))
        return connected[-1]

    try:
        if force:
            report: BuildReport | LastBuild = build_site(
                project, offline=offline, progress=progress, executor=connect()
            )
        else:
            report = build_if_changed(project, offline=offline, progress=progress, connect=connect)
    except BuildFailed as failure:
        if progress is not None:
            bar.stop()
        print_problems(failure.problems)
        kept = "The previous site was left as it was." if previous else "Nothing was written."
        console.print(f"[red]Build failed[/]: {count_problems(failure.problems)}. {kept}")
        sys.exit(1)
    finally:
        for executor in connected:
            if executor is not None:
                executor.shutdown()
    if progress is not None:
        bar.stop()
    if isinstance(report, LastBuild):
        print_problems(report.warnings)
        if not quiet:
            when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(report.built_at))
            console.print(
                f"Nothing changed since the last build ({when}, "
                f"{plural(report.stories, 'story', 'stories')}, "
                f"{plural(report.files, 'file')}): {report.output} is current. "
                "--force builds it again."
            )
        return
    print_problems(report.problems)
    if not quiet:
        stories = len(report.site.stories)
        console.print(
            f"Built {plural(stories, 'story', 'stories')} into {report.output} "
            f"in {report.seconds:.1f} s ({plural(report.images_tiled, 'image')} tiled, "
            f"{report.images_cached} from cache)."
        )


@main.command()
@PROJECT
@OFFLINE
def check(project: Path, offline: bool) -> None:
    """List every problem of PROJECT without building it; exit 1 if there is an error."""
    with _imports():
        from storiiies.build import check_site
        from storiiies.errors import has_errors

    problems = check_site(project, offline=offline)
    print_problems(problems)
    if has_errors(problems):
        make_console().print(f"[red]{count_problems(problems)}[/]")
        sys.exit(1)
    make_console().print("No problems found." if not problems else count_problems(problems))


@main.command()
@PROJECT
@OFFLINE
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on. Anything but loopback shows the preview to your network.",
)
@click.option(
    "--port",
    default=8000,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="Port to listen on; if it is taken, the next free one is used.",
)
@click.option(
    "--edit",
    is_flag=True,
    help="Turn on the editor: write stories in the browser (on this computer only).",
)
def serve(project: Path, offline: bool, host: str, port: int, edit: bool) -> None:
    """Preview PROJECT at http://127.0.0.1:8000/, rebuilding and reloading the open pages
    whenever a story, image, storiiies.yml or theme file is saved."""
    from storiiies.serve.run import run_server

    sys.exit(run_server(project, host=host, port=port, offline=offline, edit=edit))


@main.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def new(directory: Path) -> None:
    """Start a new project in DIRECTORY with a sample story."""
    from storiiies.tools.scaffold import create_project

    try:
        created = create_project(directory)
    except FileExistsError as exc:
        make_console().print(f"[red]error:[/] {exc}")
        sys.exit(1)
    console = make_console()
    for path in created:
        console.print(f"  created {path}")
    console.print(f"\nNext: [bold]storiiies serve {directory}[/] and open http://127.0.0.1:8000/")


@main.command()
@click.argument("source")
@click.option("--manifest", help="Which manifest of a IIIF Collection (1-based number or id).")
@click.option("--canvas", help="Only this canvas of the manifest (1-based number or id).")
@click.option("--lang", default="en", show_default=True, help="Language to show labels in.")
@OFFLINE
def inspect(
    source: str, manifest: str | None, canvas: str | None, lang: str, offline: bool
) -> None:
    """Print what SOURCE holds: its canvases with number, label, size and image service,
    and its rights. SOURCE is anything `sources:` accepts (a URL, a content state, a path)."""
    from storiiies.errors import SourceError, printable
    from storiiies.tools.inspect_source import inspect_source

    try:
        text = inspect_source(source, manifest=manifest, canvas=canvas, lang=lang, offline=offline)
    except SourceError as error:
        _print_error(error)
        sys.exit(1)
    click.echo(printable(text), nl=False)


def _print_error(error) -> None:  # type: ignore[no-untyped-def]
    make_console().print(
        f"[red]error:[/] {shown(error.message)}"
        + (f" [dim]— {shown(error.hint)}[/]" if error.hint else "")
    )


@main.command(name="import")
@click.argument("manifest")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the story here (default: print it).",
)
@click.option("--lang", default=None, help="Language to take from multilingual annotations.")
@OFFLINE
def import_(manifest: str, output: Path | None, lang: str | None, offline: bool) -> None:
    """Turn an annotated IIIF manifest (P2 or P3, such as a story's manifest.json) into a
    Markdown story: one step per commenting annotation."""
    from storiiies.errors import SourceError, printable
    from storiiies.tools.importer import import_story_notes

    media = output.parent / "audio" if output is not None else None
    try:
        result = import_story_notes(manifest, lang=lang, offline=offline, media_dir=media)
    except SourceError as error:
        _print_error(error)
        sys.exit(1)
    for note in result.notes:  # what the story could not keep, also said at its step
        make_console().print(f"[yellow]warning:[/] {shown(note)}")
    if output is None:
        click.echo(printable(result.text), nl=False)
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    from storiiies.atomic import write_atomic  # deferred like every command's imports

    write_atomic(output, result.text)
    make_console().print(f"Wrote {output}")


@main.command()
@PROJECT
@OFFLINE
@click.option(
    "--output",
    "-o",
    type=click.Path(file_okay=False, path_type=Path),
    help="Bundle folder (default: bundle.output_dir in storiiies.yml, _bundle).",
)
@click.option(
    "--zip/--no-zip", "make_zip", default=None, help="Also write OUTPUT.zip (default: bundle.zip)."
)
def bundle(project: Path, offline: bool, output: Path | None, make_zip: bool | None) -> None:
    """Write an offline copy of PROJECT's site, with the remote images it shows copied in."""
    with _imports():
        from storiiies.bundle import bundle_site
        from storiiies.errors import BuildFailed

    console = make_console()
    progress = _fetch_lines(console)  # a line when fetching starts and every 10 s
    bar = None
    if sys.stderr.isatty():
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        bar = Progress(
            TextColumn("Fetching {task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        )
        task = bar.add_task("fetch", total=None)
        bar.start()

        def progress(what: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

    previous = _previous_output(project, output, bundle=True)
    try:
        report = bundle_site(
            project, output=output, make_zip=make_zip, offline=offline, progress=progress
        )
    except BuildFailed as failure:
        if bar is not None:
            bar.stop()
        print_problems(failure.problems)
        kept = "The previous bundle was left as it was." if previous else "Nothing was written."
        console.print(f"[red]Bundle failed[/]: {count_problems(failure.problems)}. {kept}")
        sys.exit(1)
    if bar is not None:
        bar.stop()
    print_problems(report.warnings)
    saved = 1 - report.tiles / report.full_tiles if report.full_tiles else 0.0
    console.print(
        f"Bundled {plural(report.stories, 'story', 'stories')} into {report.output} "
        f"in {report.seconds:.1f} s: {plural(report.images, 'remote image')}, "
        f"{report.tiles} tiles ({_megabytes(report.tile_bytes)}; {report.fetched} fetched now), "
        f"against {report.full_tiles} tiles (about {_megabytes(report.full_bytes)})"
        " for every level: "
        f"{saved:.0%} fewer. {report.files} files listed in SHA256SUMS."
        + (f" Zip: {report.zip}" if report.zip else "")
    )


def _fetch_lines(console: Any, every: float = 10.0) -> Callable[[str, int, int], None]:
    """Progress for a log or a pipe: one line as each kind of fetching starts, then one at
    most every `every` seconds while it goes on, so a slow server is never silent."""
    import time

    printed: dict[str, float] = {}

    def progress(what: str, done: int, total: int) -> None:
        now = time.monotonic()
        if what not in printed:
            console.print(f"Fetching {total} {what} (at most 60 s each)…")
        elif done < total and now - printed[what] >= every:
            console.print(f"… {done} of {total} {what} fetched")
        else:
            return
        printed[what] = now

    return progress


@main.command()
@click.argument("bundle_path", metavar="BUNDLE", type=click.Path(exists=True, path_type=Path))
def verify(bundle_path: Path) -> None:
    """Check every file of a bundle folder or zip against its SHA256SUMS; exit 1 on any
    difference."""
    from storiiies.bundle import verify as verify_bundle

    result = verify_bundle(bundle_path)
    console = make_console()
    for line in result.problems:
        console.print(f"[red]{shown(line)}[/]", markup=True)
    if not result.ok:
        console.print(f"[red]{plural(len(result.problems), 'problem')}[/] in {bundle_path}")
        sys.exit(1)
    console.print(f"All {result.checked} files of {bundle_path} match SHA256SUMS.")


@main.command()
@click.argument("url", required=False)
@PROJECT
@click.option("--dry-run", "-n", is_flag=True, help="List what would change; change nothing.")
@click.option("--quiet", "-q", is_flag=True, help="Print only the summary and errors.")
def publish(url: str | None, project: Path, dry_run: bool, quiet: bool) -> None:
    """Upload PROJECT's built site to URL: s3://BUCKET/PREFIX/, any fsspec URL, or a folder
    (default: publish.url in storiiies.yml). Only changed files go; see docs/publish.md."""
    from storiiies.errors import BuildFailed

    console = make_console()
    try:
        from storiiies.publish import PublishError, publish_site
    except ImportError:  # fsspec is the optional extra storiiies[publish]
        console.print(
            "[red]error:[/] publishing needs the publish extra [dim]— install it with "
            "pip install 'storiiies\\[publish]'[/]"
        )
        sys.exit(1)

    def step(action: str, path: str, done: int, total: int) -> None:
        if quiet:
            return
        if action == "phase":
            console.print(f"Publishing {path}…")
        else:
            verb = "uploaded" if action == "upload" else "removed"
            console.print(f"  {verb} {done}/{total} {shown(path)}")

    try:
        report = publish_site(project, url, dry_run=dry_run, step=step)
    except BuildFailed as failure:
        print_problems(failure.problems)
        console.print(f"[red]Publish failed[/]: {count_problems(failure.problems)}.")
        sys.exit(1)
    except PublishError as error:
        _print_error(error)
        sys.exit(1)
    if dry_run:
        for file in report.uploads:
            console.print(f"  would upload {shown(file.path)} ({file.size} bytes)")
        for path in report.removals:
            console.print(f"  would remove {shown(path)}")
    upload = "would upload" if dry_run else "uploaded"
    remove = "would remove" if dry_run else "removed"
    console.print(
        f"{'Dry run: ' if dry_run else 'Published '}{report.site} → {shown(report.url)}: "
        f"{upload} {plural(len(report.uploads), 'file')} ({report.upload_bytes:,} bytes), "
        f"{remove} {len(report.removals)} stale, {report.unchanged} unchanged"
        + (f" ({report.checked} re-checked after an interrupted publish)" if report.checked else "")
        + f", in {report.seconds:.1f} s."
    )
    if not report.sets_headers and report.uploads and not dry_run:
        console.print(
            "[yellow]note:[/] this store keeps no Content-Type or Cache-Control of its own: "
            "set them on the web server or CDN that serves it (docs/publish.md)."
        )


def _megabytes(count: int) -> str:
    return f"{count / 1_000_000:.1f} MB"
