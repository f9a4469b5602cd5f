"""``smartdc fwrule``: list and manage firewall rules, as ``triton fwrule`` does.

Behaviour follows node-triton lib/do_fwrule/*.js and the firewall calls of lib/tritonapi.js;
each handler notes where it differs.
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

FWRULE_ARG_HELP = "Where FWRULE is a firewall rule id (full UUID) or short id."
LIST_COLUMNS = "shortid,enabled,global,log,rule"
LIST_LONG_COLUMNS = "id,enabled,global,log,rule,description"
INSTANCE_COLUMNS = "shortid,name,img,state,flags,age"
INSTANCE_LONG_COLUMNS = "id,name,img,brand,package,state,flags,primaryIp,created"
#: What ``fwrule update`` may change (cloudapi2.js UPDATE_FWRULE_FIELDS).
UPDATE_FIELDS = {"enabled": "boolean", "log": "boolean", "rule": "string", "description": "string"}


def _one_rule(options: argparse.Namespace) -> str:
    if not options.args:
        raise UsageError("missing FWRULE argument")
    if len(options.args) > 1:
        raise UsageError("incorrect number of arguments")
    return str(options.args[0])


def _rule_id(context: Context, text: str) -> str:
    """The id of the rule ``text`` names; a UUID is used as it is (as triton does)."""
    from smartdc.cli import resolve

    return text if resolve.is_uuid(text) else str(resolve.fwrule(context.api, text)["id"])


# --- list, get ---------------------------------------------------------------------------------


def _configure_list(parser: ArgParser) -> None:
    set_usage(parser, "[OPTIONS]")
    output.add_table_options(parser, sort_default="rule")
    add_positionals(parser, "ARGS")


def do_list(context: Context, options: argparse.Namespace) -> None:
    """ListFirewallRules. Column and sort names are case-insensitive, as in triton."""
    from smartdc.cli.humanize import short_id

    if options.args:
        raise UsageError("incorrect number of arguments")
    rules = context.api.list_firewall_rules()
    if options.json or options.json_array:
        output.print_list(context, options, rules, columns=LIST_COLUMNS)
        return
    rows = [{**rule, "shortid": short_id(str(rule.get("id", "")))} for rule in rules]
    if options.o:
        options.o = options.o.lower()
    options.s = options.s.lower()
    output.print_list(context, options, rows, columns=LIST_COLUMNS, long_columns=LIST_LONG_COLUMNS)


LIST = Command(
    "list",
    "Show all firewall rules.",
    do_list,
    _configure_list,
    aliases=("ls",),
)


def _configure_get(parser: ArgParser) -> None:
    set_usage(parser, "FWRULE")
    parser.add_argument("-j", "--json", action="store_true", help="JSON stream output.")
    add_positionals(parser, "FWRULE")


def do_get(context: Context, options: argparse.Namespace) -> None:
    """Print one rule (by UUID or short id)."""
    from smartdc.cli import resolve

    output.print_object(context, options, resolve.fwrule(context.api, _one_rule(options)))


GET = Command(
    "get",
    "Show a specific firewall rule.",
    do_get,
    _configure_get,
    description=f"Show a specific firewall rule.\n\n{FWRULE_ARG_HELP}",
)


# --- create, update ----------------------------------------------------------------------------

_CREATE_HELP = """\
Create a firewall rule.

Examples:
    # Allow SSH access from any IP to all instances in a datacenter.
    smartdc fwrule create -D "ssh" "FROM any TO all vms ALLOW tcp PORT 22"

    # Allow SSH access to a specific instance.
    smartdc fwrule create \\
        "FROM any TO vm ba2c95e9-1cdf-4295-8253-3fee371374d9 ALLOW tcp PORT 22\""""


