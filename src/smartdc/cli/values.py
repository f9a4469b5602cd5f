"""Values given on the command line: tags and metadata (``NAME=VALUE`` pairs, JSON objects and
files, read as node-triton lib/metadataandtags.js reads them) and the objects ``update``
commands send (``FIELD=VALUE`` arguments or a JSON file, checked as lib/common.js
``validateObject`` checks them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from smartdc.cli.command import ArgParser, UsageError

if TYPE_CHECKING:
    from smartdc.cli.context import Context

#: The value types CloudAPI accepts for tags and metadata (metadataandtags.js allowedTypes).
VALUE_TYPES = "string, number, boolean"

# Integers up to this size are exact as JavaScript numbers (and sent without a fraction).
_MAX_SAFE_INTEGER = 2**53


# --- JSON and files, as node reads them ----------------------------------------------------------


def parse_json(text: str) -> Any:
    """``JSON.parse``: like :func:`json.loads`, without the ``NaN``/``Infinity`` extension."""
    import json

    def refuse(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    return json.loads(text, parse_constant=refuse)


def json_number(number: float) -> int | float:
    """A JavaScript number as JSON.stringify writes it: integers without a fraction."""
    if number.is_integer() and abs(number) <= _MAX_SAFE_INTEGER:
        return int(number)
    return number


def json_safe(value: Any) -> Any:
    """``value``, or ``None`` for an infinite number (JSON.stringify sends those as null)."""
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return None
    return value


def expand_home(context: Context, name: str) -> str:
    """``name`` with a leading ``~`` or ``~/`` read as ``$HOME`` (node-triton lib/common.js
    tildeSync; ``~user`` is left alone)."""
    if name != "~" and not name.startswith("~/"):
        return name
    home = context.env.get("HOME")
    if not home:
        from smartdc.cli.failures import CommandError

        raise CommandError("cannot determine home dir: HOME environment variable is not defined")
    import os

    return home if name == "~" else os.path.join(home, name[2:])


def read_text_file(context: Context, name: str, missing: str) -> str:
    """The text of file ``name`` (``~`` expanded), exactly as stored (no newline changes);
    fails with ``missing`` when it is not a file."""
    import os

    from smartdc.cli.failures import CommandError

    path = expand_home(context, name)
    if not os.path.isfile(path):
        raise CommandError(missing)
    with open(path, encoding="utf-8", errors="replace", newline="") as handle:
        return handle.read()


# --- tags and metadata -------------------------------------------------------------------------


def typed_value(raw: str) -> Any:
    """A ``NAME=VALUE`` value as triton types it: ``true``/``false`` (spaces around them
    allowed) become booleans, anything JavaScript's ``Number()`` reads becomes a number (so
    ``""`` is 0 and ``0x10`` is 16), everything else stays text as given."""
    from smartdc.cli.table import js_trim, string_to_number

    trimmed = js_trim(raw)
    if trimmed == "true":
        return True
    if trimmed == "false":
        return False
    number = string_to_number(raw)
    if number != number:  # NaN: not a number
        return raw
    return json_number(number)


class ValueSet:
    """Tag or metadata values gathered in order; a later value for a name replaces the
    earlier one, with the warning on stderr triton gives. ``ilk`` (``tag``, ``metadata``)
    names the values in messages."""

    def __init__(self, context: Context, ilk: str) -> None:
        self.context = context
        self.ilk = ilk
        self.values: dict[str, Any] = {}

    def add(self, key: str, value: Any, source: str | None = None) -> None:
        """Add one value (only strings, numbers and booleans are allowed)."""
        from smartdc.cli.table import js_string, json_stringify

        from_text = f" (from {source})" if source else ""
        if not isinstance(value, bool | str | int | float):
            raise UsageError(
                f"invalid {self.ilk} value type{from_text}: must be one of {VALUE_TYPES}: "
                f"{key}={json_stringify(value)}"
            )
        if key in self.values:
            text = js_string(value)
            if len(text) > 10:
                text = text[:7] + "..."
            self.context.err(
                f'warning: {self.ilk} "{key}={text}"{from_text} replaces earlier value for "{key}"'
            )
        self.values[key] = value

    def add_pair(self, text: str, source: str | None = None) -> None:
        """Add a ``NAME=VALUE`` pair (the name is trimmed, the value typed)."""
        from smartdc.cli.table import js_trim

        key, sep, raw = text.partition("=")
        if not sep:
            raise UsageError(f"invalid KEY=VALUE {self.ilk} argument: {text}")
        self.add(js_trim(key), typed_value(raw), source)

    def add_json(self, text: str, source: str | None = None) -> None:
        """Add every member of a JSON object (``text`` starts with ``{``)."""
        from smartdc.cli.failures import CommandError

        from_text = f" (from {source})" if source else ""
        try:
            obj = parse_json(text)
        except ValueError as exc:
            raise CommandError(f"{self.ilk}{from_text} is not valid JSON: {exc}") from None
        if not isinstance(obj, dict):
            raise CommandError(f"{self.ilk}{from_text} is not a JSON object")
        for key, value in obj.items():
            self.add(key, value, source)

    def add_file(self, name: str) -> None:
        """Add the values in a file: one JSON object, or ``NAME=VALUE`` lines."""
        import re

        from smartdc.cli.table import js_trim

        data = js_trim(read_text_file(self.context, name, f'"{name}" is not an existing file'))
        if data.startswith("{"):
            self.add_json(data, name)
            return
        for line in re.split(r"\r?\n", data):
            if js_trim(line):
                self.add_pair(line, name)

    def add_option(self, value: str) -> None:
        """Add what one ``-m``/``-t`` option gives: a pair, ``{JSON}`` or ``@FILE``."""
        if not value:
            raise UsageError(f"empty {self.ilk} option value")
        if value.startswith("{"):
            self.add_json(value)
        elif value.startswith("@"):
            self.add_file(value[1:])
        else:
            self.add_pair(value)

    def add_from_file(self, key: str, name: str) -> None:
        """Set ``key`` to the text of file ``name`` (``-M KEY=FILE``, ``--script``)."""
        missing = f'{self.ilk} path "{name}" is not an existing file'
        self.add(key, read_text_file(self.context, name, missing), name)

    def result(self) -> dict[str, Any] | None:
        """The values gathered, or ``None`` when there are none (see :func:`json_safe`)."""
        if not self.values:
            return None
        return {key: json_safe(value) for key, value in self.values.items()}


def values_from_options(
    context: Context, ilk: str, given: Sequence[str] | None
) -> dict[str, Any] | None:
    """The values repeated ``-t``/``-m`` options give (see :meth:`ValueSet.add_option`), or
    ``None`` when there are none."""
    gathered = ValueSet(context, ilk)
    for value in given or ():
        gathered.add_option(value)
    return gathered.result()


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


# --- update objects ----------------------------------------------------------------------------


def add_update_file_option(parser: ArgParser, metavar: str = "JSON-FILE") -> None:
    """``-f/--file FILE``: the JSON object of updates that :func:`update_input` reads."""
    parser.add_argument(
        "-f",
        "--file",
        metavar=metavar,
        help='A file holding a JSON file of updates, or "-" to read JSON from stdin.',
    )


def update_input(
    context: Context, file: str | None, pairs: Sequence[str], valid: Mapping[str, str], what: str
) -> Any:
    """What an ``update`` command was given, unchecked: the JSON in ``file`` (``-`` for stdin),
    else the ``FIELD=VALUE`` arguments (values of string fields stay text, others are read as
    JSON). ``what`` names the object in messages."""
    import json

    from smartdc.cli.args import key_values
    from smartdc.cli.failures import CommandError

    if not file:
        strings = [name for name, kind in valid.items() if kind == "string"]
        return key_values(pairs, dotted=False, string_keys=strings)
    if file == "-":
        text, where = context.streams.stdin.read(), "on stdin"
    else:
        with open(file, encoding="utf-8") as handle:
            text = handle.read()
        where = f'in "{file}"'
    try:
        return json.loads(text)
    except ValueError as exc:
        raise CommandError(f"invalid JSON for {what} update {where}: {exc}") from None


def check_update_fields(data: Any, valid: Mapping[str, str], *, allow_empty: bool = False) -> None:
    """Check an update object as triton does: known fields only, each of the JavaScript type
    ``valid`` names, and (unless ``allow_empty``) at least one."""
    from smartdc.cli.table import js_typeof

    if not isinstance(data, dict):
        # triton fails an assertion here; say what is wrong instead
        kind = "an array" if isinstance(data, list) else "null" if data is None else js_typeof(data)
        raise UsageError(f"the update must be a JSON object, not {kind}")
    names = ", ".join(sorted(valid))
    for key, value in data.items():
        wanted = valid.get(key)
        if wanted is None:
            raise UsageError(
                f"unknown or unupdateable field: {key} (updateable fields are: {names})"
            )
        if js_typeof(value) != wanted:
            raise UsageError(
                f'field "{key}" must be of type "{wanted}", but got a value of type '
                f'"{js_typeof(value)}"'
            )
    if not data and not allow_empty:
        raise UsageError("Input object must not be empty")


def update_data(
    context: Context, file: str | None, pairs: Sequence[str], valid: Mapping[str, str], what: str
) -> dict[str, Any]:
    """The fields an ``update`` command sends (:func:`update_input`, checked)."""
    data = update_input(context, file, pairs, valid, what)
    check_update_fields(data, valid)
    assert isinstance(data, dict)
    return data
