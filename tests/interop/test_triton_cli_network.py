"""``triton`` network commands against the emulator: network IPs, instance NICs, fabric VLANs
and fabric networks, in the order a user would run them.

A private emulator: these tests change the account's fabric, which the shared one keeps at
its defaults. One instance is made first and reused.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import TestKey
from tests.interop.node_peers import Triton, private_triton

pytestmark = pytest.mark.interop

NAME = "netinst"
PRIVATE = "Joyent-SDC-Private"


@pytest.fixture(scope="module")
def triton(keys: dict[str, TestKey], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Triton]:
    with private_triton(keys["rsa"], tmp_path_factory, "network") as triton:
        yield triton


@pytest.fixture(scope="module")
def instance(triton: Triton) -> dict[str, Any]:
    images = [i for i in triton.ndjson("image", "list") if i["type"] == "zone-dataset"]
    image = images[-1]
    created: dict[str, Any] = triton.json(
        "instance",
        "create",
        "-w",
        "-n",
        NAME,
        f"{image['name']}@{image['version']}",
        "g4-highcpu-128M",
    )
    assert created["state"] == "running"
    return created


def private_ip(instance: dict[str, Any], triton: Triton) -> str:
    private = next(n for n in triton.ndjson("network", "list") if n["name"] == PRIVATE)
    return str(next(n["ip"] for n in instance["nics"] if n["network"] == private["id"]))


def test_network_ip_list_and_get(triton: Triton, instance: dict[str, Any]) -> None:
    ip = private_ip(instance, triton)
    listed = {entry["ip"]: entry for entry in triton.ndjson("network", "ip", "list", PRIVATE)}
    assert listed[ip]["belongs_to_uuid"] == instance["id"]
    assert listed[ip]["reserved"] is False
    got = triton.json("network", "ip", "get", PRIVATE, ip)
    assert got == listed[ip]


def test_vlan_list_create_get(triton: Triton) -> None:
    # (``triton vlan update`` of triton 7.17 fails inside the CLI before sending anything.)
    assert triton.ndjson("vlan", "list") == [{"vlan_id": 2, "name": "My-Fabric-VLAN"}]
    created = triton.json("vlan", "create", "-n", "web", "-D", "web tier", "42")
    assert created == {"vlan_id": 42, "name": "web", "description": "web tier"}
    assert triton.json("vlan", "get", "42") == created
    assert triton.json("vlan", "get", "web") == created


def test_fabric_network_create_and_get(triton: Triton) -> None:
    created = triton.json(
        "network",
        "create",
        "--name",
        "webnet",
        "--subnet",
        "10.77.0.0/24",
        "--start-ip",
        "10.77.0.10",
        "--end-ip",
        "10.77.0.50",
        "--gateway",
        "10.77.0.1",
        "--no-nat",
        "42",
    )
    assert created["fabric"] is True
    assert created["vlan_id"] == 42
    assert created["internet_nat"] is False
    assert triton.json("network", "get", "webnet") == created
    assert [n["name"] for n in triton.ndjson("vlan", "networks", "42")] == ["webnet"]


def test_instance_nic_create_list_get_delete(triton: Triton, instance: dict[str, Any]) -> None:
    nic = triton.json("instance", "nic", "create", "-w", NAME, "webnet")
    assert nic["state"] == "running"
    assert nic["ip"] == "10.77.0.10"
    macs = [n["mac"] for n in triton.ndjson("instance", "nic", "list", NAME)]
    assert macs == [*(n["mac"] for n in instance["nics"]), nic["mac"]]
    assert triton.json("instance", "nic", "get", NAME, nic["mac"]) == nic
    assert "10.77.0.10" in triton.json("instance", "get", NAME)["ips"]
    triton.run("instance", "nic", "delete", "-f", NAME, nic["mac"])
    gone = triton.run("instance", "nic", "get", NAME, nic["mac"], check=False)
    assert gone.returncode != 0
    assert "nic not found" in gone.stderr


def test_fabric_network_and_vlan_delete(triton: Triton) -> None:
    triton.run("network", "delete", "webnet")
    assert "webnet" not in [n["name"] for n in triton.ndjson("network", "list")]
    triton.run("vlan", "delete", "42")
    assert [v["vlan_id"] for v in triton.ndjson("vlan", "list")] == [2]
