"""Encode a row of tiles as one JPEG, then cut it into the tiles' JPEGs without decoding.

Every libvips save costs ~0.3 ms of set-up, about as much as encoding a 256-pixel tile. So the
whole strip is encoded once, with a restart marker at every tile boundary, and its entropy-coded
data is split at those markers: a restart resets the DC predictors, so each tile's slice of each
MCU row stands alone. A tile's JPEG is then the strip's headers (with the tile's size) and its
slices, separated by restart markers again. The pixels are exactly those of saving each tile on
its own, for about two thirds of the CPU time (measured: 375 against 560 µs a tile).
"""

from __future__ import annotations

import re
import struct
from typing import Any

import pyvips

_RESTART = re.compile(rb"\xff[\xd0-\xd7]")
_SOF_BASELINE, _DRI, _SOS = 0xC0, 0xDD, 0xDA


def strip_tiles(
    image: pyvips.Image, tile_size: int, quality: int, **options: Any
) -> list[bytes] | None:
    """JPEGs of the tiles of a strip `image`, left to right; it must be whole tiles wide.

    None when the encoder did not lay out the file as this needs (say, a progressive JPEG):
    the caller then saves the tiles one by one.
    """
    # libvips subsamples colour 2×2 below quality 90: 16-pixel MCUs; 8 pixels otherwise.
    mcu = 16 if image.bands >= 3 and quality < 90 else 8
    if tile_size % mcu or image.width % tile_size:
        return None
    jpeg = image.jpegsave_buffer(Q=quality, restart_interval=tile_size // mcu, **options)
    return split(bytes(jpeg), image.width // tile_size, tile_size, image.height)


def split(jpeg: bytes, columns: int, tile_size: int, rows: int) -> list[bytes] | None:
    """Cut a baseline JPEG with a restart marker every `tile_size` pixels into `columns` tiles."""
    header = _header(jpeg)
    if header is None or not jpeg.endswith(b"\xff\xd9"):
        return None
    end, sof, mcu_width, mcu_height, interval = header
    if interval * mcu_width != tile_size:
        return None
    slices = _RESTART.split(jpeg[end:-2])
    mcu_rows = -(-rows // mcu_height)
    if len(slices) != mcu_rows * columns:
        return None
    tiles = []
    head = bytearray(jpeg[:end])
    struct.pack_into(">HH", head, sof + 5, rows, tile_size)
    for column in range(columns):
        parts = [bytes(head)]
        for row in range(mcu_rows):
            if row:
                parts.append(bytes((0xFF, 0xD0 + (row - 1) % 8)))
            parts.append(slices[row * columns + column])
        parts.append(b"\xff\xd9")
        tiles.append(b"".join(parts))
    return tiles


def _header(jpeg: bytes) -> tuple[int, int, int, int, int] | None:
    """(end of the headers, SOF offset, MCU width, MCU height, restart interval), or None."""
    if not jpeg.startswith(b"\xff\xd8"):
        return None
    position, sof, sampling, interval = 2, -1, (1, 1), 0
    while position + 4 <= len(jpeg) and jpeg[position] == 0xFF:
        marker = jpeg[position + 1]
        (length,) = struct.unpack_from(">H", jpeg, position + 2)
        if marker == _SOF_BASELINE:
            sof = position
            components = jpeg[position + 9]
            factors = [jpeg[position + 11 + 3 * i] for i in range(components)]
            sampling = (max(f >> 4 for f in factors), max(f & 15 for f in factors))
        elif 0xC1 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            return None  # progressive, extended or arithmetic: not what split() understands
        elif marker == _DRI:
            (interval,) = struct.unpack_from(">H", jpeg, position + 4)
        elif marker == _SOS:
            if sof < 0 or not interval:
                return None
            return position + 2 + length, sof, 8 * sampling[0], 8 * sampling[1], interval
        position += 2 + length
    return None
