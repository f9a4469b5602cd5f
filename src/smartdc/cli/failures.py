"""How a failed command reports itself: one ``<prog>: error (<Code>): <message>`` line, the
per-field details CloudAPI sent, hints, and (under ``-v``) the request id and traceback.

Codes and exit statuses follow node-triton's error classes (lib/errors.js): ``Config``,
``Signing``, ``Timeout``, ``ResourceNotFound`` and ``InstanceDeleted`` (exit 3), CloudAPI's own
codes for its answers, and ``Internal`` for anything unexpected.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TypeVar

from smartdc import errors

if TYPE_CHECKING:
    from smartdc.cli.context import Context

T = TypeVar("T")

EXIT_ERROR = 1
EXIT_NOT_FOUND = 3


class CommandError(errors.SmartDCError):
    """A command could not do what was asked; ``code`` names why (as triton's codes do)."""

    def __init__(self, message: str, *, code: str | None = None, status: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


class NotFound(CommandError):
    """The named thing does not exist (exit 3)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="ResourceNotFound", status=EXIT_NOT_FOUND)


def gone_exits_1(call: Callable[[], T]) -> T:
    """Run ``call``; a 410 (the instance was deleted) is reported as triton reports the CloudAPI
    answers it passes through: CloudAPI's message, no code, exit 1, rather than as
    ``InstanceDeleted`` (exit 3). Other errors, 404s included, are reported so anyway."""
    try:
        return call()
    except errors.MachineGoneError as exc:
        error = CommandError(exc.message, code=exc.code)
        error.request_id = exc.request_id  # type: ignore[attr-defined]  # shown under -v
        raise error from exc


@contextmanager
def failing_as(prefix: str) -> Iterator[None]:
    """Report a failure inside the ``with`` block as ``<prefix>: <message>``, without a code
    and with exit status 1, as triton wraps errors in its own (``error cloning image: ...``)."""
    try:
        yield
    except Exception as exc:
        _, message, _ = describe(exc)
        wrapped = CommandError(f"{prefix}: {message}")
        wrapped.request_id = getattr(exc, "request_id", None)  # type: ignore[attr-defined]
        raise wrapped from exc


def error_text(exc: BaseException) -> str:
    """``exc`` as node shows an error in text (``ResourceNotFoundError: no volume ...``):
    its code with ``Error`` after it, then its message."""
    code, message, _ = describe(exc)
    return f"{code or ''}Error: {message}"


def describe(exc: BaseException) -> tuple[str | None, str, int]:
    """``(code, message, exit status)`` for an exception raised by a command."""
    from smartdc.cli import resolve

    if isinstance(exc, CommandError):
        return exc.code, str(exc), exc.status
    if isinstance(exc, resolve.ResolveError):
        return exc.code, str(exc), exc.exit_status
    if isinstance(exc, errors.MachineGoneError):
        machine = exc.machine or {}
        name = machine.get("id") or "instance"
        return "InstanceDeleted", f"instance {name} was deleted", EXIT_NOT_FOUND
    if isinstance(exc, errors.CloudAPIError):
        message = exc.message
        for detail in exc.errors:
            if isinstance(detail, dict):
                message += (
                    f"\n    {detail.get('field', '?')}: {detail.get('code', '?')}: "
                    f"{detail.get('message', '')}"
                )
        if exc.hint:
            message += f"\n    hint: {exc.hint}"
        # A bare CloudAPI 404 exits 1, as in triton; "no such instance/image/..." from the
        # resolvers (and deleted instances) are the ones that exit 3.
        return exc.code, message, EXIT_ERROR
    if isinstance(exc, errors.ConfigError):
        return "Config", str(exc), EXIT_ERROR
    if isinstance(exc, errors.SigningError):
        return "Signing", str(exc), EXIT_ERROR
    if isinstance(exc, errors.TimeoutError | errors.WaitTimeoutError):
        return "Timeout", str(exc), EXIT_ERROR
    if isinstance(exc, errors.WaitError):
        return "Wait", str(exc), EXIT_ERROR
    if isinstance(exc, errors.TransportError):
        return "Connection", str(exc), EXIT_ERROR
    if isinstance(exc, OSError):
        target = f" {exc.filename!r}" if exc.filename else ""
        return "IO", f"{exc.strerror or exc}{target}", EXIT_ERROR
    return "Internal", f"internal error: {type(exc).__name__}: {exc}", EXIT_ERROR


def report(context: Context, exc: BaseException) -> int:
    """Print ``exc`` as the command's failure and return its exit status."""
    code, message, status = describe(exc)
    label = f"error ({code})" if code else "error"
    context.err(f"{context.prog}: {label}: {message}")
    if context.verbose:
        request_id = getattr(exc, "request_id", None)
        if request_id:
            context.err(f"{context.prog}: request-id: {request_id}")
        if code == "Internal":
            context.err("".join(traceback.format_exception(exc)).rstrip())
    return status
