"""Fault injection: the fetcher against servers that misbehave the way real ones do.

A Starlette app (and, for faults below HTTP, a raw socket server) on 127.0.0.1 answers slowly,
fails, rate-limits, truncates, loops, floods, lies about content types and drips bytes. Each
fault must end, within the policy's time, in the document or in one clear line naming the URL.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from storiiies.build import load_site
from storiiies.config import load_config
from storiiies.errors import FetchError, NotIIIF, SourceError
from storiiies.iiif.fetch import Fetcher, FetchPolicy
from storiiies.iiif.httpcache import CachedResponse
from storiiies.resolve.sources import ResolvedSource, SourceKey, resolve_sources
from tests.conftest import LiveServer

MANIFEST = {
    "@context": "http://iiif.io/api/presentation/3/context.json",
    "id": "https://example.org/manifest.json",
    "type": "Manifest",
    "label": {"en": ["A test manifest"]},
    "items": [
        {
            "id": "https://example.org/canvas/1",
            "type": "Canvas",
            "width": 1000,
            "height": 800,
            "items": [
                {
                    "type": "AnnotationPage",
                    "items": [
                        {
                            "type": "Annotation",
                            "motivation": "painting",
                            "target": "https://example.org/canvas/1",
                            "body": {
                                "id": "https://example.org/a.jpg",
                                "type": "Image",
                                "width": 1000,
                                "height": 800,
                            },
                        }
                    ],
                }
            ],
        }
    ],
}
BODY = json.dumps(MANIFEST).encode()
FAST = FetchPolicy(
    connect_timeout=1, read_timeout=0.5, deadline=2, retries=2, backoff=0.05, max_retry_after=2
)


class Faults:
    """Shared state of the fault server: what it was asked, and how many requests were in flight."""

    def __init__(self) -> None:
        self.requests: Counter[str] = Counter()  # "path?key" → requests served
        self.statuses: Counter[int] = Counter()
        self.in_flight = 0
        self.max_in_flight = 0

    def seen(self, request: Request) -> int:
        key = f"{request.url.path}?{request.url.query}"
        self.requests[key] += 1
        return self.requests[key]


def fault_app(faults: Faults) -> Starlette:
    def answer(response: Response) -> Response:
        faults.statuses[response.status_code] += 1
        return response

    async def ok(request: Request) -> Response:
        faults.seen(request)
        return answer(Response(BODY, media_type="application/ld+json"))

    async def slow_headers(request: Request) -> Response:
        faults.seen(request)
        await asyncio.sleep(3)
        return answer(Response(BODY, media_type="application/json"))

    async def drip_body(request: Request) -> Response:
        faults.seen(request)

        async def drip() -> Iterator[bytes]:  # type: ignore[misc]
            for _ in range(300):  # 30 s if nobody stops listening
                yield b" "
                await asyncio.sleep(0.1)

        return answer(StreamingResponse(drip(), media_type="application/json"))

    async def flaky(request: Request) -> Response:
        # fails `n` times, then answers
        n = int(request.query_params.get("n", "1"))
        if faults.seen(request) <= n:
            return answer(Response("Internal error", status_code=500))
        return answer(Response(BODY, media_type="application/json"))

    async def always_500(request: Request) -> Response:
        faults.seen(request)
        return answer(
            Response("<h1>503 Service Unavailable</h1>", status_code=503, media_type="text/html")
        )

    async def rate_limited(request: Request) -> Response:
        after = request.query_params.get("after", "1")
        if faults.seen(request) == 1:
            return answer(Response("slow down", status_code=429, headers={"Retry-After": after}))
        return answer(Response(BODY, media_type="application/json"))

    async def truncated(request: Request) -> Response:
        faults.seen(request)
        return answer(Response(BODY[: len(BODY) // 2], media_type="application/json"))

    async def loop(request: Request) -> Response:
        faults.seen(request)
        return answer(RedirectResponse(str(request.url), status_code=302))

    async def redirect_once(request: Request) -> Response:
        faults.seen(request)
        return answer(RedirectResponse("/ok.json?via=redirect", status_code=301))

    async def huge(request: Request) -> Response:
        faults.seen(request)
        chunk = b" " * 2**20

        async def flood() -> Iterator[bytes]:  # type: ignore[misc]
            for _ in range(100):  # 100 MB, no Content-Length
                yield chunk

        return answer(StreamingResponse(flood(), media_type="application/json"))

    async def huge_declared(request: Request) -> Response:
        faults.seen(request)

        async def flood() -> Iterator[bytes]:  # type: ignore[misc]
            for _ in range(100):
                yield b" " * 2**20

        headers = {"Content-Length": str(100 * 2**20)}
        return answer(StreamingResponse(flood(), media_type="application/json", headers=headers))

    async def html_200(request: Request) -> Response:
        faults.seen(request)
        page = "\n  <!DOCTYPE html><html><body><h1>Error</h1><p>Object not found</p></body></html>"
        return answer(Response(page, media_type="text/html"))

    async def bom_text_plain(request: Request) -> Response:
        faults.seen(request)
        return answer(Response(b"\xef\xbb\xbf" + BODY, media_type="text/plain"))

    async def utf16(request: Request) -> Response:
        faults.seen(request)
        return answer(
            Response(json.dumps(MANIFEST).encode("utf-16"), media_type="application/octet-stream")
        )

    async def deep(request: Request) -> Response:
        faults.seen(request)
        return answer(Response(b"[" * 200_000, media_type="application/json"))

    async def empty(request: Request) -> Response:
        faults.seen(request)
        return answer(Response(b"", media_type="application/json"))

    async def etag(request: Request) -> Response:
        faults.seen(request)
        if request.headers.get("if-none-match") == '"v1"':
            return answer(Response(status_code=304, headers={"ETag": '"v1"'}))
        return answer(Response(BODY, media_type="application/json", headers={"ETag": '"v1"'}))

    async def last_modified(request: Request) -> Response:
        faults.seen(request)
        stamp = "Wed, 21 Oct 2015 07:28:00 GMT"
        if request.headers.get("if-modified-since") == stamp:
            return answer(Response(status_code=304))
        return answer(
            Response(BODY, media_type="application/json", headers={"Last-Modified": stamp})
        )

    async def counted_slow(request: Request) -> Response:
        faults.seen(request)
        faults.in_flight += 1
        faults.max_in_flight = max(faults.max_in_flight, faults.in_flight)
        try:
            await asyncio.sleep(0.15)
        finally:
            faults.in_flight -= 1
        return answer(JSONResponse(MANIFEST))

    async def not_found(request: Request) -> Response:
        faults.seen(request)
        return answer(Response("no", status_code=404))

    routes = {
        "/ok.json": ok, "/slow-headers": slow_headers, "/drip-body": drip_body, "/flaky": flaky,
        "/always-503": always_500, "/rate-limited": rate_limited, "/truncated": truncated,
        "/loop": loop, "/redirect-once": redirect_once, "/huge": huge,
        "/huge-declared": huge_declared, "/html-200": html_200, "/bom-text-plain": bom_text_plain,
        "/utf16": utf16, "/deep": deep, "/empty": empty, "/etag": etag,
        "/last-modified": last_modified, "/counted-slow": counted_slow,
        "/gone": not_found,
    }  # fmt: skip
    return Starlette(routes=[Route(path, endpoint) for path, endpoint in routes.items()])


class RawServer:
    """Faults below HTTP that no ASGI app can produce: headers dripped a byte at a time, and a
    body cut off before its declared Content-Length."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        self.served = 0
        threading.Thread(target=self.accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def accept(self) -> None:
        self.sock.settimeout(0.2)
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # closed
            threading.Thread(target=self.handle, args=(conn,), daemon=True).start()

    def handle(self, conn: socket.socket) -> None:
        with conn:
            request = b""
            while b"\r\n\r\n" not in request:
                data = conn.recv(4096)
                if not data:
                    return
                request += data
            self.served += 1
            path = request.split(b" ", 2)[1]
            try:
                if path == b"/drip-headers":
                    conn.sendall(b"HTTP/1.1 200 OK\r\n")
                    for _ in range(300):  # 30 s of headers, one every 0.1 s
                        if self.stop.is_set():
                            return
                        conn.sendall(b"X-Drip: 1\r\n")
                        time.sleep(0.1)
                elif path == b"/cut-off":
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
                    conn.sendall(f"Content-Length: {len(BODY)}\r\n\r\n".encode() + BODY[:100])
            except OSError:
                return  # the client gave up, as it should

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


@pytest.fixture(scope="module")
def faults() -> Faults:
    return Faults()


@pytest.fixture(scope="module")
def server(faults: Faults) -> Iterator[LiveServer]:
    live = LiveServer(fault_app(faults)).start()
    yield live
    live.stop()
    served = sum(faults.requests.values())
    print(
        f"\nfault server: {len(faults.requests)} fault URLs, {served} requests served,"
        f" statuses {dict(faults.statuses)}"
    )


@pytest.fixture(scope="module")
def raw_server() -> Iterator[RawServer]:
    raw = RawServer()
    yield raw
    raw.close()
    print(f"\nraw fault server: {raw.served} requests served (dripped headers, cut-off bodies)")


@pytest.fixture
def fetcher(tmp_path: Path) -> Iterator[Fetcher]:
    with Fetcher(tmp_path / "cache", policy=FAST) as instance:
        yield instance


def timed(call: Callable[[], object]) -> tuple[object, float]:
    started = time.monotonic()
    try:
        result: object = call()
    except (FetchError, NotIIIF) as error:
        result = error
    return result, time.monotonic() - started


def test_a_good_manifest_is_fetched(server: LiveServer, fetcher: Fetcher) -> None:
    fetched = fetcher.get_json(f"{server.url}/ok.json")
    assert fetched.data == MANIFEST and not fetched.from_cache


def test_slow_headers_time_out(server: LiveServer, tmp_path: Path) -> None:
    policy = FetchPolicy(read_timeout=0.3, retries=1, backoff=0, deadline=5)
    with Fetcher(tmp_path, policy=policy) as fetcher:
        error, seconds = timed(lambda: fetcher.get_json(f"{server.url}/slow-headers?a"))
    assert isinstance(error, FetchError)
    assert error.message == f"{server.url}/slow-headers?a timed out"
    assert seconds < 1.5  # two attempts of 0.3 s, not the server's 3 s


def test_a_slow_drip_body_stops_at_the_deadline(server: LiveServer, fetcher: Fetcher) -> None:
    # Each byte arrives well within the read timeout, so only the total deadline can stop it.
    error, seconds = timed(lambda: fetcher.get_json(f"{server.url}/drip-body"))
    assert isinstance(error, FetchError)
    assert error.message == f"{server.url}/drip-body did not answer completely within 2 s"
    assert error.hint and "stalled" in error.hint
    assert 1.9 < seconds < 3


def test_slow_drip_headers_stop_at_the_deadline(raw_server: RawServer, fetcher: Fetcher) -> None:
    error, seconds = timed(lambda: fetcher.get_json(f"{raw_server.url}/drip-headers"))
    assert isinstance(error, FetchError)
    assert error.message == f"{raw_server.url}/drip-headers did not answer completely within 2 s"
    assert 1.9 < seconds < 3


def test_a_body_cut_off_before_its_length_is_a_clear_error(
    raw_server: RawServer, fetcher: Fetcher
) -> None:
    error, _ = timed(lambda: fetcher.get_json(f"{raw_server.url}/cut-off"))
    assert isinstance(error, FetchError)
    assert error.message.startswith(f"{raw_server.url}/cut-off broke off its answer (")
    assert "\n" not in error.message


def test_500_then_ok_is_retried(server: LiveServer, faults: Faults, fetcher: Fetcher) -> None:
    fetched = fetcher.get_json(f"{server.url}/flaky?n=2")
    assert fetched.data == MANIFEST
    assert faults.requests["/flaky?n=2"] == 3


def test_retries_are_bounded(server: LiveServer, faults: Faults, fetcher: Fetcher) -> None:
    error, _ = timed(lambda: fetcher.get_json(f"{server.url}/flaky?n=10"))
    assert isinstance(error, FetchError)
    assert error.message == f"{server.url}/flaky?n=10 answered HTTP 500 Internal Server Error"
    assert error.hint == "the server has a problem; try again later"
    assert faults.requests["/flaky?n=10"] == 3  # the first try and 2 retries


def test_429_waits_for_retry_after(server: LiveServer, faults: Faults, fetcher: Fetcher) -> None:
    fetched, seconds = timed(lambda: fetcher.get_json(f"{server.url}/rate-limited?after=1"))
    assert isinstance(fetched, object) and getattr(fetched, "data", None) == MANIFEST
    assert faults.requests["/rate-limited?after=1"] == 2
    assert seconds >= 0.95  # the server asked for one second


def test_429_with_an_http_date_is_honoured(
    server: LiveServer, faults: Faults, fetcher: Fetcher
) -> None:
    from email.utils import formatdate

    when = formatdate(time.time() + 1, usegmt=True)
    fetched, seconds = timed(lambda: fetcher.get_json(f"{server.url}/rate-limited?after={when}"))
    assert getattr(fetched, "data", None) == MANIFEST
    assert 0 < seconds < 2


def test_a_long_retry_after_is_not_waited_for(
    server: LiveServer, faults: Faults, fetcher: Fetcher
) -> None:
    error, seconds = timed(lambda: fetcher.get_json(f"{server.url}/rate-limited?after=3600"))
    assert isinstance(error, FetchError)
    assert error.message == (
        f"{server.url}/rate-limited?after=3600 answered HTTP 429 Too Many Requests"
        " (it asks to retry after 3600)"
    )
    assert error.hint == "the server is rate-limiting requests; try again later"
    assert faults.requests["/rate-limited?after=3600"] == 1 and seconds < 1


def test_truncated_json_is_not_iiif(server: LiveServer, fetcher: Fetcher) -> None:
    with pytest.raises(NotIIIF) as failure:
        fetcher.get_json(f"{server.url}/truncated")
    assert failure.value.message.startswith(f"{server.url}/truncated is not valid JSON (")
    assert "\n" not in failure.value.message


def test_a_redirect_loop_is_cut_short(server: LiveServer, faults: Faults, fetcher: Fetcher) -> None:
    with pytest.raises(FetchError) as failure:
        fetcher.get_json(f"{server.url}/loop")
    assert failure.value.message == f"{server.url}/loop redirects more than 5 times"
    assert faults.requests["/loop?"] == 6


def test_a_redirect_is_followed(server: LiveServer, fetcher: Fetcher) -> None:
    assert fetcher.get_json(f"{server.url}/redirect-once").data == MANIFEST


def test_a_100_mb_body_is_refused_at_the_size_limit(server: LiveServer, fetcher: Fetcher) -> None:
    error, seconds = timed(lambda: fetcher.get_json(f"{server.url}/huge"))
    assert isinstance(error, FetchError)
    assert error.message == f"{server.url}/huge is larger than 32 MB"
    assert error.hint == "this is not a manifest or info.json; check the URL"
    assert seconds < 2


def test_a_declared_huge_body_is_refused_before_reading(server: LiveServer, tmp_path: Path) -> None:
    with Fetcher(tmp_path, policy=FetchPolicy(max_bytes=2**20)) as fetcher:
        error, seconds = timed(lambda: fetcher.get_json(f"{server.url}/huge-declared"))
    assert isinstance(error, FetchError)
    assert error.message == f"{server.url}/huge-declared is larger than 1 MB"
    assert seconds < 1


def test_an_html_error_page_with_status_200(server: LiveServer, fetcher: Fetcher) -> None:
    with pytest.raises(NotIIIF) as failure:
        fetcher.get_json(f"{server.url}/html-200")
    assert failure.value.message == f"{server.url}/html-200 returned an HTML page, not IIIF JSON"


def test_a_bom_and_a_wrong_content_type_are_tolerated(server: LiveServer, fetcher: Fetcher) -> None:
    assert fetcher.get_json(f"{server.url}/bom-text-plain").data == MANIFEST
    assert fetcher.get_json(f"{server.url}/utf16").data == MANIFEST


def test_deeply_nested_and_empty_bodies(server: LiveServer, fetcher: Fetcher) -> None:
    with pytest.raises(NotIIIF, match="is JSON nested too deeply to be IIIF"):
        fetcher.get_json(f"{server.url}/deep")
    with pytest.raises(NotIIIF, match="/empty returned an empty document$"):
        fetcher.get_json(f"{server.url}/empty")


@pytest.mark.parametrize("path", ["/etag", "/last-modified"])
def test_revalidation_uses_the_cache(
    server: LiveServer, faults: Faults, tmp_path: Path, path: str
) -> None:
    url = f"{server.url}{path}?{tmp_path.name}"
    with Fetcher(tmp_path, policy=FAST) as first:
        assert not first.get_json(url).from_cache
        assert first.get_json(url).data == MANIFEST  # kept for the run: no second request
    assert faults.requests[f"{path}?{tmp_path.name}"] == 1
    with Fetcher(tmp_path, policy=FAST) as second:
        again = second.get_json(url)
    assert again.from_cache and not again.stale and again.data == MANIFEST
    assert faults.requests[f"{path}?{tmp_path.name}"] == 2  # one conditional request, answered 304
    with Fetcher(tmp_path, offline=True) as offline:
        assert offline.get_json(url).data == MANIFEST
    assert faults.requests[f"{path}?{tmp_path.name}"] == 2  # offline: no request at all


def test_a_failing_server_falls_back_to_the_cache(
    server: LiveServer, faults: Faults, tmp_path: Path
) -> None:
    failing = f"{server.url}/always-503"
    with Fetcher(tmp_path, policy=FAST) as fetcher:
        # A copy fetched when the server still worked.
        fetcher.cache.write(CachedResponse(failing, json.dumps(MANIFEST), etag='"old"'))
        fetched = fetcher.get_json(failing)
    assert fetched.stale and fetched.data == MANIFEST
    assert faults.requests["/always-503?"] == 3  # the first try and 2 retries, then the cache


def test_a_build_from_a_saved_copy_tells_the_author_which_source_and_why(
    server: LiveServer, make_project: Callable[..., Path]
) -> None:
    failing = f"{server.url}/always-503"
    story = f"---\ntitle: Stale\nsources:\n  doc: {failing}\n---\n## One\n![The page](doc)\n"
    root = make_project({"stories/stale.md": story})
    with Fetcher(root / ".storiiies-cache", policy=FAST) as fetcher:
        fetcher.cache.write(CachedResponse(failing, json.dumps(MANIFEST)))  # an earlier build's
        site, problems = load_site(load_config(root), fetcher=fetcher)
    assert site is not None  # the build goes on with the saved copy …
    (warning,) = [str(p) for p in problems if "saved by an earlier build" in p.message]
    # … and says so at the source's line, with the server's own failure.
    assert warning.startswith("stories/stale.md:4:3: warning: source 'doc': ")
    assert "503" in warning and "--offline" in warning


def test_a_saved_copy_of_a_collections_member_is_told_too(
    server: LiveServer,
    serve_dir: Callable[[Path], LiveServer],
    make_project: Callable[..., Path],
    tmp_path: Path,
) -> None:
    member = f"{server.url}/always-503?member"
    folder = tmp_path / "collection"
    folder.mkdir()
    (folder / "c.json").write_text(
        json.dumps(
            {
                "@context": "http://iiif.io/api/presentation/3/context.json",
                "id": "https://example.org/c.json",
                "type": "Collection",
                "label": {"en": ["C"]},
                "items": [{"id": member, "type": "Manifest", "label": {"en": ["M"]}}],
            }
        )
    )
    collection = f"{serve_dir(folder).url}/c.json"
    story = (
        f"---\ntitle: Stale\nsources:\n  doc:\n    url: {collection}\n    manifest: 1\n---\n"
        "## One\n![The page](doc)\n"
    )
    root = make_project({"stories/stale.md": story})
    with Fetcher(root / ".storiiies-cache", policy=FAST) as fetcher:
        fetcher.cache.write(CachedResponse(member, json.dumps(MANIFEST)))
        site, problems = load_site(load_config(root), fetcher=fetcher)
    assert site is not None
    (warning,) = [str(p) for p in problems if "saved by an earlier build" in p.message]
    assert warning.startswith("stories/stale.md:4:3: warning: source 'doc': ")
    assert "always-503" in warning  # the member's failure, though the collection answered


def test_requests_per_host_are_limited(server: LiveServer, faults: Faults, tmp_path: Path) -> None:
    faults.max_in_flight = 0
    policy = FetchPolicy(per_host=3, max_connections=16)
    urls = [f"{server.url}/counted-slow?{n}" for n in range(12)]
    with Fetcher(tmp_path, policy=policy) as fetcher, ThreadPoolExecutor(12) as pool:
        results = list(pool.map(fetcher.get_json, urls))
    assert all(result.data == MANIFEST for result in results)
    assert faults.max_in_flight == 3


def test_the_same_url_is_fetched_once_by_concurrent_callers(
    server: LiveServer, faults: Faults, fetcher: Fetcher
) -> None:
    url = f"{server.url}/counted-slow?shared"
    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(lambda _: fetcher.get_json(url), range(6)))
    assert all(result.data == MANIFEST for result in results)
    assert faults.requests["/counted-slow?shared"] == 1


