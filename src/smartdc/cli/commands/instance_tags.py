"""``smartdc instance tag`` (and the hidden ``instance tags``), as ``triton instance tag``.

Behaviour follows node-triton lib/do_instance/do_tag/*.js and lib/tritonapi.js. This module
also holds what the instance sub-resource commands share: reading ``NAME=VALUE`` pairs,
JSON objects and files the way lib/metadataandtags.js does, polling the machine audit,
confirmation prompts, and reporting CloudAPI errors the way triton passes them through.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from smartdc.cli import output, waiting
from smartdc.cli.command import ArgParser, Command, Group, UsageError

if TYPE_CHECKING:
    from smartdc.cli.context import Context

T = TypeVar("T")

#: The value types CloudAPI accepts for tags and metadata (metadataandtags.js allowedTypes).
VALUE_TYPES = "string, number, boolean"

# Integers this large lose precision as JavaScript numbers; keep them as floats.
_MAX_SAFE_INTEGER = 2**53


# --- small shared helpers ----------------------------------------------------------------------


def set_usage(parser: ArgParser, *synopses: str) -> None:
    """Show ``synopses`` (after the program name) as the usage lines of ``parser``."""
    lines = [f"%(prog)s {synopsis}" for synopsis in synopses]
    parser.usage = lines[0] if len(lines) == 1 else "\n       ".join(lines)


def add_positionals(parser: ArgParser, metavar: str = "ARGS") -> None:
    """Take every positional argument as ``options.args``; handlers check the count, so
    that wrong counts are reported with triton's own messages."""
    parser.add_argument("args", nargs="*", metavar=metavar, help=argparse.SUPPRESS)


def instance_id(context: Context, text: str) -> str:
    """The id of the instance ``text`` names: a UUID is used as is, as triton does, so
    the call that uses it reports a missing instance."""
    from smartdc.cli import resolve

    return resolve.instance_id(context.api, text)


def passthrough(call: Callable[[], T]) -> T:
    """Run ``call``; a CloudAPI error is reported as triton reports the errors it does not
    wrap itself: CloudAPI's code and message, exit status 1 (even for 404 and 410)."""
    from smartdc.errors import CloudAPIError

    try:
        return call()
    except CloudAPIError as exc:
        raise exit_1(exc) from exc


def exit_1(exc: BaseException) -> BaseException:
    """``exc`` as a failure that exits 1 when it is CloudAPI's 404 or 410 (the other
    CloudAPI errors exit 1 anyway and are left as they are)."""
    from smartdc.cli.failures import CommandError, describe
    from smartdc.errors import CloudAPIError, MachineGoneError

    if not isinstance(exc, CloudAPIError) or exc.status not in (404, 410):
        return exc
    if isinstance(exc, MachineGoneError):
        code, message = exc.code, exc.message
    else:
        code, message, _ = describe(exc)
    error = CommandError(message, code=code)
    error.request_id = exc.request_id  # type: ignore[attr-defined]  # shown under -v
    return error


def poll(
    context: Context,
    fetch: Callable[[], T],
    done: Callable[[T], bool],
    *,
    describe: str,
    status: Callable[[T], str],
    timeout: float,
    interval: float = 1.0,
) -> T:
    """:func:`smartdc.cli.waiting.poll` (which polls through transient errors), with a
    failed poll reported as :func:`passthrough` reports it."""
    return passthrough(
        lambda: waiting.poll(
            context,
            fetch,
            done,
            describe=describe,
            status=status,
            timeout=timeout,
            interval=interval,
        )
    )


def settle(calls: Sequence[Callable[[], T]]) -> list[tuple[T | None, BaseException | None]]:
    """Run ``calls`` at once (as triton's ``vasync.forEachParallel``) and return each one's
    ``(result, None)`` or ``(None, error)``, in order, once all have finished."""
    from smartdc.cli.parallel import run_parallel

    def settled(call: Callable[[], T]) -> Callable[[], tuple[T | None, BaseException | None]]:
        def run() -> tuple[T | None, BaseException | None]:
            try:
                return call(), None
            except Exception as exc:
                return None, exc

        return run

    results: list[tuple[T | None, BaseException | None]] = run_parallel(
        *(settled(call) for call in calls)
    )
    return results


