"""Volume routes: ListVolumes, CreateVolume, GetVolume, UpdateVolume,
DeleteVolume and ListVolumeSizes. The datacenter offers ``tritonnfs`` volumes.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Collection, Mapping
from typing import Any

from smartdc.emulator.context import (
    Call,
    EmulatorError,
    Reply,
    cloudapi_route,
    invalid_argument,
    missing_parameter,
)
from smartdc.emulator.faults import FAIL_PROVISION
from smartdc.emulator.paging import QUERY_LIMIT_HEADER, RESOURCE_COUNT_HEADER
from smartdc.emulator.params import is_number, is_uuid
from smartdc.emulator.store import catalog, fabrics, volume_jobs, volumes
from smartdc.emulator.store.catalog import NetworkRecord

NAME_PATTERN = re.compile(r"^[a-z0-9][\w.-]+$", re.IGNORECASE | re.ASCII)
MAX_NAME_LENGTH = 256
#: VOLAPI's page size; ListVolumes answers with every match at once.
QUERY_LIMIT = 1000
_LIST_PARAMS = frozenset({"name", "predicate", "size", "state", "type"})
#: Parameters any request may carry.
_ALWAYS_ALLOWED = frozenset({"as-role"})
_PREDICATE_OPERATORS = frozenset({"eq", "ne", "and", "or"})


def _owner(call: Call) -> volumes.Owner:
    return volumes.Owner(call.account_uuid, call.datacenter)


def _volume_id(call: Call) -> str:
    """The path's volume id; anything but a UUID names no volume."""
    value = call.path_params["id"]
    if not is_uuid(value):
        raise volumes.volume_not_found()
    return value


def _reject_unknown(params: Mapping[str, Any], allowed: Collection[str]) -> None:
    for name in sorted(params):
        if name not in allowed and name not in _ALWAYS_ALLOWED:
            raise invalid_argument(f"invalid parameter: {name}")


def _digits(value: Any) -> int | None:
    """A whole number given as a JSON integer or a string of digits, else ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and is_number(value):
        return int(value)
    return None


def _decoded(value: Any) -> Any:
    """A JSON array or object sent as text (form bodies, query strings) decoded; any other
    value as it is."""
    if isinstance(value, str) and value.lstrip()[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


# --- ListVolumes ---------------------------------------------------------------------------


def _predicate_fields(predicate: Any) -> list[str]:
    """Check a predicate's structure and return the fields it tests (409 when malformed)."""
    if not isinstance(predicate, dict) or len(predicate) != 1:
        raise invalid_argument("predicate must be an object with exactly one operator")
    ((operator, operand),) = predicate.items()
    if operator not in _PREDICATE_OPERATORS:
        raise invalid_argument(f"predicate operator {operator} is not supported")
    if operator in ("and", "or"):
        if not isinstance(operand, list) or not operand:
            raise invalid_argument(f"predicate {operator} needs a non-empty array of predicates")
        return [name for part in operand for name in _predicate_fields(part)]
    if not isinstance(operand, list) or len(operand) != 2 or not isinstance(operand[0], str):
        raise invalid_argument(f"predicate {operator} needs [field, value]")
    name = operand[0]
    base = "tags" if name.startswith("tags.") else name
    if base not in volumes.PREDICATE_FIELDS or name == "tags":
        raise invalid_argument(f"predicate field {name} is not supported")
    if base == "state" and operand[1] not in volumes.STATES:
        raise invalid_argument(f"predicate value {operand[1]} is not a valid state")
    return [base]


def _predicate(call: Call) -> dict[str, Any] | None:
    text = call.params.get("predicate")
    if text is None:
        return None
    try:
        predicate = json.loads(text) if isinstance(text, str) else text
    except ValueError:
        raise invalid_argument("predicate must be valid JSON") from None
    for name in _predicate_fields(predicate):
        if name in call.params:
            raise invalid_argument(f"{name} cannot be both a parameter and in the predicate")
    result: dict[str, Any] = predicate
    return result


def _name_filter(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value)
    if "*" in text.strip("*") or text.startswith("**") or text.endswith("**") or not text:
        raise invalid_argument(f"invalid value for name: {text} ('*' only at either end)")
    return text


