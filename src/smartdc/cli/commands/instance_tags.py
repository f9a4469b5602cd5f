"""``smartdc instance tag`` (and the hidden ``instance tags``), as ``triton instance tag``.

Behaviour follows node-triton lib/do_instance/do_tag/*.js and lib/tritonapi.js; values are
read as lib/metadataandtags.js reads them (see :mod:`smartdc.cli.values`).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from smartdc.cli import output, waiting
from smartdc.cli.args import add_positionals, set_usage, take
from smartdc.cli.command import ArgParser, Command, Group, UsageError
from smartdc.cli.commands.instance_common import (
    configure,
    instance_id,
    list_shortcut,
    wait_timeout,
)

if TYPE_CHECKING:
    from smartdc.cli.context import Context

_WRONG_COUNT = "incorrect number of args"


# --- tag list / get ----------------------------------------------------------------------------


def do_list(context: Context, options: argparse.Namespace) -> None:
    """Print an instance's tags as JSON (indented unless ``-j``)."""
    (text,) = take(options.args, 1, _WRONG_COUNT, extra=_WRONG_COUNT)
    output.print_object(context, options, context.api.list_machine_tags(instance_id(context, text)))


_LIST_HELP = (
    "List the tags of an instance.\n\n"
    'INST is an instance name, id or short id. The tags are printed as JSON ("-j" for\n'
    "one line)."
)

LIST = Command(
    "list",
    "List instance tags.",
    do_list,
    configure("[OPTIONS] INST", json="JSON output."),
    aliases=("ls",),
    description=_LIST_HELP,
)


def do_get(context: Context, options: argparse.Namespace) -> None:
    """Print one tag's value (as JSON with ``-j``)."""
    from smartdc.cli import resolve, table
    from smartdc.cli.failures import NotFound

    text, name = take(options.args, 2, _WRONG_COUNT, extra=_WRONG_COUNT)
    api = context.api
    value: Any
    if resolve.is_uuid(text):
        value = api.get_machine_tag(text, name)
    else:
        # as triton: the value comes typed from the machine's tags, not from GetMachineTag
        tags = api.list_machine_tags(instance_id(context, text))
        if name not in tags:
            raise NotFound(f'tag with name "{name}" was not found')
        value = tags[name]
    context.out(table.json_stringify(value) if options.json else table.console_text(value))


GET = Command(
    "get",
    "Get an instance tag.",
    do_get,
    configure("[OPTIONS] INST NAME", json="JSON output."),
    description="Get the value of one tag of an instance.\n\n"
    "INST is an instance name, id or short id; NAME is the tag name.",
)


# --- tag set / replace-all ---------------------------------------------------------------------


def _configure_change(parser: ArgParser) -> None:
    set_usage(parser, "[OPTIONS] INST [NAME=VALUE ...]", "[OPTIONS] INST -f FILE")
    parser.add_argument(
        "-f",
        "--file",
        action="append",
        metavar="FILE",
        help="Read NAME=VALUE lines or a JSON object from FILE (may be repeated).",
    )
    waiting.add_wait_options(parser, help="Wait for the tag changes to be applied.")
    parser.add_argument("-j", "--json", action="store_true", help="JSON output.")
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="Do not print the resulting tags.",
    )
    add_positionals(parser)


def _tag_values(context: Context, options: argparse.Namespace) -> dict[str, Any] | None:
    from smartdc.cli.values import values_from_set_args

    return values_from_set_args(
        context, options.file, options.args[1:], file_ilk="tag", pair_ilk="tag"
    )


def tags_match(
    tags: Mapping[str, Any],
    *,
    wanted: Mapping[str, Any] | None = None,
    exactly: bool = False,
    absent: Sequence[str] = (),
) -> bool:
    """Whether ``tags`` show a change done: every ``wanted`` value present (and nothing
    else when ``exactly``), and none of the ``absent`` names left."""
    from smartdc.cli.table import strictly_equal

    for key, value in (wanted or {}).items():
        if key not in tags or not strictly_equal(tags[key], value):
            return False
    if exactly and set(tags) - set(wanted or {}):
        return False
    return not any(name in tags for name in absent)


def wait_for_tags(
    context: Context, options: argparse.Namespace, machine: str, done: Callable[[Any], bool]
) -> None:
    """Poll ListMachineTags every 2 s until ``done`` (triton's waitForInstanceTagChanges)."""
    api = context.api
    waiting.poll(
        context,
        lambda: api.list_machine_tags(machine),
        done,
        describe=f"tag changes on instance {machine}",
        status=lambda tags: f"{len(tags)} tags",
        timeout=wait_timeout(options),
        interval=2.0,
        machine=machine,
    )


