"""SSH key routes: ListKeys, GetKey, CreateKey, DeleteKey."""

from __future__ import annotations

from urllib.parse import quote

from smartdc.emulator.context import (
    Call,
    Reply,
    cloudapi_route,
    invalid_argument,
    missing_parameter,
    not_found,
)
from smartdc.emulator.store import accounts

#: CloudAPI's create routes for keys refuse other body types (notably form encoding).
KEY_BODY_TYPES = (
    "multipart/form-data",
    "application/octet-stream",
    "application/json",
    "text/plain",
)


def _key_or_404(call: Call) -> dict[str, object]:
    name = call.path_params["key"]
    key = accounts.get_key(call.db, call.account_uuid, name)
    if key is None:
        raise not_found(f"{name} does not exist")
    return key


def list_keys(call: Call) -> Reply:
    """ListKeys: every key on the account."""
    return Reply(200, accounts.list_keys(call.db, call.account_uuid))


def get_key(call: Call) -> Reply:
    """GetKey: one key by name or MD5 fingerprint."""
    return Reply(200, _key_or_404(call))


def create_key(call: Call) -> Reply:
    """CreateKey: 201 with the key and its ``Location`` (fingerprint URL-encoded)."""
    line = call.params.get("key")
    if line is None or line == "":
        raise missing_parameter("key is a required argument")
    if not isinstance(line, str):
        raise invalid_argument("key must be a String")
    name = call.params.get("name")
    key = accounts.add_key(
        call.db, call.account_uuid, line, str(name) if name else None, now=call.now
    )
    location = f"/{call.login}/keys/{quote(str(key['fingerprint']), safe='')}"
    return Reply(201, key, {"Location": location})


def delete_key(call: Call) -> Reply:
    """DeleteKey: 204, or 404 for a key the account does not have."""
    key = _key_or_404(call)
    accounts.delete_key(call.db, call.account_uuid, str(key["fingerprint"]))
    return Reply(204)


ROUTES = [
    cloudapi_route("ListKeys", list_keys, head=True, summary="List SSH keys"),
    cloudapi_route("GetKey", get_key, head=True, summary="Get an SSH key"),
    cloudapi_route("CreateKey", create_key, content_types=KEY_BODY_TYPES, summary="Add an SSH key"),
    cloudapi_route("DeleteKey", delete_key, summary="Delete an SSH key"),
]
