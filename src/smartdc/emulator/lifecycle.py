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
   answers 202 and the job fails later.
3. The only synchronous state refusal is VMAPI's 409 ``UnallocatedVM`` for an action on a
   machine that is still ``provisioning`` (:func:`check_allocated`).
4. A provision job that fails leaves the machine ``failed``; a failed machine can only be
   destroyed.
5. A job lasts a fraction of the configured provision delay (:data:`DELAY_FRACTIONS`):
   provision 1, power actions (start, stop, reboot, destroy, snapshot rollback, NIC changes)
   1/2, every other job (updates and snapshots) 1/5. Every job lasts at least 1 ms, so a job
   finishes strictly after the request that queued it even with a delay of 0;
   ``triton reboot -w`` looks for an audit time later than the response's ``Date`` header.
   Metadata jobs last at least 0.5 s: ``triton metadata set -w`` compares the audit time with
   a clock it reads *after* the response arrives.
6. A finished job becomes an audit entry whose ``time`` is the finish time.
7. Nothing runs in the background: the store applies due starts and finishes whenever it
   reads a machine, using the caller's clock, so tests control time completely.

Times here are integer milliseconds since the epoch.
"""

from __future__ import annotations

from dataclasses import dataclass

from smartdc.emulator.context import EmulatorError

PROVISIONING = "provisioning"
RUNNING = "running"
STOPPING = "stopping"
STOPPED = "stopped"
OFFLINE = "offline"
FAILED = "failed"
DELETED = "deleted"

#: States ListMachines treats as "active" (everything but destroyed and failed machines).
INACTIVE_STATES = frozenset({DELETED, FAILED})


@dataclass(frozen=True)
class Step:
    """What a job does from one state: the state while it runs, and afterwards."""

    during: str | None
    after: str | None


_UNCHANGED = Step(None, None)
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
    "reboot": {RUNNING: Step(STOPPING, RUNNING)},
    "destroy": {
        RUNNING: Step(STOPPING, DELETED),
        STOPPED: Step(STOPPING, DELETED),
        OFFLINE: Step(None, DELETED),
        FAILED: Step(None, DELETED),
    },
    "rollback_snapshot": {RUNNING: Step(STOPPING, RUNNING), STOPPED: Step(None, RUNNING)},
    # Plugging a NIC in or out reboots a running machine; a stopped one stays stopped.
    "add_nics": {RUNNING: Step(STOPPING, RUNNING), STOPPED: _UNCHANGED},
    "remove_nics": {RUNNING: Step(STOPPING, RUNNING), STOPPED: _UNCHANGED},
    # Disks of a bhyve machine change only while it is stopped.
    **{action: {STOPPED: _UNCHANGED} for action in ("create_disk", "resize_disk", "delete_disk")},
    **{action: _UPDATE_FROM for action in UPDATE_ACTIONS},
    **{action: _UPDATE_FROM for action in MIGRATION_ACTIONS},
}

#: Share of the provision delay each action takes; actions not listed take 1/5.
DELAY_FRACTIONS: dict[str, float] = {
    "provision": 1.0,
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
