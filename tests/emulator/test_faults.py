"""Fault injection: the ``/__emulator/faults`` control plane and what each fault does."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from smartdc.emulator.faults import FaultPlan, FaultSpecError
from smartdc.emulator.server import EmulatorServer
from tests.conftest import ACCOUNT
from tests.emulator.checks import error_of
from tests.emulator.signing import SignedClient, Signer

NOTHING_PENDING = {"fail_provision": 0, "throttle": 0, "unavailable": 0, "retry_after": 1}


@pytest.fixture(autouse=True)
def no_faults_left(emulator: EmulatorServer) -> Iterator[None]:
    """The emulator is shared: no test may leave a fault behind for the next one."""
    emulator.clear_faults()
    yield
    emulator.clear_faults()


def create_machine(client: SignedClient, **body: Any) -> httpx.Response:
    images = client.get(f"/{ACCOUNT}/images", params={"name": "base-64-lts"}).json()
    payload = {"image": images[-1]["id"], "package": "g4-highcpu-128M", **body}
    return client.post(f"/{ACCOUNT}/machines", json=payload)


def settled_machine(client: SignedClient, machine_id: str) -> dict[str, Any]:
    """The machine once its zero-delay provision job has finished."""
    deadline = time.monotonic() + 5
    while True:
        machine: dict[str, Any] = client.get(f"/my/machines/{machine_id}").json()
        if machine["state"] != "provisioning" or time.monotonic() > deadline:
            return machine
        time.sleep(0.01)


# --- the control plane ---------------------------------------------------------------------


def test_faults_start_empty_and_read_back_what_was_set(plain: httpx.Client) -> None:
    assert plain.get("/__emulator/faults").json() == NOTHING_PENDING
    response = plain.post("/__emulator/faults", json={"throttle": 2, "retry_after": 3})
    assert response.status_code == 200
    assert response.json() == {**NOTHING_PENDING, "throttle": 2, "retry_after": 3}
    # Counts not named stay as they were; a later POST replaces the named ones.
    plain.post("/__emulator/faults", json={"unavailable": 1})
    plain.post("/__emulator/faults", json={"throttle": 5})
    expected = {**NOTHING_PENDING, "throttle": 5, "unavailable": 1, "retry_after": 3}
    assert plain.get("/__emulator/faults").json() == expected


def test_delete_and_reset_cancel_pending_faults(plain: httpx.Client) -> None:
    plain.post("/__emulator/faults", json={"fail_provision": 1, "throttle": 1})
    assert plain.delete("/__emulator/faults").status_code == 204
    assert plain.get("/__emulator/faults").json() == NOTHING_PENDING
    plain.post("/__emulator/faults", json={"unavailable": 4, "retry_after": 9})
    assert plain.post("/__emulator/reset").status_code == 204
    assert plain.get("/__emulator/faults").json() == NOTHING_PENDING


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"explode": 1}', "unknown fault 'explode'"),
        (b'{"throttle": -1}', "throttle must be a whole number 0 or more, not -1"),
        (b'{"throttle": "2"}', "throttle must be a whole number 0 or more, not '2'"),
        (b'{"unavailable": true}', "unavailable must be a whole number 0 or more, not True"),
        (b'{"retry_after": 1.5}', "retry_after must be a whole number 0 or more, not 1.5"),
    ],
)
def test_bad_fault_requests_name_the_problem(
    plain: httpx.Client, body: bytes, message: str
) -> None:
    response = plain.post("/__emulator/faults", content=body)
    status, code, text = error_of(response)
    assert (status, code) == (400, "InvalidArgument")
    assert text.startswith(message)
    assert plain.get("/__emulator/faults").json() == NOTHING_PENDING


@pytest.mark.parametrize("body", [b"[1, 2]", b"{not json", b'"throttle"'])
def test_fault_body_must_be_a_json_object(plain: httpx.Client, body: bytes) -> None:
    assert error_of(plain.post("/__emulator/faults", content=body))[:2] == (400, "InvalidContent")


def test_wrong_control_method_is_405_and_unknown_path_404(plain: httpx.Client) -> None:
    response = plain.put("/__emulator/faults", json={})
    assert error_of(response) == (405, "MethodNotAllowedError", "PUT is not allowed")
    assert response.headers["allow"] == "GET, POST, DELETE"
    assert error_of(plain.put("/__emulator/nothing", json={})) == (
        404,
        "ResourceNotFound",
        "PUT /__emulator/nothing is not a control operation",
    )


def test_faults_are_shared_by_every_datacenter(emulator: EmulatorServer) -> None:
    second = emulator.urls["us-test-2"]
    httpx.post(f"{second}/__emulator/faults", json={"throttle": 1})
    assert emulator.pending_faults()["throttle"] == 1
    assert httpx.get(f"{emulator.url}/__emulator/faults").json()["throttle"] == 1


def test_server_inject_sets_counts_and_refuses_negative_ones(emulator: EmulatorServer) -> None:
    pending = emulator.inject(fail_provision=2, unavailable=1, retry_after=0)
    assert pending == {"fail_provision": 2, "throttle": 0, "unavailable": 1, "retry_after": 0}
    with pytest.raises(ValueError, match="throttle must be a whole number"):
        emulator.inject(throttle=-3)
    assert emulator.pending_faults() == pending


def test_the_control_plane_stays_out_of_openapi(plain: httpx.Client) -> None:
    paths = plain.get("/openapi.json").json()["paths"]
    assert not [p for p in paths if "__emulator" in p]


# --- throttling and maintenance ------------------------------------------------------------


def test_throttle_answers_429_as_cloudapi_does(
    emulator: EmulatorServer, client: SignedClient
) -> None:
    emulator.inject(throttle=2)
    for _ in range(2):
        response = client.get("/my/keys")
        assert error_of(response) == (
            429,
            "TooManyRequestsError",
            "You have exceeded your request rate of 10 r/s.",
        )
        # A full CloudAPI response (it passed authentication), without Retry-After.
        assert response.headers["server"] == "cloudapi/9.20.0"
        assert "request-id" in response.headers
        assert "retry-after" not in response.headers
    assert client.get("/my/keys").status_code == 200
    assert emulator.pending_faults()["throttle"] == 0


def test_unavailable_answers_503_with_retry_after(
    emulator: EmulatorServer, client: SignedClient
) -> None:
    emulator.inject(unavailable=1, retry_after=7)
    response = client.post("/my", json={"companyName": "Never Stored"})
    status, code, _ = error_of(response)
    assert (status, code) == (503, "ServiceUnavailableError")
    assert response.headers["retry-after"] == "7"
    assert response.headers["server"] == "cloudapi/9.20.0"
    # The request never reached its handler.
    assert client.get("/my").json().get("companyName") != "Never Stored"


def test_throttle_comes_before_maintenance(emulator: EmulatorServer, client: SignedClient) -> None:
    emulator.inject(throttle=1, unavailable=1)
    assert client.get("/my").status_code == 429
    assert client.get("/my").status_code == 503
    assert client.get("/my").status_code == 200


def test_unsigned_and_rejected_requests_use_no_fault_up(
    emulator: EmulatorServer, plain: httpx.Client, signer: Signer
) -> None:
    emulator.inject(throttle=1, unavailable=1)
    assert plain.get("/--ping").status_code == 200
    assert plain.get("/my/keys").status_code == 401
    assert plain.get("/my/no-such-route/x/y").status_code == 404
    assert emulator.pending_faults()["throttle"] == 1
    assert emulator.pending_faults()["unavailable"] == 1


def test_signed_ping_is_not_throttled(emulator: EmulatorServer, client: SignedClient) -> None:
    emulator.inject(throttle=1)
    assert client.get("/--ping").json()["ping"] == "pong"
    assert emulator.pending_faults()["throttle"] == 1


# --- failed provisions ---------------------------------------------------------------------


def test_fail_provision_leaves_a_failed_machine_with_a_failed_audit(
    emulator: EmulatorServer, client: SignedClient
) -> None:
    emulator.inject(fail_provision=1)
    created = create_machine(client)
    assert created.status_code == 201, created.text
    assert created.json()["state"] == "provisioning"
    machine = settled_machine(client, created.json()["id"])
    assert machine["state"] == "failed"
    assert machine["ips"] == [] and "compute_node" not in machine
    audit = client.get(f"/my/machines/{machine['id']}/audit").json()
    assert [(e["action"], e["success"]) for e in audit] == [("provision", "no")]
    # Only the next N provisions fail.
    after = create_machine(client)
    assert settled_machine(client, after.json()["id"])["state"] == "running"
    # A failed machine can be deleted.
    assert client.delete(f"/my/machines/{machine['id']}").status_code == 204
    assert settled_machine(client, machine["id"])["state"] == "deleted"
    for made in (machine["id"], after.json()["id"]):
        client.delete(f"/my/machines/{made}")


def test_a_refused_create_does_not_use_up_a_failed_provision(
    emulator: EmulatorServer, client: SignedClient
) -> None:
    emulator.inject(fail_provision=1)
    refused = create_machine(client, name="bad name!")
    assert error_of(refused)[:2] == (409, "ValidationFailed")
    assert emulator.pending_faults()["fail_provision"] == 1
    created = create_machine(client)
    assert settled_machine(client, created.json()["id"])["state"] == "failed"
    assert emulator.pending_faults()["fail_provision"] == 0
    client.delete(f"/my/machines/{created.json()['id']}")


# --- the plan itself -----------------------------------------------------------------------


def test_plan_take_counts_down_and_give_back_restores() -> None:
    plan = FaultPlan()
    plan.set(fail_provision=1)
    assert plan.take("fail_provision") is True
    assert plan.take("fail_provision") is False
    plan.give_back("fail_provision")
    assert plan.pending()["fail_provision"] == 1
    with pytest.raises(FaultSpecError, match="unknown fault 'boom'"):
        plan.set(boom=1)
