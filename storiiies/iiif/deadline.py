"""A total time limit per URL, which httpx's timeouts alone cannot give.

httpx's read timeout bounds each socket read, so a server that drips one byte just inside it
(headers or body) keeps a request alive for ever. Here every socket operation made while a
`deadline()` is active waits at most for the time that is left, so no URL can hold a build
longer than its deadline, whatever the server does.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import httpcore
import httpx

_active = threading.local()


@contextmanager
def deadline(seconds: float) -> Iterator[float]:
    """Bound the socket operations of this thread to `seconds` from now; yields the end time.
    Inside another deadline, the earlier end wins."""
    outer: float | None = getattr(_active, "end", None)
    end = time.monotonic() + seconds
    if outer is not None:
        end = min(end, outer)
    _active.end = end
    try:
        yield end
    finally:
        _active.end = outer


def _capped(timeout: float | None, error: type[Exception]) -> float | None:
    end: float | None = getattr(_active, "end", None)
    if end is None:
        return timeout
    left = end - time.monotonic()
    if left <= 0:
        raise error("the total time allowed for this URL has passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _capped(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _capped(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        inner = self._inner.start_tls(
            ssl_context, server_hostname, _capped(timeout, httpcore.ConnectTimeout)
        )
        return _DeadlineStream(inner)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        timeout = _capped(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(
            self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        )

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        timeout = _capped(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._inner.connect_unix_socket(path, timeout, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def deadline_transport(limits: httpx.Limits) -> httpx.HTTPTransport:
    """An httpx transport whose sockets obey `deadline()`."""
    transport = httpx.HTTPTransport(limits=limits, trust_env=False, retries=0)
    # httpx offers no public way to choose httpcore's network backend. The pool creates its
    # connections lazily from this attribute; tests/test_fetch_faults.py proves it still works.
    pool = transport._pool
    assert isinstance(pool, httpcore.ConnectionPool)
    pool._network_backend = _DeadlineBackend()
    return transport
