"""ListMachineDisks, GetMachineDisk, CreateMachineDisk, ResizeMachineDisk and
DeleteMachineDisk over HTTP, and the ``smartdc.CloudAPI`` disk methods.

A bhyve machine on a flexible disk package (b1-flex-1G: 25600 MiB) starts with a 10240 MiB
boot disk and a 15360 MiB data disk. Disk jobs land within milliseconds (provision delay 0).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from smartdc import CloudAPI
from smartdc.errors import InvalidArgumentError
from tests.conftest import ACCOUNT, TestKey
from tests.emulator.checks import error_of
from tests.emulator.own_emulator import create_machine, private_emulator, settle
from tests.emulator.signing import SignedClient

FLEX_PACKAGE = "b1-flex-1G"
STOPPED = "VM must be stopped"


@pytest.fixture(scope="module")
def clients(
    keys: dict[str, TestKey], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[SignedClient, SignedClient]]:
    with private_emulator(keys, tmp_path_factory.mktemp("disks-data")) as pair:
        yield pair


@pytest.fixture(scope="module")
def mine(clients: tuple[SignedClient, SignedClient]) -> SignedClient:
    return clients[0]


def bhyve_machine(client: SignedClient, *, stopped: bool = True) -> dict[str, Any]:
    images = client.get("/my/images", params={"name": "ubuntu-certified-22.04"}).json()
    image = max(images, key=lambda i: i["published_at"])
    response = client.post("/my/machines", json={"image": image["id"], "package": FLEX_PACKAGE})
    assert response.status_code == 201, response.text
    machine_id = response.json()["id"]
    settle()
    if stopped:
        assert client.post(f"/my/machines/{machine_id}?action=stop").status_code == 202
        settle()
    machine: dict[str, Any] = client.get(f"/my/machines/{machine_id}").json()
    return machine


def disks_url(machine: dict[str, Any], *rest: str) -> str:
    return "/".join([f"/my/machines/{machine['id']}/disks", *rest])


def listed(client: SignedClient, machine: dict[str, Any]) -> list[dict[str, Any]]:
    response = client.get(disks_url(machine))
    assert response.status_code == 200, response.text
    assert response.headers["x-resource-count"] == str(len(response.json()))
    found: list[dict[str, Any]] = response.json()
    return found


def test_a_flexible_machine_starts_with_two_disks(mine: SignedClient) -> None:
    machine = bhyve_machine(mine, stopped=False)
    disks = listed(mine, machine)
    assert [(d["pci_slot"], d["size"], d["boot"], d["state"]) for d in disks] == [
        ("0:4:0", 10240, True, "running"),
        ("0:4:1", 15360, False, "running"),
    ]
    assert all(d["block_size"] == 8192 for d in disks)
    assert [d["id"] for d in disks] == [d["id"] for d in machine["disks"]]
    assert "pci_slot" not in machine["disks"][0]
    got = mine.get(disks_url(machine, disks[1]["id"]))
    assert got.status_code == 200
    assert got.json() == disks[1]
    assert mine.head(disks_url(machine)).status_code == 200


def test_lookups_that_fail(mine: SignedClient) -> None:
    machine = bhyve_machine(mine, stopped=False)
    not_found = (404, "ResourceNotFound", "disk not found")
    assert error_of(mine.get(disks_url(machine, "2b4c9a8e-0000-4000-8000-000000000000"))) == (
        not_found
    )
    assert error_of(mine.get(disks_url(machine, "boot"))) == not_found
    zone = create_machine(mine)
    assert mine.get(disks_url(zone)).json() == []  # a container has no disks
    assert error_of(mine.get(disks_url(zone, listed(mine, machine)[0]["id"]))) == not_found
    old = SignedClient(str(mine.http.base_url), mine.signer, version="~7.1")
    try:
        assert error_of(old.get(disks_url(machine)))[:2] == (400, "InvalidVersion")
    finally:
        old.close()


def test_changes_need_a_stopped_machine(mine: SignedClient) -> None:
    machine = bhyve_machine(mine, stopped=False)
    data = listed(mine, machine)[1]
    refusal = (409, "InvalidArgument", STOPPED)
    assert error_of(mine.post(disks_url(machine), json={"size": 1024})) == refusal
    resize = {"size": 1024, "dangerous_allow_shrink": True}
    assert error_of(mine.post(disks_url(machine, data["id"]), json=resize)) == refusal
    assert error_of(mine.delete(disks_url(machine, data["id"]))) == refusal


def test_shrink_then_add_with_a_slot(mine: SignedClient) -> None:
    machine = bhyve_machine(mine)
    boot, data = listed(mine, machine)
    assert data["state"] == "stopped"
    url = disks_url(machine, data["id"])
    assert error_of(mine.post(url, json={"size": 5120}))[:2] == (409, "InvalidArgument")
    assert error_of(mine.post(url, json={"size": 5120, "dangerous_allow_shrink": "true"})) == (
        409,
        "InvalidArgument",
        "dangerous_allow_shrink must be a boolean",
    )
    response = mine.post(url, json={"size": 5120, "dangerous_allow_shrink": True})
    assert response.status_code == 200
    assert response.json() == {**data, "state": "resizing"}
    settle()
    assert mine.get(url).json() == {**data, "size": 5120}
    # 10240 MiB are free now: a disk that asks for more is refused.
    too_big = mine.post(disks_url(machine), json={"size": 10241, "pci_slot": "0:4:2"})
    assert error_of(too_big) == (
        409,
        "InvalidArgument",
        "size 10241 MiB exceeds the 10240 MiB of space left",
    )
    taken = mine.post(disks_url(machine), json={"size": 1024, "pci_slot": "0:4:1"})
    assert error_of(taken) == (409, "InvalidArgument", "pci_slot 0:4:1 is already in use")
    bad_slot = mine.post(disks_url(machine), json={"size": 1024, "pci_slot": "4"})
    assert error_of(bad_slot)[1] == "InvalidArgument"
    created = mine.post(disks_url(machine), json={"size": 4096, "pci_slot": "0:4:5"})
    assert created.status_code == 200
    disk = created.json()
    assert disk["state"] == "creating"
    assert (disk["pci_slot"], disk["size"], disk["boot"]) == ("0:4:5", 4096, False)
    assert created.headers["location"] == f"/test/machines/{machine['id']}/disks/{disk['id']}"
    settle()
    assert [d["pci_slot"] for d in listed(mine, machine)] == ["0:4:0", "0:4:1", "0:4:5"]
    assert mine.get(disks_url(machine, disk["id"])).json() == {**disk, "state": "stopped"}
    shown = mine.get(f"/my/machines/{machine['id']}").json()["disks"]
    assert [d["size"] for d in shown] == [boot["size"], 5120, 4096]
    audit = mine.get(f"/my/machines/{machine['id']}/audit").json()
    assert [e["action"] for e in audit[:2]] == ["create_disk", "resize_disk"]


def test_add_remaining_without_a_slot_then_delete(mine: SignedClient) -> None:
    machine = bhyve_machine(mine)
    data = listed(mine, machine)[1]
    shrink = {"size": 2048, "dangerous_allow_shrink": True}
    assert mine.post(disks_url(machine, data["id"]), json=shrink).status_code == 200
    response = mine.post(disks_url(machine), json={"size": "remaining"})
    assert response.status_code == 202
    assert response.content == b""
    settle()
    disks = listed(mine, machine)
    assert [(d["pci_slot"], d["size"], d["state"]) for d in disks[1:]] == [
        ("0:4:1", 2048, "stopped"),
        ("0:4:2", 13312, "stopped"),
    ]
    added = disks[2]
    full = mine.post(disks_url(machine), json={"size": "remaining"})
    assert error_of(full) == (409, "InvalidArgument", "VM has no disk space left")
    assert error_of(mine.delete(disks_url(machine, disks[0]["id"]))) == (
        409,
        "InvalidArgument",
        "the boot disk cannot be deleted",
    )
    response = mine.delete(disks_url(machine, added["id"]))
    assert response.status_code == 204
    settle()
    assert error_of(mine.get(disks_url(machine, added["id"])))[0] == 404
    assert len(listed(mine, machine)) == 2


def test_size_checks(mine: SignedClient) -> None:
    machine = bhyve_machine(mine)
    assert error_of(mine.post(disks_url(machine), json={})) == (
        409,
        "MissingParameter",
        "size must be specified",
    )
    assert error_of(mine.post(disks_url(machine), json={"size": -5})) == (
        409,
        "InvalidArgument",
        'size must be a positive number of MiB or "remaining"',
    )
    data = listed(mine, machine)[1]
    assert error_of(mine.post(disks_url(machine, data["id"]), json={"size": "remaining"})) == (
        409,
        "InvalidArgument",
        "size must be a positive number of MiB",
    )


def test_at_most_eight_disks(mine: SignedClient) -> None:
    machine = bhyve_machine(mine)
    data = listed(mine, machine)[1]
    shrink = {"size": 1024, "dangerous_allow_shrink": True}
    assert mine.post(disks_url(machine, data["id"]), json=shrink).status_code == 200
    for _ in range(6):
        assert mine.post(disks_url(machine), json={"size": 1024}).status_code == 202
    assert error_of(mine.post(disks_url(machine), json={"size": 1024})) == (
        409,
        "InvalidArgument",
        "A maximum of 8 disks per VM are supported",
    )
    settle(0.05)
    slots = [d["pci_slot"] for d in listed(mine, machine)]
    assert slots == [f"0:4:{i}" for i in range(8)]


def test_client_methods(
    clients: tuple[SignedClient, SignedClient], keys: dict[str, TestKey]
) -> None:
    machine = bhyve_machine(clients[0])
    url = str(clients[0].http.base_url)
    key = keys["rsa"]
    with CloudAPI(url, ACCOUNT, key_id=key.md5, key_file=key.path, allow_agent=False) as api:
        boot, data = api.list_machine_disks(machine["id"])
        assert api.get_machine_disk(machine["id"], data["id"]) == data
        with pytest.raises(InvalidArgumentError):
            api.resize_machine_disk(machine["id"], data["id"], size=1024)
        resized = api.resize_machine_disk(
            machine["id"], data["id"], size=1024, dangerous_allow_shrink=True
        )
        assert resized["state"] == "resizing"
        assert api.create_machine_disk(machine["id"], size=2048) is None
        added = api.create_machine_disk(machine["id"], size=1024, pci_slot="0:4:7")
        assert added is not None and added["state"] == "creating"
        settle()
        api.delete_machine_disk(machine["id"], added["id"])
        settle()
        sizes = [d["size"] for d in api.list_machine_disks(machine["id"])]
        assert sizes == [boot["size"], 1024, 2048]
