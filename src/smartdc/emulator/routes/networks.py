"""Network routes: ListNetworks, GetNetwork, the IPs of a network, and the account's default
network (config).
"""

from __future__ import annotations

import ipaddress
from typing import Any

from smartdc.emulator.context import (
    Call,
    Reply,
    cloudapi_route,
    invalid_argument,
    invalid_parameters,
    missing_parameter,
    not_found,
)
from smartdc.emulator.paging import paginate
from smartdc.emulator.params import is_uuid, parse_bool, parse_ipv4
from smartdc.emulator.store import catalog, fabrics, machines, network_ips


def list_networks(call: Call) -> Reply:
    """ListNetworks: every network the account may provision on (``fabric`` narrows to its
    own fabric networks)."""
    fabrics.ensure_account_fabric(call.db, call.account_uuid)
    records = catalog.list_networks(call.db, call.account_uuid)
    fabric = call.params.get("fabric")
    if fabric not in (None, "", False, "false"):
        records = [r for r in records if r.network.get("fabric")]
    return Reply(200, [r.network for r in records])


def network_record(call: Call) -> catalog.NetworkRecord:
    """The path's network (``{id}``) if the account may use it; 404 "<id> not found"."""
    fabrics.ensure_account_fabric(call.db, call.account_uuid)
    network_id = call.path_params["id"]
    record = catalog.get_network(call.db, call.account_uuid, network_id)
    if record is None:
        raise not_found(f"{network_id} not found")
    return record


def get_network(call: Call) -> Reply:
    """GetNetwork: one network; 404 "<id> not found"."""
    return Reply(200, network_record(call).network)


# --- IPs -----------------------------------------------------------------------------------


def _ip_network(call: Call) -> catalog.NetworkRecord:
    """The path's network, with the caller's due machine jobs applied first (a destroyed
    machine's addresses are free)."""
    record = network_record(call)
    machines.catch_up(call.db, call.now)
    return record


def _shared(record: catalog.NetworkRecord) -> bool:
    """A network every account provisions on (public or private, not one of the caller's
    fabric networks): the caller sees only its own addresses there."""
    return record.public or not record.network.get("fabric")


def list_network_ips(call: Call) -> Reply:
    """ListNetworkIPs: reserved, assigned and managed addresses, paged; on a shared network
    only the caller's own."""
    record = _ip_network(call)
    found = network_ips.list_ips(call.db, call.datacenter, record)
    if _shared(record):
        found = [ip for ip in found if ip.owner == call.account_uuid]
    page, headers = paginate(found, call.params)
    return Reply(200, [ip.render(call.account_uuid) for ip in page], headers)


def _address(call: Call, record: catalog.NetworkRecord) -> ipaddress.IPv4Address:
    text = call.path_params["ip_address"]
    address = parse_ipv4(text)
    if address is None:
        raise invalid_parameters(
            [{"field": "ip", "code": "InvalidParameter", "message": "invalid IP"}]
        )
    if address not in ipaddress.IPv4Network(record.subnet):
        raise not_found(f"IP {text} is not in subnet {record.subnet}")
    return address


def get_network_ip(call: Call) -> Reply:
    """GetNetworkIP: one address (free ones too); on a shared network only the caller's."""
    record = _ip_network(call)
    address = _address(call, record)
    found = network_ips.get_ip(call.db, call.datacenter, record, address)
    if _shared(record) and found.owner != call.account_uuid:
        raise not_found(f"IP {address} not found")
    return Reply(200, found.render(call.account_uuid))


def _reserved_flag(value: Any) -> bool:
    if value is None:
        raise missing_parameter("reserved is a required argument")
    flag = parse_bool(value)
    if flag is None:
        raise invalid_argument("reserved must be set to true or false")
    return flag


def update_network_ip(call: Call) -> Reply:
    """UpdateNetworkIP: reserve or release an address of a non-public network."""
    reserved = _reserved_flag(call.params.get("reserved"))
    record = _ip_network(call)
    address = _address(call, record)
    if record.public:
        raise invalid_argument("cannot update an IP on a public network")
    found = network_ips.get_ip(call.db, call.datacenter, record, address)
    if _shared(record) and found.owner != call.account_uuid:
        raise not_found(f"IP {address} not found")
    if found.managed:
        raise invalid_argument("cannot update managed IP")
    if found.owner not in (None, call.account_uuid):
        raise invalid_argument("IP belongs to another account")
    updated = network_ips.set_reserved(
        call.db, call.datacenter, record, address, owner=call.account_uuid, reserved=reserved
    )
    return Reply(200, updated.render(call.account_uuid))


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
    cloudapi_route("ListNetworkIPs", list_network_ips, head=True, summary="List network IPs"),
    cloudapi_route("GetNetworkIP", get_network_ip, head=True, summary="Get a network IP"),
    cloudapi_route("UpdateNetworkIP", update_network_ip, summary="Reserve or release an IP"),
    cloudapi_route("GetConfig", get_config, head=True, summary="Get config"),
    cloudapi_route("UpdateConfig", update_config, summary="Update config"),
]
