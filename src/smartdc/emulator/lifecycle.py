"""Machine lifecycle: one table says what every job does to a machine's state.

The rules, which are the whole state machine:

1. Every change to a machine is a *job* with an action name, the name MachineAudit shows
   (``provision``, ``start``, ``stop``, ``reboot``, ``destroy``, ``rename``, ``set_tags`` ...).
   Jobs on one machine run one at a time, in the order they were accepted, as VMAPI's
   per-VM workflow lock makes them: a job starts when the one before it finishes.
2. When a job starts, :data:`TRANSITIONS` is looked up with the job's action and the machine's
   state at that moment. A matching :class:`Step` means the job will succeed: the machine shows
   ``Step.during`` (if any) while the job runs and ``Step.after`` (``None``: unchanged) once it
   finishes. No matching step means the job fails: the state never changes and the audit entry
   says ``success: "no"``. CloudAPI never refuses a wrong-state start/stop/reboot up front; it
   answers 202 and the job fails later. A job that fails for another reason (an injected
   failure, a missing snapshot) also leaves the state as it was.
3. A step may name a ``late`` state, shown for the second half of the job instead of
   ``during``: a rebooting machine shows ``stopping`` while its zone shuts down, then ``ready``
   while it boots again (vmadm's ``ready`` zone state, which CloudAPI passes through as
   ``ready``), then ``running``. Every job that reboots a running machine (reboot, snapshot
   rollback, NIC changes, image creation) does this.
4. The only synchronous state refusal is VMAPI's 409 ``UnallocatedVM`` for an action on a
   machine that is still ``provisioning`` (:func:`check_allocated`); image creation also
   refuses a machine caught between states (409 ``VmNotStopped``, in the image store).
5. A provision job that fails leaves the machine ``failed``; a failed machine can only be
   destroyed.
6. A job lasts a fraction of the configured provision delay (:data:`DELAY_FRACTIONS`):
   provision 1, image creation 2, power actions (start, stop, reboot, destroy, snapshot
   rollback, NIC changes) 1/2, every other job (updates and snapshots) 1/5. Every job lasts
   at least 1 ms, so a job finishes strictly after the request that queued it even with a
   delay of 0; ``triton reboot -w`` looks for an audit time later than the response's
   ``Date`` header. Metadata jobs last at least 0.5 s: ``triton metadata set -w`` compares
   the audit time with a clock it reads *after* the response arrives.
7. A finished job becomes an audit entry whose ``time`` is the finish time.
8. Nothing runs in the background: the store applies due starts and finishes whenever it
   reads a machine, using the caller's clock, so tests control time completely.

Times here are integer milliseconds since the epoch.
"""

from __future__ import annotations

from dataclasses import dataclass

from smartdc.emulator.context import EmulatorError

PROVISIONING = "provisioning"
RUNNING = "running"
STOPPING = "stopping"
READY = "ready"
STOPPED = "stopped"
OFFLINE = "offline"
FAILED = "failed"
DELETED = "deleted"

#: States ListMachines treats as "active" (everything but destroyed and failed machines).
INACTIVE_STATES = frozenset({DELETED, FAILED})


@dataclass(frozen=True)
class Step:
    """What a job does from one state: the state while it runs (``late``, when given, for its
    second half), and afterwards."""

    during: str | None
    after: str | None
    late: str | None = None


_UNCHANGED = Step(None, None)
#: A running machine's zone halts, is readied, and boots again.
_REBOOT = Step(STOPPING, RUNNING, late=READY)
#: Update jobs (rename, tags, metadata, snapshots ...) run on any settled, allocated machine.
_UPDATE_FROM = {RUNNING: _UNCHANGED, STOPPED: _UNCHANGED, OFFLINE: _UNCHANGED}

UPDATE_ACTIONS: tuple[str, ...] = (
    "rename",
    "resize",
    "set_metadata",
    "remove_metadata",
    "replace_metadata",
    "set_tags",
    "remove_tags",
    "replace_tags",
    "enable_deletion_protection",
    "disable_deletion_protection",
    "unknown",  # firewall toggles: VMAPI names the update job after no single field
    "create_snapshot",
    "delete_snapshot",
)

#: Migration phases run on a settled machine and leave its state alone; the
#: switch moves it to another compute node.
MIGRATION_ACTIONS: tuple[str, ...] = (
    "migrate-begin",
    "migrate-sync",
    "migrate-switch",
    "migrate-abort",
)

