"""Local images → level-0 tile trees: what viewers request, the pixels, the cache, the errors."""

from __future__ import annotations

import hashlib
import io
import math
import os
import re
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import pyvips
from PIL import Image, ImageChops, ImageStat

from storiiies.errors import ImageError
from storiiies.images import decode, jpeg2000, tiles
from storiiies.images.jpegstrip import strip_tiles
from storiiies.images.pool import tile_many
from storiiies.images.pyramid import iiif_path, stored_name
from storiiies.images.tiles import (
    ProgressEvent,
    TileJob,
    info_json,
    list_folder_images,
    natural_sort_key,
    page_count,
    publish_tiles,
    read_image_size,
    tile_image,
    tree_folders,
)


def openseadragon_requests(
    width: int, height: int, tile: int, factors: tuple[int, ...]
) -> set[str]:
    """What OpenSeadragon 5 asks a level-0 Image API 3 service for, level by level
    (IIIFTileSource.getTileUrl), written out independently of storiiies' own naming."""
    top = round(math.log2(max(factors)))
    paths = set()
    for level in range(top + 1):
        scale = 0.5 ** (top - level)
        lw, lh = math.ceil(width * scale), math.ceil(height * scale)
        span = round(tile / scale)
        if lw < tile and lh < tile:
            size = "max" if (lw, lh) == (width, height) else f"{lw},{lh}"
            paths.add(f"full/{size}/0/default.jpg")
            continue
        for row in range(math.ceil(lh / tile)):
            for col in range(math.ceil(lw / tile)):
                x, y = col * span, row * span
                w, h = min(span, width - x), min(span, height - y)
                region = "full" if (x, y, w, h) == (0, 0, width, height) else f"{x},{y},{w},{h}"
                sw, sh = min(tile, lw - col * tile), min(tile, lh - row * tile)
                size = "max" if (sw, sh) == (width, height) else f"{sw},{sh}"
                paths.add(f"{region}/{size}/0/default.jpg")
    return paths


