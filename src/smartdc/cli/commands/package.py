"""``smartdc package`` (``pkg``): list and get packages, as ``triton package`` does.

Behaviour follows node-triton lib/do_package/*.js and ``getPackage`` in lib/tritonapi.js.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from smartdc.cli import output
from smartdc.cli.args import add_positionals, set_usage
from smartdc.cli.command import ArgParser, Command, Group, UsageError

if TYPE_CHECKING:
    from smartdc.cli.context import Context

#: ListPackages filters triton passes through (do_package/do_list.js ``validFilters``).
LIST_FILTERS = ("name", "memory", "disk", "swap", "lwps", "version", "vcpus", "group")
LIST_COLUMNS = "shortid,name,memory,swap,disk,vcpus"
LIST_LONG_COLUMNS = "id,name,memory,swap,disk,vcpus,description"
LIST_SORT = "_groupPlus,memory"

_LIST_HELP = """\
List packages.

Filters are FIELD=VALUE pairs on: name, memory, disk, swap, lwps, version, vcpus, group
(string values may use "*" wildcards).

Notes on some fields:
- "memory" (RAM), "swap" and "disk" are shown in human readable units in tables
  (unless "-p" or "-j" is given).
- "vcpus" only matters for hardware virtual machines and is usually zero for other
  packages; a zero is shown as "-" in tables.

Examples:
    smartdc package list memory=8192   # packages with 8G RAM"""


def _configure_list(parser: ArgParser) -> None:
    set_usage(parser, "[FILTERS]")
    output.add_table_options(parser, sort_default=LIST_SORT)
    parser.add_argument(
        "-p", action="store_true", help="Display numbers in parsable (exact) values."
    )
    parser.add_argument("filters", nargs="*", metavar="FILTERS", help=argparse.SUPPRESS)


def do_list(context: Context, options: argparse.Namespace) -> None:
    """ListPackages with the filters given; sizes shown as 512M/1G/1.5T unless ``-p``."""
    from smartdc.cli import humanize, table
    from smartdc.cli.args import filter_params, key_values

    filters = key_values(options.filters, valid_keys=LIST_FILTERS, convert=False, dotted=False)
    packages = context.api.list_packages(**filter_params(filters))
    if options.json or options.json_array:
        output.print_list(context, options, packages, columns=LIST_COLUMNS)
        return
    names = table.choose_columns(
        options.o, long=options.long, default=LIST_COLUMNS, long_default=LIST_LONG_COLUMNS
    )
    rows = [humanize.add_package_fields(pkg, exact=options.p) for pkg in packages]
    context.write(
        table.render_table(
            rows,
            humanize.package_columns(names, exact=options.p),
            headers=not options.H,
            sort=table.parse_sort(options.s),
        )
    )


LIST = Command(
    "list", "List packages.", do_list, _configure_list, aliases=("ls",), description=_LIST_HELP
)


def _configure_get(parser: ArgParser) -> None:
    set_usage(parser, "[OPTIONS] PACKAGE")
    parser.add_argument("-j", "--json", action="store_true", help="JSON stream output.")
    add_positionals(parser, "PACKAGE")


def do_get(context: Context, options: argparse.Namespace) -> None:
    """Print one package: by UUID, exact name (an ambiguous name is an error) or short id."""
    from smartdc.cli import resolve

    if len(options.args) != 1:
        raise UsageError(f"incorrect number of args ({len(options.args)})")
    output.print_object(context, options, resolve.package(context.api, options.args[0]))


GET = Command(
    "get",
    "Get a package.",
    do_get,
    _configure_get,
    description=(
        "Get a package.\n\nWhere PACKAGE is a package id (full UUID), exact name, or short id."
    ),
)


TREE = Group("package", "List and get Triton packages.", (LIST, GET), aliases=("pkg",))
