"""A reboot's ``stopping`` then ``ready`` states, and jobs made to fail by ``fail_job`` rules."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from smartdc.emulator import lifecycle
from smartdc.emulator.db import Database
from smartdc.emulator.faults import FaultPlan
from smartdc.emulator.server import EmulatorServer
from smartdc.emulator.store import machines
from tests.emulator.clock import Clock
from tests.emulator.own_emulator import create_machine
from tests.emulator.signing import SignedClient
from tests.emulator.test_machines_store import DELAY, _audit, _get, _queue, _running

# --- reboot: stopping, then ready, then running --------------------------------------------


def test_reboot_shows_stopping_then_ready_then_running(db: Database, clock: Clock) -> None:
    machine_id = _running(db, clock)["id"]
    _queue(db, clock, machine_id, "reboot")  # lasts DELAY / 2
    clock.advance(DELAY / 8)
    assert _get(db, clock, machine_id)["state"] == "stopping"
    clock.advance(DELAY / 4)
    rebooting = _get(db, clock, machine_id)
    assert rebooting["state"] == "ready"
    assert rebooting["nics"][0]["state"] == "running"
    clock.advance(DELAY / 4)
    assert _get(db, clock, machine_id)["state"] == "running"
    assert _audit(db, clock, machine_id)[0]["action"] == "reboot"


def test_ready_is_reached_on_time_for_the_scheduler(db: Database, clock: Clock) -> None:
    machine_id = _running(db, clock)["id"]
    _queue(db, clock, machine_id, "reboot")
    clock.advance(0.001)
    due = machines.settle_due(db, clock.now)
    assert due is not None
    assert due == round((clock.now - 0.001) * 1000) + round(DELAY / 4 * 1000)
    assert machines.settle_due(db, due / 1000) is not None
    assert _get(db, clock, machine_id)["state"] == "ready"


def test_stop_does_not_pass_through_ready(db: Database, clock: Clock) -> None:
    machine_id = _running(db, clock)["id"]
    _queue(db, clock, machine_id, "stop")
    clock.advance(DELAY * 0.4)
    assert _get(db, clock, machine_id)["state"] == "stopping"


def test_every_job_that_reboots_a_running_machine_shows_ready() -> None:
    for action in ("reboot", "rollback_snapshot", "add_nics", "remove_nics", "create_image"):
        assert lifecycle.late_state(action, lifecycle.RUNNING) == lifecycle.READY
    assert lifecycle.late_state("stop", lifecycle.RUNNING) is None
    assert lifecycle.late_state("add_nics", lifecycle.STOPPED) is None


# --- jobs that must fail -------------------------------------------------------------------


def test_a_job_made_to_fail_keeps_the_state(db: Database, clock: Clock) -> None:
    machine_id = _running(db, clock)["id"]
    plan = FaultPlan()
    plan.add_rule({"kind": "fail_job", "job": "stop", "count": 1})
    machines.use_job_failures(plan.take_job_failure)
    try:
        _queue(db, clock, machine_id, "rename", name="kept")
        _queue(db, clock, machine_id, "stop")
        clock.advance(DELAY)
        assert _get(db, clock, machine_id)["state"] == "running"
        entries = [(e["action"], e["success"]) for e in _audit(db, clock, machine_id)]
        assert entries[:2] == [("stop", "no"), ("rename", "yes")]
        _queue(db, clock, machine_id, "stop")  # the rule's one failure is used up
        clock.advance(DELAY)
        assert _get(db, clock, machine_id)["state"] == "stopped"
    finally:
        machines.use_job_failures(None)


@pytest.fixture
def no_rules(emulator: EmulatorServer) -> Iterator[None]:
    emulator.clear_faults()
    yield
    emulator.clear_faults()


def _state_after(client: SignedClient, machine_id: str, action: str) -> list[dict[str, Any]]:
    """Wait until the machine's newest audit entry is ``action``; return the audit."""
    deadline = time.monotonic() + 5
    while True:
        audit: list[dict[str, Any]] = client.get(f"/my/machines/{machine_id}/audit").json()
        if audit and audit[0]["action"] == action:
            return audit
        assert time.monotonic() < deadline, audit
        time.sleep(0.02)


def test_fail_job_rule_fails_a_stop_over_http(
    emulator: EmulatorServer, client: SignedClient, plain: httpx.Client, no_rules: None
) -> None:
    machine = create_machine(client)
    try:
        rule = emulator.add_fault("fail_job", job="stop", count=1)
        accepted = client.post(f"/my/machines/{machine['id']}", json={"action": "stop"})
        assert accepted.status_code == 202
        audit = _state_after(client, machine["id"], "stop")
        assert audit[0]["success"] == "no"
        assert client.get(f"/my/machines/{machine['id']}").json()["state"] == "running"
        assert emulator.fault_rules()[0]["fired"] == 1 and rule["job"] == "stop"
        # tags are another kind of job: the stop rule leaves them alone
        tagged = client.post(f"/my/machines/{machine['id']}/tags", json={"role": "db"})
        assert tagged.status_code == 200
        assert _state_after(client, machine["id"], "set_tags")[0]["success"] == "yes"
    finally:
        emulator.clear_faults()
        client.delete(f"/my/machines/{machine['id']}")


def test_refused_request_uses_no_failure(
    emulator: EmulatorServer, client: SignedClient, no_rules: None
) -> None:
    machine = create_machine(client)
    try:
        emulator.add_fault("fail_job", job="rename", count=1)
        refused = client.post(
            f"/my/machines/{machine['id']}", json={"action": "rename", "name": "bad name!"}
        )
        assert refused.status_code == 409
        assert emulator.fault_rules()[0]["fired"] == 0
        renamed = client.post(
            f"/my/machines/{machine['id']}", json={"action": "rename", "name": "renamed-ok"}
        )
        assert renamed.status_code == 202
        assert _state_after(client, machine["id"], "rename")[0]["success"] == "no"
        assert client.get(f"/my/machines/{machine['id']}").json()["name"] != "renamed-ok"
    finally:
        emulator.clear_faults()
        client.delete(f"/my/machines/{machine['id']}")
