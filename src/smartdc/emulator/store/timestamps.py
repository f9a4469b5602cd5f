"""Times as the stores keep them (whole milliseconds) and as CloudAPI prints them."""

from __future__ import annotations

import functools
import time
from datetime import UTC, datetime


def to_ms(now: float) -> int:
    """A clock reading (seconds) as whole milliseconds, rounded down."""
    return int(now * 1000)


def iso_ms(ms: int) -> str:
    """Milliseconds since the epoch as JavaScript's ``toISOString`` prints them
    (``2024-01-10T08:34:19.123Z``)."""
    if ms < 0:
        stamp = datetime.fromtimestamp(ms // 1000, UTC)
        return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"
    return f"{_iso_second(ms // 1000)}.{ms % 1000:03d}Z"


@functools.lru_cache(maxsize=8192)
def _iso_second(seconds: int) -> str:
    # Cached: a listing prints two stamps a machine, and machines made together share seconds.
    t = time.gmtime(seconds)
    return (
        f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T{t.tm_hour:02d}:{t.tm_min:02d}:"
        f"{t.tm_sec:02d}"
    )


def iso_now(now: float | None = None) -> str:
    """A clock reading (seconds; ``None``: the system clock) as CloudAPI prints times."""
    return iso_ms(to_ms(time.time() if now is None else now))
