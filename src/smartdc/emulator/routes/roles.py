"""RBAC role and policy routes (sdc-cloudapi lib/roles.js and lib/policies.js)."""

from __future__ import annotations

from smartdc.emulator.context import Call, Reply, cloudapi_route
from smartdc.emulator.routes.keys import KEY_BODY_TYPES
from smartdc.emulator.store import policies, roles
from smartdc.emulator.versions import entirely_below


def _v9(call: Call) -> bool:
    """Whether the request's range gets API 9's role shape (members and policies as objects)."""
    return not entirely_below(call.version_range, "9.0.0")


def list_roles(call: Call) -> Reply:
    """ListRoles: every role of the account."""
    return Reply(200, roles.list_roles(call.db, call.account_uuid, v9=_v9(call)))


def get_role(call: Call) -> Reply:
    """GetRole: by UUID or name."""
    doc = roles.role_or_404(call.db, call.account_uuid, call.path_params["role"])
    return Reply(200, roles.render_role(call.db, doc, v9=_v9(call)))


def create_role(call: Call) -> Reply:
    """CreateRole: 201 with the role and ``Location: /<account>/roles/<id>``."""
    role = roles.create_role(call.db, call.account_uuid, call.params, v9=_v9(call))
    return Reply(201, role, {"Location": f"/{call.login}/roles/{role['id']}"})


def update_role(call: Call) -> Reply:
    """UpdateRole: each of ``name``, ``members``, ``policies`` given replaces the old value."""
    role = roles.update_role(
        call.db, call.account_uuid, call.path_params["role"], call.params, v9=_v9(call)
    )
    return Reply(200, role)


def delete_role(call: Call) -> Reply:
    """DeleteRole: 204; role tags naming it disappear."""
    roles.delete_role(call.db, call.account_uuid, call.path_params["role"])
    return Reply(204)


def list_policies(call: Call) -> Reply:
    """ListPolicies: every policy of the account."""
    return Reply(200, policies.list_policies(call.db, call.account_uuid))


def get_policy(call: Call) -> Reply:
    """GetPolicy: by UUID or name."""
    doc = policies.policy_or_404(call.db, call.account_uuid, call.path_params["policy"])
    return Reply(200, policies.render_policy(doc))


def create_policy(call: Call) -> Reply:
    """CreatePolicy: 201 with the policy and ``Location: /<account>/policies/<id>``."""
    policy = policies.create_policy(call.db, call.account_uuid, call.params)
    return Reply(201, policy, {"Location": f"/{call.login}/policies/{policy['id']}"})


def update_policy(call: Call) -> Reply:
    """UpdatePolicy: ``name``, ``rules``, ``description`` (``""`` removes it)."""
    policy = policies.update_policy(
        call.db, call.account_uuid, call.path_params["policy"], call.params
    )
    return Reply(200, policy)


def delete_policy(call: Call) -> Reply:
    """DeletePolicy: 204; roles lose the policy."""
    policies.delete_policy(call.db, call.account_uuid, call.path_params["policy"])
    return Reply(204)


ROUTES = [
    cloudapi_route("ListRoles", list_roles, head=True, summary="List roles"),
    cloudapi_route("GetRole", get_role, head=True, summary="Get a role"),
    cloudapi_route(
        "CreateRole", create_role, content_types=KEY_BODY_TYPES, summary="Create a role"
    ),
    cloudapi_route("UpdateRole", update_role, summary="Update a role"),
    cloudapi_route("DeleteRole", delete_role, summary="Delete a role"),
    cloudapi_route("ListPolicies", list_policies, head=True, summary="List policies"),
    cloudapi_route("GetPolicy", get_policy, head=True, summary="Get a policy"),
    cloudapi_route(
        "CreatePolicy", create_policy, content_types=KEY_BODY_TYPES, summary="Create a policy"
    ),
    cloudapi_route("UpdatePolicy", update_policy, summary="Update a policy"),
    cloudapi_route("DeletePolicy", delete_policy, summary="Delete a policy"),
]
