"""The bundle's checksum manifest (SHA256SUMS, the format `sha256sum -c` reads), the optional
zip, and `verify`: every file checked against the manifest, in a folder or inside the zip."""

from __future__ import annotations

import hashlib
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from storiiies.atomic import replacing, write_atomic

CHECKSUMS = "SHA256SUMS"
_ZIP_TIME = (2000, 1, 1, 0, 0, 0)  # fixed, so the same bundle always zips to the same bytes
_STORED = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".zip"}  # already compressed


@dataclass(frozen=True)
class Verification:
    checked: int
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def _files(folder: Path) -> Iterator[str]:
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.name != CHECKSUMS:
            yield path.relative_to(folder).as_posix()


def _digest(handle: object) -> str:
    digest = hashlib.sha256()
    while chunk := handle.read(1 << 20):  # type: ignore[attr-defined]
        digest.update(chunk)
    return digest.hexdigest()


def write_checksums(folder: Path) -> int:
    """Write `folder/SHA256SUMS` listing every other file; returns how many."""
    lines = []
    for name in _files(folder):
        with (folder / name).open("rb") as handle:
            lines.append(f"{_digest(handle)}  {name}\n")
    write_atomic(folder / CHECKSUMS, "".join(lines))
    return len(lines)


def write_zip(folder: Path, target: Path) -> Path:
    """The whole bundle as one zip, unpacking to a folder named like `folder`."""
    with replacing(target) as temporary, zipfile.ZipFile(temporary, "w") as archive:
        for name in [CHECKSUMS, *_files(folder)]:
            info = zipfile.ZipInfo(f"{folder.name}/{name}", date_time=_ZIP_TIME)
            info.external_attr = 0o644 << 16
            stored = Path(name).suffix.lower() in _STORED
            info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            with (folder / name).open("rb") as source, archive.open(info, "w") as sink:
                while chunk := source.read(1 << 20):
                    sink.write(chunk)
    return target


def _parse(text: str) -> tuple[dict[str, tuple[str, int]], list[str]]:
    """The listed files (name → digest and line number), and the lines that cannot be used."""
    expected: dict[str, tuple[str, int]] = {}
    problems = []
    for number, line in enumerate(text.splitlines(), start=1):
        digest, _, name = line.partition("  ")
        if len(digest) != 64 or not name:
            problems.append(f"{CHECKSUMS}:{number}: not a `checksum  path` line")
        elif not _inside(name):
            problems.append(_leaves(number, name))
        else:
            expected[name] = (digest.lower(), number)
    return expected, problems


def _inside(name: str) -> bool:
    """A relative path that stays in the bundle: no `..`, `.` or empty segments, no absolute
    or drive path, no backslash. A listing that names anything else would have `verify` say
    whether files outside the bundle exist, and their checksums."""
    parts = name.split("/")
    return (
        "\\" not in name
        and ":" not in parts[0]
        and all(part not in ("", ".", "..") for part in parts)
    )


def _leaves(number: int, name: str) -> str:
    return f"{CHECKSUMS}:{number}: {name} leaves the bundle; a bundle lists only its own files"


def verify(path: Path) -> Verification:
    """Check every file of a bundle folder or zip against its SHA256SUMS."""
    if path.is_dir():
        return _verify_folder(path)
    if zipfile.is_zipfile(path):
        try:
            return _verify_zip(path)
        except (zipfile.BadZipFile, zlib.error, EOFError, UnicodeDecodeError) as exc:
            return Verification(0, (f"{path}: the zip is damaged ({exc})",))
    return Verification(0, (f"{path}: not a bundle folder or zip",))


def _verify_folder(folder: Path) -> Verification:
    manifest = folder / CHECKSUMS
    if not manifest.is_file():
        return Verification(0, (f"{manifest}: missing, so the bundle cannot be checked",))
    expected, problems = _parse(manifest.read_text(encoding="utf-8"))
    root = folder.resolve()
    refused = set()
    for name, (digest, number) in expected.items():
        file = folder / name
        if not file.resolve().is_relative_to(root):  # a symbolic link out of the bundle
            problems.append(_leaves(number, name))
            refused.add(name)
            continue
        if not file.is_file():
            problems.append(f"{name}: missing")
            continue
        with file.open("rb") as handle:
            if _digest(handle) != digest:
                problems.append(f"{name}: changed or damaged (checksum differs)")
    problems.extend(
        f"{name}: not in {CHECKSUMS}" for name in _files(folder) if name not in expected
    )
    return Verification(len(expected) - len(refused), tuple(problems))


def _verify_zip(path: Path) -> Verification:
    with zipfile.ZipFile(path) as archive:
        names = [n for n in archive.namelist() if not n.endswith("/")]
        manifests = [n for n in names if n.rsplit("/", 1)[-1] == CHECKSUMS and n.count("/") <= 1]
        if not manifests:
            return Verification(0, (f"{path}: holds no {CHECKSUMS}",))
        prefix = manifests[0][: -len(CHECKSUMS)]
        try:
            listing = archive.read(manifests[0]).decode("utf-8")
        except (zipfile.BadZipFile, zlib.error, EOFError, UnicodeDecodeError) as exc:
            return Verification(0, (f"{CHECKSUMS}: damaged in the zip ({exc})",))
        expected, problems = _parse(listing)
        present = {n[len(prefix) :] for n in names if n.startswith(prefix)}
        for name, (digest, _) in expected.items():
            if name not in present:
                problems.append(f"{name}: missing")
                continue
            try:
                with archive.open(prefix + name) as handle:
                    if _digest(handle) != digest:
                        problems.append(f"{name}: changed or damaged (checksum differs)")
            except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
                problems.append(f"{name}: damaged in the zip ({exc})")
        problems.extend(
            f"{name}: not in {CHECKSUMS}"
            for name in sorted(present - {CHECKSUMS})
            if name not in expected
        )
    return Verification(len(expected), tuple(problems))
