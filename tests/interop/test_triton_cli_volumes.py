"""``triton volume`` and ``triton instance disk`` commands against the emulator, in the
order a user would run them.

A private emulator: volumes take addresses on the account's fabric network, which the shared
emulator keeps untouched. The disk commands work on one stopped bhyve instance of a flexible
disk package (b1-flex-1G: a 10240 MiB boot disk and a 15360 MiB data disk).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import TestKey
from tests.interop.node_peers import Triton, private_triton

pytestmark = pytest.mark.interop


@pytest.fixture(scope="module")
def triton(keys: dict[str, TestKey], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Triton]:
    with private_triton(keys["rsa"], tmp_path_factory, "volumes") as triton:
        yield triton


@pytest.fixture(scope="module")
def volume(triton: Triton) -> dict[str, Any]:
    created: dict[str, Any] = triton.json(
        "volume", "create", "-w", "-n", "shared", "-s", "20G", "--tag", "tier=web"
    )
    return created


def test_volume_sizes(triton: Triton) -> None:
    sizes = triton.ndjson("volume", "sizes")
    assert sizes[0] == {"size": 10240, "type": "tritonnfs"}
    table = triton.run("volume", "sizes").stdout.splitlines()
    assert table[0].split() == ["TYPE", "SIZE"]
    assert table[1].split() == ["tritonnfs", "10G"]


def test_volume_create_waits_until_ready(triton: Triton, volume: dict[str, Any]) -> None:
    assert volume["state"] == "ready"
    assert volume["name"] == "shared"
    assert volume["size"] == 20480
    assert volume["tags"] == {"tier": "web"}
    fabric = next(n for n in triton.ndjson("network", "list") if n.get("fabric"))
    assert volume["networks"] == [fabric["id"]]


def test_volume_list_and_get(triton: Triton, volume: dict[str, Any]) -> None:
    listed = triton.ndjson("volume", "list")
    assert [v["id"] for v in listed] == [volume["id"]]
    assert triton.ndjson("volume", "list", "name=shared") == listed
    assert triton.ndjson("volume", "list", "name=other") == []
    table = triton.run("volume", "list").stdout.splitlines()
    assert table[0].split() == ["SHORTID", "NAME", "SIZE", "TYPE", "STATE", "AGE"]
    assert table[1].split()[:5] == [volume["id"][:8], "shared", "20G", "tritonnfs", "ready"]
    for ref in (volume["id"], volume["id"][:8], "shared"):
        assert triton.json("volume", "get", ref) == volume


def test_volume_create_refuses_a_size_not_on_offer(triton: Triton) -> None:
    proc = triton.run("volume", "create", "-n", "odd", "-s", "15G", check=False)
    assert proc.returncode != 0
    assert "volume size not available" in proc.stderr


def test_volume_delete_waits_until_gone(triton: Triton) -> None:
    made = triton.json("volume", "create", "-w", "-n", "scratch")
    assert made["state"] == "ready"
    proc = triton.run("volume", "delete", "-w", "-f", "scratch")
    assert "Deleted volume" in proc.stdout
    assert "scratch" not in [v["name"] for v in triton.ndjson("volume", "list")]
    # triton 7.17 prints GetVolume's 404 body rather than failing on it.
    missing = triton.run("volume", "get", made["id"], check=False)
    assert '"code": "VolumeNotFound"' in missing.stdout


# --- instance disks ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bhyve(triton: Triton) -> dict[str, Any]:
    image = [i for i in triton.ndjson("image", "list") if i["name"] == "debian-11"][-1]
    created: dict[str, Any] = triton.json(
        "instance", "create", "-w", "-n", "flexi", image["id"], "b1-flex-1G"
    )
    assert created["state"] == "running"
    triton.run("instance", "stop", "-w", "flexi")
    return created


def sizes(triton: Triton) -> list[int]:
    return [d["size"] for d in triton.ndjson("instance", "disk", "list", "flexi")]


def test_instance_disk_list_and_get(triton: Triton, bhyve: dict[str, Any]) -> None:
    disks = triton.ndjson("instance", "disk", "list", "flexi")  # triton drops ``state``
    assert [(d["size"], d["boot"], d["pci_slot"]) for d in disks] == [
        (10240, True, "0:4:0"),
        (15360, False, "0:4:1"),
    ]
    assert [d["id"] for d in disks] == [d["id"] for d in bhyve["disks"]]
    # ``disk get`` always prints JSON (it has no ``-j``), without the list's ``shortid``.
    out = triton.run("instance", "disk", "get", "flexi", disks[1]["id"][:8]).stdout
    assert {**json.loads(out), "shortid": disks[1]["id"][:8]} == disks[1]


def test_instance_disk_resize_add_and_delete(triton: Triton, bhyve: dict[str, Any]) -> None:
    data = triton.ndjson("instance", "disk", "list", "flexi")[1]
    refused = triton.run("instance", "disk", "resize", "flexi", data["id"], "4096", check=False)
    assert refused.returncode != 0
    assert "--dangerous-allow-shrink must be specified" in refused.stderr
    triton.run(
        "instance", "disk", "resize", "-w", "--dangerous-allow-shrink", "flexi", data["id"], "4096"
    )
    assert sizes(triton) == [10240, 4096]
    added = triton.run("instance", "disk", "add", "-w", "flexi", "8192")
    assert "Added disk" in added.stdout
    assert sizes(triton) == [10240, 4096, 8192]
    new = triton.ndjson("instance", "disk", "list", "flexi")[2]
    deleted = triton.run("instance", "disk", "delete", "-w", "flexi", new["id"])
    assert deleted.returncode == 0
    assert sizes(triton) == [10240, 4096]
