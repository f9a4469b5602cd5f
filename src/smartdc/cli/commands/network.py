"""``smartdc network``: list and manage networks and their IPs, as ``triton network`` does.

Behaviour follows node-triton lib/do_network/*.js (and do_ip/ for ``network ip``) and the
network calls of lib/tritonapi.js; each handler notes where it differs.
"""

from __future__ import annotations

import argparse
import re
from typing import TYPE_CHECKING, Any

from smartdc.cli import output
from smartdc.cli.args import add_positionals, set_usage
from smartdc.cli.command import ArgParser, Command, Group, UsageError
from smartdc.cli.values import add_update_file_option

if TYPE_CHECKING:
    from smartdc.cli.context import Context

NETWORK_ARG_HELP = "Where NETWORK is a network id (full UUID), name, or short id."


def network_id(context: Context, text: str) -> str:
    """The id of the network ``text`` names; a UUID is used as it is (as triton does)."""
    from smartdc.cli import resolve

    if resolve.is_uuid(text):
        return text
    return str(resolve.network(context.api, text)["id"])


# --- list --------------------------------------------------------------------------------------

LIST_COLUMNS = "shortid,name,subnet,gateway,fabric,vlan,public"
LIST_LONG_COLUMNS = "id,name,subnet,gateway,fabric,vlan,public"
LIST_FIELDS_HELP = """\
Fields (most are self explanatory, the client adds some for convenience):
    vlan       A shorter alias for "vlan_id".
    shortid    A short ID prefix."""


def configure_list(parser: ArgParser) -> None:
    """The table options of ``network list`` (``vlan networks`` has the same)."""
    output.add_table_options(parser, sort_default="name")


def _configure_list(parser: ArgParser) -> None:
    set_usage(parser, "[FILTERS...]")
    configure_list(parser)
    parser.add_argument("filters", nargs="*", metavar="FILTERS", help=argparse.SUPPRESS)


def print_networks(
    context: Context, options: argparse.Namespace, networks: list[dict[str, Any]]
) -> None:
    """Print networks as ``network list`` does (``shortid`` and ``vlan`` added)."""
    from smartdc.cli import humanize

    if options.json or options.json_array:
        output.print_list(context, options, networks, columns=LIST_COLUMNS)
        return
    rows = [humanize.add_network_fields(net) for net in networks]
    output.print_list(context, options, rows, columns=LIST_COLUMNS, long_columns=LIST_LONG_COLUMNS)


def _bool_filter(value: str, name: str) -> bool:
    # as node-triton lib/common.js boolFromString
    if value in ("true", "1"):
        return True
    if value in ("false", "0"):
        return False
    from smartdc.cli.failures import CommandError

    raise CommandError(f'invalid boolean value for {name}: "{value}"')


def do_list(context: Context, options: argparse.Namespace) -> None:
    """ListNetworks, filtered here (triton filters on the client): ``public=true|false``."""
    from smartdc.cli.args import key_values
    from smartdc.cli.table import strictly_equal

    filters: dict[str, Any] = key_values(
        options.filters, valid_keys=("public",), convert=False, dotted=False
    )
    if "public" in filters:
        filters["public"] = _bool_filter(filters["public"], "public")
    networks = [
        net
        for net in context.api.list_networks()
        if all(k in net and strictly_equal(net[k], v) for k, v in filters.items())
    ]
    print_networks(context, options, networks)


LIST = Command(
    "list",
    "List available networks.",
    do_list,
    _configure_list,
    aliases=("ls",),
    description=(
        "List available networks.\n\nFilters:\n"
        "    FIELD=true|false   Boolean filter. Supported fields: public\n\n" + LIST_FIELDS_HELP
    ),
)


# --- get, get-default, set-default -------------------------------------------------------------


def _configure_get(parser: ArgParser) -> None:
    set_usage(parser, "NETWORK")
    parser.add_argument("-j", "--json", action="store_true", help="JSON output.")
    add_positionals(parser, "NETWORK")


def do_get(context: Context, options: argparse.Namespace) -> None:
    """Print one network (indented JSON, one line with ``-j``)."""
    from smartdc.cli import resolve

    if len(options.args) != 1:
        raise UsageError(f"incorrect number of args ({len(options.args)})")
    output.print_object(context, options, resolve.network(context.api, options.args[0]))


GET = Command(
    "get",
    "Show a network.",
    do_get,
    _configure_get,
    description=f"Show a network.\n\n{NETWORK_ARG_HELP}",
)


def _configure_get_default(parser: ArgParser) -> None:
    set_usage(parser, "")
    parser.add_argument("-j", "--json", action="store_true", help="JSON output.")
    add_positionals(parser)