def _volume_query(call: Call) -> volumes.VolumeQuery:
    params = call.params
    _reject_unknown(params, _LIST_PARAMS)
    size = None
    if params.get("size") is not None:
        size = _digits(params["size"])
        if size is None:
            raise invalid_argument(f"invalid value for size: {params['size']}")
    state = params.get("state")
    if state is not None and state not in volumes.STATES:
        raise invalid_argument(f"invalid value for state: {state}")
    kind = params.get("type")
    if kind is not None and kind != volumes.TRITONNFS:
        raise invalid_argument(f"invalid value for type: {kind}")
    return volumes.VolumeQuery(
        name=_name_filter(params.get("name")),
        size=size,
        state=state,
        type=kind,
        predicate=_predicate(call),
    )


def list_volumes(call: Call) -> Reply:
    """ListVolumes: the account's volumes matching the filters, with the paging headers."""
    query = _volume_query(call)
    found = [v for v in volumes.list_volumes(call.db, _owner(call), call.now) if query.matches(v)]
    headers = {QUERY_LIMIT_HEADER: str(QUERY_LIMIT), RESOURCE_COUNT_HEADER: str(len(found))}
    return Reply(200, found, headers)


# --- CreateVolume --------------------------------------------------------------------------


def _default_networks(call: Call) -> list[NetworkRecord]:
    """The account's default network when it is one of its fabric networks, else the
    default fabric network."""
    fabrics.ensure_account_fabric(call.db, call.account_uuid)
    configured = catalog.configured_default_network(call.db, call.account_uuid)
    for candidate in (configured, fabrics.default_network_id(call.account_uuid)):
        record = (
            None
            if candidate is None
            else catalog.get_network(call.db, call.account_uuid, candidate)
        )
        if record is not None and record.network.get("fabric"):
            return [record]
    raise EmulatorError(
        409,
        "DefaultFabricNetworkNotConfiguredError",
        "Default fabric network is not configured",
    )


def _networks(call: Call, value: Any, problems: list[str]) -> list[NetworkRecord]:
    """The fabric networks the volume is to be on (owned by the caller)."""
    if value is None:
        return _default_networks(call)
    value = _decoded(value)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        problems.append("networks: must be a non-empty array of network UUIDs")
        return []
    fabrics.ensure_account_fabric(call.db, call.account_uuid)
    records: list[NetworkRecord] = []
    invalid: list[str] = []
    for network_id in dict.fromkeys(value):
        record = (
            catalog.get_network(call.db, call.account_uuid, network_id)
            if is_uuid(network_id)
            else None
        )
        if record is None or not record.network.get("fabric"):
            invalid.append(network_id)
        else:
            records.append(record)
    if invalid:
        raise EmulatorError(409, "InvalidNetworks", f"Invalid networks: {', '.join(invalid)}")
    return records


def _name(value: Any, problems: list[str]) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not NAME_PATTERN.fullmatch(value):
        problems.append(f"name: must match {NAME_PATTERN.pattern} (case-insensitive)")
    elif len(value) > MAX_NAME_LENGTH:
        problems.append(f"name: must be at most {MAX_NAME_LENGTH} characters long")
    else:
        return value
    return None


def _size(value: Any, problems: list[str]) -> int:
    if value is None:
        return volumes.DEFAULT_SIZE
    size = _digits(value)
    if size is None or size <= 0:
        problems.append(f"size: {value!r} is not a positive whole number of MiB")
        return volumes.DEFAULT_SIZE
    if size not in volumes.VOLUME_SIZES:
        raise volumes.size_not_available(size)
    return size


def _tags(value: Any, problems: list[str]) -> dict[str, str]:
    if value is None:
        return {}
    value = _decoded(value)
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        problems.append("tags: must be an object whose values are strings")
        return {}
    return dict(value)


def _check_affinity(value: Any, problems: list[str]) -> None:
    rules = [value] if isinstance(value, str) else value
    if value is not None and not (
        isinstance(rules, list) and all(isinstance(r, str) and r for r in rules)
    ):
        problems.append("affinity: must be an array of rule strings")


