"""The ``config`` dict a :class:`~smartdc.DataCenter` accepts.

Recognised keys:

``verbose``
    a text stream (``sys.stderr``), ``True`` (meaning ``sys.stderr``) or a false value. When
    set, every CloudAPI request and response is echoed to it.
``timeout``
    seconds to wait for each HTTP response (default 30).
``retries``
    extra attempts after throttling (420, 429, 503) or a failed connection (default 3; 0 turns
    retries off). See :mod:`smartdc.transport` for which requests are retried.
``retry_delay``
    seconds before the first retry, doubled for each next one (default 0.5).
``retry_max_delay``
    the longest wait before a retry (default 30). A ``Retry-After`` longer than this is not
    waited out: the request fails at once with the server's error, saying how long it asked
    to wait.

Any other key is an error, so a typo cannot silently do nothing.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TextIO

from smartdc.errors import ConfigError
from smartdc.transport import RetryPolicy

__all__ = ["DEBUG_CONFIG", "DEFAULT_CONFIG", "ClientSettings", "read_config"]

DEFAULT_CONFIG: dict[str, Any] = {
    "verbose": None,
    "timeout": 30.0,
    "retries": 3,
    "retry_delay": 0.5,
    "retry_max_delay": 30.0,
}
"""Quiet, 30 s per request, 3 retries. Never mutated: copy it to make your own."""

_STDERR_AT_IMPORT = sys.stderr

DEBUG_CONFIG: dict[str, Any] = {"verbose": _STDERR_AT_IMPORT}
"""Echo each CloudAPI request to ``stderr`` (the current ``sys.stderr`` at each request)."""


@dataclass(frozen=True)
class ClientSettings:
    """What a ``config`` dict asks of the CloudAPI client.

    ``debug`` is ``True`` for "whatever ``sys.stderr`` is when a request is made" (so
    :data:`DEBUG_CONFIG` follows ``contextlib.redirect_stderr`` and test capture), a stream,
    or ``None``.
    """

    debug: TextIO | bool | None
    timeout: float
    retry_policy: RetryPolicy


def read_config(config: Mapping[str, Any] | None) -> ClientSettings:
    """Validate ``config`` (``None`` means :data:`DEFAULT_CONFIG`).

    Raises:
        ConfigError: an unknown key, a ``verbose`` that is not a stream, or a bad
            ``timeout`` or retry setting.
    """
    merged = {**DEFAULT_CONFIG, **(config or {})}
    unknown = sorted(set(merged) - set(DEFAULT_CONFIG))
    if unknown:
        raise ConfigError(
            f"unknown config key(s) {', '.join(map(repr, unknown))}; "
            f"recognised: {', '.join(sorted(DEFAULT_CONFIG))}"
        )
    return ClientSettings(
        debug=_stream(merged["verbose"]),
        timeout=_timeout(merged["timeout"]),
        retry_policy=RetryPolicy(
            retries=_count(merged["retries"], "retries"),
            base_delay=_seconds(merged["retry_delay"], "retry_delay"),
            max_delay=_seconds(merged["retry_max_delay"], "retry_max_delay"),
        ),
    )


def _stream(verbose: Any) -> TextIO | bool | None:
    if verbose is True or verbose is _STDERR_AT_IMPORT or verbose is sys.__stderr__:
        return True
    if not verbose:
        return None
    if callable(getattr(verbose, "write", None)):
        return verbose  # type: ignore[no-any-return]
    raise ConfigError(f"config 'verbose' must be a writable stream or a bool, not {verbose!r}")


def _timeout(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ConfigError(f"config 'timeout' must be a positive number of seconds, not {value!r}")
    return float(value)


def _count(value: Any, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"config {key!r} must be a whole number 0 or more, not {value!r}")
    return value


def _seconds(value: Any, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        raise ConfigError(f"config {key!r} must be a number of seconds 0 or more, not {value!r}")
    return float(value)