def _configure_create(parser: ArgParser) -> None:
    set_usage(parser, "[OPTIONS] RULE-TEXT")
    parser.add_argument("-j", "--json", action="store_true", help="JSON stream output.")
    parser.add_argument(
        "-l",
        "--log",
        action="store_true",
        help="Enable logging of new TCP connections or new other-protocol sessions matching "
        "this rule.",
    )
    parser.add_argument(
        "-d",
        "--disabled",
        action="store_true",
        help='Disable the created firewall rule (it is enabled by default; "smartdc fwrule '
        'enable" enables it later).',
    )
    parser.add_argument(
        "-D", "--description", metavar="DESC", help="Description of the firewall rule."
    )
    add_positionals(parser, "RULE-TEXT")


def do_create(context: Context, options: argparse.Namespace) -> None:
    """CreateFirewallRule (enabled unless ``-d``)."""
    if not options.args:
        raise UsageError("missing FWRULE argument")
    if len(options.args) > 1:
        raise UsageError("incorrect number of arguments")
    rule = context.api.create_firewall_rule(
        options.args[0],
        enabled=None if options.disabled else True,
        log=True if options.log else None,
        description=options.description or None,
    )
    if options.json:
        # triton ignores -j here and prints the sentence below
        output.print_object(context, options, rule)
        return
    disabled = "" if rule.get("enabled") else " (disabled)"
    context.out(f"Created firewall rule {rule.get('id')}{disabled}")


CREATE = Command(
    "create", "Create a firewall rule.", do_create, _configure_create, description=_CREATE_HELP
)


def _configure_update(parser: ArgParser) -> None:
    set_usage(parser, "FWRULE [FIELD=VALUE ...]", "-f JSON-FILE FWRULE")
    add_update_file_option(parser)
    add_positionals(parser, "FWRULE")


def do_update(context: Context, options: argparse.Namespace) -> None:
    """UpdateFirewallRule; the rule text is sent along when not changed (CloudAPI needs it)."""
    from smartdc.cli import resolve
    from smartdc.cli.values import update_data

    if not options.args:
        raise UsageError("missing FWRULE argument")
    text, *pairs = options.args
    data = update_data(context, options.file, pairs, UPDATE_FIELDS, "firewall rule")
    api = context.api
    current = resolve.fwrule(api, text)
    api.update_firewall_rule(
        str(current["id"]),
        rule=data.get("rule") or str(current.get("rule", "")),
        enabled=data.get("enabled"),
        log=data.get("log"),
        description=data.get("description"),
    )
    context.out(f"Updated firewall rule {text} (fields: {', '.join(data)})")


UPDATE = Command(
    "update",
    "Update a firewall rule.",
    do_update,
    _configure_update,
    description=(
        "Update a firewall rule.\n\nUpdateable fields:\n    "
        + "\n    ".join(f"{name} ({kind})" for name, kind in sorted(UPDATE_FIELDS.items()))
        + f"\n\n{FWRULE_ARG_HELP}"
    ),
)


# --- delete, enable, disable -------------------------------------------------------------------


def _configure_delete(parser: ArgParser) -> None:
    set_usage(parser, "FWRULE [FWRULE ...]")
    parser.add_argument("-f", "--force", action="store_true", help="Skip confirmation of delete.")
    add_positionals(parser, "FWRULE")


def do_delete(context: Context, options: argparse.Namespace) -> None:
    """Confirm unless ``-f``, then DeleteFirewallRule each rule at once."""
    from smartdc.cli.batch import report_each
    from smartdc.cli.prompt import delete_question, go_ahead

    if not options.args:
        raise UsageError("missing FWRULE argument(s)")
    ids: list[str] = options.args
    if not go_ahead(context, delete_question("firewall rule", ids), skip=options.force):
        return
    api = context.api
    report_each(
        context,
        ids,
        lambda text: api.delete_firewall_rule(_rule_id(context, text)),
        "Deleted rule {}",
    )


DELETE = Command(
    "delete",
    "Remove a firewall rule.",
    do_delete,
    _configure_delete,
    aliases=("rm",),
    description=f"Remove a firewall rule.\n\n{FWRULE_ARG_HELP}",
)


