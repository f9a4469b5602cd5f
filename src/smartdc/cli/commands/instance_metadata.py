"""``smartdc instance metadata`` (and the hidden ``instance metadatas``), as
``triton instance metadata``.

Behaviour follows node-triton lib/do_instance/do_metadata/*.js and lib/tritonapi.js
(``_waitForInstanceMetadataChanges``); values are read as for tags (see
:mod:`smartdc.cli.values`).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from smartdc.cli import output, waiting
from smartdc.cli.args import add_positionals, set_usage, take
from smartdc.cli.command import ArgParser, Command, Group, UsageError
from smartdc.cli.commands.instance_common import (
    audit_time_ms,
    configure,
    instance_id,
    list_shortcut,
    now_ms,
    wait_for_audit,
    wait_timeout,
)

if TYPE_CHECKING:
    from smartdc.cli.context import Context

#: The audit action each change leaves behind (tritonapi.js _waitForInstanceMetadataChanges).
_AUDIT_ACTIONS = {
    "update": "set_metadata",
    "delete": "remove_metadata",
    "deleteAll": "replace_metadata",
}


def wait_for_metadata_change(
    context: Context, options: argparse.Namespace, machine: str, change: str
) -> None:
    """Poll the audit every 2 s until its newest record is the change's action, newer than
    the moment the change was answered (as triton; racy with concurrent changes)."""
    action = _AUDIT_ACTIONS[change]
    started = now_ms()

    def found(audit: list[dict[str, Any]]) -> dict[str, Any] | None:
        if not audit:
            return None
        newest = audit[0]
        if newest.get("action") == action and audit_time_ms(newest) > started:
            return newest
        return None

    wait_for_audit(
        context,
        machine,
        found,
        describe=f"instance {machine} {change}",
        timeout=wait_timeout(options),
        interval=2.0,
    )


# --- metadata list / get -----------------------------------------------------------------------


def do_list(context: Context, options: argparse.Namespace) -> None:
    """Print all of an instance's metadata as JSON (indented unless ``-j``)."""
    (text,) = take(options.args, 1, "missing INST argument")
    metadata = context.api.list_machine_metadata(instance_id(context, text))
    output.print_object(context, options, metadata)


_LIST_HELP = (
    "Show all of an instance's metadata.\n\n"
    'INST is an instance name, id or short id. The metadata is printed as JSON ("-j"\n'
    "for one line)."
)

LIST = Command(
    "list",
    "Show all of an instance's metadata.",
    do_list,
    configure("[OPTIONS] INST", json="JSON output."),
    aliases=("ls",),
    description=_LIST_HELP,
)


def do_get(context: Context, options: argparse.Namespace) -> None:
    """Print one metadata value (as JSON with ``-j``)."""
    from smartdc.cli import table

    text, name = take(options.args, 2, "missing INST and/or METANAME arguments")
    value = context.api.get_machine_metadata(instance_id(context, text), name)
    # An object value (``credentials``) prints as indented JSON where triton shows
    # node's inspect() form.
    context.out(table.json_stringify(value) if options.json else table.console_text(value))


GET = Command(
    "get",
    "Get an instance metadata value.",
    do_get,
    configure("[OPTIONS] INST NAME", json="JSON output."),
    description="Get one metadata value of an instance.\n\n"
    "INST is an instance name, id or short id; NAME is the metadata key.",
)


# --- metadata set ------------------------------------------------------------------------------


def _configure_set(parser: ArgParser) -> None:
    set_usage(parser, "[OPTIONS] INST [KEY=VALUE ...]", "[OPTIONS] INST -f FILE")
    parser.add_argument("-j", "--json", action="store_true", help="JSON output.")
    parser.add_argument(
        "-f",
        "--file",
        action="append",
        metavar="FILE",
        help="Read KEY=VALUE lines or a JSON object from FILE (may be repeated).",
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="Do not print the resulting metadata."
    )
    waiting.add_wait_options(parser, help="Wait for the change to be applied.")
    add_positionals(parser)


