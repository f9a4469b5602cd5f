"""Fabric VLANs and networks over HTTP, and their use by machines.

A private emulator per module: fabrics are account-wide state.
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

VLANS = "/my/fabrics/default/vlans"


@pytest.fixture(scope="module")
def clients(
    keys: dict[str, TestKey], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[SignedClient, SignedClient]]:
    with private_emulator(keys, tmp_path_factory.mktemp("fabrics-data")) as pair:
        yield pair


@pytest.fixture(scope="module")
def mine(clients: tuple[SignedClient, SignedClient]) -> SignedClient:
    return clients[0]


def network_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "web-net",
        "subnet": "10.50.0.0/24",
        "provision_start_ip": "10.50.0.10",
        "provision_end_ip": "10.50.0.200",
        "gateway": "10.50.0.1",
        "resolvers": ["10.50.0.2", "8.8.8.8"],
        "routes": {"10.60.0.0/16": "10.50.0.3"},
        "description": "front end",
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def make_vlan(client: SignedClient, vlan_id: int, name: str) -> dict[str, Any]:
    response = client.post(VLANS, json={"vlan_id": vlan_id, "name": name})
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_every_account_starts_with_a_default_vlan_and_network(
    clients: tuple[SignedClient, SignedClient],
) -> None:
    for client in clients:
        assert client.get(VLANS).json() == [{"vlan_id": 2, "name": "My-Fabric-VLAN"}]
        networks = client.get(f"{VLANS}/2/networks").json()
        assert len(networks) == 1
        default = networks[0]
        assert {k: v for k, v in default.items() if k != "id"} == {
            "name": "My-Fabric-Network",
            "public": False,
            "fabric": True,
            "subnet": "192.168.128.0/22",
            "provision_start_ip": "192.168.128.5",
            "provision_end_ip": "192.168.131.250",
            "gateway": "192.168.128.1",
            "resolvers": ["8.8.8.8", "8.8.4.4"],
            "internet_nat": True,
            "vlan_id": 2,
        }
        assert client.get(f"{VLANS}/2/networks/{default['id']}").json() == default
        assert client.get(f"/my/networks/{default['id']}").json() == default
        assert client.get("/my/networks", params={"fabric": "true"}).json() == [default]
    mine_net = clients[0].get(f"{VLANS}/2/networks").json()[0]["id"]
    theirs_net = clients[1].get(f"{VLANS}/2/networks").json()[0]["id"]
    assert mine_net != theirs_net
    assert clients[1].get(f"/my/networks/{mine_net}").status_code == 404


def test_vlan_lifecycle(mine: SignedClient) -> None:
    created = mine.post(VLANS, json={"vlan_id": 42, "name": "backend", "description": "db"})
    assert created.status_code == 201
    assert created.json() == {"vlan_id": 42, "name": "backend", "description": "db"}
    assert mine.get(f"{VLANS}/42").json() == created.json()
    assert mine.head(f"{VLANS}/42").status_code == 200
    updated = mine.request("PUT", f"{VLANS}/42", json={"name": "back-end"})
    assert updated.status_code == 202
    assert updated.json() == {"vlan_id": 42, "name": "back-end", "description": "db"}
    assert [v["vlan_id"] for v in mine.get(VLANS).json()] == [2, 42]
    assert mine.delete(f"{VLANS}/42").status_code == 204
    assert error_of(mine.get(f"{VLANS}/42")) == (404, "ResourceNotFound", "vlan not found")
    assert error_of(mine.delete(f"{VLANS}/42")) == (404, "ResourceNotFound", "vlan not found")
    assert error_of(mine.get(f"{VLANS}/nope")) == (404, "ResourceNotFound", "vlan not found")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"vlan_id": 50}, 'property "name": is missing and it is required'),
        ({"name": "x50"}, 'property "vlan_id": is missing and it is required'),
        ({"vlan_id": 1, "name": "low"}, 'property "vlan_id": must have a minimum value of 2'),
        (
            {"vlan_id": 4096, "name": "high"},
            'property "vlan_id": must have a maximum value of 4095',
        ),
        (
            {"vlan_id": "ten", "name": "ten"},
            'property "vlan_id": string value found, but a integer is required',
        ),
        (
            {"vlan_id": 50, "name": 5},
            'property "name": number value found, but a string is required',
        ),
        (
            {"vlan_id": 50, "name": "9lives"},
            'property "name": does not match the regex pattern ^[a-zA-Z][a-zA-Z0-9_./-]{1,255}$',
        ),
        ({"vlan_id": 50, "name": "ok", "mtu": 9000}, 'property "mtu": unknown property'),
        ({"vlan_id": 2, "name": "again"}, "VLAN 2 already exists"),
    ],
)
def test_create_vlan_refusals(mine: SignedClient, body: dict[str, Any], message: str) -> None:
    assert error_of(mine.post(VLANS, json=body)) == (409, "InvalidArgument", message)


def test_fabric_network_lifecycle(mine: SignedClient) -> None:
    make_vlan(mine, 100, "web")
    created = mine.post(f"{VLANS}/100/networks", json=network_body(internet_nat="false"))
    assert created.status_code == 201, created.text
    network = created.json()
    assert {k: v for k, v in network.items() if k != "id"} == {
        "name": "web-net",
        "public": False,
        "fabric": True,
        "description": "front end",
        "subnet": "10.50.0.0/24",
        "provision_start_ip": "10.50.0.10",
        "provision_end_ip": "10.50.0.200",
        "gateway": "10.50.0.1",
        "resolvers": ["10.50.0.2", "8.8.8.8"],
        "routes": {"10.60.0.0/16": "10.50.0.3"},
        "internet_nat": False,
        "vlan_id": 100,
    }
    url = f"{VLANS}/100/networks/{network['id']}"
    assert mine.get(url).json() == network
    assert network in mine.get("/my/networks").json()
    assert mine.get(f"{VLANS}/100/networks").json() == [network]
    assert error_of(mine.get(f"{VLANS}/2/networks/{network['id']}")) == (
        404,
        "ResourceNotFound",
        "network not found",
    )
    updated = mine.request(
        "PUT", url, json={"description": "public web", "provision_end_ip": "10.50.0.100"}
    )
    assert updated.status_code == 200
    assert updated.json() == {
        **network,
        "description": "public web",
        "provision_end_ip": "10.50.0.100",
    }
    assert mine.get(url).json() == updated.json()
    with_id = mine.request("PUT", url, json={"id": network["id"], "name": "x-net"})
    assert error_of(with_id)[:2] == (409, "InvalidArgument")
    vlan_busy = mine.delete(f"{VLANS}/100")
    assert error_of(vlan_busy)[:2] == (409, "InvalidArgument")
    assert mine.delete(url).status_code == 204
    assert error_of(mine.get(url)) == (404, "ResourceNotFound", "network not found")
    assert mine.delete(f"{VLANS}/100").status_code == 204


def test_internet_nat_accepts_booleans_and_strings(mine: SignedClient) -> None:
    make_vlan(mine, 101, "nat")
    for index, (given, expected) in enumerate(
        [(True, True), (False, False), ("true", True), ("FALSE", False), (None, True)]
    ):
        body = network_body(
            name=f"nat{index}",
            subnet=f"10.51.{index}.0/24",
            provision_start_ip=f"10.51.{index}.10",
            provision_end_ip=f"10.51.{index}.20",
            gateway=None,
            routes=None,
            internet_nat=given,
        )
        response = mine.post(f"{VLANS}/101/networks", json=body)
        assert response.status_code == 201, response.text
        assert response.json()["internet_nat"] is expected
        assert "gateway" not in response.json()
    bad = mine.post(f"{VLANS}/101/networks", json=network_body(name="natx", internet_nat="yes"))
    assert error_of(bad)[:2] == (409, "InvalidArgument")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": None}, 'property "name": is missing and it is required'),
        (
            {"provision_end_ip": None},
            'property "provision_end_ip": is missing and it is required',
        ),
        ({"subnet": "10.50.0.0"}, 'property "subnet": Subnet must be in CIDR form'),
        ({"subnet": "10.50.0.0/33"}, 'property "subnet": Subnet must be in CIDR form'),
        (
            {"provision_start_ip": "10.50.0.300"},
            'property "provision_start_ip": must be an IPv4 address',
        ),
        (
            {"provision_start_ip": 10},
            'property "provision_start_ip": number value found, but a string is required',
        ),
        (
            {"provision_start_ip": "10.99.0.10"},
            'property "provision_start_ip": must be within subnet 10.50.0.0/24',
        ),
        ({"gateway": "nowhere"}, 'property "gateway": must be an IPv4 address'),
        (
            {"resolvers": ["1.1.1.1", "1.0.0.1", "8.8.8.8", "8.8.4.4", "9.9.9.9"]},
            'property "resolvers": maximum of 4 resolvers',
        ),
        ({"routes": {"10.60.0.0/16": "gateway"}}, 'property "routes": invalid route'),
        ({"mtu": 1500}, 'property "mtu": unknown property'),
        ({"name": "My-Fabric-Network"}, "network name My-Fabric-Network is already in use"),
    ],
)
def test_create_fabric_network_refusals(
    mine: SignedClient, overrides: dict[str, Any], message: str
) -> None:
    body = {**network_body(), **overrides}
    body = {k: v for k, v in body.items() if v is not None}
    response = mine.post(f"{VLANS}/2/networks", json=body)
    assert error_of(response) == (409, "InvalidArgument", message)


def test_overlapping_subnets_on_one_vlan_are_refused(mine: SignedClient) -> None:
    overlap = mine.post(
        f"{VLANS}/2/networks",
        json=network_body(
            name="overlap",
            subnet="192.168.130.0/24",
            provision_start_ip="192.168.130.10",
            provision_end_ip="192.168.130.20",
            gateway=None,
        ),
    )
    assert error_of(overlap)[:2] == (409, "InvalidArgument")
    assert error_of(mine.post(f"{VLANS}/999/networks", json=network_body())) == (
        404,
        "ResourceNotFound",
        "vlan not found",
    )


def test_machines_use_fabric_networks(mine: SignedClient) -> None:
    make_vlan(mine, 200, "app")
    network = mine.post(f"{VLANS}/200/networks", json=network_body(name="app-net")).json()
    machine = create_machine(mine, networks=[catalog.PUBLIC_NETWORK_ID, network["id"]])
    assert machine["networks"] == [catalog.PUBLIC_NETWORK_ID, network["id"]]
    fabric_nic = machine["nics"][1]
    assert fabric_nic["ip"] == "10.50.0.10"
    assert ipaddress.IPv4Address(fabric_nic["ip"]) in ipaddress.IPv4Network(network["subnet"])
    assert fabric_nic["gateway"] == "10.50.0.1"
    url = f"{VLANS}/200/networks/{network['id']}"
    assert error_of(mine.delete(url))[:2] == (409, "InvalidArgument")
    mine.delete(f"/my/machines/{machine['id']}")
    settle()
    assert mine.delete(url).status_code == 204


def test_fabric_routes_need_api_7_3(mine: SignedClient) -> None:
    old = SignedClient(str(mine.http.base_url), mine.signer, version="~7.2")
    try:
        assert error_of(old.get(VLANS))[:2] == (400, "InvalidVersion")
    finally:
        old.close()


def test_default_network_cannot_be_deleted_until_another_is_the_default(
    clients: tuple[SignedClient, SignedClient],
) -> None:
    client = clients[1]
    default = client.get(f"{VLANS}/2/networks").json()[0]
    url = f"{VLANS}/2/networks/{default['id']}"
    assert error_of(client.delete(url)) == (
        409,
        "InvalidArgument",
        "cannot delete default network",
    )
    config = {"default_network": catalog.PUBLIC_NETWORK_ID}
    assert client.request("PUT", "/my/config", json=config).status_code == 200
    assert client.delete(url).status_code == 204
    # Once gone it stays gone: the account's fabric is set up only once.
    assert client.get(f"{VLANS}/2/networks").json() == []
    assert client.get("/my/networks", params={"fabric": "true"}).json() == []
    assert client.delete(f"{VLANS}/2").status_code == 204
    assert client.get(VLANS).json() == []
