"""Images made from a running machine: the machine is shut down, imaged and booted again;
image requirements keep to IMGAPI's keys; an injected failure leaves a ``failed`` image."""

from __future__ import annotations

from typing import Any

import pytest

from smartdc.emulator.context import EmulatorError
from smartdc.emulator.db import Database
from smartdc.emulator.faults import FaultPlan
from smartdc.emulator.store import catalog, images, machines
from tests.emulator.clock import Clock
from tests.emulator.test_machines_store import ACCOUNT, DELAY, OWNER, _audit, _get, _running

MANIFEST = {"name": "snap", "version": "1.0.0"}


def _viewer(clock: Clock) -> images.Viewer:
    return images.Viewer(ACCOUNT, OWNER.datacenter, clock.now)


def _image_state(db: Database, clock: Clock, image_id: str) -> str:
    image = images.get_visible(db, _viewer(clock), image_id)
    assert image is not None
    return str(image["state"])


def test_running_machine_is_stopped_imaged_and_booted(db: Database, clock: Clock) -> None:
    machine_id = _running(db, clock)["id"]
    created = images.create_from_machine(
        db, _viewer(clock), machine_id, MANIFEST, provision_delay=DELAY, caller={"type": "x"}
    )
    image_id = created.image["id"]
    seen = []
    for _ in range(8):  # the job lasts 2 provision delays
        clock.advance(DELAY / 4)
        seen.append((_get(db, clock, machine_id)["state"], _image_state(db, clock, image_id)))
    assert seen[:3] == [("stopped", "creating")] * 3
    assert seen[4:7] == [("ready", "creating")] * 3
    assert seen[7] == ("running", "active")
    entry = _audit(db, clock, machine_id)[0]
    assert (entry["action"], entry["success"], entry["caller"]) == (
        "create_image",
        "yes",
        {"type": "x"},
    )


def test_stopped_machine_stays_stopped(db: Database, clock: Clock) -> None:
    machine_id = _running(db, clock)["id"]
    machines.queue_job(
        db, OWNER, machine_id, "stop", {}, caller={}, now=clock.now, provision_delay=DELAY
    )
    clock.advance(DELAY)
    created = images.create_from_machine(
        db, _viewer(clock), machine_id, MANIFEST, provision_delay=DELAY
    )
    clock.advance(DELAY)
    assert _get(db, clock, machine_id)["state"] == "stopped"
    clock.advance(DELAY)
    assert _image_state(db, clock, created.image["id"]) == "active"
    assert _get(db, clock, machine_id)["state"] == "stopped"


def test_machine_between_states_or_provisioning_is_refused(db: Database, clock: Clock) -> None:
    machine_id = _running(db, clock)["id"]
    machines.queue_job(
        db, OWNER, machine_id, "stop", {}, caller={}, now=clock.now, provision_delay=DELAY
    )
    clock.advance(0.1)
    with pytest.raises(EmulatorError) as refused:
        images.create_from_machine(db, _viewer(clock), machine_id, MANIFEST, provision_delay=1)
    assert (refused.value.status, refused.value.code) == (409, "VmNotStopped")


def test_injected_failure_leaves_a_failed_image(db: Database, clock: Clock) -> None:
    machine_id = _running(db, clock)["id"]
    plan = FaultPlan()
    plan.add_rule({"kind": "fail_job", "job": "create_image", "count": 1})
    machines.use_job_failures(plan.take_job_failure)
    try:
        created = images.create_from_machine(
            db, _viewer(clock), machine_id, MANIFEST, provision_delay=DELAY
        )
    finally:
        machines.use_job_failures(None)
    clock.advance(DELAY)
    assert _get(db, clock, machine_id)["state"] == "running"  # a failed job changes nothing
    clock.advance(DELAY)
    image = images.get_visible(db, _viewer(clock), created.image["id"])
    assert image is not None and image["state"] == "failed"
    assert "create_image failed" in image["error"]["message"]
    assert _audit(db, clock, machine_id)[0]["success"] == "no"


def _requirement_keys(image: dict[str, Any]) -> set[str]:
    return set(image.get("requirements", {}))


def test_catalog_requirements_use_imgapi_keys_only(db: Database) -> None:
    for image in catalog.list_images(db, ACCOUNT):
        assert _requirement_keys(image) <= set(images.REQUIREMENT_FIELDS), image["name"]


def test_made_image_keeps_the_origin_requirements() -> None:
    origin = {"requirements": {"min_ram": 1024, "min_memory": 1024, "brand": "bhyve"}}
    assert images.image_requirements(origin, {"brand": "bhyve"}) == {
        "min_ram": 1024,
        "brand": "bhyve",
    }
    assert images.image_requirements({}, {"brand": "bhyve"}) == {"brand": "bhyve"}
    assert images.image_requirements({}, {"brand": "joyent"}) == {}