def do_set(context: Context, options: argparse.Namespace) -> None:
    """UpdateMachineMetadata with the given values; prints the metadata CloudAPI answers
    with."""
    from smartdc.cli.values import values_from_set_args

    if not options.args:
        raise UsageError("incorrect number of arguments")
    values = values_from_set_args(
        context, options.file, options.args[1:], file_ilk="metadatas", pair_ilk="metadata"
    )
    if values is None:
        # triton fails an assertion here
        raise UsageError("no metadata were provided")
    machine = instance_id(context, options.args[0])
    metadata = context.api.update_machine_metadata(machine, values)
    if options.wait:
        wait_for_metadata_change(context, options, machine, "update")
    if not options.quiet:
        output.print_object(context, options, metadata)


SET = Command(
    "set",
    "Set one or more instance metadata values.",
    do_set,
    _configure_set,
    description="Add or update metadata of an instance.\n\n"
    "INST is an instance name, id or short id. VALUEs that read as true, false or a\n"
    'number are sent as such. The resulting metadata is printed as JSON ("-j" for one\n'
    'line, "-q" for none).',
)


# --- metadata delete ---------------------------------------------------------------------------


def _configure_delete(parser: ArgParser) -> None:
    set_usage(parser, "[OPTIONS] INST KEY [KEY ...]", "[OPTIONS] --all INST")
    parser.add_argument("-f", "--force", action="store_true", help="Skip confirmation of delete.")
    parser.add_argument(
        "-a", "--all", action="store_true", help="Remove all metadata on this instance."
    )
    waiting.add_wait_options(parser, help="Wait for the change to be applied.")
    add_positionals(parser)


def _question(options: argparse.Namespace, names: list[str]) -> str:
    from smartdc.cli.prompt import delete_question

    if options.all:
        return "Delete All metadata ? [y/n]"
    return delete_question("metadata", names, "metadatas")


def do_delete(context: Context, options: argparse.Namespace) -> None:
    """DeleteMachineMetadata for each key (in parallel), or DeleteAllMachineMetadata with
    ``--all``; after confirmation unless ``-f``."""
    if not options.args:
        raise UsageError(
            "missing INST argument" if options.all else "missing INST and METADATA argument(s)"
        )
    if not options.all and len(options.args) < 2:
        raise UsageError("missing INST and METADATA argument(s)")
    from functools import partial

    from smartdc.cli.batch import settle
    from smartdc.cli.prompt import go_ahead

    shown, names = options.args[0], options.args[1:]
    if not go_ahead(context, _question(options, names), skip=options.force):
        return
    api = context.api
    machine = instance_id(context, shown)
    if options.all:
        api.delete_all_machine_metadata(machine)
        if options.wait:
            wait_for_metadata_change(context, options, machine, "deleteAll")
        # triton prints this line even when the delete failed; here only on success
        context.out(f"Deleted all metadatas on instance {shown}")
        return

    def delete_one(name: str) -> str:
        api.delete_machine_metadata(machine, name)
        if options.wait:
            wait_for_metadata_change(context, options, machine, "delete")
        return name

    outcomes = settle([partial(delete_one, name) for name in names])
    for done, _ in outcomes:
        if done is not None:
            context.out(f'Deleted metadata {done} of instance "{machine}"')
    failures = [error for _, error in outcomes if error is not None]
    if failures:
        raise failures[0]  # triton reports the first failure as it is


DELETE = Command(
    "delete",
    "Delete one or more instance metadata values.",
    do_delete,
    _configure_delete,
    aliases=("rm",),
    description="Delete metadata of an instance.\n\n"
    "INST is an instance name, id or short id; KEY is a metadata key.",
)


METADATA = Group(
    "metadata",
    "List, get, update and delete Triton instance metadatas.",
    (SET, LIST, GET, DELETE),
)

METADATAS = list_shortcut("metadatas", "metadata", LIST)

COMMANDS: tuple[Command | Group, ...] = (METADATA, METADATAS)
