"""Network routes: ListNetworks, GetNetwork, and the account's default network (config).

Digest §4.8 and §4.21.
"""

from __future__ import annotations

from smartdc.emulator.context import (
    Call,
    Reply,
    cloudapi_route,
    invalid_argument,
    not_found,
)
from smartdc.emulator.store import catalog
from smartdc.objects.refs import is_uuid


def list_networks(call: Call) -> Reply:
    """ListNetworks: every network the account may provision on (``fabric`` narrows to its
    own fabric networks, of which the default catalog has none)."""
    records = catalog.list_networks(call.db, call.account_uuid)
    fabric = call.params.get("fabric")
    if fabric not in (None, "", False, "false"):
        records = [r for r in records if r.network.get("fabric")]
    return Reply(200, [r.network for r in records])


def get_network(call: Call) -> Reply:
    """GetNetwork: one network; 404 "<id> not found"."""
    network_id = call.path_params["id"]
    record = catalog.get_network(call.db, call.account_uuid, network_id)
    if record is None:
        raise not_found(f"{network_id} not found")
    return Reply(200, record.network)


def get_config(call: Call) -> Reply:
    """GetConfig: ``{"default_network": <uuid>}``."""
    default = catalog.default_network_id(call.db, call.account_uuid)
    return Reply(200, {} if default is None else {"default_network": default})


def update_config(call: Call) -> Reply:
    """UpdateConfig: set ``default_network`` (the only key) to one of the account's networks."""
    extra = sorted(k for k in call.params if k != "default_network")
    if extra:
        raise invalid_argument(f'property "{extra[0]}": unknown property')
    wanted = call.params.get("default_network")
    if wanted is None:
        raise invalid_argument('property "default_network": is missing and it is required')
    if not is_uuid(wanted):
        raise invalid_argument('property "default_network": must be a UUID')
    if catalog.get_network(call.db, call.account_uuid, str(wanted)) is None:
        raise invalid_argument("unknown network")
    catalog.set_default_network(call.db, call.account_uuid, str(wanted))
    return Reply(200, {"default_network": wanted})


ROUTES = [
    cloudapi_route("ListNetworks", list_networks, head=True, summary="List networks"),
    cloudapi_route("GetNetwork", get_network, head=True, summary="Get a network"),
    cloudapi_route("GetConfig", get_config, head=True, summary="Get config"),
    cloudapi_route("UpdateConfig", update_config, summary="Update config"),
]
