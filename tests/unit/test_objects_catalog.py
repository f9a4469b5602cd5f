"""Picking images (by id, name, name@version, legacy URN) and default packages/images."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import pytest

from smartdc.errors import CloudAPIError, ResourceNotFoundError
from smartdc.objects.catalog import (
    default_image,
    default_package,
    find_image,
    newest,
    version_key,
)


def image(name: str, version: str, published: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{name}@{version}")),
        "name": name,
        "version": version,
        "published_at": published,
        "os": extra.pop("os", "smartos"),
        "type": extra.pop("type", "zone-dataset"),
        **extra,
    }


IMAGES = [
    image("smartos64", "1.6.1", "2012-03-12T19:20:37Z"),
    image("smartos64", "1.6.3", "2012-06-11T16:02:33Z"),
    image("smartos64", "1.6.2", "2012-04-09T17:26:41Z"),
    image("smartos", "1.6.3", "2012-06-11T16:00:00Z"),
    image("base-64-lts", "21.4.0", "2022-01-06T10:12:24Z"),
    image("base-64-lts", "23.4.0", "2024-01-10T08:34:19Z"),
    image("base-64-lts", "22.4.0", "2023-01-10T09:51:48Z"),
    image("base-64", "23.3.0", "2023-10-03T14:02:13Z"),
    image("ubuntu-20.04", "20210413", "2021-04-13T21:05:08Z", os="linux", type="zvol"),
]


def by(name: str, version: str) -> dict[str, Any]:
    return next(i for i in IMAGES if i["name"] == name and i["version"] == version)


def test_exact_id() -> None:
    wanted = by("smartos64", "1.6.2")
    assert find_image(IMAGES, wanted["id"]) is wanted


def test_name_picks_the_newest() -> None:
    assert find_image(IMAGES, "base-64-lts") is by("base-64-lts", "23.4.0")
    assert find_image(IMAGES, "smartos64") is by("smartos64", "1.6.3")


def test_name_at_version() -> None:
    assert find_image(IMAGES, "base-64-lts@22.4.0") is by("base-64-lts", "22.4.0")


def test_partial_urn_from_the_seed_tutorial() -> None:
    # sdc:<owner>:<name>:<version prefix>; an empty version means "any", newest wins
    assert find_image(IMAGES, "sdc:sdc:smartos64:") is by("smartos64", "1.6.3")
    assert find_image(IMAGES, "sdc:sdc:smartos64") is by("smartos64", "1.6.3")
    assert find_image(IMAGES, "sdc:sdc:smartos64:1.6.2") is by("smartos64", "1.6.2")
    assert find_image(IMAGES, "sdc:sdc:base-64-lts:2") is by("base-64-lts", "23.4.0")
    assert find_image(IMAGES, "sdc:sdc:base-64-lts:21") is by("base-64-lts", "21.4.0")


def test_urn_does_not_match_a_longer_or_shorter_name() -> None:
    # "smartos" must not pick smartos64, nor the reverse
    assert find_image(IMAGES, "sdc:sdc:smartos:")["name"] == "smartos"


def test_images_with_a_urn_field_match_by_urn_prefix() -> None:
    legacy = [
        image("smartos64", "1.6.3", "2012-06-11T16:02:33Z", urn="sdc:sdc:smartos64:1.6.3"),
        image("smartos64", "1.6.3", "2012-06-12T00:00:00Z", urn="sdc:other:smartos64:1.6.3"),
    ]
    assert find_image(legacy, "sdc:sdc:smartos64:") is legacy[0]
    assert find_image(legacy, "sdc:other:") is legacy[1]


def test_newest_breaks_publication_ties_by_version() -> None:
    same_day = [
        image("x", "1.9.0", "2020-01-01T00:00:00Z"),
        image("x", "1.10.0", "2020-01-01T00:00:00Z"),
    ]
    assert newest(same_day) is same_day[1]
    assert newest([]) is None


def test_version_key_orders_numbers_numerically() -> None:
    assert version_key("1.10.0") > version_key("1.9.9")
    assert version_key("20210826T002459Z") > version_key("20210413T000000Z")
    assert version_key(None) == ()


@pytest.mark.parametrize(
    ("ref", "hint"),
    [
        ("base-64-lst", "base-64-lts"),
        ("sdc:sdc:smartos65:", "smartos64"),
        ("base-64-lts@99.0.0", "base-64-lts"),
    ],
)
def test_no_match_names_close_names(ref: str, hint: str) -> None:
    with pytest.raises(ResourceNotFoundError) as caught:
        find_image(IMAGES, ref)
    assert isinstance(caught.value, CloudAPIError)
    assert caught.value.status == 404
    assert ref in str(caught.value)
    assert hint in str(caught.value)


def test_no_match_without_close_names_lists_what_exists() -> None:
    with pytest.raises(ResourceNotFoundError, match=r"available: .*ubuntu-20\.04"):
        find_image(IMAGES, "windows")


def _name(item: Mapping[str, Any] | None) -> str:
    assert item is not None
    return str(item["name"])


def test_default_image_prefers_a_flag_then_base_64_lts() -> None:
    assert default_image(IMAGES) is by("base-64-lts", "23.4.0")
    flagged = [*IMAGES, image("custom", "1.0", "2000-01-01T00:00:00Z", default=True)]
    assert _name(default_image(flagged)) == "custom"
    no_lts = [i for i in IMAGES if i["name"] != "base-64-lts"]
    assert default_image(no_lts) is by("base-64", "23.3.0")
    only_old = [i for i in IMAGES if i["name"] in ("smartos64", "ubuntu-20.04")]
    assert default_image(only_old) is by("smartos64", "1.6.3")
    assert default_image([by("ubuntu-20.04", "20210413")]) is None
    assert default_image([]) is None


def test_default_package_is_the_smallest_container_package() -> None:
    packages = [
        {"name": "Medium 2GB", "memory": 2048, "disk": 40960, "default": False},
        {"name": "Small 1GB", "memory": 1024, "disk": 30720, "default": False},
        {"name": "bhyve-tiny", "memory": 512, "disk": 10240, "brand": "bhyve"},
        {"name": "Small 1GB b", "memory": 1024, "disk": 20480},
    ]
    assert _name(default_package(packages)) == "Small 1GB b"
    packages[0]["default"] = True
    assert _name(default_package(packages)) == "Medium 2GB"
    assert _name(default_package([packages[2]])) == "bhyve-tiny"
    assert default_package([]) is None
