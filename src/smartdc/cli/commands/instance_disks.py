"""``smartdc instance disk`` (and the hidden ``instance disks``), as ``triton instance disk``.

Behaviour follows node-triton lib/do_instance/do_disk/*.js and lib/tritonapi.js: disks are
named by id or 8-character short id (looked up in ListMachineDisks); ``-w`` polls the disks
every second until the change shows. Changing the disks of a deleted instance fails as
triton reports it: CloudAPI's 410, exit 1.
"""

from __future__ import annotations

import argparse
import re
from typing import TYPE_CHECKING, Any, Literal

from smartdc.cli import output, waiting
from smartdc.cli.args import add_positionals, set_usage, take
from smartdc.cli.command import ArgParser, Command, Group, UsageError
from smartdc.cli.commands.instance_common import (
    configure,
    elapsed_ms,
    instance_id,
    list_shortcut,
    now_ms,
    wait_timeout,
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
    return find_disk(context.api.list_machine_disks(machine), text)


def _without_state(disk: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in disk.items() if key != "state"}


def _wait_options(parser: ArgParser) -> None:
    waiting.add_wait_options(
        parser, help="Block until instance state indicates the action is complete."
    )


# --- disk add ----------------------------------------------------------------------------------


def do_add(context: Context, options: argparse.Namespace) -> None:
    """CreateMachineDisk of SIZE MiB (or the ``remaining`` space); ``-w`` waits until the
    new disk shows up with that size."""
    from smartdc.cli.failures import CommandError, gone_exits_1

    shown, size_text = take(options.args, 2, "missing INST and/or SIZE arguments")
    size = parse_size(size_text, remaining=True)
    started = now_ms()
    api = context.api
    machine = instance_id(context, shown)
    before = {d.get("id") for d in api.list_machine_disks(machine)}
    gone_exits_1(lambda: api.create_machine_disk(machine, size=size))
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

    disks = waiting.poll(
        context,
        lambda: api.list_machine_disks(machine),
        lambda disks: bool(added(disks)),
        describe=f"disk addition to instance {machine}",
        status=lambda disks: f"{len(disks)} disks",
        timeout=wait_timeout(options),
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
    configure("[OPTIONS] INST SIZE", more=_wait_options),
    description="Add a disk to a (stopped) bhyve instance with a flexible disk package.\n\n"
    "Arguments:\n"
    "    INST        Instance name, id, or short id\n"
    '    SIZE        Size in mebibytes or "remaining"',
)


# --- disk list / get ---------------------------------------------------------------------------


def do_list(context: Context, options: argparse.Namespace) -> None:
    """ListMachineDisks as a table or JSON lines (with ``shortid``, without ``state``)."""
    from smartdc.cli import humanize

    (text,) = take(options.args, 1, "missing INST argument")
    disks = context.api.list_machine_disks(instance_id(context, text))
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
    configure("[OPTIONS] INST", sort=LIST_SORT),
    aliases=("ls",),
    description=_LIST_HELP,
)


def do_get(context: Context, options: argparse.Namespace) -> None:
    """Print one disk (found by id or short id) as JSON, without its ``state``."""
    text, disk_text = take(options.args, 2, "missing INST and/or DISKID arguments")
    machine = instance_id(context, text)
    output.print_object(context, options, _without_state(_lookup(context, machine, disk_text)))


GET = Command(
    "get",
    "Show a specific disk of an instance.",
    do_get,
    # -j is not in triton, whose disk get has none
    configure("[OPTIONS] INST DISK", json="JSON output on one line."),
    description="Show a specific disk of an instance.\n\n"
    "INST is an instance name, id or short id; DISK a disk id or short id.",
)


# --- disk delete -------------------------------------------------------------------------------


def do_delete(context: Context, options: argparse.Namespace) -> None:
    """DeleteMachineDisk; ``-w`` waits until GetMachineDisk no longer finds it."""
    from smartdc.cli.failures import gone_exits_1
    from smartdc.errors import CloudAPIError

    shown, disk_text = take(options.args, 2, "missing INST and/or DISKID arguments")
    started = now_ms()
    api = context.api
    machine = instance_id(context, shown)
    disk_id = str(_lookup(context, machine, disk_text).get("id"))
    gone_exits_1(lambda: api.delete_machine_disk(machine, disk_id))
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

    waiting.poll(
        context,
        fetch,
        lambda disk: disk is None,
        describe=f"disk {disk_id} deletion",
        status=lambda disk: str(disk.get("state") if disk else "deleted"),
        timeout=wait_timeout(options),
    )
    context.out(f'Deleted disk "{disk_text}" in {elapsed_ms(started)}')


DELETE = Command(
    "delete",
    "Delete a disk from an instance.",
    do_delete,
    configure("[OPTIONS] INST DISK", more=_wait_options),
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
    from smartdc.cli.failures import CommandError, gone_exits_1

    shown, disk_text, size_text = take(
        options.args, 3, "missing INST, DISK and/or SIZE arguments", extra="too many arguments"
    )
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
    gone_exits_1(
        lambda: api.resize_machine_disk(
            machine, disk_id, size=size, dangerous_allow_shrink=options.dangerous_allow_shrink
        )
    )
    context.out(f'Resizing disk "{disk_id}"')
    if not options.wait:
        return
    resized = waiting.poll(
        context,
        lambda: api.get_machine_disk(machine, disk_id),
        lambda found: found.get("size") == size and found.get("state") != "resizing",
        describe=f"disk {disk_id} resize",
        status=lambda found: f"{found.get('state')}, {found.get('size')} MiB",
        timeout=wait_timeout(options),
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

DISKS = list_shortcut("disks", "disk", LIST)

COMMANDS: tuple[Command | Group, ...] = (DISK, DISKS)