def first_of(errors: Sequence[BaseException]) -> BaseException:
    """Parallel failures as vasync reports them: ``first of N error(s): <first message>``,
    without a code (node-triton lets verror's MultiError through)."""
    from smartdc.cli.failures import CommandError, describe

    _, message, _ = describe(errors[0])
    plural = "" if len(errors) == 1 else "s"
    return CommandError(f"first of {len(errors)} error{plural}: {message}")


def console_text(value: Any) -> str:
    """``value`` as ``console.log(value)`` shows a JSON value (objects as indented JSON)."""
    from smartdc.cli import table

    if isinstance(value, str):
        return value
    if isinstance(value, dict | list):
        return table.json_stringify(value, 4)
    return table.js_string(value)


def js_to_string(value: Any) -> str:
    """JavaScript's ``String(value)`` for a scalar JSON value."""
    from smartdc.cli import table

    if value is table.UNDEFINED:
        return "undefined"
    if value is None:
        return "null"
    return table.js_string(value)


def confirm(context: Context, question: str) -> bool:
    """Ask ``question`` (``... [y/n] ``) until it is answered with yes or no.

    triton asks on the terminal even when stdin is redirected, and crashes without one;
    here stdin must be a terminal, else the command fails and points at ``-f``.
    """
    from smartdc.cli.failures import CommandError

    if not context.stdin_interactive:
        raise CommandError(
            f"cannot ask {question.strip()!r}: stdin is not a terminal "
            "(use -f to skip the confirmation)"
        )
    stdout = context.streams.stdout
    prompt_to = stdout if stdout.isatty() else context.streams.stderr
    while True:
        prompt_to.write(question)
        prompt_to.flush()
        line = context.streams.stdin.readline()
        if not line:
            prompt_to.write("\n")
            return False
        answer = line.strip().lower()
        if answer in ("y", "yes"):
            return True
        if answer in ("n", "no"):
            return False
        prompt_to.write('Please enter "y", "yes", "n" or "no".\n')


def now_ms() -> float:
    """The wall clock in epoch milliseconds (``Date.now()``)."""
    import time

    return time.time() * 1000


def elapsed_ms(started_ms: float) -> str:
    """The time since ``started_ms`` as triton prints durations (``1m2s``, ``36ms``)."""
    from smartdc.cli import humanize

    return humanize.human_duration(round(now_ms() - started_ms))


