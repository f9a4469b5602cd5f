"""The RBAC actions CloudAPI authorizes operations as (sdc-cloudapi route names)."""

from __future__ import annotations

import re

import pytest

from smartdc.emulator.rbac_actions import (
    HEAD_ACTIONS,
    RBAC_ACTIONS,
    SET_ROLE_TAGS_ACTION,
    machine_action,
    rbac_action,
    role_tag_action,
    role_tag_route,
)
from smartdc.operations import OPERATIONS


def test_every_operation_has_an_explicit_action() -> None:
    missing = [op.name for op in OPERATIONS if op.name not in RBAC_ACTIONS]
    assert missing == []


def test_actions_look_like_restify_route_names() -> None:
    for operation, action in RBAC_ACTIONS.items():
        assert re.fullmatch(r"[a-z0-9_]+", action), (operation, action)
    for operation, action in HEAD_ACTIONS.items():
        assert re.fullmatch(r"[a-z0-9_]+", action), (operation, action)


def test_head_actions_only_for_get_operations() -> None:
    methods = {op.name: op.method for op in OPERATIONS}
    for operation in HEAD_ACTIONS:
        assert methods[operation] == "GET", operation


@pytest.mark.parametrize(
    ("operation", "action"),
    [
        ("ListMachines", "listmachines"),
        ("UpdateMachineMetadata", "addmachinemetadata"),
        ("GetAccountLimits", "getprovisioninglimits"),
        ("GetChangefeed", "changefeed"),
        ("StartMachine", "startmachine"),
        ("EnableMachineFirewall", "enablemachinefirewall"),
        ("EnableMachineDeletionProtection", "enable_deletion_protectionmachine"),
        ("DisableMachineDeletionProtection", "disable_deletion_protectionmachine"),
        ("CloneImage", "updateimage"),
        ("ExportImage", "updateimage"),
        ("ImportImageFromDatacenter", "createimagefrommachine"),
        ("SetRoleTags", "setroletags"),
        ("Ping", "getaccount"),
        ("UpdateAccessKey", "updateaccesskey"),
    ],
)
def test_odd_actions(operation: str, action: str) -> None:
    assert rbac_action(operation) == action


def test_machine_actions_match_the_action_parameter_rule() -> None:
    selected = [op for op in OPERATIONS if op.route_path == "/:login/machines/:id" and op.action]
    assert len(selected) == 9
    for op in selected:
        assert rbac_action(op.name, op.method) == machine_action(op.action)


def test_machine_action_for_unknown_and_missing_actions() -> None:
    assert machine_action("explode") == "explodemachine"
    assert machine_action(None) == "undefinedmachine"
    assert machine_action("disable_firewall") == "disablemachinefirewall"


@pytest.mark.parametrize(
    ("operation", "action"),
    [
        ("ListMachines", "headmachines"),
        ("MachineAudit", "headaudit"),
        ("ListMachineTags", "headmachinetags"),
        ("ListNics", "listnics"),
        ("GetMachineDisk", "getmachinedisk"),
        ("GetFabricVLAN", "getfabricvlan"),
        ("ListUsers", "headusers"),
    ],
)
def test_head_actions(operation: str, action: str) -> None:
    assert rbac_action(operation, "HEAD") == action
    assert rbac_action(operation, "head") == action


def test_head_without_upstream_route_falls_back_to_get_action() -> None:
    assert "GetMachineMetadata" not in HEAD_ACTIONS
    assert rbac_action("GetMachineMetadata", "HEAD") == "getmachinemetadata"


def test_other_methods_use_the_operations_action() -> None:
    assert rbac_action("DeleteMachine", "DELETE") == "deletemachine"
    assert rbac_action("SetRoleTags", "PUT") == SET_ROLE_TAGS_ACTION


def test_unknown_operation_is_its_name_in_lower_case() -> None:
    assert rbac_action("ListWidgets") == "listwidgets"


@pytest.mark.parametrize(
    ("path", "route"),
    [
        ("/my", "replaceaccountroletags"),
        ("/bob/machines", "replaceresourcesroletags"),
        ("/bob/machines?as-role=ops", "replaceresourcesroletags"),
        ("/bob/machines/6b1a5b2e-53d3-4d6b-a3a1-8f0e8f5c3c11", "replaceresourceroletags"),
        ("/bob/users/alice", "replaceresourceroletags"),
        ("/bob/users/alice/keys", "replaceuserkeysresourcesroletags"),
        ("/bob/users/alice/keys/aa:bb", "replaceuserkeysresourceroletags"),
        ("/bob/config", None),
        ("/bob/machines/6b1a5b2e/tags", None),
        ("/bob/networks/n1/ips/10.0.0.5", None),
        ("/bob/users/alice/accesskeys/K1", None),
        ("/bob/fabrics/default/vlans/2/networks/x", None),
    ],
)
def test_role_tag_route_by_path_shape(path: str, route: str | None) -> None:
    assert role_tag_route(path) == route
    assert role_tag_action(path) == (SET_ROLE_TAGS_ACTION if route else None)
