"""Running a command with smartdc and with triton, and checking that they agree."""

from __future__ import annotations

import io

from smartdc.cli import main
from smartdc.cli.context import Streams
from tests.cli.harness import CliWorld, Result


def same_as_triton(world: CliWorld, *args: str, stdin: str = "") -> Result:
    """Run ``args`` with both; the exit status, stdout and first stderr line (program name
    aside) must be the same. Our result."""
    ours, theirs = world.run(*args, stdin=stdin), world.triton(*args, stdin=stdin)
    assert (ours.status, ours.out) == (theirs.status, theirs.out), args
    if ours.err or theirs.err:
        first = ours.err.splitlines()[0].replace("smartdc", "triton")
        assert first == theirs.err.splitlines()[0], args
    return ours


class TypedIn(io.StringIO):
    """Standard input that says it is a terminal, holding what the user types."""

    def isatty(self) -> bool:
        return True


def run_on_terminal(world: CliWorld, answer: str, *args: str) -> Result:
    """Run smartdc in-process with ``answer`` typed on a terminal standard input."""
    streams = Streams(stdin=TypedIn(answer), stdout=io.StringIO(), stderr=io.StringIO())
    with world._environment():
        status = main(list(args), streams)
    assert isinstance(streams.stdout, io.StringIO) and isinstance(streams.stderr, io.StringIO)
    return Result(status, streams.stdout.getvalue(), streams.stderr.getvalue())