def strictly_equal(a: Any, b: Any) -> bool:
    """JavaScript ``a === b`` for JSON scalars (``true`` is not ``1``)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    return type(a) is type(b) and a == b


# --- NAME=VALUE pairs, JSON objects and files (node-triton lib/metadataandtags.js) -------------


def convert_pair_value(raw: str) -> Any:
    """A ``NAME=VALUE`` value as triton types it: ``true``/``false`` (spaces around them
    allowed) become booleans, anything JavaScript's ``Number()`` reads becomes a number
    (so ``""`` is 0 and ``0x10`` is 16), everything else stays text as given."""
    import math

    from smartdc.cli.table import _string_to_number

    trimmed = raw.strip()
    if trimmed == "true":
        return True
    if trimmed == "false":
        return False
    number = _string_to_number(raw)
    if math.isnan(number):
        return raw
    if math.isfinite(number) and number.is_integer() and abs(number) < _MAX_SAFE_INTEGER:
        return int(number)
    return number


class ValueSet:
    """Name/value pairs gathered in order; a later value for a name replaces the earlier
    one, with a warning on stderr as triton gives. ``ilk`` (``tag``, ``metadata``) names
    the values in messages."""

    def __init__(self, context: Context, ilk: str) -> None:
        self.context = context
        self.ilk = ilk
        self.values: dict[str, Any] = {}

    def add(self, key: str, value: Any, source: str | None = None) -> None:
        """Add one value (only strings, numbers and booleans are allowed)."""
        from smartdc.cli import table

        from_text = f" (from {source})" if source else ""
        if value is None or not isinstance(value, str | int | float | bool):
            shown = table.json_stringify(value) if value is not None else "null"
            raise UsageError(
                f"invalid {self.ilk} value type{from_text}: must be one of {VALUE_TYPES}: "
                f"{key}={shown}"
            )
        if key in self.values:
            text = js_to_string(value)
            if len(text) > 10:
                text = text[:7] + "..."
            self.context.err(
                f'warning: {self.ilk} "{key}={text}"{from_text} replaces earlier value for "{key}"'
            )
        self.values[key] = value

    def add_pair(self, text: str, source: str | None = None) -> None:
        """Add a ``NAME=VALUE`` pair (the name is trimmed, the value typed)."""
        key, sep, raw = text.partition("=")
        if not sep:
            raise UsageError(f"invalid KEY=VALUE {self.ilk} argument: {text}")
        self.add(key.strip(), convert_pair_value(raw), source)

    def add_json(self, text: str, source: str | None = None) -> None:
        """Add every member of a JSON object."""
        import json

        from smartdc.cli.failures import CommandError

        from_text = f" (from {source})" if source else ""
        try:
            obj = json.loads(text)
        except ValueError as exc:
            raise CommandError(f"{self.ilk}{from_text} is not valid JSON: {exc}") from None
        if not isinstance(obj, dict):
            raise CommandError(f"{self.ilk}{from_text} is not a JSON object")
        for key, value in obj.items():
            self.add(key, value, source)

    def add_file(self, path: str) -> None:
        """Add the pairs in a file: one JSON object, or ``NAME=VALUE`` lines."""
        import os

        from smartdc.cli.failures import CommandError

        real = os.path.expanduser(path)
        if not os.path.isfile(real):
            raise CommandError(f'"{path}" is not an existing file')
        with open(real, encoding="utf-8") as handle:
            data = handle.read().strip()
        if data.startswith("{"):
            self.add_json(data, path)
            return
        for line in data.replace("\r\n", "\n").split("\n"):
            if line.strip():
                self.add_pair(line, path)

    def result(self) -> dict[str, Any] | None:
        """The values gathered, or ``None`` when there are none. Numbers JSON cannot
        carry (infinities) are sent as ``null``, as JSON.stringify sends them."""
        import math

        if not self.values:
            return None
        return {
            key: None if isinstance(value, float) and not math.isfinite(value) else value
            for key, value in self.values.items()
        }


def values_from_set_args(
    context: Context,
    files: Sequence[str] | None,
    pairs: Sequence[str],
    *,
    file_ilk: str,
    pair_ilk: str,
) -> dict[str, Any] | None:
    """The values ``-f FILE`` options and ``NAME=VALUE`` arguments give, files first (so
    arguments win), or ``None`` when there are none. ``file_ilk``/``pair_ilk`` name the
    values in messages (triton says ``metadatas`` for files and ``metadata`` for pairs)."""
    gathered = ValueSet(context, file_ilk)
    for path in files or ():
        gathered.add_file(path)
    gathered.ilk = pair_ilk
    for pair in pairs:
        gathered.add_pair(pair)
    return gathered.result()


# --- waiting on the machine audit --------------------------------------------------------------


def wait_for_audit(
    context: Context,
    machine_id: str,
    found: Callable[[list[dict[str, Any]]], dict[str, Any] | None],
    *,
    describe: str,
    timeout: float,
    interval: float,
) -> dict[str, Any]:
    """Poll MachineAudit until ``found`` picks the record that shows the change done."""
    api = context.api
    records: list[dict[str, Any] | None] = [None]

    def fetch() -> list[dict[str, Any]]:
        return api.machine_audit(machine_id)

    def done(audit: list[dict[str, Any]]) -> bool:
        records[0] = found(audit)
        return records[0] is not None

    def status(audit: list[dict[str, Any]]) -> str:
        newest = audit[0].get("action") if audit else None
        return f"newest audit record {newest or 'none'}"

    poll(
        context,
        fetch,
        done,
        describe=describe,
        status=status,
        timeout=timeout,
        interval=interval,
    )
    record = records[0]
    assert record is not None
    return record


def audit_time_ms(record: Mapping[str, Any]) -> float:
    """An audit record's ``time`` in epoch milliseconds (NaN when it has none)."""
    from smartdc.cli import humanize

    return humanize.parse_js_date(record.get("time"))


