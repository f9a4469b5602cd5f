"""Datacenter routes: ListDatacenters, GetDatacenter and ListServices.

The datacenters are the emulator's own (``EmulatorConfig.datacenters``): every datacenter
of the region shares accounts and keys, as a Triton region does.
"""

from __future__ import annotations

from smartdc.emulator.context import Call, Reply, cloudapi_route, not_found
from smartdc.emulator.routes.account import DATACENTER_HEADER


def list_datacenters(call: Call) -> Reply:
    """ListDatacenters: ``{name: url}`` for the region, and this datacenter's name."""
    body = dict(call.config.datacenters)
    return Reply(200, body, {DATACENTER_HEADER: call.datacenter})


def get_datacenter(call: Call) -> Reply:
    """GetDatacenter: a 302 to the datacenter's URL with a ``ResourceMoved`` body."""
    name = call.path_params["name"]
    url = call.config.datacenters.get(name)
    if url is None:
        raise not_found(f"{name} is not an available datacenter")
    # CloudAPI formats an empty template with the name and URL, which leaves them
    # appended after a leading space; clients only read the Location header.
    body = {"code": "ResourceMoved", "message": f" {name} {url}"}
    return Reply(302, body, {"Location": url})


def list_services(call: Call) -> Reply:
    """ListServices: the services this datacenter offers (only CloudAPI itself)."""
    url = call.config.datacenters.get(call.datacenter)
    return Reply(200, {} if url is None else {"cloudapi": url})


ROUTES = [
    cloudapi_route("ListDatacenters", list_datacenters, summary="List the region's datacenters"),
    cloudapi_route("GetDatacenter", get_datacenter, summary="Redirect to a datacenter"),
    cloudapi_route("ListServices", list_services, summary="List services"),
]
