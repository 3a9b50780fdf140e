"""publish_site(): the built site to its destination, changed files only, in an order that
never shows a reader half a site, resumable after a kill.

    1. read the destination: its listing, hash manifest and any pending record
    2. hash the built site and plan (plan.py); a dry run stops here
    3. write the pending record: what this publish may change
    4. upload, phase by phase (files.py); then remove stale files
    5. write the hash manifest, then remove the pending record

Stopped anywhere, the destination never claims what it does not hold: the manifest is
written only after everything it lists is there, and the next run re-checks whatever the
pending record says may have changed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storiiies.config import CONFIG_NAME, load_config
from storiiies.publish.files import PHASES, SiteFile, site_files, upload_order
from storiiies.publish.plan import plan_publish
from storiiies.publish.store import (
    MANIFEST_NAME,
    PENDING_NAME,
    Destination,
    PublishError,
    own_names,
)

#: Uploads in flight at once: a store answers each in tens of milliseconds, one at a time
#: that is minutes for a site of a few thousand tiles.
UPLOADS_AT_ONCE = 8

#: The marker every build leaves in its output folder.
SITE_MARKER = ".storiiies-site"

#: Called as files go: ("phase", name, 0, 0), then ("upload" or "remove", path, done, total).
Step = Callable[[str, str, int, int], None]


@dataclass(frozen=True)
class PublishReport:
    url: str
    site: Path
    uploads: tuple[SiteFile, ...]
    removals: tuple[str, ...]
    unchanged: int
    checked: int  # paths a stopped publish may have changed, compared with the object
    dry_run: bool
    sets_headers: bool  # False where the store keeps no Content-Type (a folder, most fsspec)
    seconds: float

    @property
    def upload_bytes(self) -> int:
        return sum(file.size for file in self.uploads)


def publish_site(
    project: Path, url: str | None = None, *, dry_run: bool = False, step: Step | None = None
) -> PublishReport:
    """Publish PROJECT's built site to `url` (or `publish.url` of storiiies.yml)."""
    started = time.monotonic()
    config = load_config(project)
    settings = config.settings.publish
    url = url or settings.url
    if not url:
        raise PublishError(
            "no destination to publish to",
            f"give one, e.g. storiiies publish s3://BUCKET/PREFIX/, or set publish.url in "
            f"{CONFIG_NAME}",
        )
    folder = config.output_dir
    if not (folder / SITE_MARKER).is_file():
        raise PublishError(f"no built site in {folder}", "run storiiies build first")
    destination = Destination(url, settings.storage_options(url))

    listed = destination.listing()
    manifest = _hashes(destination.read_record(MANIFEST_NAME))
    pending = _pending(destination.read_record(PENDING_NAME))
    if pending == {}:
        manifest = {}  # a pending record that cannot be read: trust nothing, check everything
    files = site_files(folder, skip=own_names())
    plan = plan_publish(folder, files, destination, manifest, pending, listed)
    target = {file.path: file.sha256 for file in files}

    def report() -> PublishReport:
        return PublishReport(
            url=url,
            site=folder,
            uploads=plan.uploads,
            removals=plan.removals,
            unchanged=plan.unchanged,
            checked=plan.checked,
            dry_run=dry_run,
            sets_headers=destination.sets_headers,
            seconds=time.monotonic() - started,
        )

    up_to_date = not plan.changes and pending is None and manifest == target
    if dry_run or up_to_date:
        return report()

    destination.write_record(PENDING_NAME, {"version": 1, "files": plan.pending})
    step = step or _quiet
    done, total = 0, len(plan.uploads)
    with ThreadPoolExecutor(UPLOADS_AT_ONCE) as pool:
        # A group is finished before the next one starts: that is the order readers rely on.
        # Groups are the phases, each split into its JSON and then the rest (files.py).
        phase = -1
        for files in _groups(plan.uploads):
            if files[0].phase != phase:
                phase = files[0].phase
                step("phase", PHASES[phase], 0, 0)
            running = {
                pool.submit(
                    destination.put,
                    file.path,
                    folder / file.path,
                    file.content_type,
                    file.cache_control,
                ): file
                for file in files
            }
            for finished in as_completed(running):
                finished.result()
                done += 1
                step("upload", running[finished].path, done, total)
    if plan.removals:
        step("phase", "stale files", 0, 0)
    for done, path in enumerate(plan.removals, start=1):
        destination.remove(path)
        step("remove", path, done, len(plan.removals))
    destination.write_record(MANIFEST_NAME, {"version": 1, "files": target})
    destination.remove(PENDING_NAME)
    return report()


def _groups(uploads: tuple[SiteFile, ...]) -> list[list[SiteFile]]:
    """Runs of `uploads` (already in upload order) that may go up at the same time."""
    groups: list[list[SiteFile]] = []
    for file in uploads:
        if groups and upload_order(groups[-1][0])[:2] == upload_order(file)[:2]:
            groups[-1].append(file)
        else:
            groups.append([file])
    return groups


def _quiet(action: str, path: str, done: int, total: int) -> None:
    pass


def _hashes(record: dict[str, Any] | None) -> dict[str, str]:
    files = (record or {}).get("files")
    if not isinstance(files, dict):
        return {}
    return {str(path): str(sha) for path, sha in files.items() if isinstance(sha, str)}


def _pending(record: dict[str, Any] | None) -> dict[str, list[str]] | None:
    if record is None:
        return None
    files = record.get("files")
    if not isinstance(files, dict):
        return {}
    return {
        str(path): [str(sha) for sha in hashes]
        for path, hashes in files.items()
        if isinstance(hashes, list)
    }
