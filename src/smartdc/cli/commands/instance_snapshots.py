"""``smartdc instance snapshot`` (and the hidden ``instance snapshots``), as
``triton instance snapshot``.

Behaviour follows node-triton lib/do_instance/do_snapshot/*.js: creating waits on
GetMachineSnapshot, deleting on the machine audit (``delete_snapshot`` records newer than the
DeleteMachineSnapshot response's ``Date``), both polled every second.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from smartdc.cli import output, waiting
from smartdc.cli.args import add_positionals, set_usage, take
from smartdc.cli.command import ArgParser, Command, Group
from smartdc.cli.commands.instance_common import (
    audit_time_ms,
    configure,
    elapsed_ms,
    instance_id,
    list_shortcut,
    now_ms,
    wait_for_audit,
    wait_timeout,
)

if TYPE_CHECKING:
    from smartdc.cli.context import Context

LIST_COLUMNS = "name,state,created"
LIST_SORT = "name"


# --- snapshot create ---------------------------------------------------------------------------


def _configure_create(parser: ArgParser) -> None:
    set_usage(parser, "[OPTIONS] INST")
    parser.add_argument("-j", "--json", action="store_true", help="JSON stream output.")
    parser.add_argument("-n", "--name", metavar="SNAPNAME", help="An optional name for a snapshot.")
    waiting.add_wait_options(parser, help="Wait for the creation to complete.")
    add_positionals(parser)


def do_create(context: Context, options: argparse.Namespace) -> None:
    """CreateMachineSnapshot; with ``-w`` wait until it is created (or failed)."""
    from smartdc.cli import table
    from smartdc.cli.failures import CommandError

    (shown,) = take(options.args, 1, "missing <inst> argument")
    started = now_ms()
    api = context.api
    machine = instance_id(context, shown)
    snapshot = api.create_machine_snapshot(machine, options.name or None)
    name = str(snapshot.get("name"))
    context.out(f"Creating snapshot {name} of instance {shown}")
    if not options.wait:
        return
    snap = waiting.poll(
        context,
        lambda: api.get_machine_snapshot(machine, name),
        lambda found: found.get("state") in ("created", "failed"),
        describe=f"snapshot {name} of instance {machine}",
        status=lambda found: str(found.get("state")),
        timeout=wait_timeout(options),
    )
    if options.json:
        context.write(table.json_compact(snap))  # as triton, even for a failed snapshot
    elif snap.get("state") == "created":
        context.out(f'Created snapshot "{snap.get("name")}" in {elapsed_ms(started)}')
    else:
        raise CommandError(f'Failed to create snapshot "{snap.get("name")}"')


CREATE = Command(
    "create",
    "Create a snapshot of an instance.",
    do_create,
    _configure_create,
    description="Create a snapshot of an instance.\n\n"
    "INST is an instance name, id or short id. Without a name the snapshot is named\n"
    'after the time it is taken. Instances of type "bhyve" or "kvm" have no snapshots.',
)


# --- snapshot list / get -----------------------------------------------------------------------


def do_list(context: Context, options: argparse.Namespace) -> None:
    """ListMachineSnapshots as a table (``name,state,created``) or JSON lines."""
    (text,) = take(options.args, 1, "missing INST argument")
    snapshots = context.api.list_machine_snapshots(instance_id(context, text))
    output.print_list(context, options, snapshots, columns=LIST_COLUMNS, long_columns=LIST_COLUMNS)


_LIST_HELP = "Show all of an instance's snapshots.\n\nINST is an instance name, id or short id."

LIST = Command(
    "list",
    "Show all of an instance's snapshots.",
    do_list,
    configure("[OPTIONS] INST", sort=LIST_SORT),
    aliases=("ls",),
    description=_LIST_HELP,
)


def do_get(context: Context, options: argparse.Namespace) -> None:
    """Print one snapshot as JSON."""
    text, name = take(options.args, 2, "missing INST and/or SNAPNAME arguments")
    snapshot = context.api.get_machine_snapshot(instance_id(context, text), name)
    output.print_object(context, options, snapshot)


GET = Command(
    "get",
    "Show a specific snapshot of an instance.",
    do_get,
    configure("[OPTIONS] INST SNAPNAME", json="JSON stream output."),
    description="Show a specific snapshot of an instance.\n\n"
    "INST is an instance name, id or short id.",
)


# --- snapshot delete ---------------------------------------------------------------------------


def _configure_delete(parser: ArgParser) -> None:
    set_usage(parser, "[OPTIONS] INST SNAPNAME [SNAPNAME...]")
    parser.add_argument("-f", "--force", action="store_true", help="Skip confirmation of delete.")
    waiting.add_wait_options(parser, help="Wait for the deletion to complete.")
    add_positionals(parser)


def _deleted_since(api_date: str | None) -> float:
    """The ``Date`` of a response in epoch milliseconds (now when missing)."""
    from email.utils import parsedate_to_datetime

    if api_date:
        try:
            return parsedate_to_datetime(api_date).timestamp() * 1000
        except (TypeError, ValueError):
            pass
    return now_ms()


def do_delete(context: Context, options: argparse.Namespace) -> None:
    """DeleteMachineSnapshot for every name at once, after confirmation unless ``-f``."""
    from functools import partial

    from smartdc.cli.batch import first_of, settle
    from smartdc.cli.failures import CommandError
    from smartdc.cli.prompt import delete_question, go_ahead

    shown, *names = take(options.args, 2, "missing INST and SNAPNAME argument(s)", extra=None)
    if not go_ahead(context, delete_question("snapshot", names), skip=options.force):
        return
    started = now_ms()
    api = context.api
    machine = instance_id(context, shown)

    def delete_one(name: str) -> float:
        api.delete_machine_snapshot(machine, name)
        response = api.last_response  # this thread's, so the DELETE's
        return _deleted_since(response.headers.get("date") if response else None)

    deleted = settle([partial(delete_one, name) for name in names])
    failures = [error for _, error in deleted if error is not None]
    pending: list[tuple[str, float]] = []
    for name, (since, _) in zip(names, deleted, strict=True):
        if since is not None:
            context.out(f'Deleting snapshot "{name}" of instance "{machine}"')
            pending.append((name, since))

    if options.wait and pending:
        timeout = wait_timeout(options)

        def wait_one(name: str, since: float) -> str:
            def found(audit: list[dict[str, Any]]) -> dict[str, Any] | None:
                for record in audit:
                    if record.get("action") == "delete_snapshot" and audit_time_ms(record) > since:
                        return record
                return None

            record = wait_for_audit(
                context,
                machine,
                found,
                describe=f"instance {machine} delete_snapshot",
                timeout=timeout,
                interval=1.0,
            )
            if record.get("success") != "yes":
                raise CommandError(f"delete_snapshot failed (audit id {record.get('id')})")
            return name

        waited = settle([partial(wait_one, name, since) for name, since in pending])
        for done, error in waited:
            if done is not None:
                context.out(f'Deleted snapshot "{done}" in {elapsed_ms(started)}')
            elif error is not None:
                failures.append(error)
    if failures:
        raise first_of(failures)


DELETE = Command(
    "delete",
    "Remove a snapshot from an instance.",
    do_delete,
    _configure_delete,
    aliases=("rm",),
    description="Remove snapshots from an instance.\n\nINST is an instance name, id or short id.",
)


SNAPSHOT = Group(
    "snapshot",
    "List, get, create and delete Triton instance snapshots.",
    (CREATE, LIST, GET, DELETE),
)

SNAPSHOTS = list_shortcut("snapshots", "snapshot", LIST)

COMMANDS: tuple[Command | Group, ...] = (SNAPSHOT, SNAPSHOTS)
