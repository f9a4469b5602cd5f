"""The one waiter: deadlines, failures, transient errors — on a fake clock."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import pytest

from smartdc.errors import (
    ConnectError,
    InvalidArgumentError,
    MachineFailedError,
    ServiceUnavailableError,
    WaitError,
    WaitTimeoutError,
)
from smartdc.wait import wait_for


class FakeClock:
    """``clock`` and ``sleep`` for wait_for: sleeping advances time, nothing really waits."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def sequence(*items: object) -> Callable[[], object]:
    """A fetch that returns (or raises) each item in turn, then repeats the last."""
    it: Iterator[object] = iter(items)
    last: list[object] = []

    def fetch() -> object:
        try:
            item = next(it)
            last[:] = [item]
        except StopIteration:
            item = last[0]
        if isinstance(item, BaseException):
            raise item
        return item

    return fetch


@pytest.fixture
def fake() -> FakeClock:
    return FakeClock()


def test_returns_the_first_value_that_is_done(fake: FakeClock) -> None:
    fetch = sequence("provisioning", "provisioning", "running", "stopped")
    result = wait_for(
        fetch, lambda s: s == "running", interval=2, timeout=60, sleep=fake.sleep, clock=fake.clock
    )
    assert result == "running"
    assert fake.sleeps == [2, 2]


def test_no_sleep_when_already_done(fake: FakeClock) -> None:
    assert wait_for(lambda: 5, lambda v: v == 5, sleep=fake.sleep, clock=fake.clock) == 5
    assert fake.sleeps == []


def test_deadline_raises_with_the_last_value(fake: FakeClock) -> None:
    with pytest.raises(WaitTimeoutError) as caught:
        wait_for(
            lambda: "provisioning",
            lambda s: s == "running",
            interval=3,
            timeout=10,
            describe="machine web-1 to be 'running'",
            summarize=lambda s: f"state {s!r}",
            sleep=fake.sleep,
            clock=fake.clock,
        )
    assert caught.value.last == "provisioning"
    message = str(caught.value)
    assert "machine web-1 to be 'running'" in message
    assert "10s" in message
    assert "state 'provisioning'" in message
    # never sleeps past the deadline: 3 + 3 + 3 + 1
    assert fake.sleeps == [3, 3, 3, 1]
    assert isinstance(caught.value, TimeoutError)


def test_fail_reason_raises_immediately(fake: FakeClock) -> None:
    with pytest.raises(WaitError, match="went to failed") as caught:
        wait_for(
            sequence("provisioning", "failed", "running"),
            lambda s: s == "running",
            fail=lambda s: "went to failed" if s == "failed" else None,
            sleep=fake.sleep,
            clock=fake.clock,
        )
    assert not isinstance(caught.value, WaitTimeoutError)
    assert len(fake.sleeps) == 1


def test_fail_may_hand_back_its_own_exception(fake: FakeClock) -> None:
    boom = MachineFailedError("machine m failed", machine={"id": "m", "state": "failed"})
    with pytest.raises(MachineFailedError) as caught:
        wait_for(
            lambda: "failed",
            lambda s: s == "running",
            fail=lambda s: boom if s == "failed" else None,
            sleep=fake.sleep,
            clock=fake.clock,
        )
    assert caught.value is boom
    assert fake.sleeps == []


def test_fail_is_checked_before_done(fake: FakeClock) -> None:
    # A value that both fails and is "done" (leaving a state by failing) must fail.
    with pytest.raises(WaitError):
        wait_for(
            lambda: "failed",
            lambda s: s != "provisioning",
            fail=lambda s: "failed" if s == "failed" else None,
            sleep=fake.sleep,
            clock=fake.clock,
        )


def test_transient_errors_are_polled_through(fake: FakeClock) -> None:
    fetch = sequence(
        ConnectError("connection refused"),
        ServiceUnavailableError("busy", status=503),
        "running",
    )
    assert (
        wait_for(fetch, lambda s: s == "running", interval=1, sleep=fake.sleep, clock=fake.clock)
        == "running"
    )
    assert fake.sleeps == [1, 1]


def test_transient_errors_until_the_deadline_name_the_last_error(fake: FakeClock) -> None:
    with pytest.raises(WaitTimeoutError, match="connection refused") as caught:
        wait_for(
            sequence(ConnectError("connection refused")),
            lambda s: True,
            interval=1,
            timeout=3,
            sleep=fake.sleep,
            clock=fake.clock,
        )
    assert caught.value.last is None


def test_other_errors_propagate_at_once(fake: FakeClock) -> None:
    with pytest.raises(InvalidArgumentError):
        wait_for(
            sequence(InvalidArgumentError("bad", status=409)),
            lambda s: True,
            sleep=fake.sleep,
            clock=fake.clock,
        )
    assert fake.sleeps == []


def test_transient_set_is_configurable(fake: FakeClock) -> None:
    with pytest.raises(ConnectError):
        wait_for(
            sequence(ConnectError("refused"), "ok"),
            lambda s: s == "ok",
            transient=(),
            sleep=fake.sleep,
            clock=fake.clock,
        )


@pytest.mark.parametrize("timeout", [None, 0, -1, math.inf, math.nan, True])
def test_a_wait_must_be_able_to_end(timeout: object, fake: FakeClock) -> None:
    with pytest.raises(ValueError, match="timeout"):
        wait_for(
            lambda: 1,
            lambda v: True,
            timeout=timeout,  # type: ignore[arg-type]
            sleep=fake.sleep,
            clock=fake.clock,
        )


@pytest.mark.parametrize("interval", [-1, math.inf, "2"])
def test_bad_interval_is_rejected(interval: object, fake: FakeClock) -> None:
    with pytest.raises(ValueError, match="interval"):
        wait_for(
            lambda: 1,
            lambda v: True,
            interval=interval,  # type: ignore[arg-type]
            sleep=fake.sleep,
            clock=fake.clock,
        )


def test_real_clock_short_wait() -> None:
    calls = []

    def fetch() -> int:
        calls.append(1)
        return len(calls)

    assert wait_for(fetch, lambda n: n >= 3, interval=0.001, timeout=5) == 3