def files_in(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def tile_paths(tiled: tiles.TiledImage) -> set[str]:
    """The IIIF paths of the tiles in the image's cache folder, which holds files only."""
    entries = list(tiled.path.iterdir())
    assert all(entry.is_file() for entry in entries)
    return {iiif_path(entry.name) for entry in entries}


def difference(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute difference per channel, 0–255."""
    return max(ImageStat.Stat(ImageChops.difference(a.convert("RGB"), b.convert("RGB"))).mean)


def colour_at(tiled: tiles.TiledImage, name: str, xy: tuple[int, int]) -> tuple[int, ...]:
    with Image.open(tiled.file(name)) as image:
        pixel = image.convert("RGB").getpixel(xy)
    assert isinstance(pixel, tuple)
    return pixel


def close(a: tuple[int, ...], b: tuple[int, ...], tolerance: int = 10) -> bool:
    return all(abs(p - q) <= tolerance for p, q in zip(a, b, strict=True))


def solid(path: Path, width: int, height: int, colour: list[int], **save: object) -> Path:
    image = (pyvips.Image.black(width, height, bands=len(colour)) + colour).cast("uchar")
    image.copy(interpretation="srgb" if len(colour) >= 3 else "b-w").write_to_file(
        str(path), **save
    )
    return path


# --- the tree ---------------------------------------------------------------------------------


@pytest.mark.shared
@pytest.mark.parametrize(
    "name, size", [("coins.png", (384, 303)), ("hubble_deep_field.jpg", (1000, 872))]
)
def test_a_tree_holds_exactly_what_viewers_request(shared, tmp_path, name, size):
    tiled = tile_image(shared / "samples" / name, tmp_path)

    assert (tiled.width, tiled.height) == size
    requested = openseadragon_requests(tiled.width, tiled.height, 256, tiled.scale_factors)
    sizes = {f"full/{w},{h}/0/default.jpg" for w, h in tiled.sizes}
    assert tile_paths(tiled) == requested | sizes | {"full/max/0/default.jpg"}
    for path in requested:
        region, size_part = path.split("/")[:2]
        with Image.open(tiled.file(path)) as tile:
            assert tile.format == "JPEG"
            if size_part != "max":
                assert tile.size == tuple(int(n) for n in size_part.split(","))


@pytest.mark.parametrize("size", [(2, 2), (256, 256), (257, 100), (513, 513), (1500, 700)])
def test_any_size_gives_exactly_what_viewers_request(tmp_path, size):
    # 513 × 513: the 1-pixel edge tiles of the first two levels have the same name.
    tiled = tile_image(solid(tmp_path / "odd.png", *size, [90, 40, 10]), tmp_path / "cache")

    requested = openseadragon_requests(*size, 256, tiled.scale_factors)
    sizes = {f"full/{w},{h}/0/default.jpg" for w, h in tiled.sizes}
    assert tile_paths(tiled) == requested | sizes | {"full/max/0/default.jpg"}


@pytest.mark.parametrize("size", [(2, 2), (256, 256), (257, 100), (513, 513), (1500, 700)])
def test_the_folders_made_before_the_tiles_are_cut_are_those_the_tree_needs(tmp_path, size):
    tiled = tile_image(solid(tmp_path / "odd.png", *size, [90, 40, 10]), tmp_path / "cache")
    ahead = tmp_path / "ahead"
    ahead.mkdir()
    for folder in tree_folders(*size):
        (ahead / folder).mkdir()  # parents first: each one's parent is there already

    publish_tiles(tiled, ahead)
    publish_tiles(tiled, tmp_path / "after")

    def folders(root: Path) -> set[str]:
        return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_dir()}

    assert folders(ahead) == folders(tmp_path / "after") == set(tree_folders(*size))
    assert files_in(ahead) == tile_paths(tiled)


@pytest.mark.parametrize("bands, rows", [(3, 256), (3, 152), (1, 100)])
def test_a_strip_cut_into_tiles_decodes_like_tiles_saved_one_by_one(bands, rows):
    noise = pyvips.Image.gaussnoise(768, rows, mean=128, sigma=40).cast("uchar")
    strip = (
        noise.bandjoin([noise.flip("horizontal"), noise.flip("vertical")]) if bands == 3 else noise
    )

    tiles_ = strip_tiles(strip, 256, 85)

    assert tiles_ is not None and len(tiles_) == 3
    for column, jpeg in enumerate(tiles_):
        alone = strip.crop(column * 256, 0, 256, rows).jpegsave_buffer(Q=85)
        with Image.open(io.BytesIO(jpeg)) as cut, Image.open(io.BytesIO(alone)) as saved:
            assert cut.size == (256, rows)
            assert cut.tobytes() == saved.tobytes()


@pytest.mark.shared
def test_tile_pixels_match_the_source(shared, tmp_path):
    # The Hubble deep field is all fine detail: JPEG at quality 85 alone costs it ~4 levels.
    source = shared / "samples" / "hubble_deep_field.jpg"
    tiled = tile_image(source, tmp_path)

    with Image.open(source) as original:
        with Image.open(tiled.file("256,512,256,256/256,256/0/default.jpg")) as tile:
            aligned = difference(tile, original.crop((256, 512, 512, 768)))
            shifted = difference(tile, original.crop((257, 512, 513, 768)))
            assert aligned < 5 and aligned < shifted - 1
        with Image.open(tiled.file("512,0,488,512/244,256/0/default.jpg")) as tile:
            half = original.crop((512, 0, 1000, 512)).resize((244, 256), Image.Resampling.BOX)
            assert difference(tile, half) < 5
        with Image.open(tiled.file("full/max/0/default.jpg")) as whole:
            assert whole.size == (1000, 872)
            assert difference(whole, original) < 5


@pytest.mark.shared
def test_grey_stays_grey_and_metadata_is_dropped(shared, tmp_path):
    tiled = tile_image(shared / "samples" / "coins.png", tmp_path)

    with Image.open(tiled.file("0,0,256,256/256,256/0/default.jpg")) as tile:
        assert tile.mode == "L"
    rocket = tile_image(shared / "samples" / "rocket.jpg", tmp_path)
    with Image.open(rocket.file("full/max/0/default.jpg")) as whole:
        assert "icc_profile" not in whole.info and "exif" not in whole.info


@pytest.mark.shared
def test_adobe_rgb_is_converted_to_srgb(shared, tmp_path):
    # rocket.jpg carries an Adobe RGB (1998) profile; shown as-is its colours would be dull.
    source = shared / "samples" / "rocket.jpg"
    tiled = tile_image(source, tmp_path)

    stored = pyvips.Image.new_from_file(str(source))
    srgb = stored.icc_transform("srgb", embedded=True)
    with Image.open(tiled.file("full/max/0/default.jpg")) as whole:
        expected = Image.frombytes("RGB", (srgb.width, srgb.height), srgb.write_to_memory())
        unconverted = Image.frombytes(
            "RGB", (stored.width, stored.height), stored.write_to_memory()
        )
        assert difference(whole, expected) < 5
        assert difference(whole, unconverted) > 9


def test_info_json_describes_the_tree(tmp_path):
    tiled = tile_image(solid(tmp_path / "wide.png", 3000, 1000, [0, 90, 200]), tmp_path / "cache")

    info = info_json(tiled, "https://example.org/images/wide/")

    assert list(info) == [
        "@context", "id", "type", "protocol", "profile", "width", "height",
        "maxWidth", "maxHeight", "sizes", "tiles",
    ]  # fmt: skip
    assert info["id"] == "https://example.org/images/wide"
    assert info["@context"] == "http://iiif.io/api/image/3/context.json"
    assert (info["type"], info["profile"]) == ("ImageService3", "level0")
    assert info["sizes"] == [
        {"width": 188, "height": 63},
        {"width": 375, "height": 125},
        {"width": 750, "height": 250},
        {"width": 1500, "height": 500},
    ]
    # full/max is the largest listed size, so info.json says so.
    assert (info["maxWidth"], info["maxHeight"]) == (1500, 500)
    assert info["tiles"] == [{"width": 256, "height": 256, "scaleFactors": [1, 2, 4, 8, 16]}]
    with Image.open(tiled.file("full/max/0/default.jpg")) as whole:
        assert whole.size == (1500, 500)


def test_a_small_image_is_one_tile(tmp_path):
    tiled = tile_image(solid(tmp_path / "small.png", 200, 100, [255, 0, 0]), tmp_path / "cache")

    assert tiled.scale_factors == (1,)
    assert tiled.sizes == ((200, 100),)
    assert tile_paths(tiled) == {"full/max/0/default.jpg", "full/200,100/0/default.jpg"}
    assert "maxWidth" not in info_json(tiled, "https://example.org/small")


# --- what goes in -----------------------------------------------------------------------------


def test_cmyk_jpeg_becomes_srgb(tmp_path):
    rgb = (pyvips.Image.black(300, 200, bands=3) + [200, 30, 30]).cast("uchar")
    path = tmp_path / "cmyk.jpg"
    rgb.copy(interpretation="srgb").icc_transform("cmyk").jpegsave(str(path))
    assert pyvips.Image.new_from_file(str(path)).interpretation == "cmyk"

    tiled = tile_image(path, tmp_path / "cache")

    assert close(colour_at(tiled, "0,0,256,200/256,200/0/default.jpg", (10, 10)), (200, 30, 30), 16)


def test_16_bit_png_becomes_8_bit(tmp_path):
    path = tmp_path / "deep.png"
    image = (pyvips.Image.black(300, 200, bands=3) + [60000, 30000, 0]).cast("ushort")
    image.copy(interpretation="rgb16").pngsave(str(path))

    tiled = tile_image(path, tmp_path / "cache")

    assert close(colour_at(tiled, "full/150,100/0/default.jpg", (5, 5)), (233, 117, 0), 3)


def test_transparency_is_flattened_on_white(tmp_path):
    image = Image.new("RGBA", (300, 200), (255, 0, 0, 0))
    image.paste((0, 0, 255, 255), (0, 0, 150, 200))
    image.save(tmp_path / "alpha.png")

    tiled = tile_image(tmp_path / "alpha.png", tmp_path / "cache")

    assert close(colour_at(tiled, "full/max/0/default.jpg", (20, 100)), (0, 0, 255))
    assert close(colour_at(tiled, "full/max/0/default.jpg", (280, 100)), (255, 255, 255))


def test_palette_png(tmp_path):
    image = Image.new("P", (300, 200))
    image.putpalette([255, 255, 0, 0, 128, 0])
    image.paste(1, (150, 0, 300, 200))
    image.save(tmp_path / "palette.png")

    tiled = tile_image(tmp_path / "palette.png", tmp_path / "cache")

    assert close(colour_at(tiled, "full/max/0/default.jpg", (20, 100)), (255, 255, 0))
    assert close(colour_at(tiled, "full/max/0/default.jpg", (280, 100)), (0, 128, 0))


def test_each_page_of_a_tiff_is_its_own_image(tmp_path):
    colours = [(200, 0, 0), (0, 200, 0), (0, 0, 200)]
    pages = [Image.new("RGB", (300, 200), colour) for colour in colours]
    pages[0].save(tmp_path / "book.tif", save_all=True, append_images=pages[1:])

    assert page_count(tmp_path / "book.tif") == 3
    second = tile_image(tmp_path / "book.tif", tmp_path / "cache", page=1)
    first = tile_image(tmp_path / "book.tif", tmp_path / "cache")

    assert second.key != first.key
    assert close(colour_at(second, "full/max/0/default.jpg", (5, 5)), (0, 200, 0))
    assert close(colour_at(first, "full/max/0/default.jpg", (5, 5)), (200, 0, 0))
    with pytest.raises(ImageError, match=r"^book\.tif has no page 4$"):
        tile_image(tmp_path / "book.tif", tmp_path / "cache", page=3)


def test_a_pyramidal_tiff_is_one_page(tmp_path):
    path = tmp_path / "pyramid.tif"
    solid(tmp_path / "big.png", 1200, 800, [10, 20, 30])
    pyvips.Image.new_from_file(str(tmp_path / "big.png")).tiffsave(
        str(path), tile=True, pyramid=True, compression="jpeg"
    )
    assert pyvips.Image.new_from_file(str(path)).get("n-pages") > 1

    assert page_count(path) == 1
    assert tile_image(path, tmp_path / "cache").width == 1200


def test_exif_orientation_is_applied(tmp_path):
    # Stored 300 wide, red on the left; orientation 6 shows it turned clockwise, red on top.
    image = Image.new("RGB", (300, 200), (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, 150, 200))
    exif = Image.Exif()
    exif[0x0112] = 6
    image.save(tmp_path / "turned.jpg", exif=exif, quality=95)

    assert read_image_size(tmp_path / "turned.jpg") == (200, 300)
    tiled = tile_image(tmp_path / "turned.jpg", tmp_path / "cache")

    assert (tiled.width, tiled.height) == (200, 300)
    assert close(colour_at(tiled, "full/max/0/default.jpg", (100, 40)), (255, 0, 0), 16)
    assert close(colour_at(tiled, "full/max/0/default.jpg", (100, 260)), (0, 0, 255), 16)


PROMISED_FORMATS = {  # docs/authoring.md: "JPEG, PNG, TIFF, WebP or JPEG 2000"
    "jpg": {"quality": 95},
    "png": {},
    # Pillow writes TIFF strips that do not line up with the tiler's rows (read in any order).
    "tif": {"compression": "tiff_lzw"},
    "tiff": {"compression": None},
    "webp": {"lossless": True},
    "jp2": {"irreversible": False},
    "j2k": {},
}


@pytest.mark.parametrize("suffix", PROMISED_FORMATS)
def test_every_format_the_docs_promise_is_tiled(tmp_path, suffix):
    path = tmp_path / f"scan.{suffix}"
    image = Image.new("RGB", (700, 500), (200, 30, 40))
    image.paste((20, 40, 220), (0, 250, 700, 500))
    image.save(path, **PROMISED_FORMATS[suffix])

    tiled = tile_image(path, tmp_path / "cache")

    assert (tiled.width, tiled.height) == (700, 500)
    assert close(colour_at(tiled, "full/max/0/default.jpg", (350, 100)), (200, 30, 40), 16)
    assert close(
        colour_at(tiled, "0,256,256,244/256,244/0/default.jpg", (10, 10)), (20, 40, 220), 16
    )


def test_a_grey_jpeg_2000_stays_grey(tmp_path):
    path = tmp_path / "page.jp2"
    Image.linear_gradient("L").resize((300, 200)).save(path)

    tiled = tile_image(path, tmp_path / "cache")

    with Image.open(tiled.file("full/max/0/default.jpg")) as whole:
        assert whole.mode == "L"
        assert whole.size == (300, 200)


def test_a_jpeg_2000_too_large_to_decode_in_memory_says_what_to_do(tmp_path, monkeypatch):
    path = tmp_path / "master.jp2"
    Image.new("RGB", (400, 300), (0, 0, 0)).save(path)
    monkeypatch.setattr(jpeg2000, "MAX_PIXELS", 100_000)
    if jpeg2000.libvips_reads_jpeg2000():
        pytest.skip("this libvips reads JPEG 2000 itself, with no size limit of storiiies' own")

    with pytest.raises(ImageError) as caught:
        read_image_size(path)

    assert caught.value.message == (
        "master.jp2 is a JPEG 2000 image of 400×300 pixels; storiiies decodes JPEG 2000 whole "
        "in memory and takes at most 0 megapixels"
    )
    assert (
        caught.value.hint == "convert it to TIFF first (with `opj_decompress` or an image editor)"
    )


def test_an_image_larger_than_pillow_allows(tmp_path):
    path = solid(tmp_path / "huge.jpg", 9500, 9500, [10, 120, 200], Q=75)
    assert Image.MAX_IMAGE_PIXELS < 9500 * 9500

    # Big tiles keep the test quick; the pipeline is the same.
    tiled = tile_image(path, tmp_path / "cache", tile_size=1024)

    assert (tiled.width, tiled.height) == (9500, 9500)
    assert tiled.scale_factors == (1, 2, 4, 8, 16)
    assert tiled.max_size == (1188, 1188)
    assert close(
        colour_at(tiled, "9216,9216,284,284/284,284/0/default.jpg", (10, 10)), (10, 120, 200)
    )


# --- what must not go in ----------------------------------------------------------------------


def bad_image(tmp_path: Path, kind: str) -> Path:
    if kind == "empty":
        path = tmp_path / "empty.jpg"
        path.write_bytes(b"")
    elif kind == "text":
        path = tmp_path / "notes.jpg"
        path.write_text("not a picture\n")
    elif kind == "truncated":
        whole = tmp_path / "whole.jpg"
        image = pyvips.Image.gaussnoise(600, 400).cast("uchar")
        image.jpegsave(str(whole))
        path = tmp_path / "truncated.jpg"
        path.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    elif kind == "dot":
        path = solid(tmp_path / "dot.png", 1, 1, [0, 0, 0])
    elif kind == "too wide":
        path = tmp_path / "wide.png"
        pyvips.Image.black(300_000, 2).cast("uchar").pngsave(str(path))
    elif kind == "svg":
        path = tmp_path / "drawing.png"
        path.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="40" height="30"/>')
    elif kind == "vips":
        # A format every libvips reads (its own) but no author means as a picture.
        saved = tmp_path / "scan.v"
        pyvips.Image.black(40, 30).cast("uchar").vipssave(str(saved))
        path = saved.rename(tmp_path / "scan.jpg")
    elif kind == "ppm":
        # Written by hand: the pinned libvips wheel has no PPM saver (or loader).
        path = tmp_path / "scan.ppm"
        path.write_bytes(b"P6\n40 30\n255\n" + bytes(40 * 30 * 3))
    elif kind == "truncated jp2":
        whole = tmp_path / "whole.jp2"
        Image.effect_noise((600, 400), 60).convert("RGB").save(whole)
        path = tmp_path / "truncated.jp2"
        path.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    return path


@pytest.mark.parametrize(
    "kind, message, hint",
    [
        ("empty", r"empty\.jpg is empty \(0 bytes\)", "copy or export the image again"),
        (
            "text",
            r"notes\.jpg is not an image libvips can read \(not a known image format\)",
            "re-export it as JPEG, PNG or TIFF",
        ),
        (
            "truncated",
            r"truncated\.jpg is damaged or incomplete \(.+\)",
            "copy or export the image again",
        ),
        ("dot", r"dot\.png is only 1×1 pixels", "use an image at least 2 pixels wide and high"),
        (
            "too wide",
            r"wide\.png says it is 300000×2 pixels, more than storiiies tiles "
            r"\(200,000 pixels a side, 10 gigapixels\)",
            "check the file is not damaged, or split the image into parts",
        ),
        (
            "svg",
            r"drawing\.png is a SVG file, which storiiies does not tile",
            "re-export it as JPEG, PNG or TIFF",
        ),
        (
            "vips",
            r"scan\.jpg is in a format storiiies does not tile",
            "re-export it as JPEG, PNG or TIFF",
        ),
        (
            "ppm",
            r"scan\.ppm is (not an image libvips can read \(not a known image format\)"
            r"|a PPM file, which storiiies does not tile)",
            "re-export it as JPEG, PNG or TIFF",
        ),
        (
            "truncated jp2",
            r"truncated\.jp2 is damaged or incomplete \(.+\)",
            "copy or export the image again",
        ),
    ],
)
def test_a_bad_image_is_an_image_error(tmp_path, kind, message, hint):
    path = bad_image(tmp_path, kind)
    cache = tmp_path / "cache"

    with pytest.raises(ImageError) as caught:
        tile_image(path, cache)

    assert re.fullmatch(message, caught.value.message), caught.value.message
    assert caught.value.hint == hint
    # Nothing half-cut is left behind, under the final name or any other.
    assert not cache.exists() or [p.name for p in cache.iterdir() if p.name != "memo"] == []


# --- the cache --------------------------------------------------------------------------------


def test_a_second_call_reuses_the_tree_without_decoding(tmp_path, monkeypatch):
    path = solid(tmp_path / "photo.png", 700, 500, [30, 60, 90])
    an_hour_ago = time.time() - 3600
    os.utime(path, (an_hour_ago, an_hour_ago))
    first = tile_image(path, tmp_path / "cache")
    assert not first.cached
    assert (first.path.parent / "image.json").is_file()
    stamp = first.path.stat().st_mtime_ns

    def no_decoding(*args: object, **kwargs: object) -> None:
        raise AssertionError("a cached image was opened")

    monkeypatch.setattr(pyvips.Image, "new_from_file", no_decoding)
    second = tile_image(path, tmp_path / "cache")

    assert second.cached
    assert (second.key, second.path, second.sizes) == (first.key, first.path, first.sizes)
    assert first.path.stat().st_mtime_ns == stamp
    events: list[ProgressEvent] = []
    (again,) = tile_many([TileJob(path)], tmp_path / "cache", progress=events.append)
    assert again.cached
    assert [(e.state, e.done, e.total) for e in events] == [("cached", 1, 1)]


def test_changed_bytes_give_a_new_key_and_moved_files_keep_theirs(tmp_path):
    path = solid(tmp_path / "photo.png", 400, 300, [30, 60, 90])
    before = tile_image(path, tmp_path / "cache")

    moved = path.rename(tmp_path / "renamed.png")
    assert tile_image(moved, tmp_path / "cache").key == before.key
    solid(moved, 400, 300, [30, 60, 91])
    after = tile_image(moved, tmp_path / "cache")
    solid(moved, 500, 300, [30, 60, 91])
    larger = tile_image(moved, tmp_path / "cache")

    assert after.key != before.key and not after.cached
    assert larger.width == 500  # what is on disk now, not what libvips read before
    assert not [p for p in (tmp_path / "cache").iterdir() if ".tmp-" in p.name]


def test_publish_links_the_cached_files(tmp_path):
    tiled = tile_image(solid(tmp_path / "photo.png", 600, 300, [1, 2, 3]), tmp_path / "cache")

    publish_tiles(tiled, tmp_path / "site" / "images" / "photo")

    published = tmp_path / "site" / "images" / "photo"
    assert files_in(published) == tile_paths(tiled)
    tile = "256,0,256,256/256,256/0/default.jpg"
    assert os.path.samefile(published / tile, tiled.file(tile))
    assert os.path.samefile(
        published / "full/max/0/default.jpg", tiled.file("full/max/0/default.jpg")
    )

    # Again over the same tree (and another image's folders beside it): the same tree.
    (published / "elsewhere" / "0").mkdir(parents=True)
    publish_tiles(tiled, published)
    assert files_in(published) == tile_paths(tiled)
    assert os.path.samefile(published / tile, tiled.file(tile))


@pytest.mark.parametrize(
    "path, name",
    [
        ("0,0,256,256/256,256/0/default.jpg", "0,0,256,256_256,256.jpg"),
        ("full/max/0/default.jpg", "full_max.jpg"),
        ("full/1500,500/0/default.jpg", "full_1500,500.jpg"),
    ],
)
def test_a_tile_is_stored_under_a_name_that_gives_back_its_path(path, name):
    assert stored_name(path) == name
    assert iiif_path(name) == path


@pytest.mark.parametrize(
    "path",
    [
        "full/max/0/color.jpg",
        "full/max/90/default.jpg",
        "full/0/default.jpg",
        "a/b/c/0/default.jpg",
        "full_x/max/0/default.jpg",
        "../max/0/default.jpg/x",
        "info.json",
    ],
)
def test_only_a_tile_path_has_a_stored_name(path):
    with pytest.raises(ValueError, match="not the path of a tile"):
        stored_name(path)


# --- many at once -----------------------------------------------------------------------------


def test_tile_many_in_parallel_reports_progress_and_keeps_going_past_a_bad_image(tmp_path):
    good = [solid(tmp_path / f"page{n}.png", 900, 700, [n * 40, 80, 120]) for n in range(3)]
    bad = bad_image(tmp_path, "text")
    events: list[ProgressEvent] = []

    results = tile_many(
        [TileJob(good[0]), TileJob(bad), TileJob(good[1]), TileJob(good[2]), TileJob(good[0])],
        tmp_path / "cache",
        workers=2,
        progress=events.append,
    )

    assert [type(r).__name__ for r in results] == [
        "TiledImage", "ImageError", "TiledImage", "TiledImage", "TiledImage",
    ]  # fmt: skip
    assert results[0] == results[4]  # the same file twice is cut once
    assert (
        results[1].message
        == "notes.jpg is not an image libvips can read (not a known image format)"
    )
    assert {e.state for e in events} >= {"started", "finished", "failed"}
    assert events[-1].done == events[-1].total == 5
    assert events[-1].overall == 1.0
    assert [e.overall for e in events] == sorted(e.overall for e in events)


# --- folders ----------------------------------------------------------------------------------


def test_natural_order():
    names = ["page10.jpg", "Page2.jpg", "page1.jpg", "page02b.jpg", "cover.jpg"]

    assert sorted(names, key=natural_sort_key) == [
        "cover.jpg", "page1.jpg", "Page2.jpg", "page02b.jpg", "page10.jpg",
    ]  # fmt: skip


def test_folder_images_skip_hidden_and_other_files(tmp_path):
    for name in ["p10.jpg", "p2.PNG", "p1.tif", ".p0.jpg", "notes.txt", "p3.webp"]:
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "p4.jpg").mkdir()

    assert [p.name for p in list_folder_images(tmp_path)] == [
        "p1.tif",
        "p2.PNG",
        "p3.webp",
        "p10.jpg",
    ]


def test_a_large_file_is_read_not_mapped_and_tiles_the_same(tmp_path, monkeypatch):
    source = solid(tmp_path / "photo.jpg", 900, 700, [30, 120, 200])
    mapped = tile_image(source, tmp_path / "mapped")
    opened: list[str] = []
    real_read_source = decode._read_source

    def read_source(path: Path) -> pyvips.Source:
        opened.append(path.name)
        return real_read_source(path)

    monkeypatch.setattr(decode, "READ_ABOVE_BYTES", 100)  # every file is "large"
    monkeypatch.setattr(decode, "_read_source", read_source)
    read = tile_image(source, tmp_path / "read")

    assert opened == ["photo.jpg"]  # read once, for the tiles (the header is mapped)
    assert tile_paths(read) == tile_paths(mapped)
    for path in tile_paths(mapped):
        assert read.file(path).read_bytes() == mapped.file(path).read_bytes()


def test_a_large_file_is_hashed_while_it_is_cut_and_a_copy_of_a_cached_one_stops_early(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(tiles, "HASH_WHILE_CUTTING", 0)  # every file is "large"
    monkeypatch.setattr(tiles.cache, "_RACY_NS", 0)  # files written now may be remembered
    cache_dir = tmp_path / "cache"
    first = solid(tmp_path / "scan.png", 3000, 2600, [30, 60, 90])
    cut = tile_image(first, cache_dir)
    expected = tiles.find_tiles(first, tmp_path / "elsewhere")[0]  # the key by content

    assert not cut.cached and cut.key == expected
    assert tiles.cached_tiles(TileJob(first), cache_dir) == replace(cut, cached=True)

    # The same bytes under another name: no memo, so it starts cutting until the key is
    # known, then takes the cached tiles (the strips it cut are thrown away).
    copy = tmp_path / "copy.png"
    copy.write_bytes(first.read_bytes())
    strips: list[float] = []
    again = tile_image(copy, cache_dir, progress=strips.append)

    assert again.cached and again.key == cut.key and again.path == cut.path
    assert len(strips) < 11  # stopped early: the image is 11 strips of 256 rows
    assert tiles.cached_tiles(TileJob(copy), cache_dir) is not None  # remembered
    assert not [p for p in cache_dir.iterdir() if ".tmp-" in p.name]


def test_a_file_hashed_for_its_name_is_not_read_again_for_its_tiles_key(tmp_path, monkeypatch):
    """An image's public name (resolve/sources.py) and its tiles' key both hash its bytes; in
    one process the file is read once (cache.file_hash), and the key is the one a process
    that never hashed it computes."""
    monkeypatch.setattr(tiles.cache, "_RACY_NS", 0)  # files written now may be remembered
    path = solid(tmp_path / "scan.png", 600, 400, [30, 60, 90])
    content = path.read_bytes()
    reads: list[Path] = []
    real_open = Path.open

    def counted_open(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self == path:
            reads.append(self)
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", counted_open)
    name_digest = tiles.cache.file_hash(path).hexdigest()
    key = tiles.find_tiles(path, tmp_path / "cache")[0]
    assert len(reads) == 1
    assert name_digest == hashlib.sha256(content).hexdigest()

    tiles.cache._hashed.clear()  # a fresh process
    assert tiles.find_tiles(path, tmp_path / "elsewhere")[0] == key
    assert len(reads) == 2


def test_a_file_changed_since_it_was_hashed_is_hashed_again(tmp_path, monkeypatch):
    monkeypatch.setattr(tiles.cache, "_RACY_NS", 0)
    path = solid(tmp_path / "scan.png", 600, 400, [30, 60, 90])
    before = tiles.cache.file_hash(path).hexdigest()
    same_size = bytearray(path.read_bytes())
    same_size[-20] ^= 0xFF
    path.write_bytes(bytes(same_size))
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))  # even within the clock's granularity
    assert tiles.cache.file_hash(path).hexdigest() == hashlib.sha256(same_size).hexdigest()
    assert tiles.cache.file_hash(path).hexdigest() != before


def test_a_large_file_hashed_already_is_taken_from_the_cache_without_cutting(tmp_path, monkeypatch):
    """A large file is hashed while it is cut, unless this process hashed it already (a build
    does, for its public name): then its key is known at once, and cached tiles are taken
    before anything is decoded."""
    monkeypatch.setattr(tiles, "HASH_WHILE_CUTTING", 0)  # every file is "large"
    monkeypatch.setattr(tiles.cache, "_RACY_NS", 0)  # files written now may be remembered
    cache_dir = tmp_path / "cache"
    first = solid(tmp_path / "scan.png", 3000, 2600, [30, 60, 90])
    cut = tile_image(first, cache_dir)
    copy = tmp_path / "copy.png"
    copy.write_bytes(first.read_bytes())
    tiles.cache.file_hash(copy)

    started: list[float] = []
    again = tile_image(copy, cache_dir, progress=started.append, cutting=lambda: started.append(0))
    assert again.cached and again.key == cut.key and again.path == cut.path
    assert started == []