# --- tag list / get ----------------------------------------------------------------------------


def _configure_list(parser: ArgParser) -> None:
    set_usage(parser, "[OPTIONS] INST")
    parser.add_argument("-j", "--json", action="store_true", help="JSON output.")
    add_positionals(parser)


def do_list(context: Context, options: argparse.Namespace) -> None:
    """Print an instance's tags as JSON (indented unless ``-j``)."""
    if len(options.args) != 1:
        raise UsageError("incorrect number of args")
    machine = instance_id(context, options.args[0])
    tags = passthrough(lambda: context.api.list_machine_tags(machine))
    output.print_object(context, options, tags)


_LIST_HELP = (
    "List the tags of an instance.\n\n"
    'INST is an instance name, id or short id. The tags are printed as JSON ("-j" for\n'
    "one line)."
)

LIST = Command(
    "list",
    "List instance tags.",
    do_list,
    _configure_list,
    aliases=("ls",),
    description=_LIST_HELP,
)


def _configure_get(parser: ArgParser) -> None:
    set_usage(parser, "[OPTIONS] INST NAME")
    parser.add_argument("-j", "--json", action="store_true", help="JSON output.")
    add_positionals(parser)


def do_get(context: Context, options: argparse.Namespace) -> None:
    """Print one tag's value (as JSON with ``-j``)."""
    from smartdc.cli import resolve, table
    from smartdc.cli.failures import NotFound

    if len(options.args) != 2:
        raise UsageError("incorrect number of args")
    text, name = options.args
    api = context.api
    value: Any
    if resolve.is_uuid(text):
        value = passthrough(lambda: api.get_machine_tag(text, name))
    else:
        # as triton: the value comes typed from the machine's tags, not from GetMachineTag
        machine = instance_id(context, text)
        tags = passthrough(lambda: api.list_machine_tags(machine))
        if name not in tags:
            raise NotFound(f'tag with name "{name}" was not found')
        value = tags[name]
    context.out(table.json_stringify(value) if options.json else console_text(value))


GET = Command(
    "get",
    "Get an instance tag.",
    do_get,
    _configure_get,
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
    poll(
        context,
        lambda: api.list_machine_tags(machine),
        done,
        describe=f"tag changes on instance {machine}",
        status=lambda tags: f"{len(tags)} tags",
        timeout=waiting.wait_timeout(options, waiting.DEFAULT_WAIT_TIMEOUT),
        interval=2.0,
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
    tags = passthrough(lambda: context.api.add_machine_tags(machine, values))
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
    tags = passthrough(lambda: context.api.replace_machine_tags(machine, values))
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
    passthrough(lambda: context.api.delete_machine_tag(machine, name))
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
        passthrough(lambda: api.delete_machine_tags(machine))
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

#: ``instance tags INST``: a hidden shortcut for ``instance tag list``, as in triton.
TAGS = Command(
    "tags",
    'A shortcut for "smartdc instance tag list".',
    do_list,
    _configure_list,
    hidden=True,
    description=_LIST_HELP,
)

COMMANDS: tuple[Command | Group, ...] = (TAG, TAGS)
