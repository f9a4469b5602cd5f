"""The client and the object layer under injected faults: throttling, maintenance and failed
provisions, against the shared emulator over loopback HTTP.

Faults are region-wide on the shared emulator, so every test starts and ends with none.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest

from smartdc import CloudAPI
from smartdc.emulator.server import EmulatorServer
from smartdc.errors import (
    MachineFailedError,
    ServiceUnavailableError,
    TooManyRequestsError,
)
from smartdc.objects import DataCenter
from smartdc.transport import RetryPolicy
from tests.conftest import ACCOUNT, TestKey

#: Retries without real waiting, so that a test of three retries takes milliseconds.
QUICK_RETRIES = RetryPolicy(retries=3, base_delay=0.001, max_delay=0.01)
FAST = {"interval": 0.05, "timeout": 30}


@pytest.fixture(autouse=True)
def no_faults_left(emulator: EmulatorServer) -> Iterator[None]:
    emulator.clear_faults()
    yield
    emulator.clear_faults()


@pytest.fixture
def api(emulator: EmulatorServer, keys: dict[str, TestKey]) -> Iterator[CloudAPI]:
    key = keys["ed25519"]
    client = CloudAPI(
        emulator.url, ACCOUNT, key_id=key.sha256, key_file=key.path, allow_agent=False
    )
    client.retry_policy = QUICK_RETRIES
    with client:
        yield client


@pytest.fixture
def sdc(emulator: EmulatorServer, keys: dict[str, TestKey]) -> Iterator[DataCenter]:
    key = keys["ed25519"]
    key_id = f"/{ACCOUNT}/keys/{key.md5}"
    with DataCenter(location=emulator.url, key_id=key_id, secret=key.path) as dc:
        dc.api.retry_policy = QUICK_RETRIES
        yield dc


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


# --- the client retries throttling and maintenance -----------------------------------------


def test_throttled_requests_are_retried_until_one_passes(
    emulator: EmulatorServer, api: CloudAPI
) -> None:
    emulator.inject(throttle=2)
    keys = api.list_keys()
    assert keys, "the account has keys"
    assert emulator.pending_faults()["throttle"] == 0
    assert api.last_response is not None and api.last_response.status == 200


def test_a_create_is_retried_through_maintenance(emulator: EmulatorServer, api: CloudAPI) -> None:
    emulator.inject(unavailable=2, retry_after=0)
    updated = api.update_account(companyName="Retried Widgets")
    assert updated["companyName"] == "Retried Widgets"
    assert emulator.pending_faults()["unavailable"] == 0


def test_retry_after_is_honoured_over_backoff(emulator: EmulatorServer, api: CloudAPI) -> None:
    # Backoff alone would wait 15 s or more; Retry-After: 0 says to come back at once.
    api.retry_policy = RetryPolicy(retries=1, base_delay=30.0, max_delay=60.0)
    emulator.inject(unavailable=1, retry_after=0)
    started = time.monotonic()
    assert api.get_account()["login"] == ACCOUNT
    assert time.monotonic() - started < 5


def test_throttling_that_outlasts_the_retries_raises(
    emulator: EmulatorServer, api: CloudAPI
) -> None:
    emulator.inject(throttle=10)
    with pytest.raises(TooManyRequestsError) as caught:
        api.list_packages()
    assert caught.value.status == 429
    assert caught.value.message == "You have exceeded your request rate of 10 r/s."
    # One first try and QUICK_RETRIES.retries retries.
    assert emulator.pending_faults()["throttle"] == 10 - 1 - QUICK_RETRIES.retries


def test_maintenance_that_outlasts_the_retries_raises(
    emulator: EmulatorServer, api: CloudAPI
) -> None:
    api.retry_policy = RetryPolicy(retries=0)
    emulator.inject(unavailable=1)
    with pytest.raises(ServiceUnavailableError) as caught:
        api.list_machines()
    assert caught.value.status == 503
    assert caught.value.request_id


# --- waiters and failed provisions ---------------------------------------------------------


def test_waiting_on_a_failed_provision_raises_promptly(
    emulator: EmulatorServer, sdc: DataCenter
) -> None:
    emulator.inject(fail_provision=1)
    machine = sdc.create_machine(name=unique("doomed"), dataset="base-64-lts", package="Small 1GB")
    assert machine.state == "provisioning"
    started = time.monotonic()
    with pytest.raises(MachineFailedError) as caught:
        machine.poll_until("running", **FAST)
    assert time.monotonic() - started < 5, "failed fast, not by timing out"
    assert caught.value.machine is not None
    assert caught.value.machine["state"] == "failed"
    assert machine.state == "failed"
    assert [(e["action"], e["success"]) for e in machine.audit()] == [("provision", "no")]

    machine.delete()
    machine.poll_until("deleted", **FAST)
    assert machine.state == "deleted"
    assert sdc.machines(name=machine.name) == []


def test_only_the_injected_number_of_provisions_fail(
    emulator: EmulatorServer, sdc: DataCenter
) -> None:
    emulator.inject(fail_provision=1)
    first = sdc.create_machine(name=unique("first"), dataset="base-64-lts", package="Small 1GB")
    second = sdc.create_machine(name=unique("second"), dataset="base-64-lts", package="Small 1GB")
    with pytest.raises(MachineFailedError):
        first.poll_until("running", **FAST)
    second.poll_until("running", **FAST)
    assert (first.state, second.state) == ("failed", "running")
    for machine in (first, second):
        machine.delete()
        machine.poll_until("deleted", **FAST)


def test_a_waiter_rides_out_throttling(emulator: EmulatorServer, sdc: DataCenter) -> None:
    machine = sdc.create_machine(name=unique("busy"), dataset="base-64-lts", package="Small 1GB")
    emulator.inject(throttle=2, unavailable=1, retry_after=0)
    machine.poll_until("running", **FAST)
    assert machine.state == "running"
    assert emulator.pending_faults()["throttle"] == 0
    assert emulator.pending_faults()["unavailable"] == 0
    machine.delete()
    machine.poll_until("deleted", **FAST)
