"""CreateMachine's contract beyond the basics, and the machine rules that go with it, over HTTP.

A private emulator with two accounts (``test`` and ``other``), zero provision delay, and the
datacenter feature switches turned on and off by the tests that need them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from smartdc.emulator.server import EmulatorServer
from smartdc.emulator.store import catalog, features, placement
from tests.conftest import TestKey
from tests.emulator.checks import error_of
from tests.emulator.own_emulator import OTHER, account_uuid, settle, two_account_server
from tests.emulator.signing import SignedClient, Signer

PACKAGE = "g4-highcpu-128M"
FLEX = "b1-flex-1G"


@pytest.fixture(scope="module")
def server(
    keys: dict[str, TestKey], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[EmulatorServer]:
    with two_account_server(keys, tmp_path_factory.mktemp("contract-data")) as running:
        yield running


@pytest.fixture(scope="module")
def mine(server: EmulatorServer, keys: dict[str, TestKey]) -> Iterator[SignedClient]:
    client = SignedClient(server.url, Signer(keys["rsa"]))
    yield client
    client.close()


@pytest.fixture(scope="module")
def theirs(server: EmulatorServer, keys: dict[str, TestKey]) -> Iterator[SignedClient]:
    client = SignedClient(server.url, Signer(keys["ed25519"], login=OTHER))
    yield client
    client.close()


@pytest.fixture
def switch(server: EmulatorServer) -> Iterator[Any]:
    """Turn datacenter features on for one test; they go back to their defaults after it."""
    touched: list[str] = []

    def turn(name: str, value: bool) -> None:
        touched.append(name)
        features.set_enabled(server.db, name, value)

    yield turn
    for name in touched:
        features.set_enabled(server.db, name, None)


def image_id(client: SignedClient, name: str = "base-64-lts") -> str:
    images = client.get("/my/images", params={"name": name}).json()
    return str(max(images, key=lambda i: i["published_at"])["id"])


def post(client: SignedClient, **body: Any) -> httpx.Response:
    payload: dict[str, Any] = {"image": image_id(client), "package": PACKAGE, **body}
    return client.post("/my/machines", json=payload)


def made(client: SignedClient, **body: Any) -> dict[str, Any]:
    response = post(client, **body)
    assert response.status_code == 201, response.text
    settle()
    machine: dict[str, Any] = client.get(f"/my/machines/{response.json()['id']}").json()
    return machine


def bhyve(client: SignedClient, package: str = FLEX, **body: Any) -> dict[str, Any]:
    return made(client, image=image_id(client, "debian-11"), package=package, **body)


def stop(client: SignedClient, machine: dict[str, Any]) -> None:
    client.post(f"/my/machines/{machine['id']}", params={"action": "stop"})
    settle()


# --- disks ---------------------------------------------------------------------------------


def test_disks_layout_on_a_flexible_package(mine: SignedClient) -> None:
    machine = bhyve(mine, disks=[{}, {"size": 2048, "block_size": 4096}, {"size": "remaining"}])
    assert machine["flexible"] is True
    sizes = [(d.get("boot"), d["size"], d["block_size"]) for d in machine["disks"]]
    assert sizes == [(True, 10240, 8192), (None, 2048, 4096), (None, 25600 - 12288, 8192)]
    assert machine["disks"][0]["image"] == image_id(mine, "debian-11")
    assert "image" not in machine["disks"][1]
    assert machine["free_space"] == 0


def test_disks_refusals(mine: SignedClient) -> None:
    debian = image_id(mine, "debian-11")
    two_remaining = post(
        mine, image=debian, package=FLEX, disks=[{}, {"size": "remaining"}, {"size": "remaining"}]
    )
    assert error_of(two_remaining) == (
        409,
        "InvalidArgument",
        'only one disk can have size "remaining"',
    )
    too_big = post(mine, image=debian, package=FLEX, disks=[{}, {"size": 20000}])
    assert error_of(too_big)[:2] == (409, "InvalidArgument")
    assert "exceeds the package's 25600 MiB" in error_of(too_big)[2]
    odd_block = post(mine, image=debian, package=FLEX, disks=[{}, {"size": 10, "block_size": 3}])
    assert error_of(odd_block)[:2] == (409, "InvalidArgument")
    not_flexible = post(mine, image=debian, package=PACKAGE, brand="bhyve", disks=[{}])
    assert error_of(not_flexible) == (
        409,
        "InvalidArgument",
        "disks can only be specified with a flexible_disk package",
    )


def test_disk_routes_by_brand(mine: SignedClient) -> None:
    zone = made(mine)
    assert "disks" not in zone and "flexible" not in zone
    assert mine.get(f"/my/machines/{zone['id']}/disks").json() == []
    stop(mine, zone)
    assert error_of(mine.post(f"/my/machines/{zone['id']}/disks", json={"size": 1024})) == (
        409,
        "InvalidArgument",
        "Disk Creation is supported only for BHYVE VMs",
    )
    fixed = bhyve(mine, package="g4-highcpu-1G", brand="bhyve")
    assert fixed["flexible"] is False and "free_space" not in fixed
    assert [d.get("boot") for d in fixed["disks"]] == [True, None]
    assert [d["size"] for d in mine.get(f"/my/machines/{fixed['id']}/disks").json()] == [
        10240,
        25600,
    ]
    stop(mine, fixed)
    refused = mine.post(f"/my/machines/{fixed['id']}/disks", json={"size": 1024})
    assert error_of(refused)[:2] == (409, "VmWithoutFlexibleDiskSize")


# --- affinity, locality, placement ---------------------------------------------------------


def test_affinity_places_machines_apart_and_together(mine: SignedClient) -> None:
    first = made(mine, name="aff-web0")
    apart = made(mine, affinity=["instance!=aff-web0"])
    assert apart["compute_node"] != first["compute_node"]
    together = made(mine, affinity="instance==aff-web0")
    assert together["compute_node"] == first["compute_node"]
    second = made(mine, name="aff-web1", affinity=["instance!=aff-web0"])
    assert second["compute_node"] != first["compute_node"]
    spread = made(mine, affinity=["instance!=aff-web*"])
    assert spread["compute_node"] not in {first["compute_node"], second["compute_node"]}
    # "away from every machine" lands on an empty compute node while there is one, and
    # fails (a hard rule) once every node holds a machine
    outcomes = [made(mine, affinity=["instance!=*"])["state"] for _ in range(5)]
    assert outcomes[-1] == "failed" and "running" not in outcomes[outcomes.index("failed") :]
    taken = {m.get("compute_node") for m in mine.get("/my/machines").json()} - {None}
    assert taken == set(placement.compute_nodes("local-1"))
    soft = made(mine, affinity=["instance!=~*"])
    assert soft["state"] == "running"


def test_affinity_refusals(mine: SignedClient) -> None:
    assert error_of(post(mine, affinity=["instance=web"])) == (
        409,
        "InvalidArgument",
        'could not find operator in affinity rule: expected one of "==", "!=": "instance=web"',
    )
    bad_key = error_of(post(mine, affinity=["x==y"]))
    assert bad_key[:2] == (409, "InvalidArgument")
    assert bad_key[2].startswith('invalid key in affinity rule: "x==y": "x" does not match')
    assert error_of(post(mine, affinity=["instance==nothing-by-this-name"])) == (
        409,
        "InvalidArgument",
        'cannot satisfy affinity rule "instance==nothing-by-this-name", it does not match any'
        " instances",
    )
    assert post(mine, affinity=["instance==~nothing-by-this-name"]).status_code == 201
    both = post(mine, affinity=["role!=db"], locality={"strict": False})
    assert error_of(both) == (
        409,
        "InvalidArgument",
        'cannot specify both "locality" (deprecated) and "affinity"',
    )
    bad_locality = post(mine, locality={"near": "not-a-uuid"})
    assert error_of(bad_locality)[:2] == (409, "ValidationFailed")


def test_tag_affinity_and_locality(mine: SignedClient) -> None:
    db = made(mine, **{"tag.role": "cache-db"})
    near = made(mine, affinity=["role==cache-*"])
    assert near["compute_node"] == db["compute_node"]
    far = made(mine, locality={"strict": True, "far": [db["id"]]})
    assert far["compute_node"] != db["compute_node"]


def test_encrypted_machines_go_on_encrypted_nodes(mine: SignedClient) -> None:
    machine = made(mine, encrypted=True)
    assert machine["encrypted"] is True
    assert machine["compute_node"] in placement.encrypted_nodes("local-1")
    assert "encrypted" not in made(mine)


# --- other parameters ----------------------------------------------------------------------


def test_bootrom_and_delegate_dataset(mine: SignedClient, switch: Any) -> None:
    assert error_of(post(mine, bootrom="uefi")) == (
        409,
        "InvalidArgument",
        'Only bhyve VMs support "bootrom" option',
    )
    assert bhyve(mine, bootrom="uefi")["state"] == "running"
    refused = post(mine, delegate_dataset=True)
    assert error_of(refused) == (
        409,
        "InvalidArgument",
        "Support for delegated datasets is not enabled",
    )
    switch(features.DELEGATE_DATASET, True)
    assert made(mine, delegate_dataset=True)["delegate_dataset"] is True


def test_network_objects_need_version_7_3(server: EmulatorServer, keys: dict[str, TestKey]) -> None:
    old = SignedClient(server.url, Signer(keys["rsa"]), version="~7.2")
    try:
        body = {"networks": [{"ipv4_uuid": catalog.PUBLIC_NETWORK_ID}]}
        assert error_of(post(old, **body)) == (409, "InvalidArgument", "Invalid Networks")
        assert post(old, networks=[catalog.PUBLIC_NETWORK_ID]).status_code == 201
    finally:
        old.close()
    assert error_of(post(mine_client(server, keys), networks=[{"ipv4_count": 1}])) == (
        409,
        "MissingParameter",
        "network objects must contain ipv4_uuid",
    )


def mine_client(server: EmulatorServer, keys: dict[str, TestKey]) -> SignedClient:
    return SignedClient(server.url, Signer(keys["rsa"]))


def test_shared_images_need_allow_shared_images(
    server: EmulatorServer, keys: dict[str, TestKey], mine: SignedClient, theirs: SignedClient
) -> None:
    source = made(theirs)
    stop(theirs, source)
    created = theirs.post(
        "/my/images",
        json={"machine": source["id"], "name": "shared-img", "version": "1.0.0"},
    )
    assert created.status_code == 201, created.text
    image = created.json()["id"]
    settle(0.05)
    shared = theirs.post(
        f"/my/images/{image}", params={"action": "update"}, json={"acl": [account_uuid(mine)]}
    )
    assert shared.status_code == 200, shared.text
    assert error_of(post(mine, image=image)) == (
        409,
        "InvalidArgument",
        f"{image} is a shared image - to provision a shared image you can either clone the"
        ' image or set "allow_shared_images" to true.',
    )
    assert post(mine, image=image, allow_shared_images=True).status_code == 201
    old = SignedClient(server.url, Signer(keys["rsa"]), version="~8")
    try:
        assert post(old, image=image).status_code == 201
    finally:
        old.close()


def test_triton_tags_are_checked(mine: SignedClient) -> None:
    unknown = error_of(post(mine, **{"tag.triton.foo": "x"}))
    assert unknown == (409, "ValidationFailed", "Invalid VM parameters: Invalid tags")
    typed = post(mine, **{"tag.triton.cns.disable": "true"}).json()
    assert typed["errors"] == [
        {"field": "tags", "code": "Invalid", "message": '"triton.cns.disable" must be a boolean'}
    ]
    machine = made(mine, **{"tag.triton.cns.services": "web:8080,api"})
    url = f"/my/machines/{machine['id']}/tags"
    added = mine.post(url, json={"triton.cns.disable": "yes"})
    assert error_of(added) == (
        409,
        "ValidationFailed",
        "error adding tags: Invalid tag parameters",
    )
    assert added.json()["errors"][0]["message"] == (
        'Triton tag "triton.cns.disable" value must be a boolean: "yes" (string)'
    )
    replaced = mine.request("PUT", url, json={"triton.cns.services": "_web"})
    assert replaced.json()["errors"][0]["message"] == (
        'invalid "triton.cns.services" tag: Expected DNS name but "_" found.'
    )
    assert mine.post(url, json={"triton.cns.disable": True}).status_code == 200


# --- volumes -------------------------------------------------------------------------------


def _volume(client: SignedClient, name: str) -> dict[str, Any]:
    fabric = client.get("/my/networks", params={"fabric": "true"}).json()[0]["id"]
    created = client.post(
        "/my/volumes", json={"type": "tritonnfs", "name": name, "networks": [fabric]}
    )
    assert created.status_code == 201, created.text
    settle()
    volume: dict[str, Any] = client.get(f"/my/volumes/{created.json()['id']}").json()
    return volume


def test_volumes_need_automount(mine: SignedClient, switch: Any) -> None:
    mount = [{"name": "vol-a", "mountpoint": "/data"}]
    assert error_of(post(mine, volumes=mount)) == (
        409,
        "InvalidArgument",
        "Support for automounting volumes is not enabled",
    )
    assert error_of(bhyve_post(mine, volumes=mount)) == (
        409,
        "InvalidArgument",
        'volumes not yet supported with brand "bhyve"',
    )
    switch(features.AUTOMOUNT_VOLUMES, True)
    volume = _volume(mine, "vol-a")
    fabric = volume["networks"][0]
    unreachable = post(mine, volumes=mount)
    assert error_of(unreachable)[:2] == (409, "VolumesNotReachableError")
    assert error_of(post(mine, volumes=[{"name": "vol-a", "mountpoint": "data"}]))[2] == (
        'invalid mount point for volume {"name": "vol-a", "mountpoint": "data"}'
    )
    machine = made(mine, volumes=mount, networks=[fabric])
    assert mine.get(f"/my/volumes/{volume['id']}").json()["refs"] == [machine["id"]]
    assert error_of(mine.delete(f"/my/volumes/{volume['id']}")) == (
        409,
        "VolumeInUse",
        "Volume with name vol-a is used",
    )
    assert mine.delete(f"/my/machines/{machine['id']}").status_code == 204
    settle()
    assert mine.get(f"/my/volumes/{volume['id']}").json()["refs"] == []
    assert mine.delete(f"/my/volumes/{volume['id']}").status_code == 204


def bhyve_post(client: SignedClient, **body: Any) -> httpx.Response:
    return post(client, image=image_id(client, "debian-11"), package=FLEX, **body)


# --- machine rules -------------------------------------------------------------------------


def test_list_name_prefix_tag_glob_and_any_tag(mine: SignedClient) -> None:
    kept = made(mine, name="prefix-one", **{"tag.stage": "prod-eu"})
    made(mine, name="prefix-two")
    gone = made(mine, name="prefix-gone", **{"tag.stage": "gone"})
    assert mine.delete(f"/my/machines/{gone['id']}").status_code == 204
    settle()
    names = {m["name"] for m in mine.get("/my/machines", params={"name": "prefix-"}).json()}
    assert names == {"prefix-one", "prefix-two"}
    globbed = mine.get("/my/machines", params={"tag.stage": "prod-*"}).json()
    assert [m["id"] for m in globbed] == [kept["id"]]
    tagged = {m["id"] for m in mine.get("/my/machines", params={"tags": "*"}).json()}
    assert {kept["id"], gone["id"]} <= tagged  # destroyed machines too


def test_resizing_a_running_bhyve_machine_needs_it_stopped(mine: SignedClient) -> None:
    machine = bhyve(mine)
    url = f"/my/machines/{machine['id']}"
    refused = mine.post(url, params={"action": "resize"}, json={"package": "b1-flex-2G"})
    assert error_of(refused) == (409, "VmNotStopped", "VM not stopped")
    stop(mine, machine)
    accepted = mine.post(url, params={"action": "resize"}, json={"package": "b1-flex-2G"})
    assert accepted.status_code == 202


def test_bhyve_snapshots_and_unknown_rollbacks(mine: SignedClient, switch: Any) -> None:
    machine = bhyve(mine)
    snapshots = f"/my/machines/{machine['id']}/snapshots"
    assert error_of(mine.post(snapshots, json={"name": "s1"})) == (
        409,
        "InvalidArgument",
        "Snapshots of bhyve VMs are not allowed",
    )
    switch(features.BHYVE_SNAPSHOTS, True)
    assert mine.post(snapshots, json={"name": "s1"}).status_code == 201
    assert mine.post(f"{snapshots}/no-such-snapshot").status_code == 202
    settle()
    audit = mine.get(f"/my/machines/{machine['id']}/audit").json()
    assert (audit[0]["action"], audit[0]["success"]) == ("rollback_snapshot", "no")


def test_machine_shape(mine: SignedClient, theirs: SignedClient) -> None:
    machine = made(mine)
    with_credentials = mine.get(f"/my/machines/{machine['id']}", params={"credentials": "true"})
    assert "credentials" not in with_credentials.json()["metadata"]
    assert "dns_names" not in machine
    updated = theirs.post("/my", json={"triton_cns_enabled": True})
    assert updated.status_code == 200, updated.text
    cns = made(theirs, name="Web_1", **{"tag.triton.cns.services": "www:80"})
    zone = f"{account_uuid(theirs)}.local-1.cns.smartdc-emulator.invalid"
    assert cns["dns_names"] == [
        f"{cns['id']}.inst.{zone}",
        f"web-1.inst.{zone}",
        f"www.svc.{zone}",
    ]


def test_delete_is_refused_only_before_allocation(
    keys: dict[str, TestKey], tmp_path_factory: pytest.TempPathFactory
) -> None:
    data = tmp_path_factory.mktemp("slow-data")
    with two_account_server(keys, data, provision_delay=5.0) as slow:
        client = SignedClient(slow.url, Signer(keys["rsa"]))
        try:
            created = post(client)
            assert created.status_code == 201
            machine_id = created.json()["id"]
            refused = client.delete(f"/my/machines/{machine_id}")
            assert error_of(refused) == (409, "Conflict", "Cannot delete a VM with no server_uuid")
            time.sleep(1.2)  # past the allocation (a fifth of the provision), still provisioning
            machine = client.get(f"/my/machines/{machine_id}").json()
            assert machine["state"] == "provisioning" and machine["compute_node"]
            assert client.delete(f"/my/machines/{machine_id}").status_code == 204
        finally:
            client.close()
