"""The transition table, job durations and the UnallocatedVM rule."""

from __future__ import annotations

import pytest

from smartdc.emulator import lifecycle
from smartdc.emulator.context import EmulatorError


@pytest.mark.parametrize(
    ("action", "state", "during", "after"),
    [
        ("provision", "provisioning", None, "running"),
        ("start", "stopped", None, "running"),
        ("stop", "running", "stopping", "stopped"),
        ("reboot", "running", "stopping", "running"),
        ("destroy", "running", "stopping", "deleted"),
        ("destroy", "stopped", "stopping", "deleted"),
        ("destroy", "failed", None, "deleted"),
        ("rollback_snapshot", "stopped", None, "running"),
        ("rename", "stopped", None, "stopped"),
        ("set_tags", "running", None, "running"),
    ],
)
def test_allowed_transitions(action: str, state: str, during: str | None, after: str) -> None:
    start = lifecycle.begin(action, state)
    assert start.ok and start.during == during and start.error is None
    assert lifecycle.finish(action, state, True) == after


@pytest.mark.parametrize(
    ("action", "state"),
    [
        ("stop", "stopped"),
        ("start", "running"),
        ("reboot", "stopped"),
        ("destroy", "deleted"),
        ("set_metadata", "deleted"),
        ("start", "failed"),
    ],
)
def test_wrong_state_fails_and_keeps_the_state(action: str, state: str) -> None:
    start = lifecycle.begin(action, state)
    assert not start.ok and start.during is None
    assert start.error == f"Cannot {action} a VM from a '{state}' state"
    assert lifecycle.finish(action, state, False) == state


def test_failed_provision_leaves_the_machine_failed() -> None:
    assert lifecycle.finish("provision", "provisioning", False) == "failed"


def test_durations_scale_with_the_provision_delay() -> None:
    assert lifecycle.duration_ms("provision", 10) == 10_000
    assert lifecycle.duration_ms("stop", 10) == 5_000
    assert lifecycle.duration_ms("set_tags", 10) == 2_000
    assert lifecycle.duration_ms("set_metadata", 10) == 2_000


def test_zero_delay_still_finishes_after_the_request() -> None:
    assert lifecycle.duration_ms("provision", 0) == 1
    assert lifecycle.duration_ms("reboot", 0) == 1
    assert lifecycle.duration_ms("set_metadata", 0) == 500
    assert lifecycle.duration_ms("remove_metadata", 0.1) == 500


def test_unallocated_vm_names_the_vmapi_action() -> None:
    with pytest.raises(EmulatorError) as caught:
        lifecycle.check_allocated("start", "provisioning")
    assert (caught.value.status, caught.value.code) == (409, "UnallocatedVM")
    assert caught.value.message == "Cannot call start for a VM that has not been provisioned yet"
    with pytest.raises(EmulatorError) as caught:
        lifecycle.check_allocated("rename", "provisioning")
    assert caught.value.message == "Cannot call update for a VM that has not been provisioned yet"
    lifecycle.check_allocated("set_tags", "provisioning")
    lifecycle.check_allocated("start", "running")


def test_every_action_has_a_row() -> None:
    for action in ("provision", "destroy", *lifecycle.UPDATE_ACTIONS):
        assert lifecycle.known_action(action)
    assert not lifecycle.known_action("levitate")