#: action -> {state when the job starts -> Step}. A state that is absent fails the job.
TRANSITIONS: dict[str, dict[str, Step]] = {
    "provision": {PROVISIONING: Step(None, RUNNING)},
    "start": {STOPPED: Step(None, RUNNING)},
    "stop": {RUNNING: Step(STOPPING, STOPPED)},
    "reboot": {RUNNING: _REBOOT},
    "destroy": {
        RUNNING: Step(STOPPING, DELETED),
        STOPPED: Step(STOPPING, DELETED),
        OFFLINE: Step(None, DELETED),
        FAILED: Step(None, DELETED),
    },
    "rollback_snapshot": {RUNNING: _REBOOT, STOPPED: Step(None, RUNNING)},
    # Plugging a NIC in or out reboots a running machine; a stopped one stays stopped.
    "add_nics": {RUNNING: _REBOOT, STOPPED: _UNCHANGED},
    "remove_nics": {RUNNING: _REBOOT, STOPPED: _UNCHANGED},
    # imgadm's prepare-image run shuts the machine down; the image is made from the stopped
    # machine, which then boots again if it was running (sdc-imgapi create-from-vm workflow).
    "create_image": {RUNNING: Step(STOPPED, RUNNING, late=READY), STOPPED: _UNCHANGED},
    # Disks of a bhyve machine change only while it is stopped.
    **{action: {STOPPED: _UNCHANGED} for action in ("create_disk", "resize_disk", "delete_disk")},
    **{action: _UPDATE_FROM for action in UPDATE_ACTIONS},
    **{action: _UPDATE_FROM for action in MIGRATION_ACTIONS},
}

#: Actions with a ``late`` state from some starting state.
LATE_ACTIONS: frozenset[str] = frozenset(
    action for action, steps in TRANSITIONS.items() if any(s.late for s in steps.values())
)

#: Share of the provision delay each action takes; actions not listed take 1/5.
DELAY_FRACTIONS: dict[str, float] = {
    "provision": 1.0,
    "create_image": 2.0,
    "start": 0.5,
    "stop": 0.5,
    "reboot": 0.5,
    "destroy": 0.5,
    "rollback_snapshot": 0.5,
    "add_nics": 0.5,
    "remove_nics": 0.5,
    "migrate-begin": 0.5,
    "migrate-sync": 0.5,
    "migrate-switch": 0.5,
    # Volume jobs: their storage VM's provision and destroy.
    "create_volume": 1.0,
    "delete_volume": 0.5,
}
DEFAULT_FRACTION = 0.2

#: Shortest duration of each action, in milliseconds; actions not listed take at least 1 ms.
MIN_DURATION_MS: dict[str, int] = {
    "set_metadata": 500,
    "remove_metadata": 500,
    "replace_metadata": 500,
}
DEFAULT_MIN_MS = 1

#: The VMAPI action named in UnallocatedVM errors, for jobs VMAPI routes through its
#: ``?action=`` endpoint (metadata and tag jobs go through other endpoints and are not checked).
_VMAPI_ACTION: dict[str, str] = {
    "start": "start",
    "stop": "stop",
    "reboot": "reboot",
    "rename": "update",
    "resize": "update",
    "unknown": "update",
    "enable_deletion_protection": "update",
    "disable_deletion_protection": "update",
    "create_snapshot": "create_snapshot",
    "rollback_snapshot": "rollback_snapshot",
    "delete_snapshot": "delete_snapshot",
    "add_nics": "add_nics",
    "remove_nics": "remove_nics",
    "create_disk": "create_disk",
    "resize_disk": "resize_disk",
    "delete_disk": "delete_disk",
    "create_image": "create_image",
    **{action: "migrate" for action in MIGRATION_ACTIONS},
}


def known_action(action: str) -> bool:
    """Whether the table knows this job action."""
    return action in TRANSITIONS


def duration_ms(action: str, provision_delay: float) -> int:
    """How long a job of this action runs, given the configured provision delay (seconds)."""
    fraction = DELAY_FRACTIONS.get(action, DEFAULT_FRACTION)
    scaled = round(max(provision_delay, 0.0) * fraction * 1000)
    return max(scaled, MIN_DURATION_MS.get(action, DEFAULT_MIN_MS))


@dataclass(frozen=True)
class Start:
    """The decision taken when a job starts."""

    ok: bool
    during: str | None
    error: str | None = None


def begin(action: str, state: str) -> Start:
    """Decide whether a job of ``action`` succeeds, given the machine's state as it starts."""
    step = TRANSITIONS[action].get(state)
    if step is None:
        return Start(False, None, f"Cannot {action} a VM from a '{state}' state")
    return Start(True, step.during)


def late_state(action: str, state_before: str) -> str | None:
    """The state a succeeding job shows in its second half (``None``: as in its first)."""
    step = TRANSITIONS[action].get(state_before)
    return None if step is None else step.late


def midpoint_ms(start_ms: int, finish_ms: int) -> int:
    """When a job's second half begins."""
    return start_ms + (finish_ms - start_ms) // 2


def finish(action: str, state_before: str, ok: bool) -> str:
    """The machine's state once a job ends (``state_before`` is its state when it started)."""
    if not ok:
        return FAILED if action == "provision" else state_before
    step = TRANSITIONS[action][state_before]
    return step.after or state_before


def check_allocated(action: str, state: str) -> None:
    """Raise VMAPI's 409 ``UnallocatedVM`` for an action on a machine still provisioning."""
    vmapi_action = _VMAPI_ACTION.get(action)
    if vmapi_action is not None and state == PROVISIONING:
        message = f"Cannot call {vmapi_action} for a VM that has not been provisioned yet"
        raise EmulatorError(409, "UnallocatedVM", message)
