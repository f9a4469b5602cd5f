"""Acting on several things at once, as triton's ``vasync.forEachParallel`` does: every call
runs to its end, then the results and failures are looked at together."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")

#: One call's outcome: ``(result, None)`` or ``(None, error)``.
Outcome = tuple[T | None, BaseException | None]


def settle(calls: Sequence[Callable[[], T]]) -> list[Outcome[T]]:
    """Run ``calls`` at once and return each one's outcome, in order, once all have finished."""
    from smartdc.cli.parallel import run_parallel

    def settled(call: Callable[[], T]) -> Callable[[], Outcome[T]]:
        def run() -> Outcome[T]:
            try:
                return call(), None
            except Exception as exc:
                return None, exc

        return run

    if not calls:
        return []
    results: list[Outcome[T]] = run_parallel(*(settled(call) for call in calls))
    return results


def first_of(errors: Sequence[BaseException]) -> BaseException:
    """Parallel failures as vasync reports them: ``first of N error(s): <first message>``,
    without a code (node-triton lets verror's MultiError through)."""
    from smartdc.cli.failures import CommandError, describe

    _, message, _ = describe(errors[0])
    plural = "" if len(errors) == 1 else "s"
    return CommandError(f"first of {len(errors)} error{plural}: {message}")
