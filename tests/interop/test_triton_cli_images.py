"""``triton image create/list/get/delete`` against the emulator.

A private emulator keeps the image made here out of the shared one's catalog. The tests run
in order: an instance is made and stopped, imaged, the image is listed, then deleted.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import TestKey
from tests.interop.node_peers import Triton, private_triton

pytestmark = pytest.mark.interop

INSTANCE = "imgsrc1"


@pytest.fixture(scope="module")
def triton(keys: dict[str, TestKey], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Triton]:
    with private_triton(keys["rsa"], tmp_path_factory, "images") as triton:
        yield triton


@pytest.fixture(scope="module")
def stopped_instance(triton: Triton) -> dict[str, Any]:
    images = [i for i in triton.ndjson("image", "list") if i["type"] == "zone-dataset"]
    image = images[-1]
    triton.run(
        "instance",
        "create",
        "-w",
        "-n",
        INSTANCE,
        f"{image['name']}@{image['version']}",
        "g4-highcpu-128M",
    )
    triton.run("instance", "stop", "-w", INSTANCE)
    inst: dict[str, Any] = triton.json("instance", "get", INSTANCE)
    assert inst["state"] == "stopped"
    return inst


def test_image_create_waits_until_active(triton: Triton, stopped_instance: dict[str, Any]) -> None:
    out = triton.run(
        "image",
        "create",
        "-w",
        "-d",
        "made by triton",
        "-t",
        "stage=test",
        INSTANCE,
        "myimg",
        "1.2.3",
    ).stdout
    assert "Creating image myimg@1.2.3" in out
    assert "Created image" in out
    image = triton.json("image", "get", "myimg@1.2.3")
    assert image["state"] == "active"
    assert image["description"] == "made by triton"
    assert image["tags"] == {"stage": "test"}
    assert image["origin"] == stopped_instance["image"]
    assert image["public"] is False


def test_image_list_shows_the_new_image(triton: Triton) -> None:
    listed = triton.ndjson("image", "list", "name=myimg")
    assert [(i["name"], i["version"], i["state"]) for i in listed] == [("myimg", "1.2.3", "active")]
    table = triton.run("image", "list").stdout
    assert "myimg" in table


def test_image_delete_force(triton: Triton) -> None:
    image = triton.json("image", "get", "myimg@1.2.3")
    out = triton.run("image", "delete", "-f", image["id"]).stdout
    assert "Deleted image" in out
    assert triton.ndjson("image", "list", "name=myimg") == []
    gone = triton.run("image", "get", image["id"], check=False)
    assert gone.returncode != 0
    assert "ResourceNotFound" in gone.stderr or "not found" in gone.stderr
