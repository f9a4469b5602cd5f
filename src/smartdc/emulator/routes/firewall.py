"""Firewall rule routes: the account's rules in this datacenter, as FWAPI keeps
them, and the machines each rule applies to."""

from __future__ import annotations

from typing import Any

from smartdc.emulator.context import (
    Call,
    Reply,
    cloudapi_route,
    invalid_argument,
    missing_parameter,
    validation_failed,
)
from smartdc.emulator.paging import RESOURCE_COUNT_HEADER
from smartdc.emulator.params import is_uuid
from smartdc.emulator.routes.machine_common import owner, present
from smartdc.emulator.store import firewall, machines


def _scope(call: Call) -> firewall.Scope:
    return firewall.Scope(call.account_uuid, call.datacenter)


def _rule_id(call: Call) -> str:
    return call.path_params["id"]


def _given(value: Any) -> bool:
    """CloudAPI's truthiness test for optional create parameters."""
    return value not in (None, "", False, 0)


def list_rules(call: Call) -> Reply:
    """ListFirewallRules: the account's rules and the datacenter's global ones."""
    return Reply(200, firewall.list_rules(call.db, _scope(call)))


def get_rule(call: Call) -> Reply:
    """GetFirewallRule: 404 when missing, 403 ``Forbidden`` for another account's rule."""
    return Reply(200, firewall.get_rule(call.db, _scope(call), _rule_id(call)))


def create_rule(call: Call) -> Reply:
    """CreateFirewallRule: 201 with the rule (no ``Location``); ``enabled`` and ``log``
    default to false; bad rule text is FWAPI's 422 ``InvalidParameters``."""
    params = call.params
    if not _given(params.get("rule")):
        raise missing_parameter("rule is a required argument")
    enabled = params.get("enabled")
    log = params.get("log")
    description = params.get("description")
    rule = firewall.create_rule(
        call.db,
        _scope(call),
        params["rule"],
        enabled=enabled if _given(enabled) else False,
        log=log if _given(log) else False,
        description=description if _given(description) else None,
        now=call.now,
    )
    return Reply(201, rule)


def update_rule(call: Call) -> Reply:
    """UpdateFirewallRule: set any of ``rule``, ``enabled``, ``log``, ``description``;
    409 ``InvalidArgument`` for a global rule."""
    scope = _scope(call)
    rule_id = _rule_id(call)
    if firewall.is_global(call.db, scope, rule_id):
        raise invalid_argument("global rules cannot be modified")
    params = call.params
    changes = firewall.RuleChanges(
        rule=params.get("rule"),
        enabled=params.get("enabled"),
        log=params.get("log"),
        description=params.get("description"),
    )
    return Reply(200, firewall.update_rule(call.db, scope, rule_id, changes, now=call.now))


def _set_enabled(call: Call, enabled: bool) -> Reply:
    changes = firewall.RuleChanges(enabled=enabled)
    return Reply(
        200, firewall.update_rule(call.db, _scope(call), _rule_id(call), changes, now=call.now)
    )


def enable_rule(call: Call) -> Reply:
    """EnableFirewallRule: 200 with the rule; 403 for a global rule."""
    return _set_enabled(call, True)


def disable_rule(call: Call) -> Reply:
    """DisableFirewallRule: 200 with the rule; 403 for a global rule."""
    return _set_enabled(call, False)


def delete_rule(call: Call) -> Reply:
    """DeleteFirewallRule: 204; 403 for a global rule."""
    firewall.delete_rule(call.db, _scope(call), _rule_id(call))
    return Reply(204)


def list_machine_rules(call: Call) -> Reply:
    """ListMachineFirewallRules: every rule naming the machine (deleted machines too)."""
    machine_id = call.path_params["instance_id"]
    if not is_uuid(machine_id):
        raise validation_failed([{"field": "uuid", "code": "Invalid", "message": "Invalid UUID"}])
    machine = machines.get_machine(call.db, owner(call), machine_id, call.now)
    rules = firewall.rules_for_machine(call.db, _scope(call), machine["id"], machine["tags"])
    return Reply(200, rules)


def list_rule_machines(call: Call) -> Reply:
    """ListFirewallRuleMachines: the account's live machines the rule applies to, with
    ``x-resource-count``."""
    rule = firewall.parsed_rule(call.db, _scope(call), _rule_id(call))
    found = machines.list_machines(call.db, owner(call), machines.MachineQuery(), call.now)
    applied = [present(call, m) for m in found if rule.affects(m["id"], m["tags"])]
    return Reply(200, applied, {RESOURCE_COUNT_HEADER: str(len(applied))})


ROUTES = [
    cloudapi_route("ListFirewallRules", list_rules, head=True, summary="List firewall rules"),
    cloudapi_route("GetFirewallRule", get_rule, head=True, summary="Get a firewall rule"),
    cloudapi_route("CreateFirewallRule", create_rule, summary="Create a firewall rule"),
    cloudapi_route("UpdateFirewallRule", update_rule, summary="Update a firewall rule"),
    cloudapi_route("EnableFirewallRule", enable_rule, summary="Enable a firewall rule"),
    cloudapi_route("DisableFirewallRule", disable_rule, summary="Disable a firewall rule"),
    cloudapi_route("DeleteFirewallRule", delete_rule, summary="Delete a firewall rule"),
    cloudapi_route(
        "ListMachineFirewallRules",
        list_machine_rules,
        head=True,
        summary="List the firewall rules of a machine",
    ),
    cloudapi_route(
        "ListFirewallRuleMachines",
        list_rule_machines,
        head=True,
        summary="List the machines a firewall rule applies to",
    ),
]
