"""What a publish has to do: the built site against what the destination holds.

What the destination holds is known from its hash manifest (written last by a complete
publish), never from modification times. A publish stopped midway leaves a pending record of
every hash it may have put there; a path whose pending hashes differ from the manifest is
uncertain, and is checked against the object itself (S3's ETag, or the file read back) before
it is trusted.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from storiiies.publish.files import SiteFile, md5_of
from storiiies.publish.store import Destination, Listed

#: In a pending record: the path may have been removed.
ABSENT = ""


@dataclass(frozen=True)
class Plan:
    uploads: tuple[SiteFile, ...]  # in upload order
    removals: tuple[str, ...]  # stale paths, removed after every upload
    unchanged: int
    checked: int  # uncertain paths compared with the object itself
    pending: dict[str, list[str]]  # the record written before anything changes

    @property
    def upload_bytes(self) -> int:
        return sum(file.size for file in self.uploads)

    @property
    def changes(self) -> bool:
        return bool(self.uploads or self.removals)


def trusted_hashes(
    manifest: dict[str, str], pending: dict[str, list[str]] | None
) -> dict[str, str]:
    """The manifest's entries that no stopped publish may have changed since."""
    if pending is None:
        return dict(manifest)
    return {
        path: sha
        for path, sha in manifest.items()
        if all(other == sha for other in pending.get(path, [sha]))
    }


def plan_publish(
    folder: Path,
    files: list[SiteFile],
    destination: Destination,
    manifest: dict[str, str],
    pending: dict[str, list[str]] | None,
    listed: dict[str, Listed],
) -> Plan:
    trusted = trusted_hashes(manifest, pending)
    uploads: list[SiteFile] = []
    checked = 0
    for file in files:
        if trusted.get(file.path) == file.sha256:
            continue
        known = listed.get(file.path)
        if known is not None and pending is not None and file.path in pending:
            checked += 1
            source = folder / file.path
            if destination.holds(file.path, known, source, md5_of(source), file.sha256):
                continue
        uploads.append(file)
    wanted = {file.path for file in files}
    ours = set(manifest) | set(pending or {})
    removals = tuple(sorted(path for path in ours - wanted if path in listed))
    record: dict[str, set[str]] = {path: set(hashes) for path, hashes in (pending or {}).items()}
    for path, sha in manifest.items():
        record.setdefault(path, set()).add(sha)
    for file in uploads:
        record.setdefault(file.path, set()).add(file.sha256)
    for path in removals:
        record.setdefault(path, set()).add(ABSENT)
    return Plan(
        uploads=tuple(uploads),
        removals=removals,
        unchanged=len(files) - len(uploads),
        checked=checked,
        pending={path: sorted(hashes) for path, hashes in sorted(record.items())},
    )
