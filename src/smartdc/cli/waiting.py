"""``-w``: polling until something is done, with live progress on a terminal.

Every wait goes through :func:`smartdc.wait.wait_for` (finite deadline, transient errors
polled through). On a terminal the current state and elapsed time are redrawn on standard
error while waiting; in a pipe nothing is drawn, so only the command's own lines appear.
Intervals follow node-triton (1 s for state polls, 2 s for audit-driven ones).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from smartdc.cli.command import ArgParser, UsageError

if TYPE_CHECKING:
    from smartdc.cli.context import Context
    from smartdc.wait import ChangeSource

T = TypeVar("T")

#: triton's ``--wait-timeout`` default, in seconds.
DEFAULT_WAIT_TIMEOUT = 120.0
#: Where triton waits without a deadline (``create -w``, ``image wait``), we stop after this.
UNBOUNDED_WAIT_TIMEOUT = 3600.0


def add_wait_options(parser: ArgParser, *, timeout: bool = True, help: str | None = None) -> None:
    """Add ``-w/--wait`` (repeatable, as triton's ``-ww``) and ``--wait-timeout SECONDS``."""
    parser.add_argument(
        "-w",
        "--wait",
        action="count",
        default=0,
        help=help or "Wait for the operation to complete.",
    )
    if timeout:
        parser.add_argument(
            "--wait-timeout",
            type=_seconds,
            default=DEFAULT_WAIT_TIMEOUT,
            metavar="SECONDS",
            help="The number of seconds to wait before timing out. "
            f"Default {DEFAULT_WAIT_TIMEOUT:g}.",
        )


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f'invalid number of seconds: "{text}"') from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f'the wait timeout must be positive, not "{text}"')
    return value


def wait_timeout(options: argparse.Namespace, default: float = UNBOUNDED_WAIT_TIMEOUT) -> float:
    """The ``--wait-timeout`` given, else ``default``."""
    value = getattr(options, "wait_timeout", None)
    return float(value) if value is not None else default


def poll(
    context: Context,
    fetch: Callable[[], T],
    done: Callable[[T], bool],
    *,
    describe: str,
    status: Callable[[T], str],
    timeout: float,
    interval: float = 1.0,
    fail: Callable[[T], str | BaseException | None] | None = None,
    first_delay: float = 0.0,
    machine: str | None = None,
) -> T:
    """Poll ``fetch`` until ``done``; ``status`` renders a value for the progress line.

    Raises :class:`smartdc.errors.WaitTimeoutError` at the deadline (the CLI reports it as a
    ``Timeout`` error) and what ``fail`` names at once. Given the id of the ``machine``
    waited on, the wait follows its changes on the changefeed and polls the moment one
    comes (see :mod:`smartdc.change_waits`), where triton polls every second.
    """
    from smartdc.wait import wait_for

    if timeout <= 0:
        raise UsageError(f"the wait timeout must be positive, not {timeout:g}")
    started = time.monotonic()
    drawn = False

    def watched() -> T:
        nonlocal drawn
        value = fetch()
        if context.interactive:
            elapsed = time.monotonic() - started
            context.streams.stderr.write(f"\r\x1b[K{describe}: {status(value)} ({elapsed:.0f}s)")
            context.streams.stderr.flush()
            drawn = True
        return value

    if first_delay:
        time.sleep(first_delay)
    try:
        return wait_for(
            watched,
            done,
            interval=interval,
            timeout=timeout,
            fail=fail,
            describe=describe,
            summarize=status,
            changes=None if machine is None else _machine_changes(context, machine),
        )
    finally:
        if drawn:
            context.streams.stderr.write("\r\x1b[K")
            context.streams.stderr.flush()


def _machine_changes(context: Context, machine: str) -> ChangeSource:
    from smartdc.change_waits import machine_changes

    return machine_changes(context.api, machine)