def do_get_default(context: Context, options: argparse.Namespace) -> None:
    """GetConfig, then show the default network it names."""
    from smartdc.cli import resolve
    from smartdc.cli.failures import CommandError

    if options.args:
        raise UsageError("incorrect number of arguments")
    api = context.api
    default = api.get_config().get("default_network")
    if not default:
        raise CommandError("account has no default network configured")
    output.print_object(context, options, resolve.network(api, str(default)))


GET_DEFAULT = Command("get-default", "Get default network.", do_get_default, _configure_get_default)


def _configure_set_default(parser: ArgParser) -> None:
    set_usage(parser, "NETWORK")
    add_positionals(parser, "NETWORK")


def do_set_default(context: Context, options: argparse.Namespace) -> None:
    """UpdateConfig ``default_network``."""
    from smartdc.cli import resolve

    if not options.args:
        raise UsageError("missing NETWORK argument")
    if len(options.args) > 1:
        raise UsageError("incorrect number of arguments")
    api = context.api
    net = resolve.network(api, options.args[0])
    api.update_config(default_network=str(net["id"]))
    context.out(f"Set network {net.get('name')} ({net['id']}) as default.")


SET_DEFAULT = Command(
    "set-default",
    "Set default network.",
    do_set_default,
    _configure_set_default,
    description=f"Set default network.\n\n{NETWORK_ARG_HELP}",
)


# --- create, delete ----------------------------------------------------------------------------

_CREATE_HELP = """\
Create a network on a VLAN.

Examples:
    Create the "accounting" network on VLAN 1000:
        smartdc network create -n accounting --subnet 192.168.0.0/24 \\
            --start-ip 192.168.0.1 --end-ip 192.168.0.254 --no-nat \\
            1000

    Create the "eng" network on VLAN 1001 with a pair of static routes:
        smartdc network create -n eng -s 192.168.1.0/24 \\
            -S 192.168.1.1 -E 192.168.1.249 --no-nat \\
            --route 10.1.1.0/24=192.168.1.50 \\
            --route 10.1.2.0/24=192.168.1.100 \\
            1001

    Create the "ops" network on VLAN 1002 with DNS resolvers and NAT:
        smartdc network create -n ops -s 192.168.2.0/24 \\
            -S 192.168.2.10 -E 192.168.2.249 \\
            --resolver 8.8.8.8 --resolver 8.4.4.4 \\
            --gateway 192.168.2.1 \\
            1002"""


def _configure_create(parser: ArgParser) -> None:
    set_usage(parser, "[OPTIONS] VLAN")
    group = parser.add_argument_group("Create options")
    group.add_argument("-n", "--name", metavar="NAME", help="Name of the NETWORK.")
    group.add_argument("-D", "--description", metavar="DESC", help="Description of the NETWORK.")
    group.add_argument(
        "-s", "--subnet", metavar="SUBNET", help="A CIDR string describing the NETWORK."
    )
    group.add_argument(
        "-S",
        "--start-ip",
        "--start_ip",
        dest="start_ip",
        metavar="START_IP",
        help="First assignable IP address on NETWORK.",
    )
    group.add_argument(
        "-E",
        "--end-ip",
        "--end_ip",
        dest="end_ip",
        metavar="END_IP",
        help="Last assignable IP address on NETWORK.",
    )
    group.add_argument("-g", "--gateway", metavar="IP", help="Default gateway IP address.")
    group.add_argument(
        "-r",
        "--resolver",
        action="append",
        metavar="RESOLVER",
        help="DNS resolver IP address. Repeat for several resolvers.",
    )
    group.add_argument(
        "-R",
        "--route",
        action="append",
        metavar="SUBNET=IP",
        help="Static route: a subnet (address with CIDR prefix length) and its router "
        "address. Repeat for several routes.",
    )
    group.add_argument(
        "-x",
        "--no-nat",
        "--no_nat",
        dest="no_nat",
        action="store_true",
        help="Disable creation of an Internet NAT zone on GATEWAY.",
    )
    other = parser.add_argument_group("Other options")
    other.add_argument("-j", "--json", action="store_true", help="JSON stream output.")
    add_positionals(parser, "VLAN")


def parse_vlan_id(text: str) -> int:
    """A VLAN number as triton reads it (digits only, ``jsprim.parseInteger``)."""
    if not re.fullmatch(r"[0-9]+", text) or int(text) > 2**53:
        raise UsageError("VLAN must be an integer")
    return int(text)


