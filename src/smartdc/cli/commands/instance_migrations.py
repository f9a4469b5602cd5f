"""``smartdc instance migration``, as ``triton instance migration``.

Behaviour follows node-triton lib/do_instance/do_migration/*.js. ``-w`` follows the phase
with the Migrate ``watch`` action and prints its events as triton's watcher.js does (or as
JSON lines with ``-j``, or not at all with ``-q``). The events are printed once the watch
answer is complete: the library reads it whole rather than as a stream.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from smartdc.cli import output
from smartdc.cli.args import add_positionals, set_usage, take
from smartdc.cli.command import ArgParser, Command, Group, UsageError
from smartdc.cli.commands.instance_common import configure, instance_id

if TYPE_CHECKING:
    from smartdc.cli.context import Context

LIST_COLUMNS = "shortid,phase,state,age"
LIST_LONG_COLUMNS = "machine,phase,state,created_timestamp"
LIST_SORT = "created_timestamp"

_AFFINITY_HELP = (
    "Affinity rules for choosing the server the instance moves to: instance==INST (same "
    "server as INST), instance!=INST (not INST's server), instance==~INST and "
    "instance!=~INST (the same, if possible). INST is an instance name or id. May be "
    "repeated."
)
_QUIET_HELP = "Do not print the migration events while waiting."

# --- printing the watch events (node-triton do_migration/watcher.js) --------------------------


def _to_fixed(value: float, digits: int) -> str:
    """JavaScript's ``Number.prototype.toFixed`` (ties round up on the exact value)."""
    from decimal import ROUND_HALF_UP, Decimal

    return str(Decimal(value).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))


def _number(value: Any) -> float:
    import math

    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    return math.nan


def network_speed(speed: Any) -> str:
    """A transfer rate in bytes per second as triton shows it (``12.3MB/s``)."""
    from smartdc.cli import table

    if isinstance(speed, bool) or not isinstance(speed, int | float):
        return table.js_string(speed)
    units = ("B/s", "kB/s", "MB/s", "GB/s", "TB/s", "PB/s", "EB/s")
    index = 0
    value = float(speed)
    while value > 1024 and index < len(units):
        value /= 1024
        index += 1
    unit = units[index] if index < len(units) else "undefined"
    return _to_fixed(max(value, 0.0), 1) + unit


class EventPrinter:
    """Prints watch events one by one, keeping the running percentage triton keeps."""

    def __init__(self, context: Context, options: argparse.Namespace, started: float) -> None:
        self.context = context
        self.quiet = bool(getattr(options, "quiet", False))
        self.json = bool(options.json)
        self.started = started
        self.progress = 0.0

    def elapsed(self) -> str:
        """Seconds since the watch began, as watcher.js prints them (``0.244456``)."""
        import time

        from smartdc.cli.table import js_number

        fixed = _to_fixed(time.monotonic() - self.started, 6)[:8]
        return js_number(float(fixed))

    def print(self, event: dict[str, Any]) -> None:
        """Print one event (nothing with ``-q``)."""
        from smartdc.cli import table

        if self.quiet:
            return
        if self.json:
            self.context.write(table.json_compact(event))
            return
        if event.get("type") == "end":
            phase = table.js_string(event.get("phase", table.UNDEFINED))
            self.context.out(f"Done - {phase} finished in {self.elapsed()} seconds")
            return
        current = _number(event.get("current_progress"))
        total = _number(event.get("total_progress"))
        # as watcher.js: percentages of successive phases add up (100%, 200%, ...)
        if total == 100 and current <= self.progress:
            current += self.progress
        try:
            percent = current * 100 / total
        except ZeroDivisionError:
            import math

            percent = (
                math.nan if current == 0 or current != current else math.copysign(math.inf, current)
            )
        self.progress = percent
        rate = event.get("transfer_bytes_second")
        detail = (
            network_speed(rate) if rate else table.js_string(event.get("message", table.UNDEFINED))
        )
        state = table.js_string(event.get("state", table.UNDEFINED))
        self.context.out(f"{state}: {table.js_number(percent)}% {detail}")


def watch(context: Context, options: argparse.Namespace, machine: str) -> None:
    """Follow the running migration phase and print its events."""
    import time

    started = time.monotonic()
    events = context.api.watch_migration(machine)
    printer = EventPrinter(context, options, started)
    for event in events:
        printer.print(event)


# --- the actions -------------------------------------------------------------------------------


def _configure_action(
    *, affinity: bool = False, quiet: bool = False
) -> Callable[[ArgParser], None]:
    def configure(parser: ArgParser) -> None:
        set_usage(parser, "[OPTIONS] INST")
        parser.add_argument("-j", "--json", action="store_true", help="JSON stream output.")
        if affinity:
            parser.add_argument(
                "-a", "--affinity", action="append", metavar="RULE", help=_AFFINITY_HELP
            )
        parser.add_argument(
            "-w", "--wait", action="store_true", help="Wait for the phase to complete."
        )
        if quiet:
            parser.add_argument("-q", "--quiet", action="store_true", help=_QUIET_HELP)
        add_positionals(parser)

    return configure


def _one_instance(options: argparse.Namespace) -> str:
    (text,) = take(options.args, 1, "missing <inst> argument")
    return text


def _act(action: str) -> Callable[[Context, argparse.Namespace], None]:
    def handler(context: Context, options: argparse.Namespace) -> None:
        from smartdc.cli.failures import gone_exits_1

        text = _one_instance(options)
        machine = instance_id(context, text)
        rules = getattr(options, "affinity", None)
        gone_exits_1(lambda: context.api.migrate(machine, action, affinity=rules))
        if options.wait:
            watch(context, options, machine)

    handler.__doc__ = f"Migrate with action {action}; ``-w`` follows it to its end."
    handler.__name__ = f"do_{action}"
    return handler


