"""Fabric routes: the account's VLANs and the networks on them; API versions
7.3.0 and up. The datacenter has fabrics enabled.
"""

from __future__ import annotations

from smartdc.emulator.context import Call, Reply, cloudapi_route, invalid_argument
from smartdc.emulator.params import is_number
from smartdc.emulator.routes import fabric_params
from smartdc.emulator.store import catalog, fabrics, machines

FABRIC_SINCE = "7.3.0"
_VLAN_PROPERTIES = frozenset({"vlan_id", "name", "description"})


#: The largest 802.1Q VLAN id; a larger number names no VLAN (and would not fit SQLite).
MAX_VLAN_ID = 4095


def _vlan_id(call: Call) -> int:
    """The path's VLAN id; anything but a VLAN number is a VLAN the account does not have."""
    text = call.path_params["vlan_id"]
    if not is_number(text) or int(text) > MAX_VLAN_ID:
        raise fabrics.vlan_not_found()
    return int(text)


def _account(call: Call) -> str:
    fabrics.ensure_account_fabric(call.db, call.account_uuid)
    return call.account_uuid


# --- VLANs ---------------------------------------------------------------------------------


def list_vlans(call: Call) -> Reply:
    """ListFabricVLANs: the account's VLANs (VLAN 2 is there from the start)."""
    return Reply(200, fabrics.list_vlans(call.db, _account(call)))


def create_vlan(call: Call) -> Reply:
    """CreateFabricVLAN: 201 with the VLAN."""
    params = call.params
    fabric_params.reject_unknown(params, _VLAN_PROPERTIES)
    fabric_params.require(params, "name", "vlan_id")
    name = fabric_params.name_value(params)
    vlan_id = fabric_params.vlan_id_value(params["vlan_id"])
    description = fabric_params.description_value(params)
    vlan = fabrics.create_vlan(call.db, _account(call), vlan_id, name, description)
    return Reply(201, vlan)


def get_vlan(call: Call) -> Reply:
    """GetFabricVLAN: one VLAN; 404 "vlan not found"."""
    return Reply(200, fabrics.get_vlan(call.db, _account(call), _vlan_id(call)))


def update_vlan(call: Call) -> Reply:
    """UpdateFabricVLAN: 202 with the updated VLAN."""
    params = call.params
    vlan_id = _vlan_id(call)
    fabric_params.reject_unknown(params, _VLAN_PROPERTIES)
    changes: dict[str, str] = {}
    if params.get("name") is not None:
        changes["name"] = fabric_params.name_value(params)
    description = fabric_params.description_value(params)
    if description is not None:
        changes["description"] = description
    return Reply(202, fabrics.update_vlan(call.db, _account(call), vlan_id, changes))


def delete_vlan(call: Call) -> Reply:
    """DeleteFabricVLAN: 204; 409 while networks are on it."""
    fabrics.delete_vlan(call.db, _account(call), _vlan_id(call))
    return Reply(204)


# --- networks ------------------------------------------------------------------------------


def list_networks(call: Call) -> Reply:
    """ListFabricNetworks: the networks on one VLAN."""
    return Reply(200, fabrics.list_networks(call.db, _account(call), _vlan_id(call)))


def create_network(call: Call) -> Reply:
    """CreateFabricNetwork: 201 with the Network."""
    vlan_id = _vlan_id(call)
    account = _account(call)
    fabrics.get_vlan(call.db, account, vlan_id)
    spec = fabric_params.network_spec(call.params)
    return Reply(201, fabrics.create_network(call.db, account, vlan_id, spec))


def get_network(call: Call) -> Reply:
    """GetFabricNetwork: one network of the VLAN; 404 "network not found"."""
    network_id = call.path_params["id"]
    return Reply(200, fabrics.get_network(call.db, _account(call), _vlan_id(call), network_id))


def update_network(call: Call) -> Reply:
    """UpdateFabricNetwork: 200 with the updated Network."""
    vlan_id = _vlan_id(call)
    account = _account(call)
    network_id = call.path_params["id"]
    current = fabrics.get_network(call.db, account, vlan_id, network_id)
    spec = fabric_params.network_update(call.params, fabrics.spec_of(current))
    return Reply(200, fabrics.update_network(call.db, account, vlan_id, network_id, spec))


def _default_network(call: Call, account: str) -> str:
    """The account's default network: as configured, else its default fabric network (which
    Triton makes the default when it sets the fabric up)."""
    configured = catalog.configured_default_network(call.db, account)
    return configured or fabrics.default_network_id(account)


def delete_network(call: Call) -> Reply:
    """DeleteFabricNetwork: 204; 409 for the default network and for a network in use."""
    vlan_id = _vlan_id(call)
    account = _account(call)
    network_id = call.path_params["id"]
    fabrics.get_network(call.db, account, vlan_id, network_id)
    if network_id == _default_network(call, account):
        raise invalid_argument("cannot delete default network")
    machines.catch_up(call.db, call.now)  # NICs of machines destroyed by now go
    fabrics.delete_network(call.db, account, vlan_id, network_id)
    return Reply(204)


ROUTES = [
    cloudapi_route(
        "ListFabricVLANs", list_vlans, since=FABRIC_SINCE, summary="List fabric VLANs", head=True
    ),
    cloudapi_route(
        "CreateFabricVLAN", create_vlan, since=FABRIC_SINCE, summary="Create a fabric VLAN"
    ),
    cloudapi_route(
        "GetFabricVLAN", get_vlan, since=FABRIC_SINCE, summary="Get a fabric VLAN", head=True
    ),
    cloudapi_route(
        "UpdateFabricVLAN", update_vlan, since=FABRIC_SINCE, summary="Update a fabric VLAN"
    ),
    cloudapi_route(
        "DeleteFabricVLAN", delete_vlan, since=FABRIC_SINCE, summary="Delete a fabric VLAN"
    ),
    cloudapi_route(
        "ListFabricNetworks",
        list_networks,
        since=FABRIC_SINCE,
        summary="List fabric networks",
        head=True,
    ),
    cloudapi_route(
        "CreateFabricNetwork", create_network, since=FABRIC_SINCE, summary="Create a fabric network"
    ),
    cloudapi_route(
        "GetFabricNetwork",
        get_network,
        since=FABRIC_SINCE,
        summary="Get a fabric network",
        head=True,
    ),
    cloudapi_route(
        "UpdateFabricNetwork", update_network, since=FABRIC_SINCE, summary="Update a fabric network"
    ),
    cloudapi_route(
        "DeleteFabricNetwork", delete_network, since=FABRIC_SINCE, summary="Delete a fabric network"
    ),
]