def _spec(call: Call) -> volumes.VolumeSpec:
    params = call.params
    kind = params.get("type")
    if kind is None:
        raise missing_parameter("type is required")
    problems: list[str] = []
    if kind != volumes.TRITONNFS:
        problems.append(f"type: {kind} is not a supported volume type (use tritonnfs)")
    name = _name(params.get("name"), problems)
    size = _size(params.get("size"), problems)
    tags = _tags(params.get("tags"), problems)
    _check_affinity(params.get("affinity"), problems)
    if problems:
        raise invalid_argument(", ".join(problems))
    networks = _networks(call, params.get("networks"), problems)
    if problems:
        raise invalid_argument(", ".join(problems))
    return volumes.VolumeSpec(name=name, size=size, networks=networks, tags=tags)


def create_volume(call: Call) -> Reply:
    """CreateVolume: 201 with the volume in ``creating``; ``ready`` one provision delay on."""
    spec = _spec(call)
    faults = call.config.faults
    failing = faults.take(FAIL_PROVISION)
    try:
        volume = volumes.create_volume(
            call.db,
            _owner(call),
            dataclasses.replace(spec, fail=failing),
            now=call.now,
            provision_delay=call.config.provision_delay,
        )
    except EmulatorError:
        if failing:  # a refused create does not use the fault up
            faults.give_back(FAIL_PROVISION)
        raise
    return Reply(201, volume)


# --- one volume ----------------------------------------------------------------------------


def get_volume(call: Call) -> Reply:
    """GetVolume: one volume; 404 ``VolumeNotFound`` (also once a deletion has finished)."""
    return Reply(200, volumes.get_volume(call.db, _owner(call), _volume_id(call), call.now))


def update_volume(call: Call) -> Reply:
    """UpdateVolume: rename the volume (the only change allowed); 200 with the volume."""
    volume_id = _volume_id(call)
    _reject_unknown(call.params, {"name"})
    if call.params.get("name") is None:
        raise missing_parameter("name is required")
    problems: list[str] = []
    name = _name(call.params["name"], problems)
    if name is None:
        raise invalid_argument(", ".join(problems))
    return Reply(200, volumes.rename_volume(call.db, _owner(call), volume_id, name, call.now))


def delete_volume(call: Call) -> Reply:
    """DeleteVolume: 204; the volume is ``deleting``, then GetVolume answers 404 (or, when the
    storage VM's destroy fails, it is as it was before)."""
    volume_id = _volume_id(call)
    faults = call.config.faults
    job = volume_jobs.FAULT_JOB_NAMES[volume_jobs.DELETE]
    failing = faults.take_job_failure(job)
    queued = False
    try:
        queued = volumes.delete_volume(
            call.db,
            _owner(call),
            volume_id,
            now=call.now,
            provision_delay=call.config.provision_delay,
            fail=failing,
        )
    finally:
        if failing and not queued:  # a refused delete does not use the fault up
            faults.give_back_job_failure(job)
    return Reply(204)


def list_volume_sizes(call: Call) -> Reply:
    """ListVolumeSizes: ``[{size, type}]``, smallest first."""
    _reject_unknown(call.params, {"type"})
    kind = call.params.get("type")
    if kind is not None and kind != volumes.TRITONNFS:
        raise invalid_argument(f"invalid value for type: {kind}")
    sizes = [{"size": size, "type": volumes.TRITONNFS} for size in volumes.VOLUME_SIZES]
    headers = {QUERY_LIMIT_HEADER: str(QUERY_LIMIT), RESOURCE_COUNT_HEADER: str(len(sizes))}
    return Reply(200, sizes, headers)


ROUTES = [
    cloudapi_route("ListVolumes", list_volumes, summary="List volumes"),
    cloudapi_route("CreateVolume", create_volume, summary="Create an NFS volume"),
    cloudapi_route("GetVolume", get_volume, summary="Get a volume"),
    cloudapi_route("UpdateVolume", update_volume, summary="Rename a volume"),
    cloudapi_route("DeleteVolume", delete_volume, summary="Delete a volume"),
    cloudapi_route("ListVolumeSizes", list_volume_sizes, summary="List the volume sizes on offer"),
]
