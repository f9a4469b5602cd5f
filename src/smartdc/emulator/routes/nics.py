"""NIC routes: ListNics, GetNic, AddNic, RemoveNic; API versions 7.2.0 and up.

Adding or removing a NIC reboots the machine; an added NIC is ``provisioning`` until then.
"""

from __future__ import annotations

import json
import re
from typing import Any

from smartdc.emulator.context import (
    Call,
    Reply,
    cloudapi_route,
    invalid_argument,
    missing_parameter,
)
from smartdc.emulator.paging import RESOURCE_COUNT_HEADER
from smartdc.emulator.params import is_uuid, parse_bool
from smartdc.emulator.routes.machine_common import fetch, job_context, machine_id, owner
from smartdc.emulator.store import catalog, fabrics, machine_nics
from smartdc.emulator.store.nics import NicRequest

_MAC = re.compile(r"^[0-9a-fA-F]{12}$")
NIC_SINCE = "7.2.0"


def _mac(call: Call) -> str:
    """The path's ``{mac}``: 12 hex digits without colons, returned in colon form."""
    text = call.path_params["mac"]
    if not _MAC.fullmatch(text):
        raise invalid_argument("mac has invalid format")
    lower = text.lower()
    return ":".join(lower[i : i + 2] for i in range(0, 12, 2))


def _location(call: Call, machine: str, mac: str) -> dict[str, str]:
    return {"Location": f"/{call.login}/machines/{machine}/nics/{mac.replace(':', '')}"}


def list_nics(call: Call) -> Reply:
    """ListNics: the machine's NICs with ``x-resource-count``."""
    found = machine_nics.list_nics(call.db, owner(call), machine_id(call), call.now)
    return Reply(200, found, {RESOURCE_COUNT_HEADER: str(len(found))})


def get_nic(call: Call) -> Reply:
    """GetNic: one NIC by MAC; 404 "nic not found"."""
    fetch(call)
    mac = _mac(call)
    return Reply(200, machine_nics.get_nic(call.db, owner(call), machine_id(call), mac, call.now))


def _network_param(value: Any) -> tuple[str, str | None]:
    """``network``: a network UUID, or ``{ipv4_uuid, ipv4_ips: [one IP]}`` (also as JSON)."""
    if value in (None, ""):
        raise missing_parameter("network must be specified")
    if isinstance(value, str) and value.lstrip().startswith("{"):
        try:
            value = json.loads(value)
        except ValueError:
            raise invalid_argument("network must be a UUID or an object") from None
    if isinstance(value, str):
        return value, None
    if not isinstance(value, dict):
        raise invalid_argument("network must be a UUID or an object")
    network_id = value.get("ipv4_uuid")
    if not isinstance(network_id, str) or not network_id:
        raise missing_parameter("network must be specified")
    ips = value.get("ipv4_ips")
    if ips is None:
        return network_id, None
    if not isinstance(ips, list) or len(ips) != 1 or not isinstance(ips[0], str):
        raise invalid_argument('property "ipv4_ips": must contain exactly one IP')
    return network_id, ips[0]


def add_nic(call: Call) -> Reply:
    """AddNic: 201 with the new NIC (``provisioning``) and its ``Location``; 302 to the NIC
    the machine already has on that network."""
    machine = fetch(call)["id"]
    network_id, ip = _network_param(call.params.get("network"))
    fabrics.ensure_account_fabric(call.db, call.account_uuid)
    record = None
    if is_uuid(network_id):
        record = catalog.get_network(call.db, call.account_uuid, network_id)
    if record is None:
        raise invalid_argument("network not found")
    if ip is not None and record.public:
        raise invalid_argument(f"ipv4_ips cannot be used on public network {network_id}")
    primary = parse_bool(call.params.get("primary")) is True
    added = machine_nics.add_nic(
        call.db,
        owner(call),
        machine,
        NicRequest(record, ip),
        primary=primary,
        job=job_context(call),
    )
    headers = _location(call, machine, added.nic["mac"])
    if not added.created:
        return Reply(302, None, headers)
    return Reply(201, added.nic, headers)


def remove_nic(call: Call) -> Reply:
    """RemoveNic: 204; the NIC goes away when the machine has rebooted."""
    fetch(call)
    mac = _mac(call)
    machine_nics.remove_nic(call.db, owner(call), machine_id(call), mac, job=job_context(call))
    return Reply(204)


ROUTES = [
    cloudapi_route(
        "ListNics", list_nics, since=NIC_SINCE, summary="List a machine's NICs", head=True
    ),
    cloudapi_route("GetNic", get_nic, since=NIC_SINCE, summary="Get a NIC", head=True),
    cloudapi_route("AddNic", add_nic, since=NIC_SINCE, summary="Add a NIC (the machine reboots)"),
    cloudapi_route(
        "RemoveNic", remove_nic, since=NIC_SINCE, summary="Remove a NIC (the machine reboots)"
    ),
]
