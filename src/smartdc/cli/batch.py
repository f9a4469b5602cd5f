"""Acting on several things at once, as triton's ``vasync.forEachParallel`` does: every call
runs to its end, then the results and failures are looked at together."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from smartdc.cli.context import Context

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


def each(items: Sequence[str], act: Callable[[str], T]) -> list[T]:
    """``act`` on every item at once; the results in order, or (once all are done) the
    failures raised as :func:`first_of` words them."""
    import functools

    settled = settle([functools.partial(act, item) for item in items])
    failures = [error for _, error in settled if error is not None]
    if failures:
        raise first_of(failures)
    return [result for result, _ in settled]  # type: ignore[misc]


def report_each(
    context: Context, items: Sequence[str], act: Callable[[str], object], done: str
) -> None:
    """``act`` on every item at once; print ``done`` (a ``str.format`` template given the
    item) for each one that worked, in order, then raise the failures (see :func:`first_of`)."""
    import functools

    settled = settle([functools.partial(act, item) for item in items])
    for item, (_, error) in zip(items, settled, strict=True):
        if error is None:
            context.out(done.format(item))
    failures = [error for _, error in settled if error is not None]
    if failures:
        raise first_of(failures)
