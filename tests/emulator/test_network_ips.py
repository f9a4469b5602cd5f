"""ListNetworkIPs, GetNetworkIP and UpdateNetworkIP over HTTP.

A private emulator: reservations are account-wide state.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import Any

import pytest

from smartdc.emulator.store import catalog
from tests.conftest import TestKey
from tests.emulator.checks import error_of
from tests.emulator.own_emulator import account_uuid, create_machine, private_emulator, settle
from tests.emulator.signing import SignedClient

PUBLIC = catalog.PUBLIC_NETWORK_ID
PRIVATE = catalog.PRIVATE_NETWORK_ID
FABRIC_GATEWAY = "192.168.128.1"


@pytest.fixture(scope="module")
def clients(
    keys: dict[str, TestKey], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[SignedClient, SignedClient]]:
    with private_emulator(keys, tmp_path_factory.mktemp("ips-data")) as pair:
        yield pair


@pytest.fixture(scope="module")
def mine(clients: tuple[SignedClient, SignedClient]) -> SignedClient:
    return clients[0]


@pytest.fixture(scope="module")
def theirs(clients: tuple[SignedClient, SignedClient]) -> SignedClient:
    return clients[1]


@pytest.fixture(scope="module")
def fabric(mine: SignedClient) -> str:
    """The caller's own (fabric) network: every address of it is the caller's business."""
    networks = mine.get("/my/networks", params={"fabric": "true"}).json()
    return str(networks[0]["id"])


@pytest.fixture(scope="module")
def machines(mine: SignedClient, theirs: SignedClient, fabric: str) -> dict[str, dict[str, Any]]:
    """One machine of each account on the public and the shared private network, and one of
    the caller's on its fabric network."""
    return {
        "mine": create_machine(mine),
        "theirs": create_machine(theirs),
        "fabric": create_machine(mine, networks=[fabric]),
    }


def ip_on(machine: dict[str, Any], network: str) -> str:
    return str(next(n["ip"] for n in machine["nics"] if n["network"] == network))


def test_own_network_lists_assigned_and_managed_ips(
    mine: SignedClient, fabric: str, machines: dict[str, dict[str, Any]]
) -> None:
    response = mine.get(f"/my/networks/{fabric}/ips")
    assert response.status_code == 200
    ips = response.json()
    assert response.headers["x-query-limit"] == "1000"
    assert response.headers["x-resource-count"] == str(len(ips))
    by_ip = {ip["ip"]: ip for ip in ips}
    assert by_ip[FABRIC_GATEWAY] == {"ip": FABRIC_GATEWAY, "reserved": True, "managed": True}
    own = by_ip[ip_on(machines["fabric"], fabric)]
    assert own == {
        "ip": ip_on(machines["fabric"], fabric),
        "reserved": False,
        "managed": False,
        "owner_uuid": account_uuid(mine),
        "belongs_to_uuid": machines["fabric"]["id"],
    }
    numbers = [int(ipaddress.IPv4Address(ip["ip"])) for ip in ips]
    assert numbers == sorted(numbers)


def test_shared_private_network_shows_only_the_callers_ips(
    mine: SignedClient, theirs: SignedClient, machines: dict[str, dict[str, Any]]
) -> None:
    listed = mine.get(f"/my/networks/{PRIVATE}/ips").json()
    assert [ip["ip"] for ip in listed] == [ip_on(machines["mine"], PRIVATE)]
    assert listed[0]["belongs_to_uuid"] == machines["mine"]["id"]
    hidden = mine.get(f"/my/networks/{PRIVATE}/ips/{ip_on(machines['theirs'], PRIVATE)}")
    assert error_of(hidden)[:2] == (404, "ResourceNotFound")
    gateway = mine.get(f"/my/networks/{PRIVATE}/ips/10.64.0.1")
    assert error_of(gateway)[:2] == (404, "ResourceNotFound")
    free = mine.get(f"/my/networks/{PRIVATE}/ips/10.64.200.1")
    assert error_of(free)[:2] == (404, "ResourceNotFound")
    taken = mine.request(
        "PUT",
        f"/my/networks/{PRIVATE}/ips/{ip_on(machines['theirs'], PRIVATE)}",
        json={"reserved": True},
    )
    assert error_of(taken)[:2] == (404, "ResourceNotFound")
    theirs_listed = theirs.get(f"/my/networks/{PRIVATE}/ips").json()
    assert [ip["ip"] for ip in theirs_listed] == [ip_on(machines["theirs"], PRIVATE)]


