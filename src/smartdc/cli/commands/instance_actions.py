"""``smartdc instance delete/start/stop/reboot/resize/rename/wait/audit/fwrules`` and the
firewall and deletion-protection switches, as ``triton instance`` has them.

Commands that take several instances act on them all at once and report each one on its
own line; a failure is reported for its instance and the command ends with an error
(exit 1), as node-triton does (lib/do_instance/gen_do_ACTION.js, do_reboot.js, do_wait.js,
do_enable_firewall.js ...). Waits (``-w``) poll as node-triton's do (lib/tritonapi.js,
lib/cloudapi2.js); on a terminal they show the state being waited on and the time spent.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from smartdc._record import Record
from smartdc.cli import output, waiting
from smartdc.cli.command import ArgParser, Command, Group, UsageError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from smartdc.cli.context import Context

JSONObject = dict[str, Any]

_INST_HELP = 'Where "INST" is an instance name, id, or short id.'


# --- shared helpers ----------------------------------------------------------------------------


class _Target(Record):
    """An instance as typed (``arg``) and its id; ``alias`` is ``arg`` unless it was the id."""

    __slots__ = ("alias", "arg", "id")

    def __init__(self, arg: str, id: str, alias: str | None) -> None:
        self.arg = arg
        self.id = id
        self.alias = alias

    @property
    def label(self) -> str:
        """``web1 (<uuid>)`` when named, else the bare id (as triton's action lines)."""
        return f"{self.alias} ({self.id})" if self.alias else self.id


def _resolve_target(context: Context, arg: str) -> _Target:
    from smartdc.cli import resolve

    # A full UUID is used as given, without a lookup (as triton does).
    if resolve.is_uuid(arg):
        return _Target(arg, arg, None)
    return _Target(arg, resolve.instance_id(context.api, arg), arg)


def _message(exc: BaseException) -> str:
    from smartdc.cli.failures import describe

    return describe(exc)[1]


def _each(items: Sequence[Any], work: Callable[[Any], Any]) -> list[Any]:
    """``work(item)`` for every item at once; results (or exceptions) in item order."""
    import functools

    from smartdc.cli.batch import settle

    settled = settle([functools.partial(work, item) for item in items])
    return [result if error is None else error for result, error in settled]


def _errors(results: Sequence[Any]) -> list[Exception]:
    return [result for result in results if isinstance(result, Exception)]


def _elapsed_ms(started: float) -> int:
    import time

    return round((time.monotonic() - started) * 1000)


def _get_machine(context: Context, uuid: str) -> JSONObject:
    return context.api.get_machine(uuid)


def _check_arg_count(options: argparse.Namespace, what: str) -> None:
    if not options.instances:
        raise UsageError(f"missing INST {what}")


def _add_instances(parser: ArgParser) -> None:
    parser.add_argument(
        "instances", nargs="*", metavar="INST", help="instance name, id or short id"
    )


# --- delete, start, stop (node-triton lib/do_instance/gen_do_ACTION.js) ------------------------

#: action -> (the state that means done, the verb in messages)
_STATE_ACTIONS = {
    "delete": ("deleted", "Delete"),
    "start": ("running", "Start"),
    "stop": ("stopped", "Stop"),
}


def _configure_state_action(action: str) -> Callable[[ArgParser], None]:
    def configure(parser: ArgParser) -> None:
        waiting.add_wait_options(
            parser, help="Block until instance state indicates the action is complete."
        )
        if action == "start":
            parser.add_argument(
                "--snapshot",
                metavar="SNAPNAME",
                help="Name of snapshot with which to start the instance.",
            )
        if action == "delete":
            parser.add_argument(
                "-f", "--force", action="store_true", help="Skip confirmation of delete."
            )
        _add_instances(parser)

    return configure


def _do_state_action(action: str, context: Context, options: argparse.Namespace) -> int | None:
    import time

    from smartdc.cli import prompt
    from smartdc.cli.failures import CommandError

    _check_arg_count(options, "arg(s)")
    started = time.monotonic()
    snapshot: str | None = getattr(options, "snapshot", None)
    asking = action == "delete" and not options.force
    terminal = prompt.terminal(context) if asking else None

    def prepare(arg: str) -> _Target:
        try:
            target = _resolve_target(context, arg)
            if snapshot is not None:
                _check_snapshot(context, target.id, snapshot)
        except Exception as exc:
            context.err(f"error: {_message(exc)}")
            raise
        return target

    def act(target: _Target) -> None:
        try:
            _act_and_wait(context, options, action, target, started)
        except Exception as exc:
            context.err(f"error: {_message(exc)}")
            raise

    try:
        if terminal is None:
            results = _each(options.instances, lambda arg: act(prepare(arg)))
        else:
            # Resolve all at once, ask one question at a time, then delete all at once.
            prepared = _each(options.instances, prepare)
            approved = []
            for target in prepared:
                if isinstance(target, _Target):
                    if terminal.yes_no(f"Delete instance {target.id}? [y/n] "):
                        approved.append(target)
                    else:
                        context.err("Aborting")
            results = _errors(prepared) + _each(approved, act)
    finally:
        if terminal is not None:
            terminal.close()
    if _errors(results):
        raise CommandError("command failure")
    return None


def _check_snapshot(context: Context, uuid: str, name: str) -> None:
    from smartdc.cli.failures import CommandError

    snap = context.api.get_machine_snapshot(uuid, name)
    if snap.get("state") != "created":
        raise CommandError(
            "Instances can boot only from successfully created snapshots", code="Usage"
        )


def _act_and_wait(
    context: Context, options: argparse.Namespace, action: str, target: _Target, started: float
) -> None:
    from smartdc.cli import humanize
    from smartdc.errors import CloudAPIError, MachineGoneError

    state, verb = _STATE_ACTIONS[action]
    api = context.api
    if action == "start":
        if options.snapshot is not None:
            api.start_machine_from_snapshot(target.id, options.snapshot)
        else:
            api.start_machine(target.id)
    elif action == "stop":
        api.stop_machine(target.id)
    else:
        api.delete_machine(target.id)
    if not options.wait:
        context.out(f"{verb} (async) instance {target.label}")
        return

    def fetch() -> JSONObject:
        try:
            return _get_machine(context, target.id)
        except MachineGoneError as exc:
            # GetMachine answers 410 Gone once the instance is deleted: done for a delete.
            if action != "delete":
                raise
            return {**(exc.machine or {}), "state": "deleted"}
        except CloudAPIError as exc:
            # Once purged it is not found at all (triton would report that as a failure).
            if action != "delete" or exc.status != 404:
                raise
            return {"id": target.id, "state": "deleted"}

    waiting.poll(
        context,
        fetch,
        lambda machine: machine.get("state") == state,
        describe=f"instance {target.arg} to be {state}",
        status=lambda machine: str(machine.get("state")),
        timeout=waiting.wait_timeout(options, waiting.DEFAULT_WAIT_TIMEOUT),
        interval=1.0,
        machine=target.id,
    )
    took = humanize.human_duration(_elapsed_ms(started))
    if target.alias:
        context.out(f"{verb} instance {target.alias} ({target.id}, {took})")
    else:
        context.out(f"{verb} instance {target.id} ({took})")


def do_delete(context: Context, options: argparse.Namespace) -> int | None:
    """Delete instances (DeleteMachine), after asking unless ``--force``."""
    return _do_state_action("delete", context, options)


def do_start(context: Context, options: argparse.Namespace) -> int | None:
    """Start instances (StartMachine, or StartMachineFromSnapshot with ``--snapshot``)."""
    return _do_state_action("start", context, options)


def do_stop(context: Context, options: argparse.Namespace) -> int | None:
    """Stop instances (StopMachine)."""
    return _do_state_action("stop", context, options)


def _state_action_command(action: str, handler: Any, aliases: tuple[str, ...] = ()) -> Command:
    summary = f"{action.capitalize()} one or more instances."
    return Command(
        action,
        summary,
        handler,
        _configure_state_action(action),
        aliases=aliases,
        description=f"{summary}\n\n{_INST_HELP}",
    )


DELETE = _state_action_command("delete", do_delete, ("rm",))
START = _state_action_command("start", do_start)
STOP = _state_action_command("stop", do_stop)


# --- reboot (node-triton lib/do_instance/do_reboot.js, tritonapi.js rebootInstance) -------------

#: Seconds between MachineAudit polls while waiting for a reboot.
REBOOT_POLL_INTERVAL = 2.0


def _configure_reboot(parser: ArgParser) -> None:
    waiting.add_wait_options(parser, help="Wait until the instance(s) have rebooted.")
    _add_instances(parser)


def do_reboot(context: Context, options: argparse.Namespace) -> int | None:
    """Reboot instances; with ``-w``, wait for each one's reboot audit record."""
    from smartdc.cli.failures import CommandError, describe

    _check_arg_count(options, "arg(s)")
    for arg in options.instances:
        context.out(f"Rebooting instance {arg}")

    def reboot(arg: str) -> None:
        try:
            _reboot_one(context, options, arg)
        except Exception as exc:
            context.out(f"Error rebooting instance {arg}: {_message(exc)}")
            raise
        if options.wait:
            context.out(f"Rebooted instance {arg}")

    failures = _errors(_each(options.instances, reboot))
    if len(failures) == 1:
        raise failures[0]
    if failures:
        lines = []
        for exc in failures:
            code, message, _ = describe(exc)
            lines.append(f"    error ({code}): {message}" if code else f"    error: {message}")
        raise CommandError(
            f"multiple ({len(failures)}) errors\n" + "\n".join(lines), code="MultiError"
        )
    return None


def _reboot_one(context: Context, options: argparse.Namespace, arg: str) -> None:
    import random
    from email.utils import parsedate_to_datetime

    from smartdc.cli import humanize
    from smartdc.cli.failures import CommandError

    uuid = _resolve_target(context, arg).id
    api = context.api
    api.reboot_machine(uuid)
    if not options.wait:
        return
    # Polling the state cannot tell a quick reboot from one not yet begun, so wait for a
    # reboot audit record newer than the server's time of the reboot request.
    response = api.last_response
    date = response.headers.get("date") if response is not None else None
    request_id = response.request_id if response is not None else None
    if not date:
        raise CommandError(
            'cannot wait for reboot: CloudAPI RebootMachine response did not include a "Date" '
            f"header (req {request_id})",
            code="InternalError",
        )
    try:
        asked_ms = parsedate_to_datetime(date).timestamp() * 1000
    except (TypeError, ValueError):
        raise CommandError(
            "cannot wait for reboot: could not parse CloudAPI RebootMachine response "
            f'"Date" header: "{date}" (req {request_id})',
            code="InternalError",
        ) from None

    def record(audit: list[JSONObject]) -> JSONObject | None:
        for entry in audit:
            if (
                entry.get("action") == "reboot"
                and humanize.parse_js_date(entry.get("time")) > asked_ms
            ):
                return entry
        return None

    def failed(audit: list[JSONObject]) -> BaseException | None:
        entry = record(audit)
        if entry is None or entry.get("success") == "yes":
            return None
        which = f"audit id {entry['id']}" if entry.get("id") else f"audit time {entry.get('time')}"
        return CommandError(f"reboot failed ({which})")

    waiting.poll(
        context,
        lambda: api.machine_audit(uuid),
        lambda audit: record(audit) is not None,
        describe=f"instance {arg} to reboot",
        status=lambda audit: "rebooting",
        timeout=waiting.wait_timeout(options, waiting.DEFAULT_WAIT_TIMEOUT),
        interval=REBOOT_POLL_INTERVAL,
        fail=failed,
        # A random first delay keeps many reboots from polling in step (as triton).
        first_delay=REBOOT_POLL_INTERVAL / 2 + random.uniform(0, REBOOT_POLL_INTERVAL),
    )


REBOOT = Command(
    "reboot",
    "Reboot one or more instances.",
    do_reboot,
    _configure_reboot,
    description=f"Reboot one or more instances.\n\n{_INST_HELP}",
)


# --- resize and rename (node-triton lib/do_instance/do_resize.js, do_rename.js) ----------------

#: Seconds between GetMachine polls while waiting for a resize or a rename.
UPDATE_POLL_INTERVAL = 2.0


def _configure_update(what: str, second: str) -> Callable[[ArgParser], None]:
    def configure(parser: ArgParser) -> None:
        waiting.add_wait_options(parser, help=f"Block until {what} instance is complete.")
        parser.add_argument("instance", nargs="?", metavar="INST")
        # triton ignores arguments after these two; here they are a usage error.
        parser.add_argument("second", nargs="?", metavar=second)

    return configure


def _two_args(options: argparse.Namespace, second: str) -> tuple[str, str]:
    if options.instance is None:
        raise UsageError("missing INST arg")
    if options.second is None:
        raise UsageError(f"missing {second} arg")
    return str(options.instance), str(options.second)


def _wait_for_update(
    context: Context,
    options: argparse.Namespace,
    uuid: str,
    describe: str,
    field: str,
    wanted: str,
) -> None:
    if not options.wait:
        return
    waiting.poll(
        context,
        lambda: _get_machine(context, uuid),
        lambda machine: machine.get(field) == wanted,
        describe=describe,
        status=lambda machine: str(machine.get(field)),
        timeout=waiting.wait_timeout(options, waiting.DEFAULT_WAIT_TIMEOUT),
        interval=UPDATE_POLL_INTERVAL,
    )


def do_resize(context: Context, options: argparse.Namespace) -> int | None:
    """Resize an instance to another package (ResizeMachine)."""
    from smartdc.cli import resolve

    inst, pkg = _two_args(options, "PACKAGE")
    context.out(f'Resizing instance {inst} to "{pkg}"')
    uuid = _resolve_target(context, inst).id
    package = resolve.package(context.api, pkg)
    context.api.resize_machine(uuid, str(package["id"]))
    _wait_for_update(
        context,
        options,
        uuid,
        f"instance {inst} to have package {package.get('name')}",
        "package",
        str(package.get("name")),
    )
    context.out(f'Resized instance {inst} to "{pkg}"')
    return None


def do_rename(context: Context, options: argparse.Namespace) -> int | None:
    """Rename an instance (RenameMachine)."""
    inst, name = _two_args(options, "NEWNAME")
    context.out(f'Renaming instance {inst} to "{name}"')
    uuid = _resolve_target(context, inst).id
    context.api.rename_machine(uuid, name)
    _wait_for_update(context, options, uuid, f"instance {inst} to be named {name}", "name", name)
    context.out(f'Renamed instance {inst} to "{name}"')
    return None


RESIZE = Command(
    "resize",
    "Resize an instance.",
    do_resize,
    _configure_update("resizing", "PACKAGE"),
    description=(
        "Resize an instance.\n\n"
        'Where "INST" is an instance name, id, or short id\n'
        'and "PACKAGE" is a package name, id, or short id.\n\n'
        "Changing an instance package is asynchronous.\n"
        'Use "--wait" to not return until the changes are completed.'
    ),
)
RENAME = Command(
    "rename",
    "Rename an instance.",
    do_rename,
    _configure_update("renaming", "NEWNAME"),
    description=(
        "Rename an instance.\n\n"
        'Where "INST" is an instance name, id, or short id\n'
        'and "NEWNAME" is an instance name.\n\n'
        "Changing an instance name is asynchronous.\n"
        'Use "--wait" to not return until the changes are completed.'
    ),
)


# --- wait (node-triton lib/do_instance/do_wait.js) --------------------------------------------

DEFAULT_WAIT_STATES = ("running", "failed")


def _configure_wait(parser: ArgParser) -> None:
    parser.add_argument(
        "-s",
        "--states",
        action="append",
        metavar="STATES",
        help='Instance states on which to wait. Default is "running,failed". '
        "Values can be comma-separated or multiple uses of the option.",
    )
    _add_instances(parser)


def _states(values: Sequence[str] | None) -> list[str]:
    import re

    if not values:
        return list(DEFAULT_WAIT_STATES)
    states: list[str] = []
    for value in values:
        states.extend(re.split(r"\s*,\s*", value.strip()))
    return states


def do_wait(context: Context, options: argparse.Namespace) -> int | None:
    """Wait until instances are in one of the given states (GetMachine every second)."""
    import threading

    from smartdc.cli import resolve
    from smartdc.errors import MachineGoneError

    _check_arg_count(options, "arg(s)")
    states = _states(options.states)
    total = len(options.instances)
    lock = threading.Lock()
    done = 0

    def report(line: Callable[[int], str]) -> None:
        nonlocal done
        with lock:
            done += 1
            context.out(line(done))

    def look(arg: str) -> JSONObject | None:
        inst = resolve.instance(context.api, arg)
        if inst.get("state") in states:
            report(
                lambda n: (
                    f"{n}/{total}: Instance {inst.get('name')} ({arg}) already {inst.get('state')}"
                )
            )
            return None
        return inst

    looked = _each(options.instances, look)
    failures = _errors(looked)
    if failures:
        from smartdc.cli.batch import first_of

        raise first_of(failures)
    pending: dict[str, JSONObject] = {}
    for inst in looked:
        if inst is not None:
            pending.setdefault(str(inst["id"]), inst)
    if not pending:
        return None
    shown = ", ".join(states)
    if len(pending) == 1:
        (only,) = pending.values()
        context.out(
            f"Waiting for instance {only.get('name')} ({only['id']}) to enter state "
            f"(states: {shown})"
        )
    else:
        context.out(f"Waiting for {len(pending)} instances to enter state (states: {shown})")

    def follow(inst: JSONObject) -> None:
        uuid = str(inst["id"])

        def fetch() -> JSONObject:
            try:
                return _get_machine(context, uuid)
            except MachineGoneError as exc:
                # Waiting for "deleted" ends at the 410 (triton reports it as an error).
                if "deleted" not in states:
                    raise
                return {**inst, **(exc.machine or {}), "state": "deleted"}

        final = waiting.poll(
            context,
            fetch,
            lambda machine: machine.get("state") in states,
            describe=f"instance {inst.get('name')} to be {'/'.join(states)}",
            status=lambda machine: str(machine.get("state")),
            timeout=waiting.UNBOUNDED_WAIT_TIMEOUT,
            interval=1.0,
            machine=uuid,
        )
        report(
            lambda n: (
                f"{n}/{total}: Instance {final.get('name')} ({final.get('id')}) moved to "
                f"state {final.get('state')}"
            )
        )

    failures = _errors(_each(list(pending.values()), follow))
    if failures:
        from smartdc.cli.batch import first_of

        raise first_of(failures)
    return None


WAIT = Command(
    "wait",
    "Wait on instances changing state.",
    do_wait,
    _configure_wait,
    description=(
        "Wait on instances changing state.\n\n"
        'Where "INST" is an instance name, id, or short id; and "STATES" is a\n'
        'comma-separated list of target instance states, by default "running,failed".\n'
        'In other words, "smartdc inst wait foo0" will wait for instance "foo0" to\n'
        "complete provisioning."
    ),
)


# --- audit (node-triton lib/do_instance/do_audit.js) -------------------------------------------

AUDIT_COLUMNS = "shortid,time,action,success"
AUDIT_LONG_COLUMNS = "id,time,action,success"
AUDIT_SORT = "id,time"


def _configure_one_instance_table(sort_default: str) -> Callable[[ArgParser], None]:
    def configure(parser: ArgParser) -> None:
        output.add_table_options(parser, sort_default=sort_default)
        _add_instances(parser)

    return configure


def _one_instance(options: argparse.Namespace, separator: str) -> str:
    args: list[str] = options.instances
    if not args:
        raise UsageError("missing INST argument")
    if len(args) > 1:
        raise UsageError(f"too many arguments: {separator.join(args)}")
    return args[0]


def do_audit(context: Context, options: argparse.Namespace) -> int | None:
    """List an instance's actions (MachineAudit), each with the instance's id and short id."""
    from smartdc.cli import humanize

    # triton shows the arguments comma-joined here (a JavaScript array as text).
    uuid = _resolve_target(context, _one_instance(options, ",")).id
    rows = [
        {**entry, "id": uuid, "shortid": humanize.short_id(uuid)}
        for entry in context.api.machine_audit(uuid)
    ]
    output.print_list(
        context,
        options,
        rows,
        columns=AUDIT_COLUMNS,
        long_columns=AUDIT_LONG_COLUMNS,
        dotted=True,
    )
    return None


AUDIT = Command(
    "audit",
    "List instance actions.",
    do_audit,
    _configure_one_instance_table(AUDIT_SORT),
    description=f"List instance actions.\n\n{_INST_HELP}",
)


# --- fwrules (node-triton lib/do_instance/do_fwrule/do_list.js) --------------------------------

FWRULE_COLUMNS = "shortid,enabled,global,log,rule"
FWRULE_LONG_COLUMNS = "id,enabled,global,log,rule,description"
FWRULE_SORT = "rule"


def do_fwrules(context: Context, options: argparse.Namespace) -> int | None:
    """List the firewall rules that apply to an instance (ListMachineFirewallRules)."""
    from smartdc.cli import humanize

    uuid = _resolve_target(context, _one_instance(options, " ")).id
    rules = context.api.list_machine_firewall_rules(uuid)
    if options.json or options.json_array:
        output.print_items(context, options, rules)
        return None
    # triton reads these column and sort names case-insensitively.
    lowered = argparse.Namespace(**vars(options))
    lowered.o = options.o.lower() if options.o else options.o
    lowered.s = options.s.lower() if options.s else options.s
    # A "short" id here is the whole id, as triton's (lib/common.js normShortId of a UUID).
    rows = [{**rule, "shortid": humanize.norm_short_id(str(rule.get("id", "")))} for rule in rules]
    output.print_list(
        context, lowered, rows, columns=FWRULE_COLUMNS, long_columns=FWRULE_LONG_COLUMNS
    )
    return None


_FWRULES_DESCRIPTION = f"Show firewall rules applied to an instance.\n\n{_INST_HELP}"
FWRULES = Command(
    "fwrules",
    "Show firewall rules applied to an instance.",
    do_fwrules,
    _configure_one_instance_table(FWRULE_SORT),
    description=_FWRULES_DESCRIPTION,
)
#: ``instance fwrule list``: hidden in triton, where ``instance fwrules`` came first.
FWRULE = Group(
    "fwrule",
    "List fwrules on Triton instances.",
    (
        Command(
            "list",
            "Show firewall rules applied to an instance.",
            do_fwrules,
            _configure_one_instance_table(FWRULE_SORT),
            description=_FWRULES_DESCRIPTION,
        ),
    ),
    hidden=True,
)


# --- firewall and deletion protection switches -------------------------------------------------
# node-triton lib/do_instance/do_{enable,disable}_{firewall,deletion_protection}.js


class _Switch(Record):
    """A machine field turned on or off, how messages name it (``firewall for``,
    ``deletion protection for``) and the call that does it."""

    __slots__ = ("call", "field", "what")

    def __init__(self, field: str, what: str, call: Callable[[Any, str], None]) -> None:
        self.field = field
        self.what = what
        self.call = call


def _configure_switch(wait_help: str) -> Callable[[ArgParser], None]:
    def configure(parser: ArgParser) -> None:
        waiting.add_wait_options(parser, timeout=False, help=wait_help)
        _add_instances(parser)

    return configure


def _do_switch(
    context: Context, options: argparse.Namespace, switch: _Switch, enable: bool
) -> int | None:
    _check_arg_count(options, "argument(s)")
    doing, did = ("Enabling", "Enabled") if enable else ("Disabling", "Disabled")
    state = "enabled" if enable else "disabled"

    def flip(arg: str) -> None:
        uuid = _resolve_target(context, arg).id
        switch.call(context.api, uuid)
        context.out(f'{doing} {switch.what} instance "{arg}"')
        if not options.wait:
            return
        waiting.poll(
            context,
            lambda: _get_machine(context, uuid),
            # a missing field means off (triton would wait forever for an explicit false)
            lambda machine: bool(machine.get(switch.field)) == enable,
            describe=f"{switch.what.removesuffix(' for')} of instance {arg} to be {state}",
            status=lambda machine: "enabled" if machine.get(switch.field) else "disabled",
            timeout=waiting.UNBOUNDED_WAIT_TIMEOUT,
            interval=1.0,
        )
        context.out(f'{did} {switch.what} instance "{arg}"')

    failures = _errors(_each(options.instances, flip))
    if failures:
        from smartdc.cli.batch import first_of

        raise first_of(failures)
    return None


_FIREWALL_ON = _Switch(
    "firewall_enabled", "firewall for", lambda api, i: api.enable_machine_firewall(i)
)
_FIREWALL_OFF = _Switch(
    "firewall_enabled", "firewall for", lambda api, i: api.disable_machine_firewall(i)
)
_PROTECTION_ON = _Switch(
    "deletion_protection",
    "deletion protection for",
    lambda api, i: api.enable_machine_deletion_protection(i),
)
_PROTECTION_OFF = _Switch(
    "deletion_protection",
    "deletion protection for",
    lambda api, i: api.disable_machine_deletion_protection(i),
)


def do_enable_firewall(context: Context, options: argparse.Namespace) -> int | None:
    """Enable the firewall of instances (EnableMachineFirewall)."""
    return _do_switch(context, options, _FIREWALL_ON, True)


def do_disable_firewall(context: Context, options: argparse.Namespace) -> int | None:
    """Disable the firewall of instances (DisableMachineFirewall)."""
    return _do_switch(context, options, _FIREWALL_OFF, False)


def do_enable_deletion_protection(context: Context, options: argparse.Namespace) -> int | None:
    """Turn deletion protection on (EnableMachineDeletionProtection)."""
    return _do_switch(context, options, _PROTECTION_ON, True)


def do_disable_deletion_protection(context: Context, options: argparse.Namespace) -> int | None:
    """Turn deletion protection off (DisableMachineDeletionProtection)."""
    return _do_switch(context, options, _PROTECTION_OFF, False)


def _switch_command(name: str, summary: str, handler: Any, wait_help: str) -> Command:
    return Command(
        name,
        summary,
        handler,
        _configure_switch(wait_help),
        description=f"{summary}\n\n{_INST_HELP}",
    )


ENABLE_FIREWALL = _switch_command(
    "enable-firewall",
    "Enable the firewall of one or more instances.",
    do_enable_firewall,
    "Wait for the firewall to be enabled.",
)
DISABLE_FIREWALL = _switch_command(
    "disable-firewall",
    "Disable the firewall of one or more instances.",
    do_disable_firewall,
    "Wait for the firewall to be disabled.",
)
ENABLE_DELETION_PROTECTION = _switch_command(
    "enable-deletion-protection",
    "Enable deletion protection for one or more instances.",
    do_enable_deletion_protection,
    "Wait for deletion protection to be enabled.",
)
DISABLE_DELETION_PROTECTION = _switch_command(
    "disable-deletion-protection",
    "Disable deletion protection on one or more instances.",
    do_disable_deletion_protection,
    "Wait for deletion protection to be removed.",
)


COMMANDS: tuple[Command | Group, ...] = (
    DELETE,
    START,
    STOP,
    REBOOT,
    RESIZE,
    RENAME,
    WAIT,
    AUDIT,
    FWRULES,
    FWRULE,
    ENABLE_FIREWALL,
    DISABLE_FIREWALL,
    ENABLE_DELETION_PROTECTION,
    DISABLE_DELETION_PROTECTION,
)
"""The subcommands this module adds to ``smartdc instance``, in triton's order."""
