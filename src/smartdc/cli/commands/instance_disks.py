"""``smartdc instance disk`` (and the hidden ``instance disks``), as ``triton instance disk``.

Behaviour follows node-triton lib/do_instance/do_disk/*.js and lib/tritonapi.js: disks are
named by id or 8-character short id (looked up in ListMachineDisks); ``-w`` polls the disks
every second until the change shows.
"""

from __future__ import annotations

import argparse
import re
from typing import TYPE_CHECKING, Any, Literal

from smartdc.cli import output, waiting
from smartdc.cli.command import ArgParser, Command, Group, UsageError
from smartdc.cli.commands.instance_tags import (
    add_positionals,
    elapsed_ms,
    instance_id,
    now_ms,
    passthrough,
    poll,
    set_usage,
)

if TYPE_CHECKING:
    from smartdc.cli.context import Context

LIST_COLUMNS = "shortid,size,pci_slot"
LIST_LONG_COLUMNS = "id,size,pci_slot,boot"
LIST_SORT = "pci_slot,shortid"

# as jsprim.parseInteger with its defaults: an optional sign, decimal digits, nothing else
_INTEGER = re.compile(r"[+-]?[0-9]+")
_MAX_SAFE_INTEGER = 2**53 - 1


def parse_size(text: str, *, remaining: bool) -> int | Literal["remaining"]:
    """A SIZE argument: a positive number of MiB, or ``remaining`` when allowed."""
    if remaining and text == "remaining":
        return "remaining"
    message = 'SIZE must be a number or "remaining"' if remaining else "SIZE must be a number"
    if not _INTEGER.fullmatch(text) or abs(int(text)) > _MAX_SAFE_INTEGER:
        raise UsageError(message)
    size = int(text)
    if size <= 0:
        # triton fails an assertion (or reads a negative size as an option)
        raise UsageError(f"SIZE must be a positive number of MiB, not {size}")
    return size


def find_disk(disks: list[dict[str, Any]], text: str) -> dict[str, Any]:
    """The disk whose id or short id is ``text`` (tritonapi.js getInstanceDisk)."""
    from smartdc.cli.failures import NotFound

    matches = [d for d in disks if d.get("id") == text or str(d.get("id", ""))[:8] == text]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise NotFound(f'no disk with id "{text}" was found')
    raise NotFound(
        f'Multiple disks with shortId "{text}" were found and "{text}" is an ambiguous short id'
    )


def _lookup(context: Context, machine: str, text: str) -> dict[str, Any]:
    disks = passthrough(lambda: context.api.list_machine_disks(machine))
    return find_disk(disks, text)


def _without_state(disk: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in disk.items() if key != "state"}


def _wait_options(parser: ArgParser) -> None:
    waiting.add_wait_options(
        parser, help="Block until instance state indicates the action is complete."
    )


def _timeout(options: argparse.Namespace) -> float:
    return waiting.wait_timeout(options, waiting.DEFAULT_WAIT_TIMEOUT)


# --- disk add ----------------------------------------------------------------------------------


def _configure_add(parser: ArgParser) -> None:
    set_usage(parser, "[OPTIONS] INST SIZE")
    _wait_options(parser)
    add_positionals(parser)


