"""Input checks for the fabric routes, worded as CloudAPI's JSON-schema validation words them
(409 ``InvalidArgument`` 'property "<name>": <problem>')."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Collection, Mapping
from typing import Any

from smartdc.emulator.context import EmulatorError, invalid_argument
from smartdc.emulator.params import is_number, parse_ipv4, parse_ipv4_network
from smartdc.emulator.store.fabrics import FabricNetworkSpec

NAME_PATTERN = re.compile(r"^[a-zA-Z][a-zA-Z0-9_./-]{1,255}$")
#: NAPI keeps names and descriptions to this many characters.
MAX_TEXT_LENGTH = 64
MIN_VLAN_ID = 2
MAX_VLAN_ID = 4095
MAX_RESOLVERS = 4
#: Parameters any request may carry besides the schema's own.
_ALWAYS_ALLOWED = frozenset({"as-role"})
#: ``internet_nat`` as a JSON boolean or as the schema's string enum.
_NAT_VALUES: dict[bool | str, bool] = {
    True: True,
    False: False,
    "true": True,
    "false": False,
    "TRUE": True,
    "FALSE": False,
}


def problem(name: str, message: str) -> EmulatorError:
    """The 409 for a property that fails validation."""
    return invalid_argument(f'property "{name}": {message}')


def _js_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "null" if value is None else "object"


def _typed(params: Mapping[str, Any], name: str, wanted: str) -> Any:
    value = params[name]
    if _js_type(value) != wanted:
        raise problem(name, f"{_js_type(value)} value found, but a {wanted} is required")
    return value


def reject_unknown(params: Mapping[str, Any], allowed: Collection[str]) -> None:
    """409 for the first parameter the schema does not list."""
    for name in sorted(params):
        if name not in allowed and name not in _ALWAYS_ALLOWED:
            raise problem(name, "unknown property")


def require(params: Mapping[str, Any], *names: str) -> None:
    """409 for the first required parameter that is absent."""
    for name in names:
        if params.get(name) is None:
            raise problem(name, "is missing and it is required")


def name_value(params: Mapping[str, Any], key: str = "name") -> str:
    """A VLAN or network name: the schema's pattern, at most 64 characters."""
    value = str(_typed(params, key, "string"))
    if not NAME_PATTERN.fullmatch(value):
        raise problem(key, f"does not match the regex pattern {NAME_PATTERN.pattern}")
    if len(value) > MAX_TEXT_LENGTH:
        raise problem(key, f"must be at most {MAX_TEXT_LENGTH} characters long")
    return value


def description_value(params: Mapping[str, Any]) -> str | None:
    if params.get("description") is None:
        return None
    value = str(_typed(params, "description", "string"))
    if len(value) > MAX_TEXT_LENGTH:
        raise problem("description", f"must be at most {MAX_TEXT_LENGTH} characters long")
    return value


