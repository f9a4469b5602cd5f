"""CloudAPI offers one method per CloudAPI operation, documented and request-tested."""

from __future__ import annotations

import inspect
import re

import pytest

from smartdc import CloudAPI
from smartdc.operations import OPERATIONS, Operation
from tests.unit import test_api_compute, test_api_networking, test_api_operations, test_api_rbac

#: Operations whose requests are checked outside the case tables, and where.
TESTED_ELSEWHERE = {
    "list_machines": "test_api_machines.py: paging and filters",
    # WebSocket routes send no request; their signed URL and headers are checked instead.
    "connect_machine_vnc": "test_api_compute.py: signature verified over the exact path",
    "get_changefeed": "test_api_compute.py: signature verified over the exact path",
}

_WORD = re.compile(r"[A-Z]{2,}s(?=[A-Z]|$)|[A-Z]{2,}(?=[A-Z][a-z]|$)|[A-Z][a-z0-9]*")


def method_name(operation_name: str) -> str:
    """snake_case of an operation name, acronyms whole: ListFabricVLANs -> list_fabric_vlans."""
    return "_".join(word.lower() for word in _WORD.findall(operation_name))


def test_method_names_follow_the_naming_rule() -> None:
    assert method_name("ListFabricVLANs") == "list_fabric_vlans"
    assert method_name("GetNetworkIP") == "get_network_ip"
    assert method_name("ListNetworkIPs") == "list_network_ips"
    assert method_name("ConnectMachineVNC") == "connect_machine_vnc"
    assert method_name("CreateUserAccessKey") == "create_user_access_key"
    assert method_name("AddNic") == "add_nic"


@pytest.mark.parametrize("operation", OPERATIONS, ids=[op.name for op in OPERATIONS])
def test_every_operation_has_a_method_documented_with_its_name_and_route(
    operation: Operation,
) -> None:
    method = getattr(CloudAPI, method_name(operation.name), None)
    assert callable(method), f"CloudAPI has no {method_name(operation.name)}()"
    doc = inspect.getdoc(method) or ""
    assert doc.startswith(f"{operation.name}:"), doc[:80]
    route = f"{operation.method} {operation.path}"
    if operation.name == "SetRoleTags":  # the route is the tagged resource's own path
        route = "PUT /:account/<resource>"
    assert route in doc


def test_every_operation_method_is_checked_against_its_request() -> None:
    tables = [
        test_api_operations.CASES,
        test_api_rbac.CASES,
        test_api_networking.CASES,
        test_api_compute.CASES,
    ]
    checked = {name.split(" ")[0] for table in tables for name in table} | set(TESTED_ELSEWHERE)
    wanted = {method_name(op.name) for op in OPERATIONS}
    assert wanted - checked == set()
    assert checked - wanted - {"watch_migration"} == set()