def _configure_switch(parser: ArgParser) -> None:
    set_usage(parser, "FWRULE [FWRULE ...]")
    add_positionals(parser, "FWRULE")


def _switch(context: Context, options: argparse.Namespace, *, enable: bool) -> None:
    from smartdc.cli.batch import report_each

    if not options.args:
        raise UsageError("missing FWRULE argument(s)")
    api = context.api
    act = api.enable_firewall_rule if enable else api.disable_firewall_rule
    report_each(
        context,
        options.args,
        lambda text: act(_rule_id(context, text)),
        f"{'Enabled' if enable else 'Disabled'} firewall rule {{}}",
    )


def do_enable(context: Context, options: argparse.Namespace) -> None:
    """EnableFirewallRule for each rule (all at once)."""
    _switch(context, options, enable=True)


def do_disable(context: Context, options: argparse.Namespace) -> None:
    """DisableFirewallRule for each rule (all at once)."""
    _switch(context, options, enable=False)


ENABLE = Command(
    "enable",
    "Enable a specific firewall rule.",
    do_enable,
    _configure_switch,
    description=f"Enable a specific firewall rule.\n\n{FWRULE_ARG_HELP}",
)
DISABLE = Command(
    "disable",
    "Disable a specific firewall rule.",
    do_disable,
    _configure_switch,
    description=f"Disable a specific firewall rule.\n\n{FWRULE_ARG_HELP}",
)


# --- instances ---------------------------------------------------------------------------------


def _configure_instances(parser: ArgParser) -> None:
    set_usage(parser, "[OPTIONS] FWRULE")
    output.add_table_options(parser, sort_default="created")
    add_positionals(parser, "FWRULE")


def _all_images(context: Context) -> list[dict[str, Any]]:
    from smartdc.errors import CloudAPIError

    try:
        return context.api.list_images(state="all")
    except CloudAPIError as exc:
        if exc.status == 403:
            context.trace(f"cannot list images for the IMG column: {exc}")
            return []
        raise


def do_instances(context: Context, options: argparse.Namespace) -> None:
    """ListFirewallRuleMachines, shown as ``instance list`` shows instances (``-j`` lines
    carry the added fields too, as in triton)."""
    from smartdc.cli import humanize
    from smartdc.cli.parallel import run_parallel

    text = _one_rule(options)
    api = context.api
    # as triton: the rule's machines are what fail first when both calls fail
    machines, images = run_parallel(
        lambda: api.list_firewall_rule_machines(_rule_id(context, text)),
        lambda: _all_images(context),
    )
    rows = [humanize.add_instance_fields(machine, images) for machine in machines]
    output.print_list(
        context,
        options,
        rows,
        columns=INSTANCE_COLUMNS,
        long_columns=INSTANCE_LONG_COLUMNS,
        dotted=True,
    )


INSTANCES = Command(
    "instances",
    "List instances to which a firewall rule applies",
    do_instances,
    _configure_instances,
    aliases=("insts",),
    description=(
        "List instances to which a firewall rule applies.\n\n"
        f"{FWRULE_ARG_HELP}\n\n"
        'Fields ("*" marks fields added client-side):\n'
        "    shortid*           A short ID prefix.\n"
        "    flags*             Single letter flags summarizing some fields:\n"
        '                           "B" the brand is "bhyve"\n'
        '                           "D" docker instance\n'
        '                           "F" firewall is enabled\n'
        '                           "K" the brand is "kvm"\n'
        '                           "P" deletion protected\n'
        "    age*               Approximate time since created, e.g. 1y, 2w.\n"
        '    img*               The image "name@version", if available, else its "shortid".'
    ),
)


TREE = Group(
    "fwrule",
    "List and manage Triton firewall rules.",
    (LIST, GET, CREATE, UPDATE, DELETE, ENABLE, DISABLE, INSTANCES),
)
