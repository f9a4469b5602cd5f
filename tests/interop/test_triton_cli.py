"""The official ``triton`` CLI (npm triton@7.17.0) drives the emulator end to end.

Each test runs one real ``triton`` command against the shared emulator, in the order a user
would: account and catalog look-ups, then one instance through its whole life. The instance
made by the create test is reused by the tests after it.
"""

from __future__ import annotations

from typing import Any

import pytest

from smartdc.emulator.server import EmulatorServer
from tests.conftest import ACCOUNT, TestKey
from tests.interop.node_peers import Triton, require_triton

pytestmark = pytest.mark.interop


@pytest.fixture(scope="module")
def triton(
    emulator: EmulatorServer, keys: dict[str, TestKey], tmp_path_factory: pytest.TempPathFactory
) -> Triton:
    require_triton()
    return Triton(tmp_path_factory.mktemp("triton-home"), emulator.url, keys["rsa"])


@pytest.fixture(scope="module")
def catalog(triton: Triton) -> dict[str, Any]:
    """An active SmartOS image and two packages to create and resize with."""
    images = triton.ndjson("image", "list")
    packages = triton.ndjson("package", "list")
    zone_images = [i for i in images if i["type"] == "zone-dataset"]
    small = sorted(
        (p for p in packages if not p.get("flexible_disk") and "kvm" not in p["name"]),
        key=lambda p: p["memory"],
    )
    assert zone_images and len(small) >= 2
    return {"image": zone_images[0], "package": small[0], "bigger": small[1]}


def test_account_get(triton: Triton) -> None:
    account = triton.json("account", "get")
    assert account["login"] == ACCOUNT


def test_key_list(triton: Triton, keys: dict[str, TestKey]) -> None:
    fingerprints = {k["fingerprint"] for k in triton.ndjson("key", "list")}
    assert keys["rsa"].md5 in fingerprints
    assert keys["ed25519"].md5 in fingerprints


def test_package_image_network_lists(triton: Triton) -> None:
    assert any(p["name"] == "Small 1GB" for p in triton.ndjson("package", "list"))
    assert any(i["name"] == "smartos64" for i in triton.ndjson("image", "list"))
    networks = triton.ndjson("network", "list")
    assert {n["public"] for n in networks} == {True, False}


def test_instance_create_wait(triton: Triton, catalog: dict[str, Any]) -> None:
    image = catalog["image"]
    created = triton.json(
        "instance",
        "create",
        "-w",
        "-n",
        "interop1",
        f"{image['name']}@{image['version']}",
        catalog["package"]["name"],
    )
    assert created["name"] == "interop1"
    assert created["state"] == "running"


def test_instance_get_and_list(triton: Triton, catalog: dict[str, Any]) -> None:
    inst = triton.json("instance", "get", "interop1")
    assert inst["state"] == "running"
    assert inst["package"] == catalog["package"]["name"]
    assert inst["ips"]
    listed = triton.ndjson("instance", "list")
    assert [i["id"] for i in listed if i["name"] == "interop1"] == [inst["id"]]


def test_instance_ip(triton: Triton) -> None:
    ip = triton.run("instance", "ip", "interop1").stdout.strip()
    inst = triton.json("instance", "get", "interop1")
    assert ip == inst["primaryIp"]


def test_instance_stop_start_reboot(triton: Triton) -> None:
    triton.run("instance", "stop", "-w", "interop1")
    assert triton.json("instance", "get", "interop1")["state"] == "stopped"
    triton.run("instance", "start", "-w", "interop1")
    assert triton.json("instance", "get", "interop1")["state"] == "running"
    out = triton.run("instance", "reboot", "-w", "interop1").stdout
    assert "Rebooted instance" in out
    assert triton.json("instance", "get", "interop1")["state"] == "running"


def test_instance_tags(triton: Triton) -> None:
    triton.run("instance", "tag", "set", "-w", "interop1", "role=db", "tier=2")
    tags = triton.json("instance", "tag", "list", "interop1")
    assert tags == {"role": "db", "tier": 2}


def test_instance_metadata(triton: Triton) -> None:
    triton.run("instance", "metadata", "set", "-w", "interop1", "foo=bar")
    value = triton.run("instance", "metadata", "get", "interop1", "foo").stdout.strip()
    assert value == "bar"


def test_instance_snapshots(triton: Triton) -> None:
    triton.run("instance", "snapshot", "create", "-w", "-n", "snap1", "interop1")
    snaps = triton.ndjson("instance", "snapshot", "list", "interop1")
    assert [(s["name"], s["state"]) for s in snaps] == [("snap1", "created")]


def test_instance_resize(triton: Triton, catalog: dict[str, Any]) -> None:
    bigger = catalog["bigger"]["name"]
    triton.run("instance", "resize", "-w", "interop1", bigger)
    assert triton.json("instance", "get", "interop1")["package"] == bigger


def test_instance_rename(triton: Triton) -> None:
    triton.run("instance", "rename", "-w", "interop1", "interop2")
    assert triton.json("instance", "get", "interop2")["name"] == "interop2"


def test_instance_audit(triton: Triton) -> None:
    actions = [entry["action"] for entry in triton.ndjson("instance", "audit", "interop2")]
    for expected in ("provision", "stop", "start", "reboot", "set_metadata", "rename", "resize"):
        assert expected in actions
    assert actions[0] == "rename"  # newest first


def test_instance_delete_wait(triton: Triton) -> None:
    inst = triton.json("instance", "get", "interop2")
    triton.run("instance", "delete", "-w", "-f", "interop2")
    gone = triton.run("instance", "get", inst["id"], check=False)
    assert gone.returncode == 3
    assert "deleted" in gone.stderr
