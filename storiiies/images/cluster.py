"""Image jobs on a Dask cluster: a `distributed.Client` seen as the executor tile_many uses.

The only module that imports Dask (the optional extra `storiiies[cluster]`); the command line
imports it only for `build --cluster` or a `cluster:` setting. Dask does the rest: it places
jobs on workers, and runs again on another worker a job whose worker died (see docs/scale.md).

Every worker needs storiiies installed, the same version as the client's.
"""

from __future__ import annotations

import secrets
import threading
import warnings
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from distributed import Client
from distributed import Future as DaskFuture

from storiiies.errors import ImageError
from storiiies.images import remote
from storiiies.images.pool import RemoteExecutor

#: How long to wait for the scheduler before giving up, unless told otherwise.
DEFAULT_TIMEOUT = 10.0


class ClusterExecutor(RemoteExecutor):
    """Jobs submitted to a Dask scheduler, answered through concurrent.futures Futures.

    `storage` says how images reach the workers: "auto" finds out whether every worker sees
    the client's cache folder (the same machine, or shared storage) and then lets them read
    sources and write tiles there; "send" always sends the bytes and takes tile trees back."""

    def __init__(self, client: Client, *, storage: str = "auto") -> None:
        self.client = client
        self.storage = storage
        self.bytes_sent = 0
        self.bytes_received = 0
        self._seen: dict[Path, bool] = {}
        self._lock = threading.Lock()
        # Dask Futures are kept until they finish, or the scheduler would drop their tasks.
        self._running: set[DaskFuture[Any]] = set()

    @property
    def width(self) -> int:
        """How many jobs the workers run at once (their threads, at least 1)."""
        workers = self.client.scheduler_info(n_workers=-1).get("workers", {})
        return max(1, sum(int(w.get("nthreads", 1)) for w in workers.values()))

    def sees(self, folder: Path) -> bool:
        """Whether every worker reads files of `folder` as this machine writes them."""
        if self.storage == "send":
            return False
        folder = folder.resolve()
        if folder not in self._seen:
            folder.mkdir(parents=True, exist_ok=True)
            probe = folder / f".cluster-probe-{secrets.token_hex(8)}"
            token = secrets.token_hex(16)
            probe.write_text(token, encoding="utf-8")
            try:
                answers = self.client.run(remote.sees, str(probe), token)
            finally:
                probe.unlink(missing_ok=True)
            self._seen[folder] = bool(answers) and all(answers.values())
        return self._seen[folder]

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.bytes_sent += sum(len(a) for a in args if isinstance(a, bytes))
        answer: Future[Any] = Future()
        answer.set_running_or_notify_cancel()
        # pure=False: two jobs with equal arguments (a retry after a failed build) run again.
        # A sent image travels inside its job, not scattered to a worker first: the scheduler
        # keeps it, so a job whose worker dies runs again elsewhere (scattered data would die
        # with that worker). Dask warns of such a "large graph" on every image; that is the
        # choice made here, not something an author can act on.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Sending large graph", category=UserWarning)
            job = self.client.submit(fn, *args, pure=False, **kwargs)
        with self._lock:
            self._running.add(job)

        def finished(job: DaskFuture[Any]) -> None:
            with self._lock:
                self._running.discard(job)
            try:
                result = job.result()
            except BaseException as error:
                answer.set_exception(error)
                return
            if isinstance(result, bytes):
                with self._lock:
                    self.bytes_received += len(result)
            answer.set_result(result)

        job.add_done_callback(finished)
        return answer

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self.client.close()


def connect(
    address: str, *, timeout: float = DEFAULT_TIMEOUT, storage: str = "auto"
) -> ClusterExecutor:
    """A ClusterExecutor on the scheduler at `address`; ImageError if it is not reached in time."""
    try:
        client = Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as error:
        raise ImageError(
            f"cannot reach the Dask scheduler at {address} within {timeout:g} s ({error})",
            "check the address and that `dask scheduler` runs there, or build without --cluster",
        ) from None
    return ClusterExecutor(client, storage=storage)