def do_add(context: Context, options: argparse.Namespace) -> None:
    """CreateMachineDisk of SIZE MiB (or the ``remaining`` space); ``-w`` waits until the
    new disk shows up with that size."""
    from smartdc.cli.failures import CommandError

    if len(options.args) < 2:
        raise UsageError("missing INST and/or SIZE arguments")
    if len(options.args) > 2:
        raise UsageError("incorrect number of arguments")
    shown, size_text = options.args
    size = parse_size(size_text, remaining=True)
    started = now_ms()
    api = context.api
    machine = instance_id(context, shown)
    before = {d.get("id") for d in passthrough(lambda: api.list_machine_disks(machine))}
    passthrough(lambda: api.create_machine_disk(machine, size=size))
    context.out(f"Adding disk to instance {shown}")
    if not options.wait:
        return

    def added(disks: list[dict[str, Any]]) -> list[dict[str, Any]]:
        # triton waits for a disk whose size is "remaining", which never comes; here any
        # new disk will do for "remaining"
        return [
            d
            for d in disks
            if d.get("id") not in before
            and d.get("state") != "creating"
            and (size == "remaining" or d.get("size") == size)
        ]

    disks = poll(
        context,
        lambda: api.list_machine_disks(machine),
        lambda disks: bool(added(disks)),
        describe=f"disk addition to instance {machine}",
        status=lambda disks: f"{len(disks)} disks",
        timeout=_timeout(options),
    )
    new = added(disks)
    if len(new) > 1:
        raise CommandError(
            "Multiple new disks were detected while waiting for disk add to complete."
        )
    context.out(f'Added disk "{new[0].get("id")}" in {elapsed_ms(started)}')


ADD = Command(
    "add",
    "Add a disk to a flexible disk instance.",
    do_add,
    _configure_add,
    description="Add a disk to a (stopped) bhyve instance with a flexible disk package.\n\n"
    "Arguments:\n"
    "    INST        Instance name, id, or short id\n"
    '    SIZE        Size in mebibytes or "remaining"',
)


# --- disk list / get ---------------------------------------------------------------------------


def _configure_list(parser: ArgParser) -> None:
    set_usage(parser, "[OPTIONS] INST")
    output.add_table_options(parser, sort_default=LIST_SORT)
    add_positionals(parser)


def do_list(context: Context, options: argparse.Namespace) -> None:
    """ListMachineDisks as a table or JSON lines (with ``shortid``, without ``state``)."""
    from smartdc.cli import humanize

    if not options.args:
        raise UsageError("missing INST argument")
    if len(options.args) > 1:
        raise UsageError("incorrect number of arguments")
    machine = instance_id(context, options.args[0])
    disks = passthrough(lambda: context.api.list_machine_disks(machine))
    rows = [
        {**_without_state(disk), "shortid": humanize.short_id(str(disk.get("id", "")))}
        for disk in disks
    ]
    output.print_list(context, options, rows, columns=LIST_COLUMNS, long_columns=LIST_LONG_COLUMNS)


_LIST_HELP = (
    "Show the disks that belong to an instance.\n\nINST is an instance name, id or short id."
)

LIST = Command(
    "list",
    "Show the disks that belong to an instance.",
    do_list,
    _configure_list,
    aliases=("ls",),
    description=_LIST_HELP,
)


def _configure_get(parser: ArgParser) -> None:
    set_usage(parser, "[OPTIONS] INST DISK")
    # not in triton, whose disk get has no -j
    parser.add_argument("-j", "--json", action="store_true", help="JSON output on one line.")
    add_positionals(parser)


def do_get(context: Context, options: argparse.Namespace) -> None:
    """Print one disk (found by id or short id) as JSON, without its ``state``."""
    if len(options.args) < 2:
        raise UsageError("missing INST and/or DISKID arguments")
    if len(options.args) > 2:
        raise UsageError("incorrect number of arguments")
    text, disk_text = options.args
    machine = instance_id(context, text)
    output.print_object(context, options, _without_state(_lookup(context, machine, disk_text)))


GET = Command(
    "get",
    "Show a specific disk of an instance.",
    do_get,
    _configure_get,
    description="Show a specific disk of an instance.\n\n"
    "INST is an instance name, id or short id; DISK a disk id or short id.",
)


# --- disk delete -------------------------------------------------------------------------------


def _configure_delete(parser: ArgParser) -> None:
    set_usage(parser, "[OPTIONS] INST DISK")
    _wait_options(parser)
    add_positionals(parser)


