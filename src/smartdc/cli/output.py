"""The output options every list and get command shares, and printing with them.

``-H``, ``-o``, ``-l``, ``-s`` and ``-j`` mean what they mean to ``triton`` (node-triton
lib/common.js ``getCliTableOptions``): lists print tabula tables or, with ``-j``, one JSON
object per line; ``get`` prints 4-space indented JSON, or one line with ``-j``.
``--json-array`` (not in triton) prints one JSON array, for ``jq`` and friends.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from smartdc.cli.command import ArgParser

if TYPE_CHECKING:
    from smartdc.cli.context import Context
    from smartdc.cli.table import SortSpec


def add_table_options(
    parser: ArgParser, *, sort_default: str | None = None, long: bool = True
) -> None:
    """Add ``-H -o -l -s -j --json-array`` (``-l`` only where the command has a long form)."""
    group = parser.add_argument_group("Output options")
    group.add_argument("-H", action="store_true", help="Omit table header row.")
    group.add_argument("-o", metavar="field1,...", help="Specify fields (columns) to output.")
    if long:
        group.add_argument(
            "-l",
            "--long",
            action="store_true",
            help='Long/wider output. Ignored if "-o ..." is used.',
        )
    sort_help = "Sort on the given fields."
    if sort_default:
        sort_help += f' Default is "{sort_default}".'
    group.add_argument("-s", metavar="field1,...", default=sort_default, help=sort_help)
    add_json_options(group)


def add_json_options(group: ArgParser | argparse._ArgumentGroup) -> None:
    """Add ``-j/--json`` and ``--json-array``."""
    group.add_argument("-j", "--json", action="store_true", help="JSON output.")
    group.add_argument(
        "--json-array",
        action="store_true",
        help="JSON output as one array (instead of one object per line).",
    )


def print_list(
    context: Context,
    options: argparse.Namespace,
    items: Sequence[Mapping[str, Any]],
    *,
    columns: str,
    long_columns: str | None = None,
    dotted: bool = False,
    sort: Sequence[SortSpec] | None = None,
) -> None:
    """Print ``items`` as the options ask: a table, JSON lines or a JSON array.

    ``columns``/``long_columns`` are the default and ``-l`` column sets; ``sort`` overrides
    the ``-s`` fields (for sort keys that need a key function).
    """
    from smartdc.cli import table

    if getattr(options, "json_array", False):
        context.write(table.json_array(items))
        return
    if getattr(options, "json", False):
        context.write(table.json_lines(items))
        return
    chosen = table.choose_columns(
        getattr(options, "o", None),
        long=getattr(options, "long", False),
        default=columns,
        long_default=long_columns,
    )
    sort_value = getattr(options, "s", None)
    sort_fields = sort if sort is not None else table.parse_sort(sort_value) if sort_value else ()
    context.write(
        table.render_table(
            items,
            chosen,
            headers=not getattr(options, "H", False),
            sort=sort_fields,
            dotted_lookup=dotted,
        )
    )


def print_object(context: Context, options: argparse.Namespace, item: Any) -> None:
    """Print one object: indented JSON, or one line with ``-j``."""
    from smartdc.cli import table

    if getattr(options, "json", False):
        context.write(table.json_compact(item))
    else:
        context.write(table.json_pretty(item))


def print_items(context: Context, options: argparse.Namespace, items: Iterable[Any]) -> None:
    """Print several objects as JSON lines (or an array with ``--json-array``)."""
    from smartdc.cli import table

    if getattr(options, "json_array", False):
        context.write(table.json_array(list(items)))
    else:
        context.write(table.json_lines(items))


def add_row_options(parser: ArgParser) -> None:
    """``-j -l -o -H`` for commands that print one object as a one-row table."""
    parser.add_argument("-j", "--json", action="store_true", help="JSON output.")
    parser.add_argument(
        "-l", "--long", action="store_true", help='Long/wider output. Ignored if "-o ..." is used.'
    )
    parser.add_argument("-o", metavar="field1,...", help="Specify fields (columns) to output.")
    parser.add_argument("-H", action="store_true", help="Omit table header row.")


#: ANSI SGR codes of the styles triton uses (node-triton lib/common.js colors).
_ANSI = {"bold": (1, 22), "red": (31, 39), "green": (32, 39)}


def stylize(text: str, style: str, *, enabled: bool = True) -> str:
    """``text`` in an ANSI ``style`` (``bold``, ``red``, ``green``) when ``enabled``
    (node-triton lib/common.js ansiStylize); empty text stays empty."""
    if not text or not enabled:
        return text
    start, end = _ANSI[style]
    return f"\x1b[{start}m{text}\x1b[{end}m"


def stdout_is_tty(context: Context) -> bool:
    """Standard output is a terminal (where triton colours some of its output)."""
    try:
        return bool(context.streams.stdout.isatty())
    except (AttributeError, ValueError):
        return False