def _print_tags(context: Context, options: argparse.Namespace, tags: Any) -> None:
    if not options.quiet:
        output.print_object(context, options, tags)


def do_set(context: Context, options: argparse.Namespace) -> None:
    """AddMachineTags with the given values; prints the tags CloudAPI answers with."""
    if not options.args:
        raise UsageError("incorrect number of args")
    values = _tag_values(context, options)
    if values is None:
        return  # as triton: nothing to set is not an error
    machine = instance_id(context, options.args[0])
    tags = context.api.add_machine_tags(machine, values)
    if options.wait:
        wait_for_tags(context, options, machine, lambda now: tags_match(now, wanted=values))
    _print_tags(context, options, tags)


def do_replace_all(context: Context, options: argparse.Namespace) -> None:
    """ReplaceMachineTags with the given values; prints the tags CloudAPI answers with."""
    if not options.args:
        raise UsageError("incorrect number of args")
    values = _tag_values(context, options)
    if values is None:
        raise UsageError("no tags were provided")
    machine = instance_id(context, options.args[0])
    tags = context.api.replace_machine_tags(machine, values)
    if options.wait:
        wait_for_tags(
            context, options, machine, lambda now: tags_match(now, wanted=values, exactly=True)
        )
    _print_tags(context, options, tags)


_CHANGE_NOTES = (
    "INST is an instance name, id or short id. VALUEs that read as true, false or a\n"
    'number are sent as such. The resulting tags are printed as JSON ("-j" for one line,\n'
    '"-q" for none). Tag changes are applied asynchronously: "-w" waits for them.'
)

SET = Command(
    "set",
    "Set one or more instance tags.",
    do_set,
    _configure_change,
    description="Add or update tags of an instance.\n\n" + _CHANGE_NOTES,
)

REPLACE_ALL = Command(
    "replace-all",
    "Replace all tags on the given instance.",
    do_replace_all,
    _configure_change,
    description="Replace every tag of an instance with the given ones.\n\n" + _CHANGE_NOTES,
)


# --- tag delete --------------------------------------------------------------------------------


def _configure_delete(parser: ArgParser) -> None:
    set_usage(parser, "[OPTIONS] INST [NAME ...]", "[OPTIONS] --all INST")
    parser.add_argument(
        "-a", "--all", action="store_true", help="Remove all tags on this instance."
    )
    waiting.add_wait_options(parser, help="Wait for the tag changes to be applied.")
    add_positionals(parser)


def _delete_tag(context: Context, options: argparse.Namespace, machine: str, name: str) -> None:
    context.api.delete_machine_tag(machine, name)
    if options.wait:
        wait_for_tags(context, options, machine, lambda now: tags_match(now, absent=[name]))


def do_delete(context: Context, options: argparse.Namespace) -> None:
    """DeleteMachineTag for each name in turn (waiting after each with ``-w``), or
    DeleteMachineTags with ``--all``."""
    if not options.args:
        raise UsageError("incorrect number of args")
    if options.all and len(options.args) > 1:
        raise UsageError("cannot specify both tag names and --all")
    shown = options.args[0]
    names = list(dict.fromkeys(options.args[1:]))
    if not options.all and not names:
        return  # as triton: no names, nothing to do
    api = context.api
    machine = instance_id(context, shown)
    if options.all:
        api.delete_machine_tags(machine)
        if options.wait:
            wait_for_tags(context, options, machine, lambda now: not now)
        # triton prints this line even when the delete failed; here only on success
        context.out(f"Deleted all tags on instance {shown}")
        return
    for name in names:
        _delete_tag(context, options, machine, name)
        context.out(f"Deleted tag {name} on instance {shown}")


DELETE = Command(
    "delete",
    "Delete one or more instance tags.",
    do_delete,
    _configure_delete,
    aliases=("rm",),
    description="Delete tags of an instance.\n\n"
    "INST is an instance name, id or short id; NAME is a tag name. Tag changes are\n"
    'applied asynchronously: "-w" waits for them.',
)


TAG = Group(
    "tag",
    "List, get, set and delete tags on Triton instances.",
    (LIST, GET, SET, REPLACE_ALL, DELETE),
)

TAGS = list_shortcut("tags", "tag", LIST)

COMMANDS: tuple[Command | Group, ...] = (TAG, TAGS)