def test_ipv4_ips_only_on_the_callers_own_networks(
    mine: SignedClient, fabric: str, machines: dict[str, dict[str, Any]]
) -> None:
    image = mine.get("/my/images", params={"name": "base-64-lts"}).json()[0]["id"]
    body = {"image": image, "package": "g4-highcpu-128M"}
    shared = mine.post(
        "/my/machines",
        json={**body, "networks": [{"ipv4_uuid": PRIVATE, "ipv4_ips": ["10.64.100.1"]}]},
    )
    assert error_of(shared) == (
        409,
        "InvalidArgument",
        f"ipv4_uuid: {PRIVATE} cannot specify IP on a public network",
    )
    managed = mine.post(
        "/my/machines",
        json={**body, "networks": [{"ipv4_uuid": fabric, "ipv4_ips": [FABRIC_GATEWAY]}]},
    )
    assert error_of(managed) == (
        409,
        "InvalidArgument",
        f"cannot use {FABRIC_GATEWAY} because it is a managed IP",
    )
    chosen = mine.post(
        "/my/machines",
        json={**body, "networks": [{"ipv4_uuid": fabric, "ipv4_ips": ["192.168.130.7"]}]},
    )
    assert chosen.status_code == 201
    settle()
    got = mine.get(f"/my/machines/{chosen.json()['id']}").json()
    assert got["ips"] == ["192.168.130.7"]


def test_public_network_shows_only_the_callers_ips(
    mine: SignedClient, theirs: SignedClient, machines: dict[str, dict[str, Any]]
) -> None:
    mine_ips = [ip["ip"] for ip in mine.get(f"/my/networks/{PUBLIC}/ips").json()]
    assert mine_ips == [ip_on(machines["mine"], PUBLIC)]
    theirs_ips = [ip["ip"] for ip in theirs.get(f"/my/networks/{PUBLIC}/ips").json()]
    assert theirs_ips == [ip_on(machines["theirs"], PUBLIC)]


def test_list_ips_pages(
    mine: SignedClient, fabric: str, machines: dict[str, dict[str, Any]]
) -> None:
    everything = mine.get(f"/my/networks/{fabric}/ips").json()
    assert len(everything) >= 3
    page = mine.get(f"/my/networks/{fabric}/ips", params={"limit": 1, "offset": 1})
    assert page.json() == everything[1:2]
    assert (page.headers["x-query-limit"], page.headers["x-resource-count"]) == ("1", "1")
    bad = mine.get(f"/my/networks/{fabric}/ips", params={"limit": 0})
    assert error_of(bad)[:2] == (409, "ValidationFailed")
    assert mine.head(f"/my/networks/{fabric}/ips").status_code == 200
    missing = mine.get("/my/networks/5a0b7c2e-1d3f-4e5a-8b9c-0d1e2f3a4b5c/ips")
    assert error_of(missing) == (
        404,
        "ResourceNotFound",
        "5a0b7c2e-1d3f-4e5a-8b9c-0d1e2f3a4b5c not found",
    )


