"""Accepting "a dict from the API" wherever an identifier is expected (py-smartdc's rule)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import Any

__all__ = ["is_uuid", "ref_value"]

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def is_uuid(value: object) -> bool:
    """True for a UUID string in canonical 8-4-4-4-12 form."""
    return isinstance(value, str) and bool(_UUID.match(value))


def ref_value(value: Any, *keys: str, what: str) -> str:
    """The identifier in ``value``: the string itself, or the first of ``keys`` a dict has.

    Objects with an ``id`` attribute (a :class:`~smartdc.Machine`) give that id, and a
    :class:`uuid.UUID` its string form.

    Raises:
        TypeError: ``value`` is neither a non-empty string, a UUID, a dict with one of ``keys``,
            nor an object with an ``id``.
    """
    if isinstance(value, str) and value:
        return value
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Mapping):
        for key in keys:
            found = value.get(key)
            if isinstance(found, str) and found:
                return found
        raise TypeError(f"{what} dict has none of the fields {', '.join(keys)}: {value!r}")
    found_id = getattr(value, "id", None)
    if isinstance(found_id, str) and found_id:
        return found_id
    raise TypeError(
        f"{what} must be a string, a dict from the API or an object with an id, not {value!r}"
    )
