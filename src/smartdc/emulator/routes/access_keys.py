"""Access key routes, the account's and a sub-user's (sdc-cloudapi lib/endpoints/accesskeys.js),
plus the update that node-triton 7.18's ``triton accesskey update`` sends
(``POST .../accesskeys/:accesskeyid`` with ``status`` and/or ``description``), which CloudAPI's
operation list leaves out."""

from __future__ import annotations

from smartdc.emulator.context import Call, Reply, Route, cloudapi_route
from smartdc.emulator.routes.keys import KEY_BODY_TYPES
from smartdc.emulator.store import access_keys, users


def _owner(call: Call) -> str | None:
    """The sub-user the path names (its UUID), or ``None`` for the account's own keys."""
    if "user" not in call.path_params:
        return None
    return str(users.user_or_404(call.db, call.account_uuid, call.path_params["user"])["id"])


def _collection(call: Call) -> str:
    if "user" not in call.path_params:
        return f"/{call.login}/accesskeys"
    return f"/{call.login}/users/{call.path_params['user']}/accesskeys"


def list_access_keys(call: Call) -> Reply:
    """ListAccessKeys / ListUserAccessKeys: the keys, without secrets."""
    return Reply(200, access_keys.list_keys(call.db, call.account_uuid, _owner(call)))


def get_access_key(call: Call) -> Reply:
    """GetAccessKey / GetUserAccessKey: one key, without its secret."""
    key = access_keys.get_key(
        call.db, call.account_uuid, _owner(call), call.path_params["accesskeyid"]
    )
    return Reply(200, key)


def create_access_key(call: Call) -> Reply:
    """CreateAccessKey / CreateUserAccessKey: 201 with the key and its secret."""
    key = access_keys.create_key(
        call.db, call.account_uuid, _owner(call), call.params, now=call.now
    )
    return Reply(201, key, {"Location": f"{_collection(call)}/{key['accesskeyid']}"})


def update_access_key(call: Call) -> Reply:
    """UpdateAccessKey / UpdateUserAccessKey: ``status`` and/or ``description``."""
    key = access_keys.update_key(
        call.db,
        call.account_uuid,
        _owner(call),
        call.path_params["accesskeyid"],
        call.params,
        now=call.now,
    )
    location = f"{_collection(call)}/{key['accesskeyid']}"
    return Reply(200, key, {"Location": location})


def delete_access_key(call: Call) -> Reply:
    """DeleteAccessKey / DeleteUserAccessKey: 204."""
    access_keys.delete_key(
        call.db, call.account_uuid, _owner(call), call.path_params["accesskeyid"]
    )
    return Reply(204)


ROUTES = [
    cloudapi_route("ListAccessKeys", list_access_keys, head=True, summary="List access keys"),
    cloudapi_route("GetAccessKey", get_access_key, head=True, summary="Get an access key"),
    cloudapi_route(
        "CreateAccessKey",
        create_access_key,
        content_types=KEY_BODY_TYPES,
        summary="Create an access key",
    ),
    Route(
        "UpdateAccessKey",
        "POST",
        "/{login}/accesskeys/{accesskeyid}",
        update_access_key,
        summary="Update an access key's status or description",
        content_types=("application/json",),
    ),
    cloudapi_route("DeleteAccessKey", delete_access_key, summary="Delete an access key"),
    cloudapi_route(
        "ListUserAccessKeys", list_access_keys, head=True, summary="List a user's access keys"
    ),
    cloudapi_route(
        "GetUserAccessKey", get_access_key, head=True, summary="Get a user's access key"
    ),
    cloudapi_route(
        "CreateUserAccessKey",
        create_access_key,
        content_types=KEY_BODY_TYPES,
        summary="Create an access key for a user",
    ),
    Route(
        "UpdateUserAccessKey",
        "POST",
        "/{login}/users/{user}/accesskeys/{accesskeyid}",
        update_access_key,
        summary="Update a user's access key",
        content_types=KEY_BODY_TYPES,
    ),
    cloudapi_route("DeleteUserAccessKey", delete_access_key, summary="Delete a user's access key"),
]
