"""Open local images with libvips, and turn them into the pixels that JPEG tiles need.

Every image leaves here upright (EXIF orientation applied), in 8-bit sRGB or 8-bit grey,
with transparency flattened onto white and no metadata. Every failure leaves as an
`ImageError` that names the file and says what to do; a raw `pyvips.Error` never escapes.
"""

from __future__ import annotations

import re
import struct
import weakref
from pathlib import Path
from typing import Any

import pyvips

from storiiies.errors import ImageError
from storiiies.images import jpeg2000

MIN_SIDE = 2
MAX_SIDE = 200_000
MAX_PIXELS = 10_000_000_000
BOMB_HINT = (
    "a small or damaged file can claim any size; if the image really is this large, raise "
    "max_image_megapixels in storiiies.yml"
)

#: The libvips loaders storiiies accepts. libvips also reads FITS, Matlab, CSV, raw PPM and more,
#: none of which an author means as a picture (and some of which libvips itself calls untrusted).
LOADERS = {
    "jpegload": "JPEG",
    "pngload": "PNG",
    "tiffload": "TIFF",
    "webpload": "WebP",
    "jp2kload": "JPEG 2000",
    "gifload": "GIF",
    "heifload": "HEIF",
}

REEXPORT = "re-export it as JPEG, PNG or TIFF"


def open_header(source: Path, page: int = 0, *, label: str | None = None) -> pyvips.Image:
    """The image's header: libvips reads pixels only when they are asked for."""
    return _load(source, page, label or source.name)


def read_image_size(
    source: Path,
    page: int = 0,
    *,
    label: str | None = None,
    max_megapixels: int | None = None,
) -> tuple[int, int]:
    """Width and height as the image is shown (EXIF orientation applied), from the header only.
    With `max_megapixels`, a larger image is an ImageError (see `check_limit`)."""
    shown = label or source.name
    image = _load(source, page, shown)
    size = oriented_size(image)
    check_size(shown, *size)
    if max_megapixels is not None:
        check_limit(shown, *size, max_megapixels)
    return size


def check_limit(shown: str, width: int, height: int, max_megapixels: int) -> None:
    """Refuse an image the author has not allowed for: larger than `max_megapixels`."""
    if width * height > max_megapixels * 1_000_000:
        raise ImageError(
            f"{shown} says it is {width:,}×{height:,} pixels "
            f"({width * height / 1_000_000:,.0f} megapixels), more than the "
            f"{max_megapixels:,} that max_image_megapixels allows",
            BOMB_HINT,
        )


def page_count(source: Path, *, label: str | None = None) -> int:
    """How many pages (canvases) a file holds: TIFF pages, unless they are one image's pyramid."""
    shown = label or source.name
    image = _load(source, 0, shown)
    if loader_of(image) != "tiffload" or not image.get_typeof("n-pages"):
        return 1
    pages = int(image.get("n-pages"))
    if pages > 1 and _is_pyramid(source, shown, pages, image):
        return 1
    return pages


def open_for_tiling(source: Path, page: int = 0, *, label: str | None = None) -> pyvips.Image:
    """The image as 8-bit sRGB or grey pixels, read top to bottom when that is possible."""
    return open_image(source, page, label=label, sequential=True)


def open_image(
    source: Path,
    page: int = 0,
    *,
    label: str | None = None,
    sequential: bool = False,
    shrink: int = 1,
) -> pyvips.Image:
    """The image upright, as 8-bit sRGB or grey. `sequential` streams it top to bottom (memory
    stays bounded); `shrink` (2, 4 or 8) lets a JPEG decode at a fraction of its size."""
    shown = label or source.name
    header = _load(source, page, shown)
    check_size(shown, *oriented_size(header))
    upright = _orientation(header) in (0, 1)
    options: dict[str, Any] = {"fail_on": "truncated"}
    # Turning an image needs random access, so only an upright one can be streamed. A TIFF
    # needs no streaming: libvips reads its strips or tiles as they are asked for, and reading
    # a TIFF sequentially fails when its strips do not line up with the rows read ("out of
    # order read"), as in TIFFs that Pillow and many scanners write.
    streamed = sequential and upright and loader_of(header) != "tiffload"
    options["access"] = "sequential" if streamed else "random"
    if shrink > 1 and loader_of(header) == "jpegload":
        options["shrink"] = shrink
    image = _load(source, page, shown, read=streamed, **options)
    try:
        return displayable(image.autorot() if not upright else image)
    except pyvips.Error as error:
        raise image_error(shown, error) from None


