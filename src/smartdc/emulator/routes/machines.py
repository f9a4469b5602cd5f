"""Machine routes: list, get, create, delete, the ``?action=`` actions, and audit.

Tags, metadata and snapshots live in their own modules; :data:`ROUTES` gathers them all.
"""

from __future__ import annotations

from typing import Any

from smartdc.emulator.context import (
    Call,
    EmulatorError,
    Handler,
    Reply,
    cloudapi_route,
    invalid_argument,
    missing_parameter,
    validation_failed,
)
from smartdc.emulator.paging import (
    QUERY_LIMIT_HEADER,
    RESOURCE_COUNT_HEADER,
    page_bounds,
)
from smartdc.emulator.params import is_number, is_uuid, parse_bool
from smartdc.emulator.routes import machine_metadata, machine_snapshots, machine_tags
from smartdc.emulator.routes.images import image_not_found
from smartdc.emulator.routes.machine_common import (
    add_credentials,
    fetch,
    fetch_live,
    gone,
    machine_id,
    owner,
    present,
    queue,
    wants_credentials,
)
from smartdc.emulator.routes.machine_create import check_ram, create_machine, resolve_package
from smartdc.emulator.store import catalog, machines
from smartdc.wire import MACHINE_BRANDS, MACHINE_TYPES

#: ListMachines ``state`` values and the VMAPI states they select (``None``: every active one).
_STATE_FILTERS: dict[str, frozenset[str] | None] = {
    "running": frozenset({"running"}),
    "stopped": frozenset({"stopped"}),
    "destroyed": frozenset({"deleted"}),
    "active": None,
    "provisioning": None,
    "stopping": None,
}


def _invalid(field: str) -> EmulatorError:
    return validation_failed([{"field": field, "code": "Invalid", "message": "Invalid parameter"}])


def _text_param(params: dict[str, Any], name: str) -> str | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else str(value)


def _state_query(params: dict[str, Any]) -> tuple[frozenset[str] | None, bool]:
    """(exact states or ``None``, active only?) from ``state`` and ``tombstone``."""
    tombstone = params.get("tombstone")
    active_only = tombstone in (None, "", False)
    state = _text_param(params, "state")
    if state is None:
        return None, active_only
    if state == "unknown":
        raise _invalid("state")
    if state not in _STATE_FILTERS:
        raise invalid_argument(f"{state} is not a valid state")
    wanted = _STATE_FILTERS[state]
    return wanted, wanted is None


def _docker(params: dict[str, Any]) -> bool | None:
    value = params.get("docker")
    if value is None or value == "":
        return None
    flag = parse_bool(value)
    if flag is None:
        raise invalid_argument(f"{value} is not a valid docker value: must be true or false")
    return flag


def machine_query(call: Call) -> machines.MachineQuery:
    """ListMachines filters from the request, validated as CloudAPI and VMAPI do."""
    params = call.params
    if params.get("tags") == "*":  # every other filter, the state one too, is ignored
        return machines.MachineQuery(active_only=False, any_tag=True)
    kind = _text_param(params, "type")
    if kind is not None and kind not in MACHINE_TYPES:
        raise invalid_argument(f"{kind} is not a valid type")
    brand = _text_param(params, "brand")
    if brand is not None and brand not in MACHINE_BRANDS:
        raise _invalid("brand")
    name = _text_param(params, "name")
    if name is not None and not machines.NAME_PATTERN.fullmatch(name):
        raise _invalid("alias")
    image = _text_param(params, "image")
    if image is not None and (
        not is_uuid(image) or catalog.get_image(call.db, call.account_uuid, image) is None
    ):
        raise image_not_found(image)
    memory = _text_param(params, "memory")
    if memory is not None and not is_number(memory):
        raise _invalid("ram")
    states, active_only = _state_query(params)
    tags = {
        key[len("tag.") :]: value if isinstance(value, str) else catalog.filter_text(value)
        for key, value in params.items()
        if key.startswith("tag.") and len(key) > len("tag.")
    }
    return machines.MachineQuery(
        states=states,
        active_only=active_only,
        type=kind,
        brand=brand,
        name=name,
        image=image,
        memory=None if memory is None else int(memory),
        docker=_docker(params),
        tags=tags,
    )


def _with_credentials(call: Call, machine: dict[str, Any]) -> dict[str, Any]:
    """The machine with its credentials; an empty ``metadata.credentials`` is left out, as
    CloudAPI leaves it out."""
    shown = add_credentials(call, machine)
    if not shown["metadata"].get("credentials"):
        shown["metadata"] = {k: v for k, v in shown["metadata"].items() if k != "credentials"}
    return shown


def list_machines(call: Call) -> Reply:
    """ListMachines: uuid-descending pages with ``x-query-limit`` and ``x-resource-count``."""
    query = machine_query(call)
    limit: int | None = None
    offset = 0
    headers: dict[str, str] = {}
    if not query.any_tag:
        limit, offset = page_bounds(call.params)
        headers[QUERY_LIMIT_HEADER] = str(limit)
    page = machines.list_machines(call.db, owner(call), query, call.now, limit=limit, offset=offset)
    headers[RESOURCE_COUNT_HEADER] = str(len(page))
    if wants_credentials(call):
        page = [_with_credentials(call, m) for m in page]
    return Reply(200, [present(call, m) for m in page], headers)


