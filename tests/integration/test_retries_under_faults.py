"""The library's retry table (smartdc.transport) against every fault kind the emulator injects.

Reads and other idempotent calls are retried through 429, 503 and dropped connections, up to
the retry limit and not before it; a POST that may have reached the server is never sent
twice, and its error says so; error responses carry their request id; ``Retry-After`` is
waited out. A private emulator keeps these region-wide faults away from the shared one.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from smartdc import CloudAPI
from smartdc.emulator.server import EmulatorServer
from smartdc.errors import (
    CloudAPIError,
    ServiceUnavailableError,
    TimeoutError,
    TooManyRequestsError,
    TransportError,
)
from smartdc.transport import RetryPolicy
from tests.conftest import ACCOUNT, TestKey

RETRIES = 3
#: Retries that wait milliseconds, except where the server asks for longer (Retry-After).
QUICK = RetryPolicy(retries=RETRIES, base_delay=0.001, max_delay=2.0)
PACKAGE = "g4-highcpu-128M"
#: The fault kinds a GET must get through, with what the rule needs beyond its kind.
RETRIED_KINDS: dict[str, dict[str, Any]] = {
    "throttle": {},
    "unavailable": {"retry_after": 0},
    "drop_request": {},
    "drop_response": {},
}


@pytest.fixture(scope="module")
def server(keys: dict[str, TestKey]) -> Iterator[EmulatorServer]:
    with EmulatorServer({ACCOUNT: [keys["ed25519"].pub_path]}, provision_delay=0) as running:
        yield running


@pytest.fixture
def emulator(server: EmulatorServer) -> Iterator[EmulatorServer]:
    server.clear_faults()
    yield server
    server.clear_faults()


@pytest.fixture
def api(server: EmulatorServer, keys: dict[str, TestKey]) -> Iterator[CloudAPI]:
    key = keys["ed25519"]
    client = CloudAPI(server.url, ACCOUNT, key_file=key.path, allow_agent=False, timeout=5)
    client.retry_policy = QUICK
    with client:
        yield client


@pytest.fixture(scope="module")
def image(server: EmulatorServer, keys: dict[str, TestKey]) -> str:
    key = keys["ed25519"]
    with CloudAPI(server.url, ACCOUNT, key_file=key.path, allow_agent=False) as client:
        return str([i for i in client.list_images() if i["name"] == "base-64-lts"][-1]["id"])


def rule_counts(emulator: EmulatorServer, rule: dict[str, Any]) -> tuple[int, int]:
    """How many requests the rule matched and fired on (a used-up rule matches no more)."""
    (found,) = [r for r in emulator.fault_rules() if r["id"] == rule["id"]]
    return int(found["matched"]), int(found["fired"])


def machines_named(api: CloudAPI, name: str) -> list[dict[str, Any]]:
    """Machines called ``name`` that are not deleted, failed ones too."""
    return [m for m in api.list_machines(name=name, tombstone=True) if m["state"] != "deleted"]


def running_machine(api: CloudAPI, image: str) -> str:
    machine_id = str(api.create_machine(image=image, package=PACKAGE, name=unique())["id"])
    deadline = time.monotonic() + 10
    while api.get_machine(machine_id)["state"] != "running":
        assert time.monotonic() < deadline
        time.sleep(0.01)
    return machine_id


def unique() -> str:
    return f"faults-{uuid.uuid4().hex[:8]}"


# --- idempotent requests: retried, up to the limit -------------------------------------------


@pytest.mark.parametrize("kind", sorted(RETRIED_KINDS))
def test_a_get_is_retried_through_as_many_faults_as_the_limit_allows(
    emulator: EmulatorServer, api: CloudAPI, kind: str
) -> None:
    rule = emulator.add_fault(kind, operation="GetAccount", count=RETRIES, **RETRIED_KINDS[kind])
    assert api.get_account()["login"] == ACCOUNT
    assert rule_counts(emulator, rule) == (RETRIES, RETRIES)


@pytest.mark.parametrize("kind", ["throttle", "unavailable"])
def test_a_get_gives_up_after_the_limit_with_the_last_request_id(
    emulator: EmulatorServer, api: CloudAPI, kind: str
) -> None:
    rule = emulator.add_fault(
        kind, operation="GetAccount", count=RETRIES + 1, **RETRIED_KINDS[kind]
    )
    expected = TooManyRequestsError if kind == "throttle" else ServiceUnavailableError
    with pytest.raises(expected) as caught:
        api.get_account()
    assert rule_counts(emulator, rule) == (RETRIES + 1, RETRIES + 1)
    last = api.last_response
    assert last is not None and last.request_id
    assert caught.value.request_id == last.request_id
    assert f"(request {last.request_id})" in str(caught.value)
    assert api.get_account()["login"] == ACCOUNT  # the faults are used up


@pytest.mark.parametrize("kind", ["drop_request", "drop_response"])
def test_a_get_gives_up_after_the_limit_of_dropped_connections(
    emulator: EmulatorServer, api: CloudAPI, kind: str
) -> None:
    rule = emulator.add_fault(kind, operation="GetAccount", count=RETRIES + 1)
    with pytest.raises(TransportError) as caught:
        api.get_account()
    assert f"after {RETRIES + 1} attempts" in str(caught.value)
    assert "not retried" not in str(caught.value)
    assert rule_counts(emulator, rule) == (RETRIES + 1, RETRIES + 1)


def test_gets_get_through_a_flaky_connection(emulator: EmulatorServer, api: CloudAPI) -> None:
    rule = emulator.add_fault("drop_request", operation="ListPackages", probability=0.3, seed=5)
    for _ in range(20):
        assert any(p["name"] == PACKAGE for p in api.list_packages())
    matched, fired = rule_counts(emulator, rule)
    assert fired > 0 and matched == 20 + fired


def test_a_put_is_replayed_after_a_lost_response(
    emulator: EmulatorServer, api: CloudAPI, image: str
) -> None:
    machine_id = running_machine(api, image)
    rule = emulator.add_fault("drop_response", operation="ReplaceMachineTags", count=1)
    assert api.replace_machine_tags(machine_id, {"role": "db"}) == {"role": "db"}
    assert rule_counts(emulator, rule) == (1, 1)
    assert api.list_machine_tags(machine_id) == {"role": "db"}


def test_a_slow_answer_is_waited_for_and_not_sent_again(
    emulator: EmulatorServer, api: CloudAPI
) -> None:
    rule = emulator.add_fault("slow", operation="GetAccount", count=1, seconds=0.3)
    started = time.monotonic()
    assert api.get_account()["login"] == ACCOUNT
    assert time.monotonic() - started >= 0.3
    assert rule_counts(emulator, rule) == (1, 1)


def test_a_read_timeout_is_not_retried(emulator: EmulatorServer, keys: dict[str, TestKey]) -> None:
    key = keys["ed25519"]
    rule = emulator.add_fault("slow", operation="GetAccount", count=2, seconds=1)
    with CloudAPI(
        emulator.url, ACCOUNT, key_file=key.path, allow_agent=False, timeout=0.3
    ) as impatient:
        impatient.retry_policy = QUICK
        with pytest.raises(TimeoutError, match=r"GET .* timed out"):
            impatient.get_account()
    assert rule_counts(emulator, rule) == (1, 1)


def test_a_create_that_times_out_is_not_resent(
    emulator: EmulatorServer, keys: dict[str, TestKey], api: CloudAPI, image: str
) -> None:
    key = keys["ed25519"]
    name = unique()
    rule = emulator.add_fault("slow", operation="CreateMachine", count=2, seconds=1)
    with CloudAPI(
        emulator.url, ACCOUNT, key_file=key.path, allow_agent=False, timeout=0.3
    ) as impatient:
        impatient.retry_policy = QUICK
        with pytest.raises(TimeoutError, match=r"timed out.*not retried: POST is not idempotent"):
            impatient.create_machine(image=image, package=PACKAGE, name=name)
    assert rule_counts(emulator, rule) == (1, 1)
    assert len(machines_named(api, name)) == 1


# --- Retry-After -----------------------------------------------------------------------------


def test_retry_after_is_waited_out(emulator: EmulatorServer, api: CloudAPI) -> None:
    rule = emulator.add_fault("unavailable", operation="GetAccount", count=1, retry_after=1)
    started = time.monotonic()
    assert api.get_account()["login"] == ACCOUNT
    elapsed = time.monotonic() - started
    assert 1.0 <= elapsed < QUICK.max_delay
    assert rule_counts(emulator, rule) == (1, 1)


def test_a_throttled_request_without_retry_after_backs_off_briefly(
    emulator: EmulatorServer, api: CloudAPI
) -> None:
    emulator.add_fault("throttle", operation="GetAccount", count=RETRIES)
    started = time.monotonic()
    assert api.get_account()["login"] == ACCOUNT
    assert time.monotonic() - started < 0.5  # backoff from base_delay, not Retry-After's 1 s


# --- non-idempotent requests: never replayed once they may have arrived ----------------------


def test_a_create_whose_answer_is_lost_makes_one_machine_and_says_why(
    emulator: EmulatorServer, api: CloudAPI, image: str
) -> None:
    name = unique()
    rule = emulator.add_fault("drop_response", operation="CreateMachine", count=1)
    with pytest.raises(TransportError) as caught:
        api.create_machine(image=image, package=PACKAGE, name=name)
    assert rule_counts(emulator, rule) == (1, 1)
    assert len(machines_named(api, name)) == 1
    message = str(caught.value)
    assert f"POST {emulator.url}/{ACCOUNT}/machines failed" in message
    assert "not retried: POST is not idempotent and the request may have reached the server" in (
        message
    )


def test_a_create_dropped_before_handling_is_not_resent(
    emulator: EmulatorServer, api: CloudAPI, image: str
) -> None:
    name = unique()
    rule = emulator.add_fault("drop_request", operation="CreateMachine", count=1)
    with pytest.raises(TransportError, match="not retried"):
        api.create_machine(image=image, package=PACKAGE, name=name)
    assert rule_counts(emulator, rule) == (1, 1)
    assert machines_named(api, name) == []


def test_a_machine_action_whose_answer_is_lost_runs_once(
    emulator: EmulatorServer, api: CloudAPI, image: str
) -> None:
    machine_id = running_machine(api, image)
    rule = emulator.add_fault("drop_response", operation="StopMachine", count=1)
    with pytest.raises(TransportError, match=r"\?action=stop failed.*not retried: POST"):
        api.stop_machine(machine_id)
    assert rule_counts(emulator, rule) == (1, 1)
    stops = [entry for entry in api.machine_audit(machine_id) if entry["action"] == "stop"]
    assert len(stops) == 1


@pytest.mark.parametrize("kind", ["throttle", "unavailable"])
def test_a_create_refused_before_handling_is_retried_and_made_once(
    emulator: EmulatorServer, api: CloudAPI, image: str, kind: str
) -> None:
    name = unique()
    rule = emulator.add_fault(kind, operation="CreateMachine", count=RETRIES, **RETRIED_KINDS[kind])
    created = api.create_machine(image=image, package=PACKAGE, name=name)
    assert rule_counts(emulator, rule) == (RETRIES, RETRIES)
    assert [m["id"] for m in machines_named(api, name)] == [created["id"]]


def test_a_failed_job_is_reported_by_the_machine_not_retried(
    emulator: EmulatorServer, api: CloudAPI, image: str
) -> None:
    name = unique()
    rule = emulator.add_fault("fail_job", operation="CreateMachine", count=1)
    created = api.create_machine(image=image, package=PACKAGE, name=name)
    deadline = time.monotonic() + 10
    while api.get_machine(created["id"])["state"] == "provisioning":
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert api.get_machine(created["id"])["state"] == "failed"
    assert rule_counts(emulator, rule) == (1, 1)
    assert len(machines_named(api, name)) == 1


def test_an_error_status_names_its_request_id(emulator: EmulatorServer, api: CloudAPI) -> None:
    with pytest.raises(CloudAPIError) as caught:
        api.get_machine(str(uuid.uuid4()))
    request_id = caught.value.request_id
    assert request_id and f"(request {request_id})" in str(caught.value)
