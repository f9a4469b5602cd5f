"""``smartdc vlan``: list and manage fabric VLANs, as ``triton vlan`` does.

Behaviour follows node-triton lib/do_vlan/*.js and ``getFabricVlan``/``deleteFabricVlan`` in
lib/tritonapi.js. ``vlan update`` works here; in triton 7.17 it crashes (it calls a
TritonApi method that does not exist).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from smartdc.cli import output
from smartdc.cli.args import add_positionals, set_usage
from smartdc.cli.command import ArgParser, Command, Group, UsageError
from smartdc.cli.values import add_update_file_option

if TYPE_CHECKING:
    from smartdc.cli.context import Context

VLAN_ARG_HELP = "Where VLAN is a VLAN id or name."
LIST_COLUMNS = "vlan_id,name,description"
LIST_FILTERS = ("vlan_id", "name", "description")
#: What ``vlan update`` may change (cloudapi2.js UPDATE_VLAN_FIELDS).
UPDATE_FIELDS = {"name": "string", "description": "string"}


def _one_vlan(options: argparse.Namespace) -> str:
    if not options.args:
        raise UsageError("missing VLAN argument")
    if len(options.args) > 1:
        raise UsageError("incorrect number of arguments")
    return str(options.args[0])


# --- list --------------------------------------------------------------------------------------


def _configure_list(parser: ArgParser) -> None:
    set_usage(parser, "[OPTIONS] [FILTERS]")
    output.add_table_options(parser, sort_default="vlan_id", long=False)
    parser.add_argument("filters", nargs="*", metavar="FILTERS", help=argparse.SUPPRESS)


def do_list(context: Context, options: argparse.Namespace) -> None:
    """ListFabricVLANs, filtered here: values are read as JSON, ``vlan_id`` as a number."""
    from smartdc.cli.args import key_values
    from smartdc.cli.table import strictly_equal, to_number

    filters: dict[str, Any] = key_values(options.filters, valid_keys=LIST_FILTERS, dotted=False)
    if "vlan_id" in filters:
        filters["vlan_id"] = to_number(filters["vlan_id"])  # as JavaScript's unary plus
    vlans = [
        vlan
        for vlan in context.api.list_fabric_vlans()
        if all(k in vlan and strictly_equal(vlan[k], v) for k, v in filters.items())
    ]
    output.print_list(context, options, vlans, columns=LIST_COLUMNS)


LIST = Command(
    "list",
    "List VLANs.",
    do_list,
    _configure_list,
    aliases=("ls",),
    description=(
        "List VLANs.\n\nFilters:\n"
        "    FIELD=<integer>   Number filter. Supported fields: vlan_id\n"
        "    FIELD=<string>    String filter. Supported fields: name, description\n\n"
        "Filters are applied client-side (i.e. done by this command itself)."
    ),
)


# --- create, get, update, delete ---------------------------------------------------------------


def _configure_create(parser: ArgParser) -> None:
    set_usage(parser, "[OPTIONS] VLAN")
    group = parser.add_argument_group("Create options")
    group.add_argument("-n", "--name", metavar="NAME", help="Name of the VLAN.")
    group.add_argument("-D", "--description", metavar="DESC", help="Description of the VLAN.")
    other = parser.add_argument_group("Other options")
    other.add_argument("-j", "--json", action="store_true", help="JSON stream output.")
    add_positionals(parser, "VLAN")


def do_create(context: Context, options: argparse.Namespace) -> None:
    """CreateFabricVLAN."""
    from smartdc.cli.commands.network import parse_vlan_id

    vlan_id = parse_vlan_id(_one_vlan(options))
    if not options.name:
        raise UsageError("must provide a --name (-n)")
    vlan = context.api.create_fabric_vlan(
        vlan_id=vlan_id, name=options.name, description=options.description or None
    )
    if options.json:
        output.print_object(context, options, vlan)
    elif vlan.get("name"):
        context.out(f"Created vlan {vlan['name']} ({vlan.get('vlan_id')})")
    else:
        context.out(f"Created vlan {vlan.get('vlan_id')}")


CREATE = Command(
    "create",
    "Create a VLAN.",
    do_create,
    _configure_create,
    description=(
        'Create a VLAN.\n\nExample:\n    smartdc vlan create -n "dmz" -D "Demilitarized zone" 73'
    ),
)


def _configure_get(parser: ArgParser) -> None:
    set_usage(parser, "VLAN")
    parser.add_argument("-j", "--json", action="store_true", help="JSON stream output.")
    add_positionals(parser, "VLAN")


def do_get(context: Context, options: argparse.Namespace) -> None:
    """Print one VLAN (by number or exact name)."""
    from smartdc.cli import resolve

    output.print_object(context, options, resolve.vlan(context.api, _one_vlan(options)))


GET = Command(
    "get",
    "Show a specific VLAN.",
    do_get,
    _configure_get,
    description=f"Show a specific VLAN.\n\n{VLAN_ARG_HELP}",
)


def _configure_update(parser: ArgParser) -> None:
    set_usage(parser, "VLAN [FIELD=VALUE ...]", "-f JSON-FILE VLAN")
    add_update_file_option(parser)
    add_positionals(parser, "VLAN")


def do_update(context: Context, options: argparse.Namespace) -> None:
    """UpdateFabricVLAN (``name``, ``description``)."""
    from smartdc.cli import resolve
    from smartdc.cli.values import check_update_fields, update_input

    if not options.args:
        raise UsageError("missing VLAN argument")
    text, *pairs = options.args
    data = update_input(context, options.file, pairs, UPDATE_FIELDS, "VLAN")
    check_update_fields(data, UPDATE_FIELDS, allow_empty=True)
    if not data:
        context.out("No fields given for VLAN update")
        return
    api = context.api
    vlan = resolve.vlan(api, text)
    api.update_fabric_vlan(int(vlan["vlan_id"]), **data)
    context.out(f"Updated vlan {text} (fields: {', '.join(data)})")


UPDATE = Command(
    "update",
    "Update a VLAN.",
    do_update,
    _configure_update,
    description=(
        "Update a VLAN.\n\nUpdateable fields:\n    description (string), name (string)\n\n"
        + VLAN_ARG_HELP
    ),
)


def _configure_delete(parser: ArgParser) -> None:
    set_usage(parser, "VLAN [VLAN ...]")
    add_positionals(parser, "VLAN")


def do_delete(context: Context, options: argparse.Namespace) -> None:
    """DeleteFabricVLAN for each VLAN (all at once)."""
    from smartdc.cli import resolve
    from smartdc.cli.batch import report_each

    if not options.args:
        raise UsageError("missing VLAN argument(s)")
    api = context.api

    def delete(text: str) -> None:
        # CloudAPI's own answer for an unknown number, as triton's deleteFabricVlan
        vlan_id = _vlan_number(text)
        if vlan_id is None:
            vlan_id = int(resolve.vlan(api, text)["vlan_id"])
        api.delete_fabric_vlan(vlan_id)

    report_each(context, options.args, delete, "Deleted vlan {}")


DELETE = Command(
    "delete",
    "Remove a VLAN.",
    do_delete,
    _configure_delete,
    aliases=("rm",),
    description=f"Remove a VLAN.\n\n{VLAN_ARG_HELP}",
)


def _vlan_number(text: str) -> int | None:
    """The VLAN number ``text`` is, as triton's ``+text`` test reads it, else ``None``."""
    from smartdc.cli.table import to_number

    number = to_number(text)
    if 0 <= number < 4096 and number.is_integer():
        return int(number)
    return None


# --- networks ----------------------------------------------------------------------------------


def _configure_networks(parser: ArgParser) -> None:
    from smartdc.cli.commands.network import configure_list

    set_usage(parser, "[OPTIONS] VLAN")
    configure_list(parser)
    add_positionals(parser, "VLAN")


def do_networks(context: Context, options: argparse.Namespace) -> None:
    """ListFabricNetworks of the VLAN, shown as ``network list`` shows networks."""
    from smartdc.cli import resolve
    from smartdc.cli.commands.network import print_networks

    api = context.api
    vlan = resolve.vlan(api, _one_vlan(options))
    print_networks(context, options, api.list_fabric_networks(int(vlan["vlan_id"])))


NETWORKS = Command(
    "networks",
    "Show all networks on a VLAN.",
    do_networks,
    _configure_networks,
    description=f"Show all networks on a VLAN.\n\n{VLAN_ARG_HELP}",
)


TREE = Group(
    "vlan",
    "List and manage Triton fabric VLANs.",
    (LIST, CREATE, GET, UPDATE, DELETE, NETWORKS),
)
