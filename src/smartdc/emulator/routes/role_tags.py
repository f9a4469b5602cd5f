"""SetRoleTags: ``PUT`` a ``role-tag`` list on the account, a collection or one resource
(sdc-cloudapi lib/resources.js). CloudAPI serves it on six routes, all authorized as the
``setroletags`` action; each keeps its upstream name as its variant."""

from __future__ import annotations

import json
from typing import Any

from smartdc.emulator.context import Call, EmulatorError, Reply, Route, cloudapi_route, not_found
from smartdc.emulator.rbac import resource_name
from smartdc.emulator.routes import machine_common
from smartdc.emulator.store import role_tags, roles, users
from smartdc.wire import ROLE_TAG_RESOURCES


def _requested_names(call: Call) -> list[str] | None:
    """The role names asked for: the ``role-tag`` parameter, else the header; ``None``: none."""
    value: Any = call.params.get("role-tag")
    if value is None:
        header = call.headers.get("role-tag")
        if header is None:
            return None
        return [n.strip() for n in header.split(",") if n.strip()]
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.startswith("[") else [value]
        except ValueError:
            value = [value]
    if not isinstance(value, list) or not all(isinstance(n, str) for n in value):
        raise EmulatorError(409, "InvalidArgument", "role-tag must be an array of role names")
    return list(value)


def _check_target(call: Call) -> None:
    kind = call.path_params.get("resource_name")
    if kind is not None and kind not in ROLE_TAG_RESOURCES:
        raise not_found(f"{kind} is not a valid resource")
    if kind == "users" and "resource_id" in call.path_params:
        users.user_or_404(call.db, call.account_uuid, call.path_params["resource_id"])
    if "user" in call.path_params:
        users.user_or_404(call.db, call.account_uuid, call.path_params["user"])
    if "id" in call.path_params:  # one machine
        machine_common.fetch(call)


def set_role_tags(call: Call) -> Reply:
    """200 ``{name, role-tag}``: the resource's name with the real login and its role names."""
    _check_target(call)
    name = resource_name(call.path, call.login)
    requested = _requested_names(call)
    if requested is not None:
        found = roles.roles_by_name(call.db, call.account_uuid, requested)
        role_tags.set_tags(call.db, call.account_uuid, name, [r["id"] for r in found])
    elif call.active_roles and not role_tags.tag_uuids(call.db, call.account_uuid, name):
        role_tags.set_tags(call.db, call.account_uuid, name, [r["id"] for r in call.active_roles])
    return Reply(
        200, {"name": name, "role-tag": role_tags.tag_names(call.db, call.account_uuid, name)}
    )


def _route(path: str, upstream: str) -> Route:
    return cloudapi_route(
        "SetRoleTags", set_role_tags, path=path, variant=upstream, summary="Set role tags"
    )


ROUTES = [
    _route("/{login}", "ReplaceAccountRoleTags"),
    _route("/{login}/{resource_name}", "ReplaceResourcesRoleTags"),
    _route("/{login}/users/{user}/{resource_name}", "ReplaceUserKeysResourcesRoleTags"),
    _route("/{login}/{resource_name}/{resource_id}", "ReplaceResourceRoleTags"),
    _route("/{login}/machines/{id}", "ReplaceMachineRoleTags"),
    _route("/{login}/users/{user}/keys/{resource_id}", "ReplaceUserKeysResourceRoleTags"),
]
