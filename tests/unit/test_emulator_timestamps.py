"""Stored milliseconds print as JavaScript's ``Date.prototype.toISOString`` prints them."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from smartdc.emulator.store.timestamps import iso_ms, iso_now, to_ms

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _reference(ms: int) -> str:
    stamp = EPOCH + timedelta(milliseconds=ms)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


@pytest.mark.parametrize(
    "ms, shown",
    [
        (0, "1970-01-01T00:00:00.000Z"),
        (-1, "1969-12-31T23:59:59.999Z"),
        (1_704_875_659_123, "2024-01-10T08:34:19.123Z"),
        (253_402_300_799_999, "9999-12-31T23:59:59.999Z"),
    ],
)
def test_known_stamps(ms: int, shown: str) -> None:
    assert iso_ms(ms) == shown


def test_stamps_sharing_a_second_keep_their_own_milliseconds() -> None:
    base = 1_796_216_601_000
    assert [iso_ms(base + n) for n in (0, 7, 999, 1000)] == [
        "2026-12-02T13:03:21.000Z",
        "2026-12-02T13:03:21.007Z",
        "2026-12-02T13:03:21.999Z",
        "2026-12-02T13:03:22.000Z",
    ]


def test_random_stamps_match_the_calendar() -> None:
    rng = random.Random(7)
    for _ in range(2000):
        ms = rng.randrange(-(10**11), 4 * 10**12)
        assert iso_ms(ms) == _reference(ms)


def test_iso_now_reads_whole_milliseconds() -> None:
    assert to_ms(1.9999) == 1999
    assert iso_now(1_704_875_659.1239) == "2024-01-10T08:34:19.123Z"
