"""A hand-moved clock for store tests, which pass ``now`` explicitly."""

from __future__ import annotations

#: Where every hand-moved clock starts (a fixed instant, so timestamps are predictable).
T0 = 1_700_000_000.0


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = T0

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now