def vlan_id_value(value: Any, name: str = "vlan_id") -> int:
    """A VLAN id (an integer, or its decimal text as query strings carry it) in 2..4095."""
    if isinstance(value, str) and is_number(value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise problem(name, f"{_js_type(value)} value found, but a integer is required")
    if value < MIN_VLAN_ID:
        raise problem(name, f"must have a minimum value of {MIN_VLAN_ID}")
    if value > MAX_VLAN_ID:
        raise problem(name, f"must have a maximum value of {MAX_VLAN_ID}")
    return value


def _ipv4(params: Mapping[str, Any], name: str) -> ipaddress.IPv4Address:
    address = parse_ipv4(_typed(params, name, "string"))
    if address is None:
        raise problem(name, "must be an IPv4 address")
    return address


def _subnet(params: Mapping[str, Any]) -> ipaddress.IPv4Network:
    subnet = parse_ipv4_network(_typed(params, "subnet", "string"))
    if subnet is None:
        raise problem("subnet", "Subnet must be in CIDR form")
    if not subnet.is_private or subnet.prefixlen > 30:
        raise problem("subnet", "Subnet must be a private range of /30 or larger")
    return subnet


def _inside(name: str, address: ipaddress.IPv4Address, subnet: ipaddress.IPv4Network) -> None:
    if address not in subnet:
        raise problem(name, f"must be within subnet {subnet}")


def _resolvers(params: Mapping[str, Any]) -> tuple[str, ...]:
    if params.get("resolvers") is None:
        return ()
    value = _typed(params, "resolvers", "array")
    if len(value) > MAX_RESOLVERS:
        raise problem("resolvers", f"maximum of {MAX_RESOLVERS} resolvers")
    for item in value:
        if parse_ipv4(item) is None:
            raise problem("resolvers", "must be an array of IPv4 addresses")
    return tuple(str(item) for item in value)


def _routes(params: Mapping[str, Any]) -> dict[str, str]:
    if params.get("routes") is None:
        return {}
    value = _typed(params, "routes", "object")
    for destination, gateway in value.items():
        reachable = parse_ipv4(destination) or parse_ipv4_network(destination)
        if reachable is None or parse_ipv4(gateway) is None:
            raise problem("routes", "invalid route")
    return {str(k): str(v) for k, v in value.items()}


def _internet_nat(params: Mapping[str, Any]) -> bool:
    value = params.get("internet_nat")
    if value is None:
        return True
    if isinstance(value, bool | str) and value in _NAT_VALUES:
        return _NAT_VALUES[value]
    raise problem(
        "internet_nat", 'does not have a value in the enumeration ["true","false","TRUE","FALSE"]'
    )


CREATE_NETWORK_PROPERTIES = frozenset(
    {
        "name",
        "subnet",
        "provision_start_ip",
        "provision_end_ip",
        "gateway",
        "resolvers",
        "routes",
        "description",
        "internet_nat",
        "vlan_id",
    }
)
UPDATE_NETWORK_PROPERTIES = frozenset(
    {"name", "description", "provision_start_ip", "provision_end_ip", "resolvers", "routes"}
)


def _range(
    params: Mapping[str, Any], subnet: ipaddress.IPv4Network, current: FabricNetworkSpec | None
) -> tuple[str, str]:
    bounds: list[ipaddress.IPv4Address] = []
    for name in ("provision_start_ip", "provision_end_ip"):
        if params.get(name) is None and current is not None:
            bounds.append(ipaddress.IPv4Address(getattr(current, name)))
            continue
        address = _ipv4(params, name)
        _inside(name, address, subnet)
        if address in (subnet.network_address, subnet.broadcast_address):
            raise problem(name, f"cannot be the network or broadcast address of {subnet}")
        bounds.append(address)
    if bounds[0] > bounds[1]:
        raise problem("provision_end_ip", "must not be lower than provision_start_ip")
    return str(bounds[0]), str(bounds[1])


def network_spec(params: Mapping[str, Any]) -> FabricNetworkSpec:
    """CreateFabricNetwork's parameters, checked in the schema's order."""
    reject_unknown(params, CREATE_NETWORK_PROPERTIES)
    require(params, "name", "subnet", "provision_start_ip", "provision_end_ip")
    name = name_value(params)
    subnet = _subnet(params)
    start, end = _range(params, subnet, None)
    gateway = None
    if params.get("gateway") is not None:
        address = _ipv4(params, "gateway")
        _inside("gateway", address, subnet)
        gateway = str(address)
    return FabricNetworkSpec(
        name=name,
        subnet=str(subnet),
        provision_start_ip=start,
        provision_end_ip=end,
        gateway=gateway,
        resolvers=_resolvers(params),
        routes=_routes(params),
        description=description_value(params),
        internet_nat=_internet_nat(params),
    )


def network_update(params: Mapping[str, Any], current: FabricNetworkSpec) -> FabricNetworkSpec:
    """UpdateFabricNetwork's parameters applied to the network's ``current`` settings."""
    if "id" in params:
        raise problem("id", "cannot be updated")
    reject_unknown(params, UPDATE_NETWORK_PROPERTIES | {"vlan_id"})
    subnet = ipaddress.IPv4Network(current.subnet)
    start, end = _range(params, subnet, current)
    return FabricNetworkSpec(
        name=current.name if params.get("name") is None else name_value(params),
        subnet=current.subnet,
        provision_start_ip=start,
        provision_end_ip=end,
        gateway=current.gateway,
        resolvers=current.resolvers if params.get("resolvers") is None else _resolvers(params),
        routes=current.routes if params.get("routes") is None else _routes(params),
        description=(
            current.description if params.get("description") is None else description_value(params)
        ),
        internet_nat=current.internet_nat,
    )
