"""What the instance sub-resource commands (``instance tag``, ``metadata``, ``snapshot``,
``nic``, ``disk`` and ``migration``) share: their parsers, the instance they act on, the
clock triton times them with, and waiting on the machine audit.

CloudAPI errors reach the user as CloudAPI words them (a 404 exits 1): triton looks up only
the instance itself (an unknown name exits 3) and passes the rest through, a deleted
instance's 410 included where CloudAPI answers one (see
:func:`smartdc.cli.failures.gone_exits_1`).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from smartdc.cli import output, waiting
from smartdc.cli.args import add_positionals, set_usage
from smartdc.cli.command import ArgParser, Command

if TYPE_CHECKING:
    from smartdc.cli.context import Context


def configure(
    *synopses: str,
    json: str | None = None,
    sort: str | None = None,
    more: Callable[[ArgParser], None] | None = None,
) -> Callable[[ArgParser], None]:
    """A parser with ``synopses`` as its usage, the table options (``sort`` is the default
    ``-s``) or ``-j`` (``json`` is its help) when asked, the options ``more`` adds, and the
    positional arguments."""

    def configure_parser(parser: ArgParser) -> None:
        set_usage(parser, *synopses)
        if sort is not None:
            output.add_table_options(parser, sort_default=sort)
        if json is not None:
            parser.add_argument("-j", "--json", action="store_true", help=json)
        if more is not None:
            more(parser)
        add_positionals(parser)

    return configure_parser


def list_shortcut(name: str, noun: str, listing: Command) -> Command:
    """``instance <name> INST``: a hidden shortcut for ``instance <noun> list``, as in triton."""
    return Command(
        name,
        f'A shortcut for "smartdc instance {noun} list".',
        listing.handler,
        listing.configure,
        hidden=True,
        description=listing.description,
    )


def instance_id(context: Context, text: str) -> str:
    """The id of the instance ``text`` names: a UUID is used as is, as triton does, so
    the call that uses it reports a missing instance."""
    from smartdc.cli import resolve

    return resolve.instance_id(context.api, text)


def wait_timeout(options: argparse.Namespace) -> float:
    """``--wait-timeout``, or triton's default for these commands."""
    return waiting.wait_timeout(options, waiting.DEFAULT_WAIT_TIMEOUT)


def now_ms() -> float:
    """The wall clock in epoch milliseconds (``Date.now()``)."""
    import time

    return time.time() * 1000


def elapsed_ms(started_ms: float) -> str:
    """The time since ``started_ms`` as triton prints durations (``1m2s``, ``36ms``)."""
    from smartdc.cli import humanize

    return humanize.human_duration(round(now_ms() - started_ms))


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

    def done(audit: list[dict[str, Any]]) -> bool:
        records[0] = found(audit)
        return records[0] is not None

    def status(audit: list[dict[str, Any]]) -> str:
        newest = audit[0].get("action") if audit else None
        return f"newest audit record {newest or 'none'}"

    waiting.poll(
        context,
        lambda: api.machine_audit(machine_id),
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