BEGIN = Command(
    "begin",
    "Begins the migration for an instance.",
    _act("begin"),
    _configure_action(affinity=True, quiet=True),
    description="Begin the migration of an instance: reserve the target instance.",
)
SYNC = Command(
    "sync",
    "Synchronize the migrated instance data.",
    _act("sync"),
    _configure_action(quiet=True),
    description="Copy the instance data to the target (again, if it was done before).",
)
SWITCH = Command(
    "switch",
    "Switch an instance to a migration.",
    _act("switch"),
    _configure_action(quiet=True),
    description="Switch over: the original instance is hidden and the migrated one takes "
    "its place.",
)
PAUSE = Command(
    "pause",
    "Pauses in-progress instance synchronization.",
    _act("pause"),
    _configure_action(),
    description="Pause the running synchronization of a migration.",
)
ABORT = Command(
    "abort",
    "Aborts an instance migration.",
    _act("abort"),
    _configure_action(),
    description="Abort a migration: the target instance is removed.",
)
AUTOMATIC = Command(
    "automatic",
    "Migrates the given instance (begin, sync and switch).",
    _act("automatic"),
    _configure_action(affinity=True, quiet=True),
    description="Migrate an instance in one go: begin, sync and switch.",
)


def do_finalize(context: Context, options: argparse.Namespace) -> None:
    """Migrate with action finalize: the original (source) instance is removed."""
    from smartdc.cli.failures import gone_exits_1

    text = _one_instance(options)
    machine = instance_id(context, text)
    gone_exits_1(lambda: context.api.migrate(machine, "finalize"))
    context.out("Done - the migration is finalized")


FINALIZE = Command(
    "finalize",
    "Clean up the source instance of a migration.",
    do_finalize,
    configure("[OPTIONS] INST"),
    description="Finalize a migration: the original source instance is removed.",
)


# --- list / get --------------------------------------------------------------------------------


def do_list(context: Context, options: argparse.Namespace) -> None:
    """ListMigrations as a table (with ``shortid`` and ``age``) or JSON lines."""
    import time

    from smartdc.cli import humanize

    if len(options.args) > 1:
        raise UsageError("incorrect number of arguments")
    migrations = context.api.list_migrations()
    if not options.json and not options.json_array:
        now = time.time() * 1000
        migrations = [
            {
                **migration,
                "shortid": humanize.short_id(str(migration.get("machine", ""))),
                "age": humanize.long_ago(
                    humanize.parse_js_date(migration.get("created_timestamp")), now
                ),
            }
            for migration in migrations
        ]
    output.print_list(
        context, options, migrations, columns=LIST_COLUMNS, long_columns=LIST_LONG_COLUMNS
    )


LIST = Command(
    "list",
    "Show all of an account's migrations.",
    do_list,
    configure("[OPTIONS]", sort=LIST_SORT),
    aliases=("ls",),
    description="Show all of the account's migrations (finalized ones are not listed).",
)


def _styled(context: Context, text: str, style: str) -> str:
    """``text`` in an ANSI style when stdout is a terminal (ansiStylizeTty)."""
    return output.stylize(text, style, enabled=output.stdout_is_tty(context))


def do_get(context: Context, options: argparse.Namespace) -> None:
    """GetMigration: JSON with ``-j``, else a summary and a table of the phases."""
    import time

    from smartdc.cli import humanize, table

    text = _one_instance(options)
    machine = instance_id(context, text)
    migration = context.api.get_migration(machine)
    if options.json:
        context.write(table.json_compact(migration))
        return
    state = migration.get("state", table.UNDEFINED)
    shown = table.js_string(state)
    style = {"successful": "green", "running": "bold", "failed": "red"}.get(shown)
    context.out("State:         " + (_styled(context, shown, style) if style else shown))
    context.out(
        "Created:       " + table.js_string(migration.get("created_timestamp", table.UNDEFINED))
    )
    context.out("Automatic:     " + table.js_string(migration.get("automatic", table.UNDEFINED)))
    duration = migration.get("duration_ms")
    if isinstance(duration, int | float) and not isinstance(duration, bool) and duration:
        context.out("Total runtime: " + humanize.human_duration(duration))
    context.out("Phases: ")
    now = time.time() * 1000
    rows = []
    for phase in migration.get("progress_history") or []:
        runtime = phase.get("duration_ms")
        rows.append(
            {
                "phase": phase.get("phase"),
                "state": phase.get("state"),
                "age": humanize.long_ago(
                    humanize.parse_js_date(phase.get("started_timestamp")), now
                ),
                "runtime": humanize.human_duration(runtime)
                if isinstance(runtime, int | float) and not isinstance(runtime, bool)
                else None,
                "message": phase.get("message"),
            }
        )
    context.write(table.render_table(rows, ["phase", "state", "age", "runtime", "message"]))
    error = migration.get("error")
    if shown == "successful":
        context.out(_styled(context, "Migration finished successfully", "green"))
    elif shown == "failed" or error:
        context.out(_styled(context, "Migration error: " + table.js_string(error), "red"))
    else:
        context.out("Migration " + shown)


GET = Command(
    "get",
    "Get instance migration details.",
    do_get,
    configure("[OPTIONS] INST", json="JSON stream output."),
    description="Show the migration of an instance: its state and its phases.",
)


MIGRATION = Group(
    "migration",
    "List, begin, sync and switch to Triton instance migrations.",
    (BEGIN, SYNC, SWITCH, PAUSE, ABORT, LIST, AUTOMATIC, GET, FINALIZE),
)

COMMANDS: tuple[Command | Group, ...] = (MIGRATION,)
