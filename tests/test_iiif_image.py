"""Image API info.json documents and the `service` references embedded in manifests."""

from __future__ import annotations

from typing import Any

import pytest

from storiiies.errors import NotIIIF
from storiiies.iiif.image import (
    compliance_level,
    image_api_version,
    read_image_service,
    service_from_reference,
)

INFO_V2: dict[str, Any] = {
    "@context": "http://iiif.io/api/image/2/context.json",
    "@id": "https://images.example.org/iiif/2/page1",
    "protocol": "http://iiif.io/api/image",
    "width": 6000,
    "height": 4000,
    "profile": ["http://iiif.io/api/image/2/level2.json", {"formats": ["jpg", "png"]}],
    "tiles": [{"width": 512, "scaleFactors": [1, 2, 4, 8, 16]}],
}

INFO_V3: dict[str, Any] = {
    "@context": "http://iiif.io/api/image/3/context.json",
    "id": "https://images.example.org/iiif/3/page1",
    "type": "ImageService3",
    "protocol": "http://iiif.io/api/image",
    "profile": "level1",
    "width": 5000,
    "height": 3000,
}


def test_image_api_2_info_json() -> None:
    service = read_image_service(INFO_V2)
    assert (service.id, service.version, service.level) == (INFO_V2["@id"], 2, 2)
    assert (service.width, service.height) == (6000, 4000)
    assert service.info == INFO_V2
    assert service.info_url == "https://images.example.org/iiif/2/page1/info.json"


def test_image_api_3_info_json() -> None:
    service = read_image_service(INFO_V3)
    assert (service.id, service.version, service.level) == (INFO_V3["id"], 3, 1)
    assert (service.width, service.height) == (5000, 3000)


def test_level_from_a_bare_level_string_in_image_api_2() -> None:
    assert read_image_service({**INFO_V2, "profile": "level0"}).level == 0


def test_missing_id_is_taken_from_the_info_json_url() -> None:
    info = {k: v for k, v in INFO_V3.items() if k != "id"}
    service = read_image_service(info, url="https://images.example.org/iiif/3/page1/info.json")
    assert service.id == "https://images.example.org/iiif/3/page1"


def test_missing_id_without_an_info_json_url_is_rejected() -> None:
    info = {k: v for k, v in INFO_V3.items() if k != "id"}
    with pytest.raises(NotIIIF, match="^info.json has no id$"):
        read_image_service(info, url="https://images.example.org/somewhere")


def test_an_id_ending_in_info_json_is_trimmed() -> None:
    service = read_image_service({**INFO_V2, "@id": "https://e.org/iiif/img/info.json"})
    assert service.id == "https://e.org/iiif/img"


@pytest.mark.parametrize("drop", ["width", "height"])
def test_missing_size_is_rejected(drop: str) -> None:
    info = {k: v for k, v in INFO_V2.items() if k != drop}
    with pytest.raises(NotIIIF, match="^info.json has no positive width and height$"):
        read_image_service(info)


def test_string_sizes_are_read_and_zero_sizes_rejected() -> None:
    assert read_image_service({**INFO_V2, "width": "6000"}).width == 6000
    with pytest.raises(NotIIIF):
        read_image_service({**INFO_V2, "width": 0})


def test_json_that_is_no_info_json_is_rejected() -> None:
    with pytest.raises(NotIIIF, match="not an Image API info.json"):
        read_image_service({"@id": "https://e.org/x", "width": 10, "height": 10})
    with pytest.raises(NotIIIF, match="not a JSON object"):
        read_image_service(["a", "list"])


def test_image_api_1_is_rejected_with_a_hint() -> None:
    info = {**INFO_V2, "@context": "http://library.stanford.edu/iiif/image-api/1.1/context.json"}
    info["profile"] = "http://library.stanford.edu/iiif/image-api/1.1/compliance.html#level1"
    with pytest.raises(NotIIIF) as caught:
        read_image_service(info)
    assert (
        caught.value.message
        == "this is an Image API 1 info.json; storiiies reads Image API 2 and 3"
    )
    assert caught.value.hint


def test_p2_service_reference() -> None:
    service = service_from_reference(
        {
            "@context": "http://iiif.io/api/image/2/context.json",
            "@id": "https://e.org/iiif/2/abc",
            "profile": "http://iiif.io/api/image/2/level1.json",
        }
    )
    assert service is not None
    assert (service.id, service.version, service.level, service.info) == (
        "https://e.org/iiif/2/abc",
        2,
        1,
        None,
    )


def test_p3_service_references_of_both_versions() -> None:
    v3 = service_from_reference(
        [{"id": "https://e.org/3/a", "type": "ImageService3", "profile": "level2"}]
    )
    v2 = service_from_reference(
        [
            {
                "@id": "https://e.org/2/a",
                "@type": "ImageService2",
                "profile": "http://iiif.io/api/image/2/level2.json",
            }
        ]
    )
    assert v3 is not None and (v3.id, v3.version, v3.level) == ("https://e.org/3/a", 3, 2)
    assert v2 is not None and (v2.id, v2.version, v2.level) == ("https://e.org/2/a", 2, 2)


def test_the_declared_type_wins_over_a_mismatched_profile() -> None:
    node = {
        "id": "https://e.org/a",
        "type": "ImageService3",
        "profile": "http://iiif.io/api/image/2/level1.json",
    }
    assert image_api_version(node) == 3
    assert compliance_level(node) == 1


def test_only_image_services_are_taken_from_a_mixed_list() -> None:
    services = [
        {"@id": "https://e.org/search", "profile": "http://iiif.io/api/search/0/search"},
        {"@id": "https://e.org/auth", "profile": "http://iiif.io/api/auth/1/login"},
        "https://e.org/just-a-string",
        {"id": "https://e.org/img", "type": "ImageService3", "profile": "level0"},
    ]
    service = service_from_reference(services)
    assert service is not None and service.id == "https://e.org/img"


def test_embedded_sizes_are_kept() -> None:
    service = service_from_reference({**INFO_V2})
    assert service is not None and (service.width, service.height) == (6000, 4000)


@pytest.mark.parametrize(
    "value",
    [
        None,
        [],
        "https://e.org/string-only",
        {"@id": "https://e.org/x", "profile": "http://iiif.io/api/search/1/search"},
        {"@context": "http://iiif.io/api/image/2/context.json"},  # no id
        {
            "@id": "https://e.org/1",
            "profile": "http://library.stanford.edu/iiif/image-api/1.1/conformance.html#level1",
        },
        [1, None, ["nested"]],
    ],
)
def test_no_image_service_gives_none(value: object) -> None:
    assert service_from_reference(value) is None
