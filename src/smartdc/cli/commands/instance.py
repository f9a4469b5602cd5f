"""``smartdc instance`` (``inst``): list and manage instances, as ``triton instance`` does.

Behaviour follows node-triton lib/do_instance/*.js; each handler notes where it differs.
"""

from __future__ import annotations

import argparse
import re
from typing import Any

from smartdc.cli import output
from smartdc.cli.command import ArgParser, Command, Group
from smartdc.cli.context import Context

# --- list --------------------------------------------------------------------------------------

#: ListMachines filters triton passes through (do_instance/do_list.js ``validFilters``).
LIST_FILTERS: tuple[str | re.Pattern[str], ...] = (
    "brand",
    "docker",
    "image",
    "memory",
    "name",
    "state",
    re.compile(r"^tag\."),
    "type",
)
LIST_COLUMNS = "shortid,name,img,state,flags,age"
LIST_LONG_COLUMNS = "id,name,img,brand,package,state,flags,primaryIp,created"


def _configure_list(parser: ArgParser) -> None:
    parser.add_argument(
        "--credentials",
        action="store_true",
        help='Include generated credentials, in the "metadata.credentials" keys, if any.',
    )
    output.add_table_options(parser, sort_default="created")
    parser.add_argument("filters", nargs="*", metavar="FILTERS", help="key=value filters")


def do_list(context: Context, options: argparse.Namespace) -> None:
    """List instances (ListMachines, every page), with ``img`` names from ListImages."""
    from smartdc.cli import humanize
    from smartdc.cli.args import filter_params, key_values
    from smartdc.cli.parallel import run_parallel

    filters = key_values(options.filters, valid_keys=LIST_FILTERS, convert=False, dotted=False)
    params = filter_params(filters)
    if options.credentials:
        params["credentials"] = "true"
    api = context.api
    machines, images = run_parallel(
        lambda: api.list_machines(**params),
        lambda: _images_or_nothing(context),
    )
    names = {image["id"]: humanize.image_name_version(image) for image in images}
    rows = [humanize.add_instance_fields(machine, names) for machine in machines]
    output.print_list(
        context, options, rows, columns=LIST_COLUMNS, long_columns=LIST_LONG_COLUMNS, dotted=True
    )


def _images_or_nothing(context: Context) -> list[dict[str, Any]]:
    """Every image (for ``name@version``; cached as triton caches it), or none when RBAC
    forbids listing them, as triton."""
    from smartdc.cli.cache import all_images
    from smartdc.errors import CloudAPIError

    try:
        return all_images(context)
    except CloudAPIError as exc:
        if exc.status == 403:
            context.trace(f"cannot list images for the IMG column: {exc}")
            return []
        raise


LIST = Command(
    "list",
    "List instances.",
    do_list,
    _configure_list,
    aliases=("ls",),
    description=(
        "List instances.\n\n"
        "Filters are key=value pairs: brand, docker, image, memory, name, state, type, "
        "tag.NAME.\nExamples:\n"
        "    smartdc instance list state=running tag.role=web\n"
        "    smartdc instance list -o id,name,tags.role -s -created"
    ),
)


# --- get ---------------------------------------------------------------------------------------


def _configure_get(parser: ArgParser) -> None:
    parser.add_argument(
        "--credentials",
        action="store_true",
        help='Include generated credentials, in the "metadata.credentials" field, if any.',
    )
    parser.add_argument("-j", "--json", action="store_true", help="JSON output.")
    parser.add_argument("instance", metavar="INST", help="instance name, id or short id")


def do_get(context: Context, options: argparse.Namespace) -> int | None:
    """Print one instance; a deleted one is printed and reported (exit 3), as triton does."""
    from smartdc.cli import resolve
    from smartdc.errors import MachineGoneError

    try:
        machine = resolve.instance(context.api, options.instance, credentials=options.credentials)
    except MachineGoneError as exc:
        if exc.machine:
            output.print_object(context, options, exc.machine)
        raise
    output.print_object(context, options, machine)
    return None


GET = Command(
    "get",
    "Get an instance.",
    do_get,
    _configure_get,
    description=(
        "Get an instance.\n\n"
        'Where "INST" is an instance name, id, or short id. A deleted instance is printed\n'
        "and reported as an error."
    ),
)


#: The modules holding the other subcommands, in triton's order; each is imported only when
#: a command past the ones before it is looked for (see :class:`Group`).
_MODULE = "smartdc.cli.commands."

TREE = Group(
    "instance",
    "List and manage Triton instances.",
    (
        LIST,
        GET,
        _MODULE + "instance_create",
        _MODULE + "instance_actions",
        _MODULE + "instance_access",
        _MODULE + "instance_tags",
        _MODULE + "instance_metadata",
        _MODULE + "instance_snapshots",
        _MODULE + "instance_nics",
        _MODULE + "instance_disks",
        _MODULE + "instance_migrations",
    ),
    aliases=("inst",),
)
