"""How list filters compare values, as PAPI and VMAPI match query-string filters."""

from __future__ import annotations

import fnmatch
from typing import Any


def matches_wildcard(pattern: str, value: Any) -> bool:
    """PAPI-style filter match: ``*`` matches any run of characters, nothing else is special."""
    text = "" if value is None else filter_text(value)
    if "*" not in pattern:
        return text == pattern
    translated = "".join("*" if ch == "*" else f"[{ch}]" if ch in "?[]" else ch for ch in pattern)
    return fnmatch.fnmatchcase(text, translated)


def filter_text(value: Any) -> str:
    """A JSON value as it compares with a query-string filter (``true``, ``42``, ``web``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