def displayable(image: pyvips.Image) -> pyvips.Image:
    """8-bit sRGB (3 bands) or 8-bit grey (1 band), alpha flattened onto white."""
    if image.interpretation == "cmyk":
        image = image.icc_transform("srgb", embedded=True, input_profile="cmyk")
    elif image.bands >= 3 and _foreign_profile(image):
        image = image.icc_transform("srgb", embedded=True)
    if image.hasalpha():
        white = 65535 if image.format == "ushort" else 255
        image = image.flatten(background=[white] * (image.bands - 1), max_alpha=white)
    target = "b-w" if image.bands < 3 else "srgb"
    if image.interpretation in ("multiband", "matrix", "histogram", "fourier"):
        image = image.copy(interpretation=target)  # no colour space to convert from: take as is
    if image.interpretation != target or image.format != "uchar":
        image = image.colourspace(target)
    if image.format != "uchar":
        image = image.cast("uchar")
    if image.bands not in (1, 3):
        image = image.extract_band(0, n=3 if image.bands > 3 else 1)
    return image


def oriented_size(image: pyvips.Image) -> tuple[int, int]:
    if _orientation(image) in (5, 6, 7, 8):
        return image.height, image.width
    return image.width, image.height


def check_size(shown: str, width: int, height: int) -> None:
    if width < MIN_SIDE or height < MIN_SIDE:
        raise ImageError(
            f"{shown} is only {width}×{height} pixels",
            f"use an image at least {MIN_SIDE} pixels wide and high",
        )
    if max(width, height) > MAX_SIDE or width * height > MAX_PIXELS:
        raise ImageError(
            f"{shown} says it is {width}×{height} pixels, more than storiiies tiles "
            f"({MAX_SIDE:,} pixels a side, {MAX_PIXELS // 1_000_000_000} gigapixels)",
            "check the file is not damaged, or split the image into parts",
        )


def image_error(shown: str, error: pyvips.Error) -> ImageError:
    """Say what a libvips failure while decoding means for the author."""
    reason = vips_reason(error)
    if re.search(r"premature end|truncated|unexpected end|out of data|short read", reason, re.I):
        return ImageError(
            f"{shown} is damaged or incomplete ({reason})", "copy or export the image again"
        )
    return ImageError(f"{shown} could not be decoded ({reason})", REEXPORT)


def vips_reason(error: pyvips.Error) -> str:
    """The last line libvips gave, without the class prefix and the file's full path."""
    lines = [line.strip() for line in str(error.detail or error.message).splitlines()]
    lines = [line for line in lines if line]
    reason = lines[-1] if lines else "unknown error"
    reason = re.sub(r"^[A-Za-z0-9_]+: ", "", reason)
    reason = re.sub(r'(file )?"[^"]*" (is )?', "", reason)
    return reason[:1].lower() + reason[1:]


#: A file streamed top to bottom and larger than this is read, not mapped into memory: libvips
#: maps a file source whole, and every page of the mapping it has decoded stays in the build's
#: resident memory (a 489 MB JPEG of 1.2 gigapixels took the build from 490 to 980 MB). Reading
#: it costs Python a call for every 4 KB (~8 % of a decode); smaller files keep the mapping.
READ_ABOVE_BYTES = 256 * 1024 * 1024


def _load(
    source: Path, page: int, shown: str, *, read: bool = False, **options: Any
) -> pyvips.Image:
    try:
        size = source.stat().st_size
    except FileNotFoundError:
        raise ImageError(f"{shown} does not exist", "check the file name and folder") from None
    except OSError as exc:
        raise ImageError(f"{shown} cannot be read ({exc.strerror})") from None
    if size == 0:
        raise ImageError(f"{shown} is empty (0 bytes)", "copy or export the image again")
    if jpeg2000.is_jpeg2000(source) and not jpeg2000.libvips_reads_jpeg2000():
        return _load_jpeg2000(source, page, shown)
    if page:
        options["page"] = page
    try:
        # From a Source, not new_from_file: libvips caches loads by file name, so an image
        # edited on disk would come back as it was (until libvips 8.15's `revalidate`).
        large = read and size > READ_ABOVE_BYTES
        opened = _read_source(source) if large else pyvips.Source.new_from_file(str(source))
        image = pyvips.Image.new_from_source(opened, "", **options)
    except pyvips.Error as error:
        reason = vips_reason(error)
        if page and "page" in reason:
            raise ImageError(f"{shown} has no page {page + 1}", "check the page number") from None
        if "known format" in reason:
            reason = "not a known image format"
        raise ImageError(f"{shown} is not an image libvips can read ({reason})", REEXPORT) from None
    loader = loader_of(image)
    if loader not in LOADERS:
        if loader == "unknown":
            raise ImageError(f"{shown} is in a format storiiies does not tile", REEXPORT)
        kind = loader.removesuffix("load").upper()
        raise ImageError(f"{shown} is a {kind} file, which storiiies does not tile", REEXPORT)
    return image


