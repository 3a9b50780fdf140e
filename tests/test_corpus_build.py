"""The whole shared corpus through the build's own code: fetched over HTTP, resolved, built.

test_iiif_corpus.py reads each file with the reader alone; here every document is a story's
source, so it goes through the Fetcher, sources.resolve_sources, resolve, render and write,
exactly as an author's would. Each one ends in pages, or in one problem line at the line of the
story that named it. No traceback, no hang.
"""

from __future__ import annotations

import csv
import json
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from storiiies.build import load_site, write_built_site
from storiiies.config import load_config
from storiiies.errors import FetchError, SourceError
from storiiies.iiif.fetch import Fetched, Fetcher, FetchPolicy
from storiiies.resolve.sources import ResolvedSource, SourceKey, resolve_sources
from tests.helpers import tree_digest

if TYPE_CHECKING:
    from tests.conftest import LiveServer

pytestmark = pytest.mark.shared

#: Manifests of the corpus that resolve today (see test_iiif_corpus.py); a drop is a regression.
MIN_MANIFESTS_RESOLVED = 185


class LoopbackFetcher(Fetcher):
    """The build's Fetcher, kept on this machine: some corpus documents are canvases or content
    states that point at their manifest on the real web, which tests must not contact."""

    def _get_json(self, url: str) -> Fetched:
        if not url.startswith("http://127.0.0.1:"):
            raise FetchError(f"cannot reach {url} (tests stay on 127.0.0.1)")
        return super()._get_json(url)


def corpus_rows(shared: Path) -> list[dict[str, str]]:
    with (shared / "fixtures/manifests/INDEX.tsv").open(encoding="utf-8", newline="") as index:
        return list(csv.DictReader(index, delimiter="\t"))


def story(number: int, url: str) -> str:
    return (
        f"---\ntitle: Corpus document {number}\nsources:\n  doc: {json.dumps(url)}\n---\n"
        "## The first canvas\n![The whole first canvas](doc)\n"
    )


def test_resolve_sources_reads_or_rejects_every_corpus_document(
    fixture_server: LiveServer, shared: Path, tmp_path: Path
) -> None:
    rows = corpus_rows(shared)
    keys = {SourceKey(f"{fixture_server.url}/{row['file']}"): row for row in rows}
    started = time.monotonic()
    with LoopbackFetcher(tmp_path, policy=FetchPolicy(deadline=20)) as fetcher:
        results = resolve_sources(keys, fetcher, root=tmp_path, base_url="http://127.0.0.1:8000/")
    seconds = time.monotonic() - started
    resolved: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    for key, result in results.items():
        if isinstance(result, ResolvedSource):
            assert result.document.canvases, key
            resolved[keys[key]["type"]] += 1
            continue
        assert isinstance(result, SourceError), key
        assert result.message and "\n" not in result.message, key
        assert result.hint is None or "\n" not in result.hint, key
        reasons[result.message.split(" (")[0].replace(key.location, "URL")[:50]] += 1
    print(
        f"\ncorpus through resolve_sources: {len(rows)} files in {seconds:.1f} s, "
        f"{sum(resolved.values())} resolved, {sum(reasons.values())} rejected:"
        f" {dict(reasons.most_common(6))}"
    )
    assert len(results) == len(rows) == 301
    assert resolved["Manifest"] >= MIN_MANIFESTS_RESOLVED
    assert set(resolved) <= {"Manifest", "none"}


def test_a_story_per_corpus_document_builds_or_names_its_line(
    fixture_server: LiveServer, shared: Path, make_project, tmp_path: Path
) -> None:
    rows = corpus_rows(shared)
    files = {
        f"stories/doc{n:03}.md": story(n, f"{fixture_server.url}/{row['file']}")
        for n, row in enumerate(rows)
    }
    root = make_project(files)
    config = load_config(root)
    started = time.monotonic()
    with LoopbackFetcher(config.cache_dir) as fetcher:
        _, problems = load_site(config, fetcher=fetcher)
    errors = [p for p in problems if p.is_error]
    failing = {p.location.path for p in errors}
    for problem in problems:
        text = str(problem)
        assert "\n" not in text and "Traceback" not in text
    for problem in errors:
        # Rejections are reported once, at the `doc:` line of the story that names the source.
        assert (problem.location.line, problem.location.column) == (4, 3), str(problem)
        assert problem.message.startswith("source 'doc': "), str(problem)
    assert len(errors) == len(failing)

    # The stories whose source resolved build into a complete site.
    for name in failing:
        (root / name).unlink()
    with LoopbackFetcher(config.cache_dir) as fetcher:
        site, problems = load_site(config, fetcher=fetcher)
    assert site is not None
    report = write_built_site(site, problems)
    seconds = time.monotonic() - started
    built = len(report.site.stories)
    print(
        f"\ncorpus as stories: {len(rows)} stories checked,"
        f" {len(failing)} rejected in one line each, "
        f"{built} built into pages in {seconds:.1f} s"
    )
    assert built == len(rows) - len(failing) >= MIN_MANIFESTS_RESOLVED
    out = root / "_site"
    for built_story in report.site.stories:
        for page in ("index.html", "text.html", "manifest.json"):
            assert (out / built_story.slug / page).is_file()
    # A second build revalidates every remote document from the cache and changes nothing.
    first = tree_digest(out)
    with LoopbackFetcher(config.cache_dir) as fetcher:
        again, problems = load_site(config, fetcher=fetcher)
    assert again is not None
    write_built_site(again, problems)
    assert tree_digest(out) == first
