"""Machine metadata routes. Changes are jobs: they land when the job finishes."""

from __future__ import annotations

from typing import Any

from smartdc.emulator.context import (
    Call,
    Reply,
    cloudapi_route,
    invalid_argument,
    not_found,
)
from smartdc.emulator.routes.machine_common import (
    RESERVED_PARAMS,
    fetch,
    machine_id,
    owner,
    queue,
    scalar_values,
    wants_credentials,
)
from smartdc.emulator.store import machines

#: Keys UpdateMachineMetadata never stores (``context``, which tags ignore, is stored).
_IGNORED = (RESERVED_PARAMS - {"context"}) | {"credentials"}
#: Keys DeleteMachineMetadata refuses to delete, and DeleteAllMachineMetadata keeps.
_UNDELETABLE = ("credentials", "administrator_pw", "root_authorized_keys")


def update_metadata(call: Call) -> Reply:
    """UpdateMachineMetadata: 200 with the merged metadata and ``x-job-uuid``."""
    machine = fetch(call)
    values = {k: v for k, v in call.params.items() if k not in _IGNORED and not k.endswith("_pw")}
    scalar_values("metadata", values)
    job = queue(call, machine, "set_metadata", {"values": values})
    return Reply(200, {**machine["metadata"], **values}, {"x-job-uuid": job})


def list_metadata(call: Call) -> Reply:
    """ListMachineMetadata: every key (plus ``credentials`` when asked for)."""
    machine = fetch(call)
    body: dict[str, Any] = dict(machine["metadata"])
    if wants_credentials(call):
        body["credentials"] = machines.credentials(call.db, owner(call), machine["id"])
    return Reply(200, body)


def get_metadata(call: Call) -> Reply:
    """GetMachineMetadata: the value as a JSON string; 404 for missing or non-string keys."""
    machine = fetch(call)
    key = call.path_params["key"]
    if key == "credentials":
        return Reply(200, machines.credentials(call.db, owner(call), machine["id"]))
    value = machine["metadata"].get(key)
    if not isinstance(value, str):
        raise not_found(f"{key} is not metadata")
    return Reply(200, value)


def delete_metadata(call: Call) -> Reply:
    """DeleteMachineMetadata: 204; protected keys answer 409."""
    key = call.path_params["key"]
    machine_id(call)
    if key in _UNDELETABLE:
        raise invalid_argument(f"Metadata key {key} can not be deleted")
    machine = fetch(call)
    queue(call, machine, "remove_metadata", {"keys": [key]})
    return Reply(204)


def delete_all_metadata(call: Call) -> Reply:
    """DeleteAllMachineMetadata: 204; ``root_authorized_keys`` survives."""
    machine = fetch(call)
    kept = {k: v for k, v in machine["metadata"].items() if k in _UNDELETABLE}
    queue(call, machine, "replace_metadata", {"values": kept})
    return Reply(204)


ROUTES = [
    cloudapi_route("UpdateMachineMetadata", update_metadata, summary="Add metadata"),
    cloudapi_route("ListMachineMetadata", list_metadata, head=True, summary="List metadata"),
    cloudapi_route("GetMachineMetadata", get_metadata, summary="Get metadata"),
    cloudapi_route("DeleteMachineMetadata", delete_metadata, summary="Delete a metadata key"),
    cloudapi_route("DeleteAllMachineMetadata", delete_all_metadata, summary="Delete metadata"),
]