def test_get_network_ip(
    mine: SignedClient, theirs: SignedClient, fabric: str, machines: dict[str, dict[str, Any]]
) -> None:
    own = ip_on(machines["mine"], PUBLIC)
    got = mine.get(f"/my/networks/{PUBLIC}/ips/{own}")
    assert got.status_code == 200
    assert got.json()["belongs_to_uuid"] == machines["mine"]["id"]
    hidden = mine.get(f"/my/networks/{PUBLIC}/ips/{ip_on(machines['theirs'], PUBLIC)}")
    assert error_of(hidden)[:2] == (404, "ResourceNotFound")
    free = mine.get(f"/my/networks/{fabric}/ips/192.168.130.1").json()
    assert free == {"ip": "192.168.130.1", "reserved": False, "managed": False}
    outside = mine.get(f"/my/networks/{fabric}/ips/192.0.2.1")
    assert error_of(outside)[:2] == (404, "ResourceNotFound")
    malformed = mine.get(f"/my/networks/{fabric}/ips/not-an-ip")
    assert error_of(malformed)[:2] == (422, "InvalidParameters")


def test_update_network_ip_refusals(
    mine: SignedClient, fabric: str, machines: dict[str, dict[str, Any]]
) -> None:
    base = f"/my/networks/{fabric}/ips"
    assert error_of(mine.request("PUT", f"{base}/192.168.130.2", json={})) == (
        409,
        "MissingParameter",
        "reserved is a required argument",
    )
    assert error_of(mine.request("PUT", f"{base}/192.168.130.2", json={"reserved": "yes"})) == (
        409,
        "InvalidArgument",
        "reserved must be set to true or false",
    )
    gateway = mine.request("PUT", f"{base}/{FABRIC_GATEWAY}", json={"reserved": False})
    assert error_of(gateway) == (409, "InvalidArgument", "cannot update managed IP")
    public = mine.request(
        "PUT",
        f"/my/networks/{PUBLIC}/ips/{ip_on(machines['mine'], PUBLIC)}",
        json={"reserved": True},
    )
    assert error_of(public)[:2] == (409, "InvalidArgument")


def test_reserved_ip_is_listed_and_never_handed_out(
    mine: SignedClient, fabric: str, machines: dict[str, dict[str, Any]]
) -> None:
    base = f"/my/networks/{fabric}/ips"
    assigned = [
        int(ipaddress.IPv4Address(ip["ip"])) for ip in mine.get(base).json() if not ip["managed"]
    ]
    next_free = str(ipaddress.IPv4Address(max(assigned) + 1))
    reserved = mine.request("PUT", f"{base}/{next_free}", json={"reserved": "true"})
    assert reserved.status_code == 200
    assert reserved.json() == {
        "ip": next_free,
        "reserved": True,
        "managed": False,
        "owner_uuid": account_uuid(mine),
    }
    assert reserved.json() in mine.get(base).json()
    machine = create_machine(mine, networks=[fabric])
    assert machine["ips"] == [str(ipaddress.IPv4Address(max(assigned) + 2))]
    released = mine.request("PUT", f"{base}/{next_free}", json={"reserved": False})
    assert released.json() == {"ip": next_free, "reserved": False, "managed": False}
    assert next_free not in [ip["ip"] for ip in mine.get(base).json()]


def test_reserving_an_assigned_ip_keeps_its_machine(
    mine: SignedClient, fabric: str, machines: dict[str, dict[str, Any]]
) -> None:
    own = ip_on(machines["fabric"], fabric)
    url = f"/my/networks/{fabric}/ips/{own}"
    updated = mine.request("PUT", url, json={"reserved": True}).json()
    assert updated["reserved"] is True
    assert updated["belongs_to_uuid"] == machines["fabric"]["id"]
    assert mine.get(url).json() == updated


def test_a_destroyed_machines_ips_are_free(mine: SignedClient, fabric: str) -> None:
    machine = create_machine(mine, networks=[fabric])
    url = f"/my/networks/{fabric}/ips/{machine['ips'][0]}"
    assert mine.get(url).json()["belongs_to_uuid"] == machine["id"]
    assert mine.delete(f"/my/machines/{machine['id']}").status_code == 204
    settle()
    assert mine.get(url).json() == {"ip": machine["ips"][0], "reserved": False, "managed": False}
