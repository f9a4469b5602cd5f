"""``smartdc instance nic``, as ``triton instance nic``.

Behaviour follows node-triton lib/do_instance/do_nic/*.js: ``create`` takes a network
(name, short id or UUID) or ``ipv4_uuid=...[,ipv4_ips=...]`` NIC options, and ``-w``
polls GetNic until the NIC is ``running`` or ``stopped``; ``list`` filters on the client.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from smartdc.cli import output, waiting
from smartdc.cli.args import add_positionals, set_usage, take
from smartdc.cli.command import ArgParser, Command, Group, UsageError
from smartdc.cli.commands.instance_common import configure, instance_id

if TYPE_CHECKING:
    from smartdc.cli.context import Context

LIST_COLUMNS = "ip,mac,state,network"
LIST_LONG_COLUMNS = "ip,mac,state,network,primary,gateway"
LIST_SORT = "ip"
#: Client-side ``list`` filters: triton's (ip, mac, state, network, primary, gateway) and
#: ``netmask``, which its help documents but its code rejects.
LIST_FILTERS = ("ip", "mac", "state", "network", "netmask", "primary", "gateway")
#: NIC options ``create`` takes instead of a network (node-triton NETWORK_OBJECT_FIELDS).
NIC_OPTIONS = ("ipv4_uuid", "ipv4_ips")


def _checked_mac(mac: str) -> str:
    """``mac`` unchanged, once it is known to be a MAC the NIC routes accept."""
    from smartdc.cli.failures import CommandError

    digits = mac.replace(":", "").replace("-", "").replace(".", "").lower()
    if len(digits) != 12 or any(ch not in "0123456789abcdef" for ch in digits):
        raise CommandError(f'"{mac}" is not a MAC address', code="InvalidArgument")
    return mac


# --- nic create --------------------------------------------------------------------------------


def _configure_create(parser: ArgParser) -> None:
    set_usage(parser, "[OPTIONS] INST NETWORK", "[OPTIONS] INST NICOPT=VALUE [NICOPT=VALUE ...]")
    parser.add_argument("-j", "--json", action="store_true", help="JSON stream output.")
    waiting.add_wait_options(parser, timeout=False, help="Wait for the creation to complete.")
    parser.add_argument(
        "-p",
        "--primary",
        action="store_true",
        help="Make new NIC the primary NIC for the instance",
    )
    add_positionals(parser)


def nic_object(args: list[str]) -> dict[str, Any]:
    """The ``{ipv4_uuid, ipv4_ips}`` network object NICOPT=VALUE arguments describe
    (node-triton lib/common.js parseNicStr)."""
    from smartdc.cli import resolve
    from smartdc.cli.args import key_values

    obj = key_values(args, valid_keys=NIC_OPTIONS, dotted=False, string_keys=NIC_OPTIONS)
    uuid = obj.get("ipv4_uuid")
    if not uuid:
        raise UsageError("ipv4_uuid must be specified in network object")
    if not resolve.is_uuid(uuid):
        # triton fails an assertion here
        raise UsageError(f'ipv4_uuid must be a network UUID, not "{uuid}"')
    ips = obj.get("ipv4_ips")
    if ips:
        obj["ipv4_ips"] = ips.split("|")
        if len(obj["ipv4_ips"]) != 1:
            raise UsageError("only 1 ipv4_ip may be specified")
    elif "ipv4_ips" in obj:
        del obj["ipv4_ips"]
    return obj


def do_create(context: Context, options: argparse.Namespace) -> None:
    """AddNic on a network (or with NIC options); ``-w`` waits until it is up."""
    from smartdc.cli import resolve, table
    from smartdc.cli.failures import CommandError

    args: list[str] = options.args
    if len(args) < 2:
        raise UsageError("missing INST and NETWORK or INST and NICOPT=VALUE arguments")
    pairs = [arg for arg in args if "=" in arg]
    plain = [arg for arg in args if "=" not in arg]
    network: str | dict[str, Any]
    if pairs:
        if len(plain) > 1:
            raise UsageError("cannot specify INST and NETWORK when passing in ipv4 arguments")
        if len(plain) != 1:
            raise UsageError("missing INST argument")
        network = nic_object(pairs)
        shown = plain[0]
    else:
        if len(args) != 2:
            raise UsageError("incorrect number of arguments")  # triton fails an assertion
        shown, text = args
        network = text if resolve.is_uuid(text) else str(resolve.network(context.api, text)["id"])
    api = context.api
    machine = instance_id(context, shown)
    nic = api.add_nic(machine, network, primary=bool(options.primary))
    response = api.last_response
    if response is not None and response.method != "POST":
        # CloudAPI answered 302 (the library then fetched that NIC): one is there already
        raise CommandError("Instance already has a NIC on that network")
    mac = str(nic.get("mac"))
    if options.wait:
        if not options.json:
            context.out(f"Creating NIC {mac}")
        # A NIC added to a stopped instance ends up stopped, hence both states.
        nic = waiting.poll(
            context,
            lambda: api.get_nic(machine, mac),
            lambda found: found.get("state") in ("running", "stopped"),
            describe=f"NIC {mac} of instance {machine}",
            status=lambda found: str(found.get("state")),
            timeout=waiting.wait_timeout(options),
        )
    if options.json:
        context.write(table.json_compact(nic))
    else:
        context.out(f"Created NIC {mac}")


CREATE = Command(
    "create",
    "Create a NIC.",
    do_create,
    _configure_create,
    description="Add a NIC to an instance.\n\n"
    "INST is an instance name, id or short id; NETWORK a network name, id or short id.\n"
    "Instead of NETWORK, NIC options may be given: ipv4_uuid=NETWORK_UUID (required) and\n"
    "ipv4_ips=IP (one address). Adding a NIC reboots the instance.\n\n"
    "Examples:\n"
    "    smartdc instance nic create --wait 22b75576 ca8aefb9\n"
    "    smartdc instance nic create 22b75576 "
    "ipv4_uuid=651446a8-dab0-439e-a2c4-2c841ab07c51 ipv4_ips=192.168.128.13",
)


# --- nic list / get ----------------------------------------------------------------------------


def cidr_suffix(netmask: str) -> int:
    """The prefix length of a dotted netmask, as triton counts it: the leading ones of
    the octets written in binary without padding."""
    try:
        bits = "".join(format(int(octet), "b") for octet in netmask.split("."))
    except ValueError:
        return 0
    ones = len(bits) - len(bits.lstrip("1"))
    return ones


def _matches(nic: dict[str, Any], filters: dict[str, Any]) -> bool:
    from smartdc.cli.table import strictly_equal

    return all(key in nic and strictly_equal(nic[key], value) for key, value in filters.items())


def do_list(context: Context, options: argparse.Namespace) -> None:
    """ListNics, filtered on ``key=value`` pairs, as a table or JSON lines."""
    from smartdc.cli.args import key_values

    if not options.args:
        raise UsageError("missing INST argument")
    shown, *filter_args = options.args
    filters = key_values(filter_args, valid_keys=LIST_FILTERS, dotted=False)
    machine = instance_id(context, shown)
    nics = context.api.list_nics(machine)
    nics = [nic for nic in nics if _matches(nic, filters)]
    if not options.json and not options.json_array:
        rows = []
        for nic in nics:
            row = dict(nic)
            row["network"] = str(nic.get("network", "")).split("-")[0]
            if isinstance(nic.get("netmask"), str):
                row["ip"] = f"{nic.get('ip')}/{cidr_suffix(nic['netmask'])}"
            rows.append(row)
        nics = rows
    output.print_list(context, options, nics, columns=LIST_COLUMNS, long_columns=LIST_LONG_COLUMNS)


LIST = Command(
    "list",
    "Show all NICs on an instance.",
    do_list,
    configure("[OPTIONS] INST [FILTERS]", sort=LIST_SORT),
    aliases=("ls",),
    description="Show all NICs on an instance.\n\n"
    "INST is an instance name, id or short id. FILTERS are FIELD=VALUE pairs on the\n"
    "fields ip, mac, state, network, netmask, primary and gateway, applied by smartdc\n"
    "itself.",
)


def do_get(context: Context, options: argparse.Namespace) -> None:
    """Print one NIC as JSON."""
    text, mac = take(options.args, 2, "missing INST and MAC arguments")
    nic = context.api.get_nic(instance_id(context, text), _checked_mac(mac))
    output.print_object(context, options, nic)


GET = Command(
    "get",
    "Show a specific NIC.",
    do_get,
    configure("[OPTIONS] INST MAC", json="JSON stream output."),
    description="Show a specific NIC of an instance.\n\nINST is an instance name, id or short id.",
)


# --- nic delete --------------------------------------------------------------------------------


def _configure_delete(parser: ArgParser) -> None:
    set_usage(parser, "[OPTIONS] INST MAC")
    parser.add_argument("-f", "--force", action="store_true", help="Force removal.")
    add_positionals(parser)


def do_delete(context: Context, options: argparse.Namespace) -> None:
    """RemoveNic, after confirmation unless ``-f``."""
    from smartdc.cli.prompt import delete_question, go_ahead

    text, mac = take(options.args, 2, "missing INST and MAC argument(s)")
    if not go_ahead(context, delete_question("NIC", [mac]), skip=options.force):
        return
    machine = instance_id(context, text)
    context.api.remove_nic(machine, _checked_mac(mac))
    context.out(f"Deleted NIC {mac}")


DELETE = Command(
    "delete",
    "Remove a NIC from an instance.",
    do_delete,
    _configure_delete,
    aliases=("rm",),
    description="Remove a NIC from an instance.\n\n"
    "INST is an instance name, id or short id. Removing a NIC reboots the instance.",
)


NIC = Group("nic", "List and manage instance NICs.", (LIST, GET, CREATE, DELETE))

COMMANDS: tuple[Command | Group, ...] = (NIC,)
