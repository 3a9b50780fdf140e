"""Run `storiiies serve`: first build, pick the port, print the start line, serve until Ctrl+C.

Everything after the start line keeps running whatever the author saves: problems are printed
here and shown in the page, and the preview keeps the last good site.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

from storiiies.build import check_site
from storiiies.config import CONFIG_NAME
from storiiies.console import make_console, plural, print_problems
from storiiies.serve.app import preview_app
from storiiies.serve.guard import is_loopback
from storiiies.serve.state import Preview, Rebuild

PORT_TRIES = 20
UVICORN_OPTIONS: dict[str, Any] = {
    "timeout_graceful_shutdown": 3,
    # A browser reuses an idle connection for its next tile; uvicorn's default of 5 s closes
    # connections a busy page (or a slow machine) has not yet got back to, and a request sent
    # just as the server closes one fails. A preview has a handful of clients: keep them longer.
    "timeout_keep_alive": 60,
}


def bind_socket(host: str, port: int, tries: int = PORT_TRIES) -> socket.socket | None:
    """A listening socket on `port`, or the next free one of `tries`; None if all are taken.
    The server takes this very socket, so no other program can grab the port in between."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    address = "127.0.0.1" if host == "localhost" else host.strip("[]")
    for candidate in range(port, port + tries):
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((address, candidate))
            sock.listen(128)
        except OSError:
            sock.close()
            continue
        sock.set_inheritable(True)
        return sock
    return None


def run_server(
    project: Path, *, host: str = "127.0.0.1", port: int = 8000, offline: bool = False
) -> int:
    console = make_console()
    if not (Path(project) / CONFIG_NAME).is_file():
        print_problems(check_site(project))
        return 1
    preview = Preview(project, offline=offline)

    def report(rebuild: Rebuild) -> None:
        if rebuild.published:
            print_problems(rebuild.problems)
            console.print(describe(rebuild))

    try:
        report(preview.rebuild())
        return _serve(preview, host, port, report)
    except KeyboardInterrupt:  # Ctrl+C before the server took over the signal
        console.print("Stopped.")
        return 0
    finally:
        preview.close()


def _serve(preview: Preview, host: str, port: int, report: Callable[[Rebuild], None]) -> int:
    import uvicorn

    console = make_console()
    if not is_loopback(host):
        console.print(
            f"[yellow]warning:[/] serving on {host}: other computers on the network can see this "
            "preview (inserting regions into stories is turned off)."
        )
    sock = bind_socket(host, port)
    if sock is None:
        last = port + PORT_TRIES - 1
        console.print(f"[red]error:[/] ports {port}–{last} are all in use; pick one with --port")
        return 1
    chosen = sock.getsockname()[1]
    if chosen != port:
        console.print(
            f"[yellow]Port {port} is in use[/]; using {chosen} instead (choose one with --port)."
        )
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{chosen}/"

    def started() -> None:
        console.print(f"Serving {preview.project.name} at [bold]{url}[/] — press Ctrl+C to stop.")

    app = preview_app(preview, host=host, on_rebuild=report, on_start=started)
    config = uvicorn.Config(app, log_level="warning", lifespan="on", **UVICORN_OPTIONS)
    server = uvicorn.Server(config)
    stop = server.handle_exit

    def handle_exit(sig: int, frame: FrameType | None) -> None:
        preview.broadcaster.close()  # end the event streams, or uvicorn would wait for them
        stop(sig, frame)

    server.handle_exit = handle_exit  # type: ignore[method-assign]
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    console.print("Stopped.")
    return 0


def describe(rebuild: Rebuild) -> str:
    ms = f"{rebuild.seconds * 1000:.0f} ms"
    errors = sum(1 for p in rebuild.problems if p.is_error)
    if errors:
        return (
            f"[red]✗ {plural(errors, 'error')}[/] ({ms}): the preview keeps the last good version."
        )
    if rebuild.pages is None:
        return f"[green]✓[/] Built in {ms}."
    names = ", ".join(p or "home page" for p in sorted(rebuild.pages)) or "no page changed"
    return f"[green]✓[/] Rebuilt in {ms}: {names}."
