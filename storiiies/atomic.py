"""Every write of storiiies is all or nothing: a reader, a crash or a kill never sees half a file.

- `replacing(target)` gives a temporary sibling to write; it replaces `target` in one rename
  when the block ends, and is removed if the block raises. `write_atomic` writes bytes that way.
- `create_new(targets, content)` puts a finished file at the first of `targets` that does not
  exist yet, never over another file (a story the editor creates, an uploaded image).
- `staging_folder(parent, prefix)` is a new folder to fill before it is renamed or swapped into
  place (the site, a tile tree); leftovers whose builder died are swept first. Their names carry
  the builder's pid, so a leftover of a killed build is told apart from one still being written.

Temporary names start with a dot, so the preview's watcher and static hosts pass them over, and
keep the target's suffix, so libvips picks the same saver for them.
"""

from __future__ import annotations

import itertools
import os
import secrets
import shutil
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

_counter = itertools.count()


@contextmanager
def replacing(target: Path) -> Iterator[Path]:
    """A temporary sibling of `target`: written in the block, then renamed over `target`."""
    unique = f"{os.getpid()}-{threading.get_ident()}-{next(_counter)}"
    temporary = target.with_name(f".{target.name}.{unique}.tmp{target.suffix}")
    try:
        yield temporary
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def write_durably(temporary: Path, content: bytes, *, mode_of: Path) -> None:
    """Write `content` to `temporary` and flush it to disk, with the permissions of `mode_of`
    (the file it is about to replace): an author's story keeps its mode through an edit."""
    _write_synced(temporary, content, "wb")
    os.chmod(temporary, mode_of.stat().st_mode & 0o7777)


def _write_synced(path: Path, content: bytes, mode: str) -> None:
    with path.open(mode) as stream:
        stream.write(content)
        stream.flush()
        os.fsync(stream.fileno())


def create_new(targets: Iterable[Path], content: bytes) -> Path | None:
    """Write `content` at the first of `targets` (all in one folder) that does not exist, and
    return it; None when every one exists. The file appears whole: a finished temporary file
    is hard-linked to the name, which fails, rather than replace a file created meanwhile."""
    names = iter(targets)
    first = next(names, None)
    if first is None:
        return None
    temporary = first.with_name(f".{first.name}.{secrets.token_hex(8)}.tmp{first.suffix}")
    try:
        _write_synced(temporary, content, "xb")
        for target in itertools.chain([first], names):
            try:
                os.link(temporary, target)
            except FileExistsError:
                continue
            return target
    finally:
        temporary.unlink(missing_ok=True)
    return None


def write_atomic(target: Path, data: bytes | str) -> None:
    """Write `data` (text as UTF-8) to `target` in one step."""
    with replacing(target) as temporary:
        temporary.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)


def staging_folder(parent: Path, prefix: str) -> Path:
    """A new empty folder `parent/<prefix>.tmp-<pid>-<token>`, after sweeping dead leftovers."""
    sweep_staging(parent, prefix)
    # The token, as well as the pid: two builds of one process (the preview server) may overlap.
    staging = parent / f"{prefix}.tmp-{os.getpid()}-{secrets.token_hex(4)}"
    staging.mkdir(parents=True)
    return staging


def sweep_staging(parent: Path, prefix: str) -> None:
    """Remove the staging folders of `prefix` whose builder no longer runs."""
    for leftover in parent.glob(f"{prefix}.tmp-*"):
        pid = leftover.name.rsplit(".tmp-", 1)[-1].split("-")[0]
        if not (pid.isdecimal() and process_running(int(pid))):
            shutil.rmtree(leftover, ignore_errors=True)


def process_running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True
