"""Region references, as authors write them in image and link targets."""

import pytest

from storiiies.story.references import (
    Reference,
    ReferenceSyntaxError,
    Region,
    looks_like_reference,
    parse_reference,
)


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("coins", Reference("coins")),
        ("coins/2", Reference("coins", "2")),
        ("coins#xywh=120,80,400,400", Reference("coins", None, Region(120, 80, 400, 400))),
        (
            "coins/2#xywh=percent:10,10,50,40",
            Reference("coins", "2", Region(10, 10, 50, 40, "percent")),
        ),
        ("coins#xywh=pixel:1,2,3,4", Reference("coins", None, Region(1, 2, 3, 4))),
        (
            "book/https://example.org/iiif/canvas/p2#xywh=0,0,10,10",
            Reference("book", "https://example.org/iiif/canvas/p2", Region(0, 0, 10, 10)),
        ),
        ("my-book_2.v1/10", Reference("my-book_2.v1", "10")),
    ],
)
def test_parse_reference(target, expected):
    assert parse_reference(target) == expected


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("coins#xywh=1,2,3", "region '1,2,3' is not x,y,w,h"),
        ("coins#xywh=1,2,0,4", "region '1,2,0,4' has no area"),
        ("coins#xywh=10.5,10,20,20", "region '10.5,10,20,20' is not in whole pixels"),
        ("coins#xywh=-5,10,10,10", "region '-5,10,10,10' has a negative number"),
        ("coins#xywh=percent:-5,10,10,10", "region 'percent:-5,10,10,10' has a negative number"),
        ("coins#xywh=percent:60,0,50,10", "region 'percent:60,0,50,10' goes past 100%"),
        ("coins#page=2", "unknown fragment '#page=2' in 'coins#page=2'"),
        ("talk#t=40,12", "time range '40,12' ends before it starts"),
        ("talk#t=soon", "time range 'soon' is not start,end"),
        ("coins/0", "canvas 0 does not exist"),
        (
            "coins#xywh=0,0,1," + "9" * 400,
            "region '0,0,1," + "9" * 400 + "' has a number too large",
        ),
        ("coins#xywh=0,0,1,10000000000.5", "region '0,0,1,10000000000.5' has a number too large"),
        ("-coins", "'-coins' is not a source name"),
    ],
)
def test_bad_references_say_what_is_wrong(target, message):
    with pytest.raises(ReferenceSyntaxError) as error:
        parse_reference(target)
    assert error.value.message == message
    assert error.value.hint


def test_region_round_trips_to_text():
    assert str(parse_reference("a/2#xywh=percent:1.5,2,3,4")) == "a/2#xywh=percent:1.5,2,3,4"


def test_percent_regions_convert_to_canvas_pixels():
    assert Region(10, 20, 50, 40, "percent").in_pixels(2000, 1000) == (200, 200, 1000, 400)


def test_percent_regions_become_whole_pixels_so_tour_manifest_and_text_agree():
    # 12.5% of 333 is 41.625: the tour, manifest.json and text.html all use 42.
    assert Region(12.5, 12.5, 25, 25, "percent").in_pixels(333, 333) == (42, 42, 83, 83)


def test_fraction_and_negative_hints_say_what_to_write():
    with pytest.raises(ReferenceSyntaxError) as error:
        parse_reference("coins#xywh=10.5,10,20,20")
    assert error.value.hint == (
        "canvas pixels are whole numbers: write 10 or 11 (a percent region may have fractions)"
    )
    with pytest.raises(ReferenceSyntaxError) as error:
        parse_reference("coins#xywh=-5,10,10,10")
    assert error.value.hint == "negative numbers are not allowed: the canvas starts at 0,0"


@pytest.mark.parametrize(
    ("target", "is_reference"),
    [
        ("coins#xywh=1,2,3,4", True),
        ("coins", True),
        ("coinz#xywh=1,2,3,4", True),  # unknown alias is reported, not taken as a file
        ("figures/map.png", False),
        ("https://example.org/a.jpg#xywh=1,2,3,4", False),
        ("coins/https://example.org/canvas/p2#xywh=1,2,3,4", True),  # a canvas by its full id
        ("#step-2", False),
        ("../images/x.png", False),
    ],
)
def test_which_targets_are_references(target, is_reference):
    assert looks_like_reference(target, {"coins"}) is is_reference