def do_delete(context: Context, options: argparse.Namespace) -> None:
    """DeleteMachineDisk; ``-w`` waits until GetMachineDisk no longer finds it."""
    from smartdc.errors import CloudAPIError

    if len(options.args) < 2:
        raise UsageError("missing INST and/or DISKID arguments")
    if len(options.args) > 2:
        raise UsageError("incorrect number of arguments")
    shown, disk_text = options.args
    started = now_ms()
    api = context.api
    machine = instance_id(context, shown)
    disk_id = str(_lookup(context, machine, disk_text).get("id"))
    passthrough(lambda: api.delete_machine_disk(machine, disk_id))
    context.out(f'Deleting disk "{disk_text}" from instance {shown}')
    if not options.wait:
        return

    def fetch() -> dict[str, Any] | None:
        try:
            return api.get_machine_disk(machine, disk_id)
        except CloudAPIError as exc:
            if exc.status == 404:
                return None
            raise

    poll(
        context,
        fetch,
        lambda disk: disk is None,
        describe=f"disk {disk_id} deletion",
        status=lambda disk: str(disk.get("state") if disk else "deleted"),
        timeout=_timeout(options),
    )
    context.out(f'Deleted disk "{disk_text}" in {elapsed_ms(started)}')


DELETE = Command(
    "delete",
    "Delete a disk from an instance.",
    do_delete,
    _configure_delete,
    aliases=("rm",),
    description="Delete a disk from an instance.\n\n"
    "INST is an instance name, id or short id; DISK a disk id or short id.",
)


# --- disk resize -------------------------------------------------------------------------------


def _configure_resize(parser: ArgParser) -> None:
    set_usage(parser, "[OPTIONS] INST DISK SIZE")
    parser.add_argument(
        "--dangerous-allow-shrink",
        action="store_true",
        help="Allow the disk to be made smaller. Data past the new end is lost for good, "
        "and snapshots cannot bring it back.",
    )
    _wait_options(parser)
    add_positionals(parser)


def do_resize(context: Context, options: argparse.Namespace) -> None:
    """ResizeMachineDisk to SIZE MiB; shrinking needs ``--dangerous-allow-shrink``."""
    from smartdc.cli.failures import CommandError

    if len(options.args) < 3:
        raise UsageError("missing INST, DISK and/or SIZE arguments")
    if len(options.args) > 3:
        raise UsageError("too many arguments")
    shown, disk_text, size_text = options.args
    size = parse_size(size_text, remaining=False)
    assert isinstance(size, int)
    started = now_ms()
    api = context.api
    machine = instance_id(context, shown)
    disk = _lookup(context, machine, disk_text)
    current = disk.get("size")
    if isinstance(current, int | float) and size < current and not options.dangerous_allow_shrink:
        raise CommandError("--dangerous-allow-shrink must be specified when shrinking a disk")
    disk_id = str(disk.get("id"))
    passthrough(
        lambda: api.resize_machine_disk(
            machine, disk_id, size=size, dangerous_allow_shrink=options.dangerous_allow_shrink
        )
    )
    context.out(f'Resizing disk "{disk_id}"')
    if not options.wait:
        return
    resized = poll(
        context,
        lambda: api.get_machine_disk(machine, disk_id),
        lambda found: found.get("size") == size and found.get("state") != "resizing",
        describe=f"disk {disk_id} resize",
        status=lambda found: f"{found.get('state')}, {found.get('size')} MiB",
        timeout=_timeout(options),
    )
    context.out(f'Resized disk "{resized.get("id")}" in {elapsed_ms(started)}')


RESIZE = Command(
    "resize",
    "Resize a disk for a bhyve instance.",
    do_resize,
    _configure_resize,
    description="Resize a disk of a bhyve instance.\n\n"
    "INST is an instance name, id or short id; DISK a disk id or short id; SIZE the new\n"
    "size in mebibytes.",
)


DISK = Group(
    "disk",
    "List, get, add, resize and delete Triton instance disks.",
    (ADD, LIST, GET, DELETE, RESIZE),
)

#: ``instance disks INST``: a hidden shortcut for ``instance disk list``, as in triton.
DISKS = Command(
    "disks",
    'A shortcut for "smartdc instance disk list".',
    do_list,
    _configure_list,
    hidden=True,
    description=_LIST_HELP,
)

COMMANDS: tuple[Command | Group, ...] = (DISK, DISKS)
