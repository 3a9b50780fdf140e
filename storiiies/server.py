"""`storiiies serve`: build the project, then serve the built site on 127.0.0.1.

Files are served only from inside the built site (Starlette's StaticFiles resolves real paths
and refuses anything outside its folder, symlinks included).
"""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles


def site_app(site_dir: Path) -> Starlette:
    return Starlette(
        routes=[Mount("/", StaticFiles(directory=site_dir, html=True, follow_symlink=False))],
        middleware=[Middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET", "HEAD"])],
    )


def port_is_free(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def choose_port(host: str, port: int, tries: int = 20) -> int | None:
    for candidate in range(port, port + tries):
        if port_is_free(host, candidate):
            return candidate
    return None


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def run_server(project: Path, *, host: str = "127.0.0.1", port: int = 8000, offline: bool = False) -> int:
    import uvicorn

    from storiiies.build import build_site
    from storiiies.cli import _console, print_problems
    from storiiies.errors import BuildFailed

    console = _console()
    try:
        report = build_site(project, offline=offline)
    except BuildFailed as failure:
        print_problems(failure.problems)
        console.print("[red]Build failed[/]: fix the problems above and run `storiiies serve` again.")
        return 1
    print_problems(report.problems)
    if not is_loopback(host):
        console.print(f"[yellow]warning:[/] serving on {host}: other machines on the network can see this preview.")
    chosen = choose_port(host, port)
    if chosen is None:
        console.print(f"[red]error:[/] ports {port}–{port + 19} are all in use; pick one with --port")
        return 1
    if chosen != port:
        console.print(f"[yellow]Port {port} is in use[/]; using {chosen} instead.")
    shown = f"[{host}]" if ":" in host else host
    console.print(f"Serving {report.output} at [bold]http://{shown}:{chosen}/[/] — press Ctrl+C to stop.")
    uvicorn.run(site_app(report.output), host=host, port=chosen, log_level="warning")
    return 0