def _read_source(source: Path) -> pyvips.Source:
    """A source that reads the file as libvips asks for it. The image keeps the source as long
    as it lives; the file is closed when the source goes."""
    file = source.open("rb")
    read = pyvips.SourceCustom()
    read.on_read(file.read)
    read.on_seek(file.seek)
    weakref.finalize(read, file.close)
    return read


def _load_jpeg2000(source: Path, page: int, shown: str) -> pyvips.Image:
    """A JPEG 2000 file through Pillow (see jpeg2000.py), with the errors libvips would give."""
    if page:
        raise ImageError(f"{shown} has no page {page + 1}", "check the page number")
    try:
        width, height = jpeg2000.header_size(source)
        check_size(shown, width, height)
        if width * height > jpeg2000.MAX_PIXELS:
            raise ImageError(
                f"{shown} is a JPEG 2000 image of {width}×{height} pixels; storiiies decodes "
                f"JPEG 2000 whole in memory and takes at most "
                f"{jpeg2000.MAX_PIXELS // 1_000_000} megapixels",
                "convert it to TIFF first (with `opj_decompress` or an image editor)",
            )
        return jpeg2000.decode(source)
    except ImageError:
        raise
    except (OSError, ValueError, SyntaxError) as error:
        reason = str(error) or type(error).__name__
        if re.search(r"truncated|premature|unexpected end|broken data stream", reason, re.I):
            raise ImageError(
                f"{shown} is damaged or incomplete ({reason})", "copy or export the image again"
            ) from None
        raise ImageError(f"{shown} could not be decoded ({reason})", REEXPORT) from None


def readable_formats() -> list[str]:
    """The picture formats this installation reads, for `storiiies --version` and bug reports."""
    formats = [
        name for loader, name in LOADERS.items() if pyvips.type_find("VipsOperation", loader)
    ]
    if not jpeg2000.libvips_reads_jpeg2000():
        formats.append(f"JPEG 2000 (through Pillow {jpeg2000.pillow_version()})")
    return formats


def libvips_version() -> str:
    return ".".join(str(pyvips.version(part)) for part in range(3))


def loader_of(image: pyvips.Image) -> str:
    """The libvips loader that read the image, e.g. "jpegload"."""
    loader = image.get("vips-loader") if image.get_typeof("vips-loader") else "unknown"
    return str(loader).removesuffix("_source")


def _orientation(image: pyvips.Image) -> int:
    return int(image.get("orientation")) if image.get_typeof("orientation") else 1


def _is_pyramid(source: Path, shown: str, pages: int, first: pyvips.Image) -> bool:
    """Old-style pyramidal TIFFs store their smaller levels as pages, each half the last."""
    width, height = first.width, first.height
    for page in range(1, pages):
        level = _load(source, page, shown)
        if abs(level.width - width / 2) > 1 or abs(level.height - height / 2) > 1:
            return False
        width, height = level.width, level.height
    return True


def _foreign_profile(image: pyvips.Image) -> bool:
    """True when an embedded colour profile is something other than sRGB (Adobe RGB, P3…)."""
    if not image.get_typeof("icc-profile-data"):
        return False
    return "srgb" not in icc_description(image.get("icc-profile-data")).lower()


def icc_description(profile: bytes) -> str:
    """The profile's `desc` tag (ICC v2 textDescription or v4 multiLocalizedUnicode)."""
    try:
        (count,) = struct.unpack_from(">I", profile, 128)
        for index in range(min(count, 200)):
            tag, offset, size = struct.unpack_from(">4sII", profile, 132 + 12 * index)
            if tag != b"desc" or offset + size > len(profile):
                continue
            kind = profile[offset : offset + 4]
            if kind == b"desc":
                (length,) = struct.unpack_from(">I", profile, offset + 8)
                text = profile[offset + 12 : offset + 12 + length]
                return text.split(b"\0")[0].decode("latin-1")
            if kind == b"mluc":
                (records,) = struct.unpack_from(">I", profile, offset + 8)
                if records:
                    length, start = struct.unpack_from(">II", profile, offset + 20)
                    text = profile[offset + start : offset + start + length]
                    return text.decode("utf-16-be", "replace")
    except struct.error:
        pass
    return ""
