"""Machine migrations: moving a machine to another compute node.

A migration runs in phases, each one a machine job, so it shares the machine's job queue,
its clock-driven timing and its audit (``migrate-begin``, ``migrate-sync``,
``migrate-switch``, ``migrate-abort``):

* ``begin`` reserves the target instance on another server, then the migration is
  ``paused``;
* ``sync`` copies the data (at least one sync must succeed before a switch), then
  ``paused`` again; ``pause`` stops a running sync at once;
* ``switch`` moves the machine to the target server: the migration is ``successful`` and
  ``finalize`` then removes it (the source instance is gone);
* ``abort`` (from ``paused`` or ``failed``) removes the target instance; once it has
  finished the machine has no migration any more and stays on its source server;
* ``automatic`` queues begin, sync and switch in one go.

Each request starts a *run* of one or more phases; the migration's phase and state are
those of the latest run: the first of its phases that has not succeeded, else its last.
State refusals are VMAPI's 412 ``PreconditionFailed`` with VMAPI's messages.

HTTP-free; times are integer milliseconds since the epoch.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from smartdc.emulator import lifecycle
from smartdc.emulator.context import EmulatorError, not_found
from smartdc.emulator.db import Database, dumps, loads, register_schema
from smartdc.emulator.store import machines
from smartdc.emulator.store.timestamps import iso_ms, to_ms

register_schema(
    """
    CREATE TABLE IF NOT EXISTS machine_migrations (
        machine TEXT PRIMARY KEY,
        account TEXT NOT NULL,
        datacenter TEXT NOT NULL,
        automatic INTEGER NOT NULL,
        created_ms INTEGER NOT NULL,
        target_server TEXT NOT NULL,
        finalized INTEGER NOT NULL DEFAULT 0,
        steps TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS machine_migrations_by_owner
        ON machine_migrations (account, datacenter, created_ms);
    """
)

#: The Migrate actions CloudAPI accepts (``watch`` is served separately).
ACTIONS = frozenset({"begin", "sync", "switch", "automatic", "pause", "abort", "finalize"})

RUNNING = "running"
PAUSED = "paused"
FAILED = "failed"
SUCCESSFUL = "successful"

_MESSAGES = {
    "begin": "reserving the target instance",
    "sync": "synchronizing the instance data",
    "switch": "switching to the target instance",
    "abort": "removing the target instance",
}


def precondition_failed(message: str) -> EmulatorError:
    """VMAPI's refusal of a migration action in the wrong migration phase or state."""
    return EmulatorError(412, "PreconditionFailed", message)


def migration_not_found() -> EmulatorError:
    """VMAPI's 404 for a machine that has no migration."""
    return not_found("migration not found")


# --- the record and where it stands --------------------------------------------------------


@dataclass(frozen=True)
class _Step:
    """One phase of a run, and the job that carries it out."""

    run: int
    phase: str
    job: machines.JobStatus


@dataclass(frozen=True)
class _Migration:
    machine: str
    automatic: bool
    created_ms: int
    target_server: str
    finalized: bool
    steps: tuple[_Step, ...]
    #: ``steps`` as stored, including jobs that were dropped (pause, failure).
    raw_steps: tuple[dict[str, Any], ...]

    @property
    def current(self) -> _Step:
        """The phase that decides the migration's phase and state."""
        last_run = self.steps[-1].run
        run = [step for step in self.steps if step.run == last_run]
        return next((s for s in run if s.job.phase != machines.SUCCEEDED), run[-1])

    @property
    def state(self) -> str:
        return _state(self.current)

    @property
    def visible(self) -> bool:
        """Finalized migrations and finished aborts are gone from the API."""
        current = self.current
        aborted = current.phase == "abort" and current.job.phase == machines.SUCCEEDED
        return not self.finalized and not aborted

    @property
    def sync_count(self) -> int:
        return sum(1 for s in self.steps if s.phase == "sync" and s.job.phase == machines.SUCCEEDED)


def _state(step: _Step) -> str:
    phase = step.job.phase
    if phase in (machines.QUEUED, machines.RUNNING_JOB):
        return RUNNING
    if phase == machines.FAILED_JOB:
        return FAILED
    return SUCCESSFUL if step.phase in ("switch", "abort") else PAUSED


def _load(
    db: Database, conn: sqlite3.Connection, owner: machines.Owner, machine_id: str, now: float
) -> _Migration | None:
    """The machine's migration as of ``now``. Phases whose job was dropped (they followed
    a phase that failed, or a paused sync) are left out."""
    row = conn.execute(
        "SELECT * FROM machine_migrations WHERE machine = ? AND account = ? AND datacenter = ?",
        (machine_id, owner.account, owner.datacenter),
    ).fetchone()
    if row is None:
        return None
    raw: list[dict[str, Any]] = loads(row["steps"])
    jobs = machines.job_statuses(db, owner, machine_id, [s["job"] for s in raw], now)
    steps = [_Step(s["run"], s["phase"], jobs[s["job"]]) for s in raw if s["job"] in jobs]
    return _Migration(
        machine=row["machine"],
        automatic=bool(row["automatic"]),
        created_ms=row["created_ms"],
        target_server=row["target_server"],
        finalized=bool(row["finalized"]),
        steps=tuple(steps),
        raw_steps=tuple(raw),
    )


def _visible(
    db: Database, conn: sqlite3.Connection, owner: machines.Owner, machine_id: str, now: float
) -> _Migration:
    migration = _load(db, conn, owner, machine_id, now)
    if migration is None or not migration.visible:
        raise migration_not_found()
    return migration


# --- rendering -----------------------------------------------------------------------------


def _event(step: _Step, now_ms: int) -> dict[str, Any]:
    """The ProgressEvent of a phase that has started."""
    job = step.job
    total = max(job.finish_ms - job.start_ms, 1)
    finished = job.phase in (machines.SUCCEEDED, machines.FAILED_JOB)
    elapsed = total if finished else min(max(now_ms - job.start_ms, 0), total)
    state = _state(step)
    event: dict[str, Any] = {
        "type": "progress",
        "phase": step.phase,
        "state": RUNNING if state == RUNNING else FAILED if state == FAILED else SUCCESSFUL,
        "current_progress": 100 if job.phase == machines.SUCCEEDED else elapsed * 100 // total,
        "total_progress": 100,
        "message": _MESSAGES[step.phase],
        "started_timestamp": iso_ms(job.start_ms),
    }
    if finished:
        event["finished_timestamp"] = iso_ms(job.finish_ms)
    event["duration_ms"] = elapsed
    if job.error:
        event["error"] = job.error
    return event


def _started(steps: Sequence[_Step]) -> list[_Step]:
    return [s for s in steps if s.job.phase != machines.QUEUED]


def _render(migration: _Migration, now_ms: int) -> dict[str, Any]:
    """The Migration object, in VMAPI's field order."""
    history = [_event(step, now_ms) for step in _started(migration.steps)]
    current = migration.current
    state = migration.state
    body: dict[str, Any] = {
        "automatic": migration.automatic,
        "created_timestamp": iso_ms(migration.created_ms),
    }
    if history:
        body["duration_ms"] = sum(event["duration_ms"] for event in history)
    if state == FAILED and current.job.error:
        body["error"] = current.job.error
    if state != RUNNING:
        body["finished_timestamp"] = iso_ms(current.job.finish_ms)
    body.update(phase=current.phase, state=state, progress_history=history)
    body["machine"] = migration.machine
    return body


# --- reading -------------------------------------------------------------------------------


def get_migration(
    db: Database, owner: machines.Owner, machine_id: str, now: float
) -> dict[str, Any]:
    """The machine's migration; 404 "VM not found" for a machine the owner does not have,
    404 "migration not found" when it has none (or it was finalized or aborted)."""
    with db.transaction() as conn:
        machines.get_machine(db, owner, machine_id, now)
        return _render(_visible(db, conn, owner, machine_id, now), to_ms(now))


def list_migrations(db: Database, owner: machines.Owner, now: float) -> list[dict[str, Any]]:
    """The owner's migrations in this datacenter, newest first."""
    with db.transaction() as conn:
        rows = conn.execute(
            "SELECT machine FROM machine_migrations WHERE account = ? AND datacenter = ?"
            " ORDER BY created_ms DESC, machine",
            (owner.account, owner.datacenter),
        ).fetchall()
        found = [_load(db, conn, owner, row["machine"], now) for row in rows]
        return [_render(m, to_ms(now)) for m in found if m is not None and m.visible]


@dataclass(frozen=True)
class WatchPoint:
    """Where a migration stands for a watcher: its latest run, and whether (and until
    when) that run is still going."""

    run: int
    running: bool
    #: When the run is due to end, in seconds (``None`` once it has ended).
    due: float | None


def watch_point(db: Database, owner: machines.Owner, machine_id: str, now: float) -> WatchPoint:
    """The latest run of the machine's migration; 404 as :func:`get_migration`."""
    with db.transaction() as conn:
        machines.get_machine(db, owner, machine_id, now)
        migration = _load(db, conn, owner, machine_id, now)
        if migration is None or migration.finalized:
            raise migration_not_found()
        run = migration.steps[-1].run
        if migration.state != RUNNING:
            return WatchPoint(run, False, None)
        last = [s for s in migration.steps if s.run == run][-1]
        return WatchPoint(run, True, last.job.finish_ms / 1000)


def watch_events(
    db: Database, owner: machines.Owner, machine_id: str, run: int | None, now: float
) -> list[dict[str, Any]]:
    """What ``watch`` streams: the progress of the phases of ``run`` (none when ``None``),
    then ``{"type": "end", "phase", "state"}`` for the migration as of ``now``."""
    with db.transaction() as conn:
        migration = _load(db, conn, owner, machine_id, now)
    if migration is None:
        raise migration_not_found()
    now_ms = to_ms(now)
    steps = [s for s in _started(migration.steps) if s.run == run]
    events = [_event(step, now_ms) for step in steps]
    end: dict[str, Any] = {
        "type": "end",
        "phase": migration.current.phase,
        "state": migration.state,
    }
    if migration.state == FAILED and migration.current.job.error:
        end["message"] = migration.current.job.error
    return [*events, end]


# --- actions -------------------------------------------------------------------------------


def _check(action: str, migration: _Migration | None) -> _Migration:
    """Refuse ``action`` (not ``begin``) as VMAPI does for the migration's phase and state."""
    if migration is None or not migration.visible:
        raise migration_not_found()
    phase, state = migration.current.phase, migration.state
    if action == "abort" and state in (RUNNING, SUCCESSFUL):
        raise precondition_failed(f"Abort cannot work on a {state} migration")
    if action == "finalize" and state != SUCCESSFUL:
        raise precondition_failed("Finalize only works on a successful migration")
    if action == "pause" and (phase != "sync" or state != RUNNING):
        raise precondition_failed("Pause requires a running migration sync action")
    if action == "switch":
        if phase not in ("begin", "sync"):
            raise precondition_failed(f"Cannot switch in migration phase: {phase}")
        if state not in (PAUSED, FAILED):
            raise precondition_failed(f"Cannot switch in migration state: {state}")
        if migration.sync_count == 0:
            raise precondition_failed(
                'You must perform at least one "migration sync" operation before switching'
            )
    if action == "sync":
        if state not in (PAUSED, FAILED):
            raise precondition_failed(f"Cannot sync in migration state: {state}")
        if not (phase == "begin" and state == PAUSED) and phase != "sync":
            raise precondition_failed(f"Cannot sync when in migration phase: {phase}")
    return migration


def _check_begin(migration: _Migration | None) -> bool:
    """Refuse a new migration while one is unfinished; ``True`` when this ``begin`` retries
    a begin phase that failed (the record is kept)."""
    if migration is None or not migration.visible:
        return False
    current = migration.current
    if migration.state == SUCCESSFUL:
        raise precondition_failed(
            "A previous migration exists for this instance, use migration finalize to complete it."
        )
    if current.phase == "begin" and migration.state == FAILED:
        return True
    raise precondition_failed("An active migration already exists for this instance")


#: The transfer rate an estimate assumes, in bytes a second (a 1 Gbit/s admin network).
ESTIMATE_RATE = 125_000_000
_MIB = 1024 * 1024


def estimate(db: Database, owner: machines.Owner, machine_id: str, now: float) -> dict[str, Any]:
    """MigrateMachineEstimate: how much a migration of the machine would send (``size``,
    bytes: its disk) and how long that takes (``eta_ms``), as VMAPI's ``estimate`` action
    reports them from the compute node.

    Raises 404 for an unknown machine, 409 ``UnallocatedVM`` while it is provisioning, and
    412 ``PreconditionFailed`` while another migration is unfinished (as a ``begin`` would).
    """
    with db.transaction() as conn:
        machine = machines.get_machine(db, owner, machine_id, now)
        lifecycle.check_allocated("migrate-begin", str(machine["state"]))
        _check_begin(_load(db, conn, owner, machine_id, now))
    size = int(machine["disk"]) * _MIB
    return {"size": size, "eta_ms": max(1, size * 1000 // ESTIMATE_RATE)}


def _target_server(datacenter: str, machine: Mapping[str, Any]) -> str:
    """Another compute node than the machine's own."""
    servers = machines.compute_nodes(datacenter)
    source = machine.get("compute_node")
    position = servers.index(source) if source in servers else -1
    return servers[(position + 1) % len(servers)]


def _queue(
    db: Database,
    owner: machines.Owner,
    machine_id: str,
    phases: Sequence[str],
    server: str,
    job: machines.JobContext,
) -> list[str]:
    """Queue the phases' jobs, each to run only if the one before it succeeds."""
    ids: list[str] = []
    for phase in phases:
        params = {"server": server, **({"after": ids[-1]} if ids else {})}
        ids.append(
            machines.queue_job(
                db,
                owner,
                machine_id,
                f"migrate-{phase}",
                params,
                caller=job.caller,
                now=job.now,
                provision_delay=job.provision_delay,
            )
        )
    return ids


def _save_steps(
    conn: sqlite3.Connection, machine_id: str, steps: Sequence[Mapping[str, Any]]
) -> None:
    conn.execute(
        "UPDATE machine_migrations SET steps = ? WHERE machine = ?",
        (dumps([dict(s) for s in steps]), machine_id),
    )


def migrate(
    db: Database, owner: machines.Owner, machine_id: str, action: str, *, job: machines.JobContext
) -> dict[str, Any] | None:
    """Carry out a Migrate ``action`` and return the migration as it then stands (``None``
    for ``finalize``). ``automatic`` begins a migration that runs every phase in turn.

    Raises 404 for an unknown machine or a missing migration, 409 ``UnallocatedVM`` while
    the machine is provisioning, and 412 ``PreconditionFailed`` for a wrong phase or state.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown migration action {action!r}")
    with db.transaction() as conn:
        machine = machines.get_machine(db, owner, machine_id, job.now)
        migration = _load(db, conn, owner, machine_id, job.now)
        if action in ("begin", "automatic"):
            _begin(db, conn, owner, machine, migration, automatic=action == "automatic", job=job)
        else:
            current = _check(action, migration)
            if action == "finalize":
                conn.execute(
                    "UPDATE machine_migrations SET finalized = 1 WHERE machine = ?",
                    (machine_id,),
                )
                return None
            if action == "pause":
                _pause(db, conn, owner, current, job.now)
            else:
                run = current.steps[-1].run + 1
                ids = _queue(db, owner, machine_id, [action], current.target_server, job)
                steps = [*current.raw_steps, {"run": run, "phase": action, "job": ids[0]}]
                _save_steps(conn, machine_id, steps)
        return _render(_visible(db, conn, owner, machine_id, job.now), to_ms(job.now))


def _begin(
    db: Database,
    conn: sqlite3.Connection,
    owner: machines.Owner,
    machine: Mapping[str, Any],
    migration: _Migration | None,
    *,
    automatic: bool,
    job: machines.JobContext,
) -> None:
    machine_id = str(machine["id"])
    retry = _check_begin(migration)
    phases = ["begin", "sync", "switch"] if automatic else ["begin"]
    if retry and migration is not None:
        server = migration.target_server
        run = migration.steps[-1].run + 1
        kept: list[dict[str, Any]] = list(migration.raw_steps)
    else:
        server = _target_server(owner.datacenter, machine)
        run, kept = 0, []
    ids = _queue(db, owner, machine_id, phases, server, job)
    steps = [*kept, *({"run": run, "phase": p, "job": i} for p, i in zip(phases, ids, strict=True))]
    if retry:
        conn.execute(
            "UPDATE machine_migrations SET automatic = ?, steps = ? WHERE machine = ?",
            (int(automatic), dumps(steps), machine_id),
        )
        return
    conn.execute(
        "INSERT OR REPLACE INTO machine_migrations (machine, account, datacenter, automatic,"
        " created_ms, target_server, finalized, steps) VALUES (?, ?, ?, ?, ?, ?, 0, ?)",
        (
            machine_id,
            owner.account,
            owner.datacenter,
            int(automatic),
            to_ms(job.now),
            server,
            dumps(steps),
        ),
    )


def _pause(
    db: Database,
    conn: sqlite3.Connection,
    owner: machines.Owner,
    migration: _Migration,
    now: float,
) -> None:
    """Stop the running sync now and drop the phases queued after it in its run."""
    current = migration.current
    later = [
        s.job.id for s in migration.steps if s.run == current.run and s.job.phase == machines.QUEUED
    ]
    machines.end_jobs(db, owner, migration.machine, [current.job.id, *later], now)
    steps = [s for s in migration.raw_steps if s["job"] not in later]
    _save_steps(conn, migration.machine, steps)