def do_create(context: Context, options: argparse.Namespace) -> None:
    """CreateFabricNetwork on the VLAN given."""
    if not options.args:
        raise UsageError("missing VLAN argument")
    if len(options.args) > 1:
        raise UsageError("incorrect number of arguments")
    vlan_id = parse_vlan_id(options.args[0])
    for value, flag in (
        (options.subnet, "--subnet (-s)"),
        (options.name, "--name (-n)"),
        (options.start_ip, "--start-ip (-S)"),
        (options.end_ip, "--end-ip (-E)"),
    ):
        if not value:
            raise UsageError(f"must specify {flag} option")
    resolvers: list[str] = []
    for resolver in options.resolver or ():
        if resolver not in resolvers:
            resolvers.append(resolver)
    routes: dict[str, str] = {}
    for route in options.route or ():
        match = re.fullmatch(r"([^=]+)=([^=]+)", route)
        if match is None:
            raise UsageError(f"invalid route: {route}")
        routes[match.group(1)] = match.group(2)
    if not options.gateway and not options.no_nat:
        raise UsageError("without a --gateway (-g), you must specify --no-nat (-x)")
    net = context.api.create_fabric_network(
        vlan_id,
        name=options.name,
        subnet=options.subnet,
        provision_start_ip=options.start_ip,
        provision_end_ip=options.end_ip,
        gateway=options.gateway or None,
        resolvers=resolvers,
        routes=routes,
        description=options.description or None,
        internet_nat=False if options.no_nat else None,
    )
    if options.json:
        output.print_object(context, options, net)
    else:
        context.out(f"Created network {net.get('name')} ({net.get('id')})")


CREATE = Command(
    "create",
    "Create a network on a VLAN.",
    do_create,
    _configure_create,
    description=_CREATE_HELP,
)


def _configure_delete(parser: ArgParser) -> None:
    set_usage(parser, "NETWORK [NETWORK ...]")
    add_positionals(parser, "NETWORK")


def do_delete(context: Context, options: argparse.Namespace) -> None:
    """DeleteFabricNetwork for each network (all at once), on the VLAN each is on."""
    from smartdc.cli import resolve
    from smartdc.cli.batch import report_each
    from smartdc.cli.failures import CommandError

    if not options.args:
        raise UsageError("missing NETWORK argument(s)")
    api = context.api

    def delete(text: str) -> None:
        net = resolve.network(api, text)
        vlan_id = net.get("vlan_id")
        if not isinstance(vlan_id, int) or isinstance(vlan_id, bool):
            # triton crashes on an assertion here
            raise CommandError(
                f"cannot delete network {net.get('name')} ({net['id']}): it is not a fabric network"
            )
        api.delete_fabric_network(vlan_id, str(net["id"]))

    report_each(context, options.args, delete, "Deleted network {}")


DELETE = Command(
    "delete",
    "Remove a fabric network.",
    do_delete,
    _configure_delete,
    aliases=("rm",),
    description=f"Remove a fabric network.\n\n{NETWORK_ARG_HELP}",
)


# --- network ip --------------------------------------------------------------------------------

IP_COLUMNS = "ip,managed,reserved,owner_uuid,belongs_to_uuid"
#: What ``network ip update`` may change (cloudapi2.js UPDATE_NETWORK_IP_FIELDS).
IP_UPDATE_FIELDS = {"reserved": "boolean"}


def _int32(value: int) -> int:
    value &= 0xFFFFFFFF
    return value - 2**32 if value >= 2**31 else value


def ipv4_sort_key(value: Any) -> int | None:
    """The number triton sorts IPs by (lib/common.js ``ipv4ToLong``, which shifts in 32-bit
    signed arithmetic, so 128.0.0.0 and above come out negative); ``None`` if not IPv4
    (triton fails on an assertion there)."""
    if not isinstance(value, str):
        return None
    octets = value.split(".")
    if len(octets) != 4 or not all(re.fullmatch(r"[0-9]+", o) for o in octets):
        return None
    total = 0
    for octet in octets:
        number = int(octet)
        if number > 255:
            return None
        total = _int32(total << 8) + number
    return total


def _ip_sort(text: str) -> list[Any]:
    from smartdc.cli.table import SortKey

    fields: list[Any] = []
    for raw in text.split(","):
        field = raw.strip()
        if not field:
            raise UsageError(f"zero-length sort field: {text}")
        reverse = field.startswith("-")
        name = field[1:] if reverse else field
        key = ipv4_sort_key if name == "ip" else None
        fields.append(SortKey(name, reverse, key))
    return fields


def _configure_ip_list(parser: ArgParser) -> None:
    set_usage(parser, "NETWORK")
    output.add_table_options(parser, sort_default="ip")
    add_positionals(parser, "NETWORK")


def _network_not_found(text: str) -> BaseException:
    from smartdc.cli.failures import NotFound

    return NotFound(f"network with id {text} was not found")


