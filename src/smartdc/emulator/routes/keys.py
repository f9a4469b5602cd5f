"""SSH key routes: the account's (ListKeys, GetKey, CreateKey, DeleteKey) and a sub-user's
(ListUserKeys, GetUserKey, CreateUserKey, DeleteUserKey; API 7.2.0 and later)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from smartdc.emulator.context import (
    Call,
    Reply,
    cloudapi_route,
    invalid_argument,
    missing_parameter,
    not_found,
)
from smartdc.emulator.store import accounts, users

#: CloudAPI's create routes for keys refuse other body types (notably form encoding).
KEY_BODY_TYPES = (
    "multipart/form-data",
    "application/octet-stream",
    "application/json",
    "text/plain",
)


@dataclass(frozen=True)
class _Ring:
    """Whose keys a request is about: the owner's UUID, its table and its collection path."""

    owner_uuid: str
    table: accounts.KeyTable
    path: str


def _account_ring(call: Call) -> _Ring:
    return _Ring(call.account_uuid, accounts.ACCOUNT_KEYS, f"/{call.login}/keys")


def _user_ring(call: Call) -> _Ring:
    user = users.user_or_404(call.db, call.account_uuid, call.path_params["user"])
    return _Ring(user["id"], accounts.USER_KEYS, f"/{call.login}/users/{user['login']}/keys")


def _key_or_404(call: Call, ring: _Ring) -> dict[str, object]:
    name = call.path_params["key"]
    key = accounts.get_key(call.db, ring.owner_uuid, name, table=ring.table)
    if key is None:
        raise not_found(f"{name} does not exist")
    return key


def _list(call: Call, ring: _Ring) -> Reply:
    return Reply(200, accounts.list_keys(call.db, ring.owner_uuid, table=ring.table))


def _get(call: Call, ring: _Ring) -> Reply:
    return Reply(200, _key_or_404(call, ring))


def _create(call: Call, ring: _Ring) -> Reply:
    """201 with the key and its ``Location`` (fingerprint URL-encoded)."""
    line = call.params.get("key")
    if line is None or line == "":
        raise missing_parameter("key is a required argument")
    if not isinstance(line, str):
        raise invalid_argument("key must be a String")
    name = call.params.get("name")
    key = accounts.add_key(
        call.db,
        ring.owner_uuid,
        line,
        str(name) if name else None,
        now=call.now,
        table=ring.table,
    )
    location = f"{ring.path}/{quote(str(key['fingerprint']), safe='')}"
    return Reply(201, key, {"Location": location})


def _delete(call: Call, ring: _Ring) -> Reply:
    """204, or 404 for a key the owner does not have."""
    key = _key_or_404(call, ring)
    accounts.delete_key(call.db, ring.owner_uuid, str(key["fingerprint"]), table=ring.table)
    return Reply(204)


def list_keys(call: Call) -> Reply:
    """ListKeys: every key on the account."""
    return _list(call, _account_ring(call))


def get_key(call: Call) -> Reply:
    """GetKey: one key by name or MD5 fingerprint."""
    return _get(call, _account_ring(call))


def create_key(call: Call) -> Reply:
    """CreateKey: add a key to the account."""
    return _create(call, _account_ring(call))


def delete_key(call: Call) -> Reply:
    """DeleteKey: remove a key from the account."""
    return _delete(call, _account_ring(call))


def list_user_keys(call: Call) -> Reply:
    """ListUserKeys: every key of a sub-user (login or UUID in the path)."""
    return _list(call, _user_ring(call))


def get_user_key(call: Call) -> Reply:
    """GetUserKey: one of a sub-user's keys by name or MD5 fingerprint."""
    return _get(call, _user_ring(call))


def create_user_key(call: Call) -> Reply:
    """CreateUserKey: add a key to a sub-user."""
    return _create(call, _user_ring(call))


def delete_user_key(call: Call) -> Reply:
    """DeleteUserKey: remove one of a sub-user's keys."""
    return _delete(call, _user_ring(call))


ROUTES = [
    cloudapi_route("ListKeys", list_keys, head=True, summary="List SSH keys"),
    cloudapi_route("GetKey", get_key, head=True, summary="Get an SSH key"),
    cloudapi_route("CreateKey", create_key, content_types=KEY_BODY_TYPES, summary="Add an SSH key"),
    cloudapi_route("DeleteKey", delete_key, summary="Delete an SSH key"),
    cloudapi_route(
        "ListUserKeys", list_user_keys, head=True, since="7.2.0", summary="List a user's SSH keys"
    ),
    cloudapi_route(
        "GetUserKey", get_user_key, head=True, since="7.2.0", summary="Get a user's SSH key"
    ),
    cloudapi_route(
        "CreateUserKey",
        create_user_key,
        content_types=KEY_BODY_TYPES,
        since="7.2.0",
        summary="Add an SSH key to a user",
    ),
    cloudapi_route(
        "DeleteUserKey", delete_user_key, since="7.2.0", summary="Delete a user's SSH key"
    ),
]
