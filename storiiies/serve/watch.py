"""Watch the project (stories, storiiies.yml, images) and theme folders; hand each burst of saves
to a callback, in one background thread, so rebuilds never overlap.

The output folder, the cache and hidden entries (editor swap files, the build's staging folders)
are ignored, so a rebuild never triggers itself.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import watchfiles

logger = logging.getLogger("storiiies.serve.watch")

#: Quiet time after the last change before a rebuild starts: one rebuild per burst of saves.
#: An editor's save (write a temporary file, rename it) takes a few milliseconds; 20 ms groups
#: it and keeps the wait a small part of the save → reload time (a rebuild of one story is ~15 ms).
DEFAULT_STEP_MS = 20


class ProjectFilter(watchfiles.DefaultFilter):
    """watchfiles' defaults, minus ignored folders (compared as paths, not string prefixes,
    so `_site` does not hide `_site2`) and hidden entries below each watched folder."""

    def __init__(self, roots: Sequence[Path], ignored: Iterable[Path]) -> None:
        super().__init__()
        self.roots = [root.resolve() for root in roots]
        self.ignored = [path.resolve() for path in ignored]

    def __call__(self, change: watchfiles.Change, path: str) -> bool:
        if not super().__call__(change, path):
            return False
        target = Path(path)
        if any(target == folder or target.is_relative_to(folder) for folder in self.ignored):
            return False
        for root in self.roots:
            if target.is_relative_to(root):
                return not any(part.startswith(".") for part in target.relative_to(root).parts)
        return True


class Watcher:
    """Runs `on_change(paths)` in a thread after each burst of changes until `stop()`."""

    def __init__(
        self,
        roots: Sequence[Path],
        ignored: Iterable[Path],
        on_change: Callable[[set[Path]], None],
        *,
        step_ms: int = DEFAULT_STEP_MS,
    ) -> None:
        folders = [root for root in dict.fromkeys(r.resolve() for r in roots) if root.is_dir()]
        # A folder inside another watched one (a theme_dir in the project) is watched once.
        self.roots = [
            f for f in folders if not any(f != o and f.is_relative_to(o) for o in folders)
        ]
        self.filter = ProjectFilter(self.roots, ignored)
        self.on_change = on_change
        self.step_ms = step_ms
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="storiiies-watch", daemon=True)

    def start(self) -> Watcher:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        for changes in watchfiles.watch(
            *self.roots,
            watch_filter=self.filter,
            step=self.step_ms,
            stop_event=self._stop,
            raise_interrupt=False,
            ignore_permission_denied=True,
        ):
            try:
                self.on_change({Path(path) for _, path in changes})
            except Exception:  # a bug of ours must not end the preview: log it, keep watching
                logger.exception("storiiies: rebuild crashed; still watching for changes")
