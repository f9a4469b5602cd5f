"""Keeping a dict used as a memo to a size: the oldest entries go first."""

from __future__ import annotations

from typing import Any


def drop_oldest(entries: dict[Any, Any], size: int) -> None:
    """Drop the oldest of ``entries`` (a dict, in insertion order) until ``size`` are left.
    Safe when other threads change ``entries`` meanwhile."""
    while len(entries) > size:
        try:
            del entries[next(iter(entries))]
        except (KeyError, StopIteration, RuntimeError):  # another thread got there first
            break
