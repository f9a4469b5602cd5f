"""Arguments shared by many commands: positional argument counts, ``key=value`` lists,
filters, yes/no answers.

``key_values`` follows node-triton's ``objFromKeyValueArgs`` (lib/common.js): values are read
as JSON where they parse (``true`` → ``True``, ``3`` → ``3``) unless conversions are off, an
empty value is ``None``, and with dotted keys allowed ``a.b=1`` nests as ``{"a": {"b": 1}}``.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from smartdc.cli.command import ArgParser, UsageError

#: A valid key is a literal name or a compiled pattern that must match it.
KeyPattern = str | re.Pattern[str]


# --- positional arguments ----------------------------------------------------------------------


def set_usage(parser: ArgParser, *synopses: str) -> None:
    """Show ``synopses`` (after the program name) as the usage lines of ``parser``."""
    parser.usage = "\n       ".join(f"%(prog)s {synopsis}" for synopsis in synopses)


def add_positionals(parser: ArgParser, metavar: str = "ARGS") -> None:
    """Take every positional argument as ``options.args``; handlers check the count, so
    that wrong counts are reported with triton's own messages."""
    parser.add_argument("args", nargs="*", metavar=metavar, help=argparse.SUPPRESS)


def take(
    args: Sequence[str],
    count: int,
    missing: str,
    *,
    extra: str | None = "incorrect number of arguments",
) -> list[str]:
    """``args`` when there are ``count`` of them (at least ``count`` when ``extra`` is
    ``None``); too few fail with ``missing``, too many with ``extra``."""
    if len(args) < count:
        raise UsageError(missing)
    if extra is not None and len(args) > count:
        raise UsageError(extra)
    return list(args)


def refuse_args(options: argparse.Namespace) -> None:
    """Fail with triton's ``invalid args: a,b`` when positional arguments were given to a
    command that takes none (they are collected by :func:`add_positionals`)."""
    from smartdc.cli.failures import CommandError

    if options.args:
        raise CommandError(f"invalid args: {','.join(options.args)}")


# --- key=value ---------------------------------------------------------------------------------


def split_key_value(text: str) -> tuple[str, str]:
    """``"k=v"`` as ``("k", "v")``; anything without ``=`` is a usage error."""
    key, sep, value = text.partition("=")
    if not sep:
        raise UsageError(f'invalid key=value: "{text}"')
    return key, value


def _check_key(key: str, valid: Sequence[KeyPattern]) -> None:
    for pattern in valid:
        if (isinstance(pattern, str) and key == pattern) or (
            isinstance(pattern, re.Pattern) and pattern.search(key)
        ):
            return
    names = ", ".join(p if isinstance(p, str) else f"/{p.pattern}/" for p in valid)
    raise UsageError(f'invalid key: "{key}" (must match one of: {names})')


def convert_value(text: str) -> Any:
    """A ``key=value`` value read as JSON when it is JSON (``""`` is ``None``), else as text."""
    import json

    if text == "":
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def key_values(
    args: Iterable[str],
    *,
    valid_keys: Sequence[KeyPattern] | None = None,
    convert: bool = True,
    dotted: bool = True,
    string_keys: Iterable[str] = (),
) -> dict[str, Any]:
    """The object that ``key=value`` arguments describe (see the module docstring).

    ``string_keys`` are never converted (triton's ``typeHintFromKey``).
    """
    as_text = set(string_keys)
    result: dict[str, Any] = {}
    for arg in args:
        key, raw = split_key_value(arg)
        if valid_keys is not None:
            _check_key(key, valid_keys)
        value: Any = convert_value(raw) if convert and key not in as_text else raw
        head, sep, tail = key.partition(".")
        if dotted and sep:
            nested = result.setdefault(head, {})
            if isinstance(nested, dict):
                nested[tail] = value
            else:
                result[head] = {tail: value}
        else:
            result[key] = value
    return result


def filter_params(filters: Mapping[str, Any]) -> dict[str, str]:
    """Query parameters from parsed filters (booleans as ``true``/``false``)."""
    params: dict[str, str] = {}
    for key, value in filters.items():
        if isinstance(value, bool):
            params[key] = "true" if value else "false"
        elif value is not None:
            params[key] = str(value)
    return params
