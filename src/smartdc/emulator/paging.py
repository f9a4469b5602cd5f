"""``limit``/``offset`` paging as VMAPI does it for ListMachines and friends.

CloudAPI passes ``limit`` and ``offset`` through to the backend, which accepts a limit of
1..1000 (default 1000) and a non-negative offset, and answers bad values with 409
``ValidationFailed`` "Invalid Parameters" plus an ``errors`` array naming the field.
The response carries ``x-query-limit`` (the effective limit) and ``x-resource-count`` (the
number of items in this page); clients page until the count drops below the limit.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from smartdc.emulator.context import validation_failed
from smartdc.wire import QUERY_LIMIT_HEADER as QUERY_LIMIT_HEADER
from smartdc.wire import RESOURCE_COUNT_HEADER as RESOURCE_COUNT_HEADER

T = TypeVar("T")

_INTEGER = re.compile(r"-?[0-9]+")


def _as_int(value: Any) -> int | None:
    """An integer from a JSON number or a decimal string; ``None`` when it is neither."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        return int(value)
    return None


def page_bounds(
    params: Mapping[str, Any], *, default_limit: int = 1000, max_limit: int = 1000
) -> tuple[int, int]:
    """Validate ``limit`` and ``offset`` in ``params``; return ``(limit, offset)``.

    Raises :class:`EmulatorError` 409 ``ValidationFailed`` listing every bad field.
    """
    errors: list[dict[str, str]] = []
    limit = default_limit
    raw_limit = params.get("limit")
    if raw_limit is not None and raw_limit != "":
        parsed = _as_int(raw_limit)
        if parsed is None or not 1 <= parsed <= max_limit:
            errors.append(
                {
                    "field": "limit",
                    "code": "Invalid",
                    "message": f"Not a valid number: must be between 1 and {max_limit}",
                }
            )
        else:
            limit = parsed
    offset = 0
    raw_offset = params.get("offset")
    if raw_offset is not None and raw_offset != "":
        parsed = _as_int(raw_offset)
        if parsed is None or parsed < 0:
            errors.append(
                {
                    "field": "offset",
                    "code": "Invalid",
                    "message": "Not a valid number: must be 0 or greater",
                }
            )
        else:
            offset = parsed
    if errors:
        raise validation_failed(errors)
    return limit, offset


def paginate(
    items: Sequence[T],
    params: Mapping[str, Any],
    *,
    default_limit: int = 1000,
    max_limit: int = 1000,
) -> tuple[list[T], dict[str, str]]:
    """One page of ``items`` per the request's ``limit``/``offset``, plus the paging headers.

    ``items`` must already be filtered and in the order the listing promises.
    """
    limit, offset = page_bounds(params, default_limit=default_limit, max_limit=max_limit)
    page = list(items[offset : offset + limit])
    headers = {QUERY_LIMIT_HEADER: str(limit), RESOURCE_COUNT_HEADER: str(len(page))}
    return page, headers