def do_ip_list(context: Context, options: argparse.Namespace) -> None:
    """ListNetworkIPs (one page, as triton asks for), sorted by address."""
    from smartdc.errors import CloudAPIError

    if len(options.args) != 1:
        raise UsageError(f"incorrect number of args ({len(options.args)})")
    text = options.args[0]
    sort = _ip_sort(options.s)
    net = network_id(context, text)
    try:
        ips = context.api.list_network_ips(net)
    except CloudAPIError as exc:
        if exc.status == 404:
            raise _network_not_found(text) from exc
        raise
    output.print_list(context, options, ips, columns=IP_COLUMNS, sort=sort)


IP_LIST = Command(
    "list",
    "List network IPs.",
    do_ip_list,
    _configure_ip_list,
    aliases=("ls",),
    description=(
        "List network IPs.\n\n"
        "Fields (most are self explanatory, the significant ones are as follows):\n"
        "    managed      IP is managed by Triton and cannot be modified directly.\n\n"
        "See https://apidocs.tritondatacenter.com/cloudapi/#ListNetworkIPs for a full listing."
    ),
)


def _ip_not_found(context: Context, text: str, net: str, ip: str) -> BaseException:
    """What a 404 for an IP means: triton blames the network even when only the IP is
    unknown, so the network is checked first."""
    from smartdc.cli import resolve
    from smartdc.cli.failures import NotFound
    from smartdc.errors import CloudAPIError

    if resolve.is_uuid(text):
        try:
            context.api.get_network(net)
        except CloudAPIError as exc:
            if exc.status == 404:
                return _network_not_found(text)
            raise
    return NotFound(f"IP {ip} was not found in network {net}")


def _configure_ip_get(parser: ArgParser) -> None:
    set_usage(parser, "NETWORK IP")
    parser.add_argument("-j", "--json", action="store_true", help="JSON output.")
    add_positionals(parser)


def do_ip_get(context: Context, options: argparse.Namespace) -> None:
    """GetNetworkIP."""
    from smartdc.errors import CloudAPIError

    if len(options.args) != 2:
        raise UsageError(f"incorrect number of args ({len(options.args)})")
    text, ip = options.args
    net = network_id(context, text)
    try:
        found = context.api.get_network_ip(net, ip)
    except CloudAPIError as exc:
        if exc.status == 404:
            raise _ip_not_found(context, text, net, ip) from exc
        raise
    output.print_object(context, options, found)


IP_GET = Command(
    "get",
    "Show a network ip.",
    do_ip_get,
    _configure_ip_get,
    description=(
        "Show a network ip.\n\nWhere NETWORK is a network id, name or short id, and IP is the "
        "ip address you want to get."
    ),
)


def _configure_ip_update(parser: ArgParser) -> None:
    set_usage(parser, "NETWORK IP [FIELD=VALUE ...]", "NETWORK IP -f JSON-FILE")
    add_update_file_option(parser, "FILE")
    parser.add_argument("-j", "--json", action="store_true", help="JSON output.")
    add_positionals(parser)


def do_ip_update(context: Context, options: argparse.Namespace) -> None:
    """UpdateNetworkIP (``reserved=true|false``)."""
    from smartdc.cli.values import update_data
    from smartdc.errors import CloudAPIError

    if len(options.args) < 2:
        raise UsageError(f"incorrect number of args ({len(options.args)})")
    text, ip, *pairs = options.args
    if not pairs and not options.file:
        raise UsageError('FIELD=VALUE arguments or "-f FILE" must be specified')
    data = update_data(context, options.file, pairs, IP_UPDATE_FIELDS, "network IP")
    net = network_id(context, text)
    try:
        updated = context.api.update_network_ip(net, ip, reserved=data["reserved"])
    except CloudAPIError as exc:
        if exc.status == 404:
            raise _ip_not_found(context, text, net, ip) from exc
        raise
    if options.json:
        output.print_object(context, options, updated)
    else:
        context.out(f"Updated network {net} IP {ip} (fields: {', '.join(data)})")


IP_UPDATE = Command(
    "update",
    "Update a network ip.",
    do_ip_update,
    _configure_ip_update,
    description=(
        "Update a network ip.\n\nWhere NETWORK is a network id, name or short id, and IP is "
        "the ip address you want to update.\n\nUpdateable fields:\n    reserved (boolean)"
    ),
)

IP = Group("ip", "List and manage Triton network IPs.", (IP_LIST, IP_GET, IP_UPDATE))


TREE = Group(
    "network",
    "List and manage Triton networks.",
    (LIST, GET, IP, CREATE, DELETE, GET_DEFAULT, SET_DEFAULT),
)
