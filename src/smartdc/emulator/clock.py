"""The emulator's clocks: real time, or a manual clock that moves only when told.

Every job the emulator runs is scheduled on :attr:`EmulatorConfig.clock
<smartdc.emulator.context.EmulatorConfig.clock>`. With the real clock (the default) jobs finish
on their own as time passes; with a :class:`ManualClock` they wait until a test (or the control
plane's ``POST /__emulator/clock``) moves time forward, and then everything that became due runs
at once, in order. Signatures are always checked against real time, since clients sign with
theirs.
"""

from __future__ import annotations

import threading
import time

MANUAL = "manual"
REAL = "real"


class ManualClock:
    """A clock that stands still until :meth:`advance` moves it (thread-safe).

    It starts at the real time of its creation (or ``start``, seconds since the epoch).
    """

    def __init__(self, start: float | None = None) -> None:
        self._now = time.time() if start is None else float(start)
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        """Move forward ``seconds`` (not negative); return the new time."""
        if seconds < 0:
            raise ValueError("a clock cannot go back: seconds must not be negative")
        with self._lock:
            self._now += seconds
            return self._now


def mode(clock: object) -> str:
    """``"manual"`` for a :class:`ManualClock`, else ``"real"``."""
    return MANUAL if isinstance(clock, ManualClock) else REAL
