"""``smartdc account`` (get, limits, update), ``smartdc info``, ``services`` and ``datacenters``.

Behaviour follows node-triton lib/do_account/*.js, lib/do_info.js, lib/do_services.js and
lib/do_datacenters.js; each handler notes where it differs.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from smartdc.cli import output
from smartdc.cli.args import add_positionals, refuse_args
from smartdc.cli.command import ArgParser, Command, Group
from smartdc.cli.values import add_update_file_option

if TYPE_CHECKING:
    from smartdc.cli.context import Context

#: UpdateAccount fields and the JSON type each must have (node-triton lib/cloudapi2.js
#: UPDATE_ACCOUNT_FIELDS).
UPDATE_ACCOUNT_FIELDS: dict[str, str] = {
    "email": "string",
    "companyName": "string",
    "firstName": "string",
    "lastName": "string",
    "address": "string",
    "postalCode": "string",
    "city": "string",
    "state": "string",
    "country": "string",
    "phone": "string",
    "triton_cns_enabled": "boolean",
}


# --- helpers -----------------------------------------------------------------------------------


def _format_s(value: Any) -> str:
    """A value as ``console.log('%s', value)`` prints it (objects as compact JSON)."""
    from smartdc.cli import table

    if isinstance(value, dict | list):
        return table.json_stringify(value)
    return table.js_string(value)


# --- account get -------------------------------------------------------------------------------


def _configure_json(parser: ArgParser) -> None:
    parser.add_argument("-j", "--json", action="store_true", help="JSON output.")
    add_positionals(parser)


def do_get(context: Context, options: argparse.Namespace) -> None:
    """Print the account: ``key: value`` lines (dates with their age), or JSON with ``-j``."""
    from smartdc.cli import humanize, table

    refuse_args(options)
    account = context.api.get_account()
    if options.json:
        context.write(table.json_compact(account))
        return
    now = humanize.parse_js_date(_now_iso())
    for key, value in account.items():
        if key in ("updated", "created"):
            ago = humanize.long_ago(humanize.parse_js_date(value), now)
            context.out(f"{key}: {_format_s(value)} ({ago})")
        else:
            context.out(f"{key}: {_format_s(value)}")


def _now_iso() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


GET = Command("get", "Show account information", do_get, _configure_json)


# --- account limits ----------------------------------------------------------------------------


def _configure_limits(parser: ArgParser) -> None:
    # triton's code reads -H but never declares it (so it is refused); honoured here
    parser.add_argument("-H", action="store_true", help="Omit table header row.")
    _configure_json(parser)


def limit_rows(limits: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """GetAccountLimits entries with ``value`` shown as ``limit`` and ``by`` as ``type``."""
    rows = []
    for limit in limits:
        row = {key: value for key, value in limit.items() if key not in ("value", "by")}
        # as node-triton do_account/do_limits.js: the renamed fields go last
        if "value" in limit:
            row["limit"] = limit["value"]
        if "by" in limit:
            row["type"] = limit["by"]
        rows.append(row)
    return rows


def do_limits(context: Context, options: argparse.Namespace) -> None:
    """Print the provisioning limits as a table (``os`` and ``image`` columns when any limit
    has a ``check``), or as one JSON array with ``-j``."""
    from smartdc.cli import table

    refuse_args(options)
    limits = context.api.get_account_limits()
    rows = limit_rows(limits)
    if options.json:
        context.write(table.json_compact(rows))
        return
    columns: list[table.ColumnSpec] = [
        table.Column("type", width=9),
        table.Column("used", align="right"),
        table.Column("limit", align="right"),
    ]
    if any(limit.get("check") for limit in limits):
        columns += [table.Column("os", width=8), table.Column("image")]
    context.write(table.render_table(rows, columns, headers=not options.H))


LIMITS = Command(
    "limits", "Show account provisioning limit information", do_limits, _configure_limits
)


# --- account update ----------------------------------------------------------------------------


def _configure_update(parser: ArgParser) -> None:
    add_update_file_option(parser, "FILE")
    parser.add_argument("fields", nargs="*", metavar="FIELD=VALUE")


def do_update(context: Context, options: argparse.Namespace) -> None:
    """UpdateAccount with ``FIELD=VALUE`` arguments or a JSON file; prints the fields sent."""
    from smartdc.cli.values import update_data

    data = update_data(context, options.file, options.fields, UPDATE_ACCOUNT_FIELDS, "account")
    context.api.update_account(**data)
    context.out(f'Updated account "{context.settings.account}" (fields: {", ".join(data)})')


_UPDATE_HELP = "\n    ".join(
    f"{name} ({kind})" for name, kind in sorted(UPDATE_ACCOUNT_FIELDS.items())
)

UPDATE = Command(
    "update",
    "Update account information",
    do_update,
    _configure_update,
    description=(
        "Update account information\n\n"
        "    smartdc account update [FIELD=VALUE ...]\n"
        "    smartdc account update -f JSON-FILE\n\n"
        f"Updateable fields:\n    {_UPDATE_HELP}\n\n"
        "Because account information is replicated between datacenters, an update may take\n"
        "a moment to show in a get."
    ),
)

TREE = Group("account", "Get and update your Triton account.", (GET, LIMITS, UPDATE))


# --- info --------------------------------------------------------------------------------------


def account_summary(
    account: Mapping[str, Any], machines: list[dict[str, Any]], url: str
) -> tuple[dict[str, Any], dict[str, int]]:
    """``info``'s fields (login, name, email, url, total disk and memory in bytes) and the
    instance count per state, in the order states are first met."""
    from smartdc.cli.table import UNDEFINED

    first, last = account.get("firstName"), account.get("lastName")
    name = f"{first} {last}" if first and last else first or None
    states: dict[str, int] = {}
    disk = memory = 0
    for machine in machines:
        state = machine.get("state")
        key = state if isinstance(state, str) else str(state)
        states[key] = states.get(key, 0) + 1
        memory += machine.get("memory") or 0
        disk += machine.get("disk") or 0
    data: dict[str, Any] = {"login": account.get("login", UNDEFINED)}
    if name:
        data["name"] = name
    data["email"] = account.get("email", UNDEFINED)
    data["url"] = url
    # as node-triton lib/do_info.js: CloudAPI's MiB counted in decimal megabytes
    data["totalDisk"] = disk * 1000 * 1000
    data["totalMemory"] = memory * 1000 * 1000
    return data, states


def do_info(context: Context, options: argparse.Namespace) -> None:
    """Print an account summary: who, where, and how many instances in each state."""
    from smartdc.cli import humanize, table
    from smartdc.cli.parallel import run_parallel

    refuse_args(options)
    api = context.api
    account, machines = run_parallel(api.get_account, api.list_machines)
    data, states = account_summary(account, machines, context.settings.url)
    if options.json:
        data["totalInstances"] = len(machines)
        data["instances"] = states
        context.write(table.json_compact(data))
        return
    data["totalDisk"] = humanize.human_size_from_bytes(data["totalDisk"])
    data["totalMemory"] = humanize.human_size_from_bytes(data["totalMemory"])
    for key, value in data.items():
        context.out(f"{key}: {_format_s(value)}")
    context.out(f"instances: {len(machines)}")
    for state, count in states.items():
        context.out(f"    {state}: {count}")


INFO = Command("info", "Print an account summary.", do_info, _configure_json)


# --- services and datacenters -----------------------------------------------------------------


def _configure_name_table(parser: ArgParser) -> None:
    output.add_table_options(parser, sort_default="name", long=False)
    add_positionals(parser)


def _print_name_table(
    context: Context, options: argparse.Namespace, mapping: dict[str, str], second: str
) -> None:
    """A ``{name: url}`` answer: as it came with ``-j``, else one ``name``/``second`` row
    per entry."""
    from smartdc.cli import table

    if options.json:
        context.write(table.json_compact(mapping))
        return
    rows = [{"name": name, second: value} for name, value in mapping.items()]
    output.print_list(context, options, rows, columns=f"name,{second}", dotted=True)


def do_services(context: Context, options: argparse.Namespace) -> None:
    """ListServices as a ``NAME ENDPOINT`` table, or the raw object with ``-j``."""
    refuse_args(options)
    _print_name_table(context, options, context.api.list_services(), "endpoint")


def do_datacenters(context: Context, options: argparse.Namespace) -> None:
    """ListDatacenters as a ``NAME URL`` table, or the raw object with ``-j``."""
    refuse_args(options)
    _print_name_table(context, options, context.api.list_datacenters(), "url")


SERVICES = Command("services", "Show services information", do_services, _configure_name_table)

DATACENTERS = Command(
    "datacenters",
    "Show datacenters in this cloud.",
    do_datacenters,
    _configure_name_table,
    description=(
        "Show datacenters in this cloud.\n"
        'A "cloud" is a set of related datacenters that share account information.'
    ),
)
