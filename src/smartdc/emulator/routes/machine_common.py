"""What every ``/machines/{id}`` handler needs: the owner, the machine, and job arguments."""

from __future__ import annotations

from typing import Any

from smartdc.emulator.context import Call, EmulatorError, invalid_argument, validation_failed
from smartdc.emulator.params import is_uuid
from smartdc.emulator.store import machines

#: Ranges for which CloudAPI leaves ``networks`` out of machine objects.
_NO_NETWORKS_RANGES = frozenset({"7.0", "~7.0", "7.0.x"})
#: Request parameters CloudAPI never copies into tags or metadata.
RESERVED_PARAMS = frozenset({"account", "machine", "uuid", "owner_uuid", "context", "image"})


def owner(call: Call) -> machines.Owner:
    """The machines' owner: the path's account in this datacenter.

    Every machine route asks for it before it touches the store, so this is also where the
    request's jobs are told to consult the emulator's ``fail_job`` faults."""
    arm_job_failures(call)
    return machines.Owner(call.account_uuid, call.datacenter)


def arm_job_failures(call: Call) -> None:
    """Make the jobs this request queues fail when a ``fail_job`` fault rule fires for them."""
    machines.use_job_failures(call.config.faults.take_job_failure)


def job_context(call: Call) -> machines.JobContext:
    """The caller, clock and job durations a machine job is queued with."""
    arm_job_failures(call)
    return machines.JobContext(call.caller, call.now, call.config.provision_delay)


def machine_id(call: Call) -> str:
    """The ``{id}`` path parameter; 409 ``ValidationFailed`` unless it is a UUID."""
    value = call.path_params["id"]
    if not is_uuid(value):
        raise validation_failed([{"field": "uuid", "code": "Invalid", "message": "Invalid UUID"}])
    return value


def present(call: Call, machine: dict[str, Any]) -> dict[str, Any]:
    """The machine as this request's API version shows it."""
    if call.version_range.strip() in _NO_NETWORKS_RANGES:
        machine = {k: v for k, v in machine.items() if k != "networks"}
    return machine


def gone(call: Call, machine: dict[str, Any]) -> EmulatorError:
    """410 Gone whose body is the deleted machine."""
    return EmulatorError(410, None, "Gone", body=present(call, machine))


def fetch(call: Call) -> dict[str, Any]:
    """The path's machine as of now, deleted or not; 404/409 as VMAPI answers."""
    return machines.get_machine(call.db, owner(call), machine_id(call), call.now)


def fetch_live(call: Call) -> dict[str, Any]:
    """The path's machine; 410 with the machine when it has been deleted."""
    machine = fetch(call)
    if machine["state"] == "deleted":
        raise gone(call, machine)
    return machine


def queue(call: Call, machine: dict[str, Any], action: str, params: dict[str, Any]) -> str:
    """Queue a job on the machine on behalf of the caller; return the job id."""
    arm_job_failures(call)
    return machines.queue_job(
        call.db,
        owner(call),
        machine["id"],
        action,
        params,
        caller=call.caller,
        now=call.now,
        provision_delay=call.config.provision_delay,
    )


def wants_credentials(call: Call) -> bool:
    """``credentials`` given as any non-empty value (``"false"`` counts, as in CloudAPI)."""
    value = call.params.get("credentials")
    return value is True or (isinstance(value, str) and value != "")


def add_credentials(call: Call, machine: dict[str, Any]) -> dict[str, Any]:
    """The machine with ``metadata.credentials`` and the echoed ``credentials`` parameter."""
    secrets = machines.credentials(call.db, owner(call), machine["id"])
    metadata = dict(machine["metadata"])
    metadata["credentials"] = secrets
    return {**machine, "metadata": metadata, "credentials": call.params.get("credentials")}


def scalar_values(kind: str, values: dict[str, Any]) -> dict[str, Any]:
    """Check that tag or metadata values are strings, numbers or booleans."""
    for key, value in values.items():
        if value is None or isinstance(value, dict | list):
            raise invalid_argument(f"{kind} {key}: value must be a string, number or boolean")
    return values
