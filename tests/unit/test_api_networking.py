"""Networking requests: network IPs, fabric VLANs and networks, firewall rules, NICs."""

from __future__ import annotations

from typing import Any

import pytest

from smartdc.errors import CloudAPIError
from tests.conftest import TestKey
from tests.unit.cloudapi_mock import Recorder, make_api, reply
from tests.unit.test_api_operations import MACHINE, MID, NET, NO_CONTENT, Case, check_case

RULE_ID = "38de17c4-39e8-48c7-a168-0f58083de860"
RULE_TEXT = "FROM any TO all vms ALLOW tcp PORT 22"
RULE = {"id": RULE_ID, "rule": RULE_TEXT, "enabled": True}
VLAN = {"vlan_id": 42, "name": "backend"}
FABRIC_NET = {"id": NET, "name": "backend-net", "vlan_id": 42}
FABRICS = "/test/fabrics/default/vlans"
MAC = "90:b8:d0:2f:b8:f9"
NIC = {"mac": MAC, "ip": "10.0.0.5", "primary": False, "network": NET, "state": "provisioning"}
IP = {"ip": "10.0.0.5", "reserved": True, "managed": False}

CASES: dict[str, Case] = {
    # network IPs
    "list_network_ips": Case(
        lambda a: a.list_network_ips(NET, limit=50, offset=100),
        "GET",
        f"/test/networks/{NET}/ips",
        query=[("limit", "50"), ("offset", "100")],
        answer=reply(200, [IP]),
        returns=[IP],
    ),
    "list_network_ips first page": Case(
        lambda a: a.list_network_ips({"id": NET}), "GET", f"/test/networks/{NET}/ips"
    ),
    "get_network_ip": Case(
        lambda a: a.get_network_ip(NET, "10.0.0.5"),
        "GET",
        f"/test/networks/{NET}/ips/10.0.0.5",
        answer=reply(200, IP),
        returns=IP,
    ),
    "update_network_ip": Case(
        lambda a: a.update_network_ip(NET, IP, reserved=False),
        "PUT",
        f"/test/networks/{NET}/ips/10.0.0.5",
        body={"reserved": False},
    ),
    # fabric VLANs
    "list_fabric_vlans": Case(
        lambda a: a.list_fabric_vlans(), "GET", FABRICS, answer=reply(200, [VLAN]), returns=[VLAN]
    ),
    "create_fabric_vlan": Case(
        lambda a: a.create_fabric_vlan(vlan_id=42, name="backend", description="db tier"),
        "POST",
        FABRICS,
        body={"vlan_id": 42, "name": "backend", "description": "db tier"},
        answer=reply(201, VLAN),
        returns=VLAN,
    ),
    "get_fabric_vlan": Case(lambda a: a.get_fabric_vlan(42), "GET", f"{FABRICS}/42"),
    "update_fabric_vlan answers 202 with the VLAN": Case(
        lambda a: a.update_fabric_vlan(VLAN, description="renamed"),
        "PUT",
        f"{FABRICS}/42",
        body={"description": "renamed"},
        answer=reply(202, {**VLAN, "description": "renamed"}),
        returns={**VLAN, "description": "renamed"},
    ),
    "delete_fabric_vlan": Case(
        lambda a: a.delete_fabric_vlan(42),
        "DELETE",
        f"{FABRICS}/42",
        answer=NO_CONTENT,
        returns=None,
    ),
    # fabric networks
    "list_fabric_networks": Case(
        lambda a: a.list_fabric_networks(VLAN),
        "GET",
        f"{FABRICS}/42/networks",
        answer=reply(200, [FABRIC_NET]),
        returns=[FABRIC_NET],
    ),
    "create_fabric_network": Case(
        lambda a: a.create_fabric_network(
            42,
            name="backend-net",
            subnet="10.50.0.0/24",
            provision_start_ip="10.50.0.10",
            provision_end_ip="10.50.0.250",
            gateway="10.50.0.1",
            resolvers=["8.8.8.8"],
            routes={"10.60.0.0/16": "10.50.0.2"},
            internet_nat=False,
        ),
        "POST",
        f"{FABRICS}/42/networks",
        body={
            "name": "backend-net",
            "subnet": "10.50.0.0/24",
            "provision_start_ip": "10.50.0.10",
            "provision_end_ip": "10.50.0.250",
            "gateway": "10.50.0.1",
            "resolvers": ["8.8.8.8"],
            "routes": {"10.60.0.0/16": "10.50.0.2"},
            "internet_nat": False,
        },
        answer=reply(201, FABRIC_NET),
        returns=FABRIC_NET,
    ),
    "get_fabric_network": Case(
        lambda a: a.get_fabric_network(42, NET), "GET", f"{FABRICS}/42/networks/{NET}"
    ),
    "update_fabric_network": Case(
        lambda a: a.update_fabric_network(FABRIC_NET, FABRIC_NET, resolvers=[]),
        "PUT",
        f"{FABRICS}/42/networks/{NET}",
        body={"resolvers": []},
    ),
    "delete_fabric_network": Case(
        lambda a: a.delete_fabric_network(42, NET),
        "DELETE",
        f"{FABRICS}/42/networks/{NET}",
        answer=NO_CONTENT,
        returns=None,
    ),
    # firewall rules
    "list_firewall_rules": Case(
        lambda a: a.list_firewall_rules(),
        "GET",
        "/test/fwrules",
        answer=reply(200, [RULE]),
        returns=[RULE],
    ),
    "get_firewall_rule": Case(
        lambda a: a.get_firewall_rule(RULE), "GET", f"/test/fwrules/{RULE_ID}"
    ),
    "create_firewall_rule": Case(
        lambda a: a.create_firewall_rule(RULE_TEXT, enabled=True, description="ssh"),
        "POST",
        "/test/fwrules",
        body={"rule": RULE_TEXT, "enabled": True, "description": "ssh"},
        answer=reply(201, RULE),
        returns=RULE,
    ),
    "update_firewall_rule": Case(
        lambda a: a.update_firewall_rule(RULE_ID, enabled=False, log=True),
        "POST",
        f"/test/fwrules/{RULE_ID}",
        body={"enabled": False, "log": True},
    ),
    "enable_firewall_rule": Case(
        lambda a: a.enable_firewall_rule(RULE_ID),
        "POST",
        f"/test/fwrules/{RULE_ID}/enable",
        answer=reply(200, RULE),
        returns=RULE,
    ),
    "disable_firewall_rule": Case(
        lambda a: a.disable_firewall_rule(RULE), "POST", f"/test/fwrules/{RULE_ID}/disable"
    ),
    "delete_firewall_rule": Case(
        lambda a: a.delete_firewall_rule(RULE_ID),
        "DELETE",
        f"/test/fwrules/{RULE_ID}",
        answer=NO_CONTENT,
        returns=None,
    ),
    "list_firewall_rule_machines": Case(
        lambda a: a.list_firewall_rule_machines(RULE_ID),
        "GET",
        f"/test/fwrules/{RULE_ID}/machines",
        answer=reply(200, [MACHINE]),
        returns=[MACHINE],
    ),
    "list_machine_firewall_rules": Case(
        lambda a: a.list_machine_firewall_rules(MACHINE),
        "GET",
        f"/test/machines/{MID}/fwrules",
        answer=reply(200, [RULE]),
        returns=[RULE],
    ),
    # NICs
    "list_nics": Case(
        lambda a: a.list_nics(MID),
        "GET",
        f"/test/machines/{MID}/nics",
        answer=reply(200, [NIC]),
        returns=[NIC],
    ),
    "get_nic sends the MAC without colons": Case(
        lambda a: a.get_nic(MID, "90:B8:D0:2F:B8:F9"),
        "GET",
        f"/test/machines/{MID}/nics/90b8d02fb8f9",
        answer=reply(200, NIC),
        returns=NIC,
    ),
    "add_nic": Case(
        lambda a: a.add_nic(MACHINE, {"id": NET}, primary=True),
        "POST",
        f"/test/machines/{MID}/nics",
        body={"network": NET, "primary": True},
        answer=reply(201, NIC, {"location": f"/test/machines/{MID}/nics/90b8d02fb8f9"}),
        returns=NIC,
    ),
    "add_nic with a chosen IP": Case(
        lambda a: a.add_nic(MID, {"ipv4_uuid": NET, "ipv4_ips": ["10.0.0.9"]}),
        "POST",
        f"/test/machines/{MID}/nics",
        body={"network": {"ipv4_uuid": NET, "ipv4_ips": ["10.0.0.9"]}},
    ),
    "remove_nic": Case(
        lambda a: a.remove_nic(MID, NIC),
        "DELETE",
        f"/test/machines/{MID}/nics/90b8d02fb8f9",
        answer=NO_CONTENT,
        returns=None,
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_networking_operation_sends_the_documented_request(
    keys: dict[str, TestKey], case: Case
) -> None:
    check_case(keys["rsa"], case)


def test_add_nic_on_a_network_the_machine_is_already_on_returns_that_nic(
    keys: dict[str, TestKey],
) -> None:
    location = f"/test/machines/{MID}/nics/90b8d02fb8f9"
    recorder = Recorder().add(reply(302, None, {"location": location}), reply(200, NIC))
    with make_api(keys["rsa"], recorder) as api:
        assert api.add_nic(MID, NET) == NIC
    assert [(r.method, r.url.path) for r in recorder.requests] == [
        ("POST", f"/test/machines/{MID}/nics"),
        ("GET", location),
    ]


def test_add_nic_redirect_without_location_is_an_error(keys: dict[str, TestKey]) -> None:
    recorder = Recorder().add(reply(302))
    with make_api(keys["rsa"], recorder) as api, pytest.raises(CloudAPIError, match="Location"):
        api.add_nic(MID, NET)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda a: a.get_network_ip(NET, ""), ValueError, "empty"),
        (lambda a: a.update_network_ip(NET, "10.0.0.5", reserved="yes"), TypeError, "reserved"),
        (lambda a: a.get_fabric_vlan("42"), TypeError, "VLAN id"),
        (lambda a: a.get_fabric_vlan(True), TypeError, "VLAN id"),
        (lambda a: a.list_fabric_networks({"name": "x"}), TypeError, "vlan_id"),
        (lambda a: a.update_fabric_vlan(42), ValueError, "name or description"),
        (lambda a: a.update_fabric_network(42, NET), ValueError, "at least one field"),
        (lambda a: a.create_firewall_rule("  "), ValueError, "rule text"),
        (lambda a: a.update_firewall_rule(RULE_ID), ValueError, "at least one field"),
        (lambda a: a.get_nic(MID, "90:b8:d0"), ValueError, "MAC address"),
        (lambda a: a.remove_nic(MID, {"ip": "10.0.0.5"}), TypeError, "'mac'"),
    ],
)
def test_bad_networking_arguments_are_refused_before_sending(
    keys: dict[str, TestKey], call: Any, error: type[Exception], message: str
) -> None:
    recorder = Recorder()
    with make_api(keys["rsa"], recorder) as api, pytest.raises(error, match=message):
        call(api)
    assert recorder.requests == []