def test_failures_are_not_kept_for_the_next_try(
    server: LiveServer, faults: Faults, fetcher: Fetcher
) -> None:
    url = f"{server.url}/flaky?n=3"
    with pytest.raises(FetchError):
        fetcher.get_json(url)
    assert fetcher.get_json(url).data == MANIFEST  # the preview server's next rebuild succeeds


def test_urls_that_cannot_be_fetched(fetcher: Fetcher) -> None:
    for url, message in [
        ("http://[::1", "is not an http(s) URL"),
        ("http://127.0.0.1:abc/m.json", "is not a URL storiiies can fetch"),
        ("http:///m.json", "is not a URL storiiies can fetch"),
        ("ftp://127.0.0.1/m.json", "is not an http(s) URL"),
        ("file:///etc/passwd", "is not an http(s) URL"),
    ]:
        with pytest.raises(FetchError) as failure:
            fetcher.get_json(url)
        assert message in failure.value.message and "\n" not in failure.value.message


def test_every_failing_url_is_reported_at_its_story_line(
    server: LiveServer, raw_server: RawServer, make_project: Callable[..., Path]
) -> None:
    faulty = {
        "slow": f"{server.url}/drip-body?story",
        "flaky": f"{server.url}/flaky?n=9&story",
        "limited": f"{server.url}/rate-limited?after=3600&story",
        "cut": f"{raw_server.url}/cut-off",
        "half": f"{server.url}/truncated?story",
        "loop": f"{server.url}/loop?story",
        "huge": f"{server.url}/huge?story",
        "html": f"{server.url}/html-200?story",
        "gone": f"{server.url}/gone?story",
        "good": f"{server.url}/bom-text-plain?story",
    }
    lines = "".join(f"  {alias}: {url}\n" for alias, url in faulty.items())
    steps = "".join(f"## {alias}\n![{alias}]({alias})\n\n" for alias in faulty)
    root = make_project({"stories/faults.md": f"---\ntitle: Faults\nsources:\n{lines}---\n{steps}"})
    started = time.monotonic()
    with Fetcher(root / ".storiiies-cache", policy=FAST) as fetcher:
        site, problems = load_site(load_config(root), fetcher=fetcher)
    seconds = time.monotonic() - started
    assert site is None
    errors = [str(p) for p in problems if p.is_error]
    assert len(errors) == 9
    for line, (alias, url) in enumerate(list(faulty.items())[:-1], start=4):
        (reported,) = [e for e in errors if f"source '{alias}':" in e]
        assert reported.startswith(f"stories/faults.md:{line}:3: error: source '{alias}': ")
        assert url.split("?")[0] in reported
    assert seconds < 6  # the sources are fetched in parallel, each within its deadline


def test_resolve_sources_survives_every_fault(
    server: LiveServer, raw_server: RawServer, tmp_path: Path
) -> None:
    urls = [f"{server.url}{path}?resolve" for path in _PATHS]
    urls.append(f"{raw_server.url}/cut-off")
    keys = [SourceKey(url) for url in urls]
    with Fetcher(tmp_path, policy=FAST) as fetcher:
        results = resolve_sources(keys, fetcher, root=tmp_path, base_url="http://127.0.0.1/")
    assert len(results) == len(keys)
    for result in results.values():
        assert isinstance(result, ResolvedSource | SourceError)
        if isinstance(result, SourceError):
            assert result.message and "\n" not in result.message
    assert (
        sum(isinstance(r, ResolvedSource) for r in results.values()) == 6
    )  # ok, flaky, rate-limited, bom, utf16, etag


_PATHS = [
    "/ok.json", "/drip-body", "/flaky", "/always-503", "/rate-limited", "/truncated", "/loop",
    "/huge", "/html-200", "/bom-text-plain", "/utf16", "/deep", "/empty", "/etag", "/gone",
]  # fmt: skip
