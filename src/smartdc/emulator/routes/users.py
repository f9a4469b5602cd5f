"""RBAC sub-user routes: ListUsers, GetUser, CreateUser, UpdateUser, ChangeUserPassword,
DeleteUser (sdc-cloudapi lib/users.js)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from smartdc.emulator.context import Call, Reply, cloudapi_route
from smartdc.emulator.routes.keys import KEY_BODY_TYPES
from smartdc.emulator.store import roles, users


def _truthy(value: Any) -> bool:
    """JavaScript truthiness, as CloudAPI tests ``membership`` (``"false"`` counts)."""
    return bool(value) and value != 0


def list_users(call: Call) -> Reply:
    """ListUsers: every sub-user of the account."""
    return Reply(200, users.list_users(call.db, call.account_uuid))


def get_user(call: Call) -> Reply:
    """GetUser: by login or UUID; ``membership`` adds ``roles`` and ``default_roles``."""
    doc = users.user_or_404(call.db, call.account_uuid, call.path_params["user"])
    membership: tuple[list[str], list[str]] | None = None
    if _truthy(call.params.get("membership")):
        held = roles.roles_of_member(call.db, doc["id"])
        membership = (
            [role["name"] for role, _ in held],
            [role["name"] for role, is_default in held if is_default],
        )
    return Reply(200, users.render_user(doc, membership))


def create_user(call: Call) -> Reply:
    """CreateUser: 201 with the user and ``Location: /<account>/users/<login>``."""
    user = users.create_user(call.db, call.account_uuid, call.params, now=call.now)
    return Reply(201, user, {"Location": f"/{call.login}/users/{quote(user['login'], safe='')}"})


def update_user(call: Call) -> Reply:
    """UpdateUser: ``login``, ``email`` and profile fields (not the password)."""
    user = users.update_user(
        call.db, call.account_uuid, call.path_params["id"], call.params, now=call.now
    )
    return Reply(200, user)


def change_user_password(call: Call) -> Reply:
    """ChangeUserPassword: ``password`` and a matching ``password_confirmation``."""
    user = users.change_password(
        call.db,
        call.account_uuid,
        call.path_params["user"],
        call.params,
        now=call.now,
    )
    return Reply(200, user)


def delete_user(call: Call) -> Reply:
    """DeleteUser: 204; its keys, access keys and memberships go with it."""
    users.delete_user(call.db, call.account_uuid, call.path_params["user"])
    return Reply(204)


ROUTES = [
    cloudapi_route("ListUsers", list_users, head=True, summary="List sub-users"),
    cloudapi_route("GetUser", get_user, head=True, summary="Get a sub-user"),
    cloudapi_route(
        "CreateUser", create_user, content_types=KEY_BODY_TYPES, summary="Create a sub-user"
    ),
    cloudapi_route("UpdateUser", update_user, summary="Update a sub-user"),
    cloudapi_route(
        "ChangeUserPassword", change_user_password, summary="Change a sub-user's password"
    ),
    cloudapi_route("DeleteUser", delete_user, summary="Delete a sub-user"),
]