def get_machine(call: Call) -> Reply:
    """GetMachine: 200, or 410 with the machine once it is deleted."""
    machine = fetch(call)
    if wants_credentials(call):
        machine = _with_credentials(call, machine)
    if machine["state"] == "deleted":
        raise gone(call, machine)
    return Reply(200, present(call, machine))


def delete_machine(call: Call) -> Reply:
    """DeleteMachine: 204; the machine stops, then becomes ``deleted`` (GetMachine -> 410)."""
    machines.delete_machine(
        call.db,
        owner(call),
        machine_id(call),
        caller=call.caller,
        now=call.now,
        provision_delay=call.config.provision_delay,
    )
    return Reply(204)


def machine_audit(call: Call) -> Reply:
    """MachineAudit: finished jobs, newest first (works for deleted machines too)."""
    return Reply(200, machines.audit(call.db, owner(call), machine_id(call), call.now))


# --- actions -------------------------------------------------------------------------------


def _power(action: str) -> Handler:
    def handler(call: Call) -> Reply:
        machine = fetch_live(call)
        queue(call, machine, action, {})
        return Reply(202)

    handler.__name__ = f"{action}_machine"
    handler.__doc__ = (
        f"{action.capitalize()}Machine: 202; the job fails later if the state is wrong."
    )
    return handler


def resize_machine(call: Call) -> Reply:
    """ResizeMachine: 202; the package changes when the job finishes."""
    machine = fetch_live(call)
    wanted = call.params.get("package")
    if wanted in (None, ""):
        raise missing_parameter("package must be specified")
    if machine["brand"] == "kvm":
        raise invalid_argument("resize is not supported for KVM virtualmachines")
    package = resolve_package(call, wanted)
    if machine["brand"] == "bhyve" and not package.get("flexible_disk"):
        raise invalid_argument("bhyve instances can only be resized to a flexible_disk package")
    if machine["brand"] == "bhyve" and machine["state"] != "stopped":
        # sdc-vmapi resizes a bhyve machine's disks only while it is stopped
        raise EmulatorError(409, "VmNotStopped", "VM not stopped")
    image = catalog.get_image(call.db, call.account_uuid, machine["image"])
    if image is not None:
        check_ram(image, package)
    queue(call, machine, "resize", {"package": package})
    return Reply(202)


def rename_machine(call: Call) -> Reply:
    """RenameMachine: 202; the name changes when the job finishes."""
    machine = fetch_live(call)
    name = call.params.get("name")
    if name in (None, ""):
        raise missing_parameter("New name must be specified")
    if len(str(name)) > machines.MAX_NAME_LENGTH:
        raise invalid_argument(f"New name exceeds the maximum length of {machines.MAX_NAME_LENGTH}")
    queue(call, machine, "rename", {"name": str(name)})
    return Reply(202)


def _firewall(enabled: bool) -> Handler:
    def handler(call: Call) -> Reply:
        machine = fetch_live(call)
        if machine["firewall_enabled"] != enabled:
            queue(call, machine, "unknown", {"enabled": enabled})
        return Reply(202)

    verb = "Enable" if enabled else "Disable"
    handler.__name__ = f"{verb.lower()}_firewall"
    handler.__doc__ = f"{verb}MachineFirewall: 202 (no job when already in that state)."
    return handler


def _deletion_protection(enabled: bool) -> Handler:
    def handler(call: Call) -> Reply:
        machine = fetch(call)  # no 410 check: CloudAPI lets these through for deleted VMs
        if machine["deletion_protection"] != enabled:
            action = "enable" if enabled else "disable"
            queue(call, machine, f"{action}_deletion_protection", {})
        return Reply(202)

    verb = "Enable" if enabled else "Disable"
    handler.__name__ = f"{verb.lower()}_deletion_protection"
    handler.__doc__ = f"{verb}MachineDeletionProtection: 202 (no job when already so)."
    return handler


ROUTES = [
    cloudapi_route("ListMachines", list_machines, head=True, summary="List machines"),
    cloudapi_route("CreateMachine", create_machine, summary="Create machine"),
    cloudapi_route("GetMachine", get_machine, head=True, summary="Get a machine"),
    cloudapi_route("DeleteMachine", delete_machine, summary="Delete a machine"),
    cloudapi_route("StartMachine", _power("start"), summary="Start a machine"),
    cloudapi_route("StopMachine", _power("stop"), summary="Stop a machine"),
    cloudapi_route("RebootMachine", _power("reboot"), summary="Reboot a machine"),
    cloudapi_route("ResizeMachine", resize_machine, summary="Resize a machine"),
    cloudapi_route("RenameMachine", rename_machine, summary="Rename a machine"),
    cloudapi_route("EnableMachineFirewall", _firewall(True), summary="Enable the firewall"),
    cloudapi_route("DisableMachineFirewall", _firewall(False), summary="Disable the firewall"),
    cloudapi_route(
        "EnableMachineDeletionProtection",
        _deletion_protection(True),
        summary="Enable deletion protection",
    ),
    cloudapi_route(
        "DisableMachineDeletionProtection",
        _deletion_protection(False),
        summary="Disable deletion protection",
    ),
    cloudapi_route("MachineAudit", machine_audit, head=True, summary="A machine's audit trail"),
    *machine_metadata.ROUTES,
    *machine_tags.ROUTES,
    *machine_snapshots.ROUTES,
]
