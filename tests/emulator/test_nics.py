"""ListNics, GetNic, AddNic and RemoveNic over HTTP.

Adding or removing a NIC is a reboot job; with a provision delay of 0 it lands within
milliseconds, so a short sleep shows the outcome.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import Any

import pytest

from smartdc.emulator.store import catalog
from tests.conftest import TestKey
from tests.emulator.checks import error_of
from tests.emulator.own_emulator import create_machine, private_emulator, settle
from tests.emulator.signing import SignedClient

PUBLIC = catalog.PUBLIC_NETWORK_ID
PRIVATE = catalog.PRIVATE_NETWORK_ID


@pytest.fixture(scope="module")
def clients(
    keys: dict[str, TestKey], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[SignedClient, SignedClient]]:
    with private_emulator(keys, tmp_path_factory.mktemp("nics-data")) as pair:
        yield pair


@pytest.fixture(scope="module")
def mine(clients: tuple[SignedClient, SignedClient]) -> SignedClient:
    return clients[0]


@pytest.fixture(scope="module")
def fabric_network(mine: SignedClient) -> dict[str, Any]:
    """The account's default fabric network."""
    networks = mine.get("/my/networks", params={"fabric": "true"}).json()
    assert [n["name"] for n in networks] == ["My-Fabric-Network"]
    return dict(networks[0])


def bare(mac: str) -> str:
    return mac.replace(":", "")


def nics_url(machine: dict[str, Any]) -> str:
    return f"/my/machines/{machine['id']}/nics"


def actions(client: SignedClient, machine: dict[str, Any]) -> list[str]:
    audit = client.get(f"/my/machines/{machine['id']}/audit").json()
    return [entry["action"] for entry in audit]


def test_list_and_get_nics(mine: SignedClient) -> None:
    machine = create_machine(mine)
    listed = mine.get(nics_url(machine))
    assert listed.status_code == 200
    assert listed.headers["x-resource-count"] == "2"
    assert listed.json() == machine["nics"]
    assert [n["state"] for n in listed.json()] == ["running", "running"]
    nic = machine["nics"][1]
    assert mine.get(f"{nics_url(machine)}/{bare(nic['mac'])}").json() == nic
    assert mine.get(f"{nics_url(machine)}/{bare(nic['mac']).upper()}").json() == nic
    assert mine.head(f"{nics_url(machine)}/{bare(nic['mac'])}").status_code == 200


def test_get_nic_refusals(mine: SignedClient, clients: tuple[SignedClient, SignedClient]) -> None:
    machine = create_machine(mine)
    assert error_of(mine.get(f"{nics_url(machine)}/{machine['nics'][0]['mac']}")) == (
        409,
        "InvalidArgument",
        "mac has invalid format",
    )
    assert error_of(mine.get(f"{nics_url(machine)}/90b8d0000000")) == (
        404,
        "ResourceNotFound",
        "nic not found",
    )
    theirs = create_machine(clients[1])
    mac = bare(theirs["nics"][0]["mac"])
    assert error_of(mine.get(f"/my/machines/{theirs['id']}/nics/{mac}")) == (
        404,
        "ResourceNotFound",
        "VM not found",
    )


def test_nic_routes_need_api_7_2(mine: SignedClient) -> None:
    machine = create_machine(mine)
    old = SignedClient(str(mine.http.base_url), mine.signer, version="~7.1")
    try:
        response = old.get(nics_url(machine))
    finally:
        old.close()
    assert error_of(response)[:2] == (400, "InvalidVersion")


def test_add_nic_on_a_fabric_network(mine: SignedClient, fabric_network: dict[str, Any]) -> None:
    machine = create_machine(mine)
    response = mine.post(nics_url(machine), json={"network": fabric_network["id"]})
    assert response.status_code == 201
    nic = response.json()
    assert nic["state"] == "provisioning"
    assert nic["network"] == fabric_network["id"]
    assert nic["primary"] is False
    assert nic["ip"] == fabric_network["provision_start_ip"]
    assert nic["gateway"] == fabric_network["gateway"]
    assert nic["netmask"] == "255.255.252.0"
    location = f"/test/machines/{machine['id']}/nics/{bare(nic['mac'])}"
    assert response.headers["location"] == location
    settle()
    assert mine.get(location).json() == {**nic, "state": "running"}
    after = mine.get(f"/my/machines/{machine['id']}").json()
    assert after["state"] == "running"
    assert after["ips"] == [*machine["ips"], nic["ip"]]
    assert after["networks"] == [*machine["networks"], fabric_network["id"]]
    assert after["nics"][-1] == {**nic, "state": "running"}
    assert after["primaryIp"] == machine["primaryIp"]
    assert actions(mine, machine)[0] == "add_nics"


