"""UUIDs, booleans, addresses, numbers and names are read strictly, one parser per kind
(``smartdc.emulator.params``): a UUID or MAC with a trailing newline is none (``re``'s ``$``
let it through), ``1`` and ``0`` are not ``true`` and ``false`` (``1 in (True, "true")``
holds in Python), and an address is a dotted-quad string (``ipaddress`` also takes integers,
netmasks and ``/024``); names match CloudAPI's patterns whole, in ASCII, as JavaScript
reads them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from smartdc.emulator.params import is_uuid, parse_bool, parse_ipv4, parse_ipv4_network
from tests.conftest import TestKey
from tests.emulator.checks import error_of
from tests.emulator.own_emulator import PACKAGE, create_machine, private_emulator
from tests.emulator.signing import SignedClient

UUID = "9d1f5e3c-2b4a-4c6d-8e7f-0a1b2c3d4e5f"
VLANS = "/my/fabrics/default/vlans"


@pytest.fixture(scope="module")
def mine(keys: dict[str, TestKey], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with private_emulator(keys, tmp_path_factory.mktemp("strict-data")) as (client, _):
        yield client


def test_the_parsers() -> None:
    assert is_uuid(UUID) and is_uuid(UUID.upper())
    for text in (f"{UUID}\n", f" {UUID}", UUID.replace("-", ""), f"{{{UUID}}}", "٣" * 32):
        assert not is_uuid(text), text
    assert (parse_bool(True), parse_bool("false")) == (True, False)
    for value in (1, 0, 1.0, "True", "1", "yes", None):
        assert parse_bool(value) is None, value
    assert str(parse_ipv4("10.0.0.1")) == "10.0.0.1"
    odd = ("010.0.0.1", "10.0.0.1 ", "10.0.0.1\n", "\uff110.0.0.1", "10.0.0.\u0661", 167772161)
    for value in odd:
        assert parse_ipv4(value) is None, value
    assert str(parse_ipv4_network("10.0.0.0/24")) == "10.0.0.0/24"
    for value in ("10.0.0.0/024", "10.0.0.0/255.255.255.0", "10.0.0.0", "10.0.0.0/24\n", 1):
        assert parse_ipv4_network(value) is None, value


def test_a_uuid_with_a_trailing_newline_is_no_uuid(mine: SignedClient) -> None:
    assert error_of(mine.get(f"/my/machines/{UUID}%0A")) == (
        409,
        "ValidationFailed",
        "Invalid Parameters",
    )
    assert mine.get(f"/my/machines/{UUID}").status_code == 404


def test_a_mac_with_a_trailing_newline_is_no_mac(mine: SignedClient) -> None:
    machine = create_machine(mine)
    nic = mine.get(f"/my/machines/{machine['id']}/nics").json()[0]
    mac = nic["mac"].replace(":", "")
    assert mine.get(f"/my/machines/{machine['id']}/nics/{mac}").status_code == 200
    assert error_of(mine.get(f"/my/machines/{machine['id']}/nics/{mac}%0A")) == (
        409,
        "InvalidArgument",
        "mac has invalid format",
    )


def test_a_memory_filter_with_a_trailing_newline_is_refused(mine: SignedClient) -> None:
    assert mine.get("/my/machines", params={"memory": "128"}).status_code == 200
    assert error_of(mine.get("/my/machines", params={"memory": "128\n"}))[:2] == (
        409,
        "ValidationFailed",
    )


def test_one_and_zero_are_not_booleans(mine: SignedClient) -> None:
    network = mine.get("/my/networks", params={"fabric": "true"}).json()[0]
    url = f"/my/networks/{network['id']}/ips/{network['provision_start_ip']}"
    for value in (1, 0, "True"):
        assert error_of(mine.request("PUT", url, json={"reserved": value})) == (
            409,
            "InvalidArgument",
            "reserved must be set to true or false",
        ), value
    assert mine.get(url).json()["reserved"] is False
    rule = {"rule": "FROM any TO all vms ALLOW tcp PORT 22"}
    refused = mine.post("/my/fwrules", json={**rule, "enabled": 1})
    assert refused.status_code == 422  # FWAPI's InvalidParameters, as CloudAPI passes it on
    assert "enabled must be true or false" in refused.text
    assert mine.post("/my/fwrules", json={**rule, "enabled": True}).json()["enabled"] is True


def network_body(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "strict-net",
        "subnet": "10.50.0.0/24",
        "provision_start_ip": "10.50.0.10",
        "provision_end_ip": "10.50.0.200",
        **overrides,
    }


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"resolvers": [167772161]}, 'property "resolvers": must be an array of IPv4 addresses'),
        ({"routes": {"10.60.0.0/16": 167772163}}, 'property "routes": invalid route'),
        ({"routes": {"10.60.0.0/016": "10.50.0.3"}}, 'property "routes": invalid route'),
        ({"subnet": "10.50.0.0/024"}, 'property "subnet": Subnet must be in CIDR form'),
        (
            {"subnet": "10.50.0.0/255.255.255.0"},
            'property "subnet": Subnet must be in CIDR form',
        ),
    ],
)
def test_addresses_are_dotted_quad_strings(
    mine: SignedClient, overrides: dict[str, Any], message: str
) -> None:
    refused = mine.post(f"{VLANS}/2/networks", json=network_body(**overrides))
    assert error_of(refused) == (409, "InvalidArgument", message)


def test_names_with_a_trailing_newline_are_refused(mine: SignedClient) -> None:
    # CloudAPI's patterns are JavaScript's, where "$" is the end; Python's "$" also matches
    # before a final newline.
    machine = create_machine(mine, name="strict-web")
    images = mine.get("/my/images", params={"name": "base-64-lts"}).json()
    image = max(images, key=lambda i: i["published_at"])["id"]
    made = mine.post("/my/machines", json={"image": image, "package": PACKAGE, "name": "web\n"})
    assert made.status_code == 409, made.text
    assert mine.get("/my/machines", params={"name": "strict-web\n"}).status_code == 409
    snapshots = f"/my/machines/{machine['id']}/snapshots"
    assert mine.post(snapshots, json={"name": "before\n"}).status_code == 409
    vlan = {"vlan_id": 3001, "name": "backend\n"}
    assert mine.post(VLANS, json=vlan).status_code == 409
    assert mine.post(VLANS, json={**vlan, "name": "backend"}).status_code == 201


def test_volume_names_are_ascii_as_in_javascript(mine: SignedClient) -> None:
    for name in ("data\n", "dáta"):
        refused = mine.post("/my/volumes", json={"name": name, "type": "tritonnfs"})
        assert error_of(refused)[:2] == (409, "InvalidArgument"), name
    made = mine.post("/my/volumes", json={"name": "strict-data", "type": "tritonnfs"})
    assert made.status_code == 201, made.text
