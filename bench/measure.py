"""Timing a repeated operation: warm up, size a batch, time batches.

``js/measure.js`` follows the same procedure, so both runtimes are timed alike: run the
operation for ``warmup_seconds``, choose a batch size that takes about ``batch_seconds``,
then time batches (the caller alternates them with the peer's). Each sample is one batch's
time divided by its size.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

DEFAULT_BATCH_SECONDS = 0.15
DEFAULT_WARMUP_SECONDS = 0.3


@dataclass(frozen=True)
class Samples:
    """Seconds per operation, one value per repetition; ``batch`` operations each."""

    values: tuple[float, ...]
    batch: int = 1

    def __post_init__(self) -> None:
        if not self.values:
            raise ValueError("no samples were taken")

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def min(self) -> float:
        return min(self.values)

    @property
    def max(self) -> float:
        return max(self.values)

    @classmethod
    def of(cls, values: Sequence[float], batch: int = 1) -> Samples:
        return cls(tuple(float(v) for v in values), batch)


def batch_size(seconds_per_op: float, batch_seconds: float) -> int:
    """Operations per batch so that one batch takes about ``batch_seconds``."""
    if seconds_per_op <= 0:
        return 1_000
    return max(1, math.ceil(batch_seconds / seconds_per_op))


def calibrate(
    operation: Callable[[], object],
    *,
    batch_seconds: float = DEFAULT_BATCH_SECONDS,
    warmup_seconds: float = DEFAULT_WARMUP_SECONDS,
) -> int:
    """Run ``operation`` for ``warmup_seconds`` (at least 3 times); the batch size."""
    done = 0
    started = time.perf_counter()
    while True:
        operation()
        done += 1
        elapsed = time.perf_counter() - started
        if elapsed >= warmup_seconds and done >= 3:
            return batch_size(elapsed / done, batch_seconds)


def time_batch(operation: Callable[[], object], size: int) -> float:
    """Seconds per operation over ``size`` back-to-back calls."""
    begin = time.perf_counter()
    for _ in range(size):
        operation()
    return (time.perf_counter() - begin) / size