def test_add_nic_again_on_the_same_network_redirects(mine: SignedClient) -> None:
    machine = create_machine(mine)
    private_nic = next(n for n in machine["nics"] if n["network"] == PRIVATE)
    response = mine.post(nics_url(machine), json={"network": PRIVATE})
    assert response.status_code == 302
    assert response.content == b""
    assert response.headers["location"] == (
        f"/test/machines/{machine['id']}/nics/{bare(private_nic['mac'])}"
    )
    assert actions(mine, machine) == ["provision"]


def test_add_nic_with_an_address_and_as_primary(
    mine: SignedClient, fabric_network: dict[str, Any]
) -> None:
    machine = create_machine(mine, networks=[PUBLIC])
    wanted = str(ipaddress.IPv4Address(fabric_network["provision_end_ip"]))
    network = {"ipv4_uuid": fabric_network["id"], "ipv4_ips": [wanted]}
    response = mine.post(nics_url(machine), json={"network": network, "primary": True})
    assert response.status_code == 201
    assert response.json()["ip"] == wanted
    settle()
    after = mine.get(f"/my/machines/{machine['id']}").json()
    assert after["primaryIp"] == wanted
    assert [n["primary"] for n in after["nics"]] == [False, True]


def test_add_nic_refusals(mine: SignedClient) -> None:
    machine = create_machine(mine)
    assert error_of(mine.post(nics_url(machine), json={})) == (
        409,
        "MissingParameter",
        "network must be specified",
    )
    unknown = mine.post(nics_url(machine), json={"network": "5a0b7c2e-1d3f-4e5a-8b9c-0d1e2f3a4b5c"})
    assert error_of(unknown) == (409, "InvalidArgument", "network not found")
    assert error_of(mine.post(nics_url(machine), json={"network": "nope"})) == (
        409,
        "InvalidArgument",
        "network not found",
    )
    gone = mine.post("/my/machines/5a0b7c2e-1d3f-4e5a-8b9c-0d1e2f3a4b5c/nics", json={})
    assert error_of(gone) == (404, "ResourceNotFound", "VM not found")


def test_add_nic_to_a_stopped_machine_leaves_it_stopped(
    mine: SignedClient, fabric_network: dict[str, Any]
) -> None:
    machine = create_machine(mine)
    mine.post(f"/my/machines/{machine['id']}", params={"action": "stop"})
    settle()
    nic = mine.post(nics_url(machine), json={"network": fabric_network["id"]}).json()
    settle()
    assert mine.get(f"{nics_url(machine)}/{bare(nic['mac'])}").json()["state"] == "stopped"
    assert mine.get(f"/my/machines/{machine['id']}").json()["state"] == "stopped"


def test_remove_nic(mine: SignedClient) -> None:
    machine = create_machine(mine)
    private_nic = next(n for n in machine["nics"] if n["network"] == PRIVATE)
    url = f"{nics_url(machine)}/{bare(private_nic['mac'])}"
    response = mine.delete(url)
    assert response.status_code == 204
    settle()
    assert error_of(mine.get(url)) == (404, "ResourceNotFound", "nic not found")
    after = mine.get(f"/my/machines/{machine['id']}").json()
    assert private_nic["ip"] not in after["ips"]
    assert after["networks"] == [PUBLIC]
    assert after["state"] == "running"
    assert actions(mine, machine)[0] == "remove_nics"
    assert error_of(mine.delete(url)) == (404, "ResourceNotFound", "nic not found")
    # The address is free again: a new NIC on that network may take it.
    again = mine.post(
        nics_url(machine),
        json={"network": {"ipv4_uuid": PRIVATE, "ipv4_ips": [private_nic["ip"]]}},
    )
    assert again.status_code == 201
    assert again.json()["ip"] == private_nic["ip"]


def test_adding_a_nic_reboots_a_running_machine(
    keys: dict[str, TestKey], tmp_path_factory: pytest.TempPathFactory
) -> None:
    with private_emulator(keys, tmp_path_factory.mktemp("nic-reboot"), 0.4) as (client, _):
        response = client.post(
            "/my/machines",
            json={
                "image": client.get("/my/images", params={"name": "base-64-lts"}).json()[0]["id"],
                "package": "g4-highcpu-128M",
            },
        )
        machine = response.json()
        fabric = client.get("/my/networks", params={"fabric": "true"}).json()[0]
        early = client.post(nics_url(machine), json={"network": fabric["id"]})
        assert error_of(early)[:2] == (409, "UnallocatedVM")
        assert client.get(nics_url(machine)).headers["x-resource-count"] == "2"
        settle(0.5)
        assert client.get(f"/my/machines/{machine['id']}").json()["state"] == "running"
        added = client.post(nics_url(machine), json={"network": fabric["id"]}).json()
        settle(0.03)
        during = client.get(f"/my/machines/{machine['id']}").json()
        assert during["state"] == "stopping"
        assert fabric["id"] not in during["networks"]
        settle(0.25)
        after = client.get(f"/my/machines/{machine['id']}").json()
        assert after["state"] == "running"
        assert added["ip"] in after["ips"]
