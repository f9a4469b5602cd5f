"""Fault rules (``/__emulator/faults/rules``) and CloudAPI's per-account rate limit."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from smartdc.emulator.faults import (
    FaultPlan,
    FaultSpecError,
    RateLimit,
    RateLimiter,
    RequestFacts,
    handling,
)
from smartdc.emulator.server import EmulatorServer
from tests.conftest import ACCOUNT, TestKey, make_key
from tests.emulator.checks import error_of
from tests.emulator.own_emulator import OTHER, create_machine, two_account_server
from tests.emulator.signing import SignedClient, Signer

RULES = "/__emulator/faults/rules"


@pytest.fixture(autouse=True)
def no_faults_left(emulator: EmulatorServer) -> Iterator[None]:
    """The emulator is shared: no test may leave a rule behind for the next one."""
    emulator.clear_faults()
    yield
    emulator.clear_faults()


def _add(plain: httpx.Client, **spec: Any) -> dict[str, Any]:
    response = plain.post(RULES, json=spec)
    assert response.status_code == 201, response.text
    rule: dict[str, Any] = response.json()
    return rule


def _key_names(client: SignedClient) -> set[str]:
    return {key["name"] for key in client.get("/my/keys").json()}


def _create_key(client: SignedClient, key: TestKey, name: str) -> httpx.Response:
    return client.post("/my/keys", json={"key": key.pub_path.read_text(), "name": name})


@pytest.fixture
def fresh_key(tmp_path: Path) -> TestKey:
    """A key the account does not have yet."""
    return make_key(tmp_path, "fresh", "ed25519", "256", "RFC4716", None)


# --- the control plane ---------------------------------------------------------------------


def test_rules_are_listed_read_and_removed(plain: httpx.Client) -> None:
    rule = _add(plain, kind="throttle", operation="ListKeys", count=2)
    assert rule == {
        "id": rule["id"],
        "kind": "throttle",
        "operation": "ListKeys",
        "count": 2,
        "matched": 0,
        "fired": 0,
    }
    other = _add(plain, kind="slow", path="/*/machines*", seconds=0.5)
    assert [r["id"] for r in plain.get(RULES).json()] == [rule["id"], other["id"]]
    assert plain.get(f"{RULES}/{other['id']}").json()["seconds"] == 0.5
    assert plain.delete(f"{RULES}/{rule['id']}").status_code == 204
    assert error_of(plain.delete(f"{RULES}/{rule['id']}"))[:2] == (404, "ResourceNotFound")
    assert plain.delete(RULES).status_code == 204
    assert plain.get(RULES).json() == []


def test_delete_faults_and_reset_remove_rules_too(plain: httpx.Client) -> None:
    _add(plain, kind="unavailable")
    assert plain.delete("/__emulator/faults").status_code == 204
    assert plain.get(RULES).json() == []
    _add(plain, kind="unavailable")
    assert plain.post("/__emulator/reset").status_code == 204
    assert plain.get(RULES).json() == []


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"kind": "explode"}, "kind must be one of throttle, unavailable, slow,"),
        ({"kind": "throttle", "operation": "ListKyes"}, "unknown operation 'ListKyes'"),
        ({"kind": "throttle", "seconds": 1}, "unknown field 'seconds' for a throttle rule"),
        ({"kind": "slow", "seconds": 9999}, "seconds must be 0 to 300"),
        ({"kind": "unavailable", "probability": 0}, "probability must be above 0 and at most 1"),
        ({"kind": "unavailable", "seed": 3}, "seed only applies with a probability"),
        ({"kind": "drop_request", "count": 0}, "count must be a whole number 1 or more"),
        ({"kind": "fail_job", "method": "FETCH"}, "method must be one of GET, HEAD,"),
        ({"kind": "fail_job", "path": "machines"}, "path must be a glob on the request path"),
    ],
)
def test_bad_rules_name_the_problem(
    plain: httpx.Client, spec: dict[str, Any], message: str
) -> None:
    status, code, text = error_of(plain.post(RULES, json=spec))
    assert (status, code) == (400, "InvalidArgument")
    assert text.startswith(message)
    assert plain.get(RULES).json() == []


def test_rule_paths_and_methods_are_checked(plain: httpx.Client) -> None:
    assert plain.put(RULES, json={}).headers["allow"] == "GET, POST, DELETE"
    assert plain.post(f"{RULES}/rule-1").headers["allow"] == "GET, DELETE"
    assert error_of(plain.post(RULES, content=b"[]"))[:2] == (400, "InvalidContent")


# --- what rules do -------------------------------------------------------------------------


def test_throttle_rule_hits_only_its_operation_and_count(
    plain: httpx.Client, client: SignedClient
) -> None:
    rule = _add(plain, kind="throttle", operation="ListKeys", count=2)
    assert client.get("/my").status_code == 200
    for _ in range(2):
        assert error_of(client.get("/my/keys")) == (
            429,
            "TooManyRequestsError",
            "You have exceeded your request rate of 10 r/s.",
        )
    assert client.get("/my/keys").status_code == 200
    assert plain.get(f"{RULES}/{rule['id']}").json()["fired"] == 2


def test_unavailable_rule_by_method_and_path(
    plain: httpx.Client, client: SignedClient, fresh_key: TestKey
) -> None:
    _add(plain, kind="unavailable", method="POST", path="/*/keys", retry_after=4)
    response = _create_key(client, fresh_key, "never")
    assert error_of(response)[:2] == (503, "ServiceUnavailableError")
    assert response.headers["retry-after"] == "4"
    assert client.get("/my/keys").status_code == 200


def test_after_lets_the_first_matches_through(plain: httpx.Client, client: SignedClient) -> None:
    _add(plain, kind="unavailable", operation="GetAccount", after=1, count=1)
    assert [client.get("/my").status_code for _ in range(3)] == [200, 503, 200]


def test_probability_with_a_seed_repeats_exactly(plain: httpx.Client, client: SignedClient) -> None:
    def run() -> list[int]:
        _add(plain, kind="throttle", operation="GetAccount", probability=0.5, seed=7)
        statuses = [client.get("/my").status_code for _ in range(16)]
        plain.delete(RULES)
        return statuses

    first = run()
    assert set(first) == {200, 429}
    assert run() == first


def test_requests_that_fail_authentication_do_not_use_a_rule_up(
    plain: httpx.Client, client: SignedClient
) -> None:
    rule = _add(plain, kind="throttle", count=1)
    assert plain.get("/my").status_code == 401
    assert plain.get("/--ping").status_code == 200
    assert client.get("/my").status_code == 429
    assert plain.get(f"{RULES}/{rule['id']}").json()["matched"] == 1


def test_the_control_plane_is_never_hit_by_rules(plain: httpx.Client) -> None:
    _add(plain, kind="drop_request")
    assert plain.get("/__emulator/faults").status_code == 200
    assert plain.get("/openapi.json").status_code == 200


def test_slow_rule_holds_the_response_back(plain: httpx.Client, client: SignedClient) -> None:
    _add(plain, kind="slow", operation="GetAccount", seconds=0.3, count=1)
    started = time.monotonic()
    assert client.get("/my").status_code == 200
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    client.get("/my")
    assert time.monotonic() - started < 0.3


def test_drop_request_closes_the_connection_before_anything_happens(
    plain: httpx.Client, client: SignedClient, fresh_key: TestKey
) -> None:
    _add(plain, kind="drop_request", operation="CreateKey", count=1)
    with pytest.raises(httpx.RemoteProtocolError):
        _create_key(client, fresh_key, "dropped-before")
    assert "dropped-before" not in _key_names(client)
    # The next one goes through.
    assert _create_key(client, fresh_key, "dropped-before").status_code == 201
    client.delete("/my/keys/dropped-before")


def test_drop_response_loses_the_answer_but_not_the_change(
    plain: httpx.Client, client: SignedClient, fresh_key: TestKey
) -> None:
    _add(plain, kind="drop_response", operation="CreateKey", count=1)
    with pytest.raises(httpx.RemoteProtocolError):
        _create_key(client, fresh_key, "dropped-after")
    try:
        assert "dropped-after" in _key_names(client)
        # A retry sees the key already there, as it would on Triton.
        assert _create_key(client, fresh_key, "dropped-after").status_code == 409
    finally:
        client.delete("/my/keys/dropped-after")


def _wait_for(client: SignedClient, machine_id: str, state: str) -> None:
    deadline = time.monotonic() + 5
    while client.get(f"/my/machines/{machine_id}").json()["state"] != state:
        assert time.monotonic() < deadline, state
        time.sleep(0.01)


def test_rules_see_the_action_named_in_the_body(plain: httpx.Client, client: SignedClient) -> None:
    machine = create_machine(client)
    try:
        _add(plain, kind="unavailable", operation="StartMachine")
        _add(plain, kind="drop_response", operation="StopMachine", count=1)
        with pytest.raises(httpx.RemoteProtocolError):
            client.post(f"/my/machines/{machine['id']}", json={"action": "stop"})
        _wait_for(client, machine["id"], "stopped")
        response = client.post(f"/my/machines/{machine['id']}", json={"action": "start"})
        assert error_of(response)[:2] == (503, "ServiceUnavailableError")
    finally:
        client.delete(f"/my/machines/{machine['id']}")


def test_fail_job_rule_fails_a_provision(
    emulator: EmulatorServer, plain: httpx.Client, client: SignedClient
) -> None:
    rule = _add(plain, kind="fail_job", operation="CreateMachine", job="provision", count=1)
    images = client.get("/my/images", params={"name": "base-64-lts"}).json()
    payload = {"image": images[-1]["id"], "package": "g4-highcpu-128M"}
    refused = client.post("/my/machines", json={**payload, "name": "bad name!"})
    assert error_of(refused)[:2] == (409, "ValidationFailed")
    assert plain.get(f"{RULES}/{rule['id']}").json()["fired"] == 0  # given back
    created = client.post("/my/machines", json=payload)
    assert created.status_code == 201, created.text
    machine_id = created.json()["id"]
    _wait_for(client, machine_id, "failed")
    assert plain.get(f"{RULES}/{rule['id']}").json()["fired"] == 1
    client.delete(f"/my/machines/{machine_id}")


def test_server_methods_manage_rules(emulator: EmulatorServer, client: SignedClient) -> None:
    rule = emulator.add_fault("unavailable", operation="ListKeys", count=1, retry_after=2)
    assert [r["id"] for r in emulator.fault_rules()] == [rule["id"]]
    assert client.get("/my/keys").headers["retry-after"] == "2"
    emulator.remove_fault(rule["id"])
    with pytest.raises(KeyError):
        emulator.remove_fault(rule["id"])
    with pytest.raises(ValueError, match="unknown operation"):
        emulator.add_fault("throttle", operation="Nope")


# --- the plan's job hook --------------------------------------------------------------------


def test_job_failures_for_any_kind_of_job() -> None:
    plan = FaultPlan()
    plan.add_rule({"kind": "fail_job", "job": "snapshot*", "count": 1})
    assert plan.take_job_failure("start") is False
    with handling(RequestFacts("POST", "/my/machines/x/snapshots")):
        assert plan.take_job_failure("snapshot_create") is True
        plan.give_back_job_failure("snapshot_create")
    assert plan.rules()[0]["fired"] == 0
    assert plan.take_job_failure("snapshot_create") is True
    assert plan.take_job_failure("snapshot_create") is False  # count used up
    with pytest.raises(FaultSpecError):
        plan.add_rule({"kind": "fail_job", "job": ""})


# --- CloudAPI's rate limit ------------------------------------------------------------------


def test_rate_limiter_is_a_token_bucket() -> None:
    now = [0.0]
    limiter = RateLimiter(RateLimit(burst=3, rate=2), clock=lambda: now[0])
    assert [limiter.admit("alice") for _ in range(4)] == [True, True, True, False]
    assert limiter.admit("bob") is True  # buckets are per key
    now[0] += 0.5  # one token back at 2 a second
    assert [limiter.admit("alice") for _ in range(2)] == [True, False]
    now[0] += 60  # never more than the burst
    assert [limiter.admit("alice") for _ in range(4)] == [True, True, True, False]
    limiter.configure(None)
    assert all(limiter.admit("alice") for _ in range(50))


def test_the_rate_limit_is_off_by_default(plain: httpx.Client, client: SignedClient) -> None:
    assert plain.get("/__emulator/rate-limit").json() == {
        "enabled": False,
        "burst": 30,
        "rate": 10.0,
    }
    assert {client.get("/my").status_code for _ in range(40)} == {200}


def test_the_rate_limit_throttles_each_account(tmp_path: Path, keys: dict[str, TestKey]) -> None:
    server = two_account_server(keys, tmp_path)
    server.rate_limit = RateLimit(burst=3, rate=0.01)
    with server:
        mine = SignedClient(server.url, Signer(keys["rsa"]))
        theirs = SignedClient(server.url, Signer(keys["ed25519"], login=OTHER))
        assert [mine.get("/my").status_code for _ in range(3)] == [200, 200, 200]
        response = mine.get("/my")
        assert error_of(response) == (
            429,
            "TooManyRequestsError",
            "You have exceeded your request rate of 0.01 r/s.",
        )
        assert response.headers["server"] == "cloudapi/9.20.0"
        assert "retry-after" not in response.headers
        # Another account has its own bucket; unsigned requests and Ping use none.
        assert theirs.get("/my").status_code == 200
        assert httpx.get(f"{server.url}/my").status_code == 401
        assert httpx.get(f"{server.url}/--ping").status_code == 200
        # A reset refills the buckets.
        httpx.post(f"{server.url}/__emulator/reset")
        assert mine.get("/my").status_code == 200
        mine.close()
        theirs.close()


def test_the_rate_limit_is_switched_on_the_control_plane(
    tmp_path: Path, keys: dict[str, TestKey]
) -> None:
    registry: dict[str, list[str | os.PathLike[str]]] = {ACCOUNT: [keys["rsa"].pub_path]}
    with EmulatorServer(registry, provision_delay=0) as server:
        control = f"{server.url}/__emulator/rate-limit"
        client = SignedClient(server.url, Signer(keys["rsa"]))
        reply = httpx.post(control, json={"enabled": True, "burst": 2, "rate": 0.5})
        assert reply.json() == {"enabled": True, "burst": 2, "rate": 0.5}
        assert [client.get("/my").status_code for _ in range(3)] == [200, 200, 429]
        assert httpx.post(control, json={"enabled": False}).json()["enabled"] is False
        assert client.get("/my").status_code == 200
        bad = httpx.post(control, json={"burst": 0})
        assert error_of(bad)[:2] == (400, "InvalidArgument")
        assert error_of(httpx.post(control, json={"speed": 1}))[:2] == (400, "InvalidArgument")
        client.close()


def test_rate_limit_option() -> None:
    from smartdc.emulator.server import build_parser

    assert build_parser().parse_args(["--rate-limit"]).rate_limit is True
    assert build_parser().parse_args([]).rate_limit is False
