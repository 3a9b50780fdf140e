"""Whether a process still runs: staging folders carry their builder's pid, so a leftover from a
killed build can be told apart from one a running build is still writing."""

from __future__ import annotations

import os


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
