"""JPEG 2000 through Pillow's OpenJPEG, for a libvips built without it.

The libvips in the `pyvips-binary` wheel reads JPEG, PNG, TIFF, WebP, GIF and HEIF but not
JPEG 2000, a format archives and libraries use for their masters. Pillow's wheels carry
OpenJPEG, so a JPEG 2000 file is decoded there once and handed to libvips as pixels in memory.
Unlike libvips' own loader this holds the whole decoded image in memory (width × height ×
bands bytes), so it takes at most `MAX_PIXELS`; a larger one is better converted to a tiled TIFF.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pyvips
from PIL import __version__ as PILLOW_VERSION
from PIL.Jpeg2KImagePlugin import Jpeg2KImageFile

#: A JP2 file (ISO/IEC 15444-1 annex I) and a raw JPEG 2000 codestream (SOC then SIZ marker).
SIGNATURES = (b"\x00\x00\x00\x0cjP  \r\n\x87\n", b"\xff\x4f\xff\x51")

LOADER = "jp2kload"

#: Decoded whole, a JPEG 2000 image takes about four bytes a pixel while it is read.
MAX_PIXELS = 500_000_000


def is_jpeg2000(source: Path) -> bool:
    with source.open("rb") as file:
        start = file.read(12)
    return any(start.startswith(signature) for signature in SIGNATURES)


def libvips_reads_jpeg2000() -> bool:
    return bool(pyvips.type_find("VipsOperation", LOADER))


def pillow_version() -> str:
    return PILLOW_VERSION


def header_size(source: Path) -> tuple[int, int]:
    """Width and height from the codestream header, without decoding."""
    with _open(source) as image:
        return image.size


def decode(source: Path) -> pyvips.Image:
    """The image as libvips pixels, tagged as if libvips' own JPEG 2000 loader had read it."""
    stat = source.stat()
    return _decode(str(source), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=2)
def _decode(path: str, mtime_ns: int, size: int) -> pyvips.Image:
    # The key holds the file's change time and size, so an image edited on disk is read again.
    with _open(Path(path)) as opened:
        image = opened if opened.mode in ("L", "LA", "RGB", "RGBA") else None
        if image is None:
            image = opened.convert("RGBA" if "A" in opened.getbands() else "RGB")
        bands = len(image.getbands())
        pixels = image.tobytes()
        width, height = image.size
    decoded = pyvips.Image.new_from_memory(pixels, width, height, bands, "uchar")
    decoded = decoded.copy(interpretation="srgb" if bands >= 3 else "b-w")
    decoded.set_type(pyvips.GValue.gstr_type, "vips-loader", LOADER)
    return decoded


def _open(source: Path) -> Jpeg2KImageFile:
    # The plugin's class, not `Image.open`: storiiies checks every size against its own limits
    # (imageread.check_size) before decoding, and Pillow's lower guard (89 megapixels, a global
    # setting) would refuse an ordinary archival master.
    return Jpeg2KImageFile(str(source))
