"""The job engine: machine jobs queued, started, finished and audited, in one loop.

Every change to a machine after its creation is a job (:func:`queue_job`).
:mod:`smartdc.emulator.lifecycle` decides what a job does to the state;
:data:`smartdc.emulator.store.job_effects.EFFECTS` what else its success does. Each state
change is written to the change log in the transaction that makes it. Jobs advance when they
are due: the server's scheduler calls :func:`settle_due`; a write settles the jobs due on what
it changes first. Volume jobs (:mod:`smartdc.emulator.store.volume_jobs`) share the table and
the queueing, and :func:`settle_due` applies them too.

Reads do not write. The server's scheduler applies each job step at its due time; a read
first looks at ``job_schedule``, which says when the next step is due (triggers lower it as
jobs are queued or rescheduled), and only when that time has passed without the scheduler
applying it (no scheduler runs, as in store-level use, or it has not woken yet) does the read
apply the due work itself (:func:`catch_up`), once, as the scheduler would have. Working the
state out without keeping it would not do: a step allocates compute nodes and addresses,
which must be the same on every later read.

HTTP-free: functions take a :class:`Database` and the caller's clock.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from smartdc.emulator import lifecycle
from smartdc.emulator.db import Database, dumps, loads, register_column, register_schema
from smartdc.emulator.store import ids, volume_jobs
from smartdc.emulator.store.job_effects import (
    EFFECTS,
    FAILURE_EFFECTS,
    allocate,
    precondition_error,
)
from smartdc.emulator.store.machine_record import (
    Machine,
    Owner,
    check_alias,
    load,
    load_owned,
    log_change,
    watched,
)
from smartdc.emulator.store.timestamps import iso_ms, to_ms

register_schema(
    """
    CREATE TABLE IF NOT EXISTS machine_jobs (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        machine TEXT NOT NULL,
        action TEXT NOT NULL,
        params TEXT NOT NULL,
        caller TEXT NOT NULL,
        start_ms INTEGER NOT NULL,
        finish_ms INTEGER NOT NULL,
        phase TEXT NOT NULL,
        state_before TEXT,
        error TEXT,
        -- A provision's allocation time while it is owed (kept by the triggers below).
        allocate_ms INTEGER
    );
    CREATE INDEX IF NOT EXISTS machine_jobs_pending ON machine_jobs (phase, start_ms);
    CREATE INDEX IF NOT EXISTS machine_jobs_running ON machine_jobs (phase, finish_ms);
    CREATE INDEX IF NOT EXISTS machine_jobs_by_machine ON machine_jobs (machine, finish_ms);
    CREATE TABLE IF NOT EXISTS job_schedule (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        next_due_ms INTEGER NOT NULL
    );
    INSERT OR IGNORE INTO job_schedule (id, next_due_ms) VALUES (1, CASE WHEN EXISTS (
        SELECT 1 FROM machine_jobs WHERE phase IN ('queued', 'running')
    ) THEN 0 ELSE 4611686018427387904 END);
    CREATE TRIGGER IF NOT EXISTS machine_job_queued AFTER INSERT ON machine_jobs BEGIN
        UPDATE job_schedule SET next_due_ms = MIN(next_due_ms, NEW.start_ms);
    END;
    CREATE TRIGGER IF NOT EXISTS machine_job_rescheduled
    AFTER UPDATE OF start_ms, finish_ms ON machine_jobs BEGIN
        UPDATE job_schedule SET next_due_ms = MIN(next_due_ms, NEW.start_ms, NEW.finish_ms);
    END;
    """
)

#: ``job_schedule.next_due_ms`` when no job is pending (the schema's literal).
_NOTHING_DUE_MS = 2**62

#: Job phases, as the workflow API names a job's execution.
QUEUED = "queued"
RUNNING_JOB = "running"
SUCCEEDED = "succeeded"
FAILED_JOB = "failed"
PENDING = (QUEUED, RUNNING_JOB)
#: The pending jobs, as SQL the partial index ``machine_jobs_pending_by_machine`` serves
#: (SQLite uses a partial index only for a query that repeats its condition literally).
PENDING_SQL = f"phase IN ('{QUEUED}', '{RUNNING_JOB}')"
# A machine's queued and running jobs (``machine_jobs_by_machine`` holds its whole history).
register_schema(
    f"""
    CREATE INDEX IF NOT EXISTS machine_jobs_pending_by_machine ON machine_jobs (machine, finish_ms)
        WHERE {PENDING_SQL};
    """
)

#: Share of the provision job after which the machine has a compute node (is *allocated*).
_ALLOCATION_FRACTION = 5
_ALLOCATION_AT_SQL = f"start_ms + (finish_ms - start_ms) / {_ALLOCATION_FRACTION}"

# A provision job keeps its machine's allocation time in ``allocate_ms`` while the allocation
# is owed, so that the allocations due, and the next one, are found on an index: looking at
# every pending provision's machine document made each settling cost O(pending provisions),
# and so creating N machines O(N^2). Set when the job is queued and moved with it; cleared
# when the allocation is made, fails, or is no longer owed. Data directories from before the
# column get it, and their owed allocations, on open.
register_column("machine_jobs", "allocate_ms", "INTEGER")
register_schema(
    f"""
    CREATE INDEX IF NOT EXISTS machine_jobs_allocations ON machine_jobs (allocate_ms)
        WHERE allocate_ms IS NOT NULL;
    CREATE TRIGGER IF NOT EXISTS machine_job_allocation_owed AFTER INSERT ON machine_jobs
    WHEN NEW.action = 'provision' AND NEW.error IS NULL BEGIN
        UPDATE machine_jobs SET allocate_ms = {_ALLOCATION_AT_SQL} WHERE seq = NEW.seq;
    END;
    CREATE TRIGGER IF NOT EXISTS machine_job_allocation_moved
    AFTER UPDATE OF start_ms, finish_ms ON machine_jobs WHEN NEW.allocate_ms IS NOT NULL BEGIN
        UPDATE machine_jobs SET allocate_ms = {_ALLOCATION_AT_SQL} WHERE seq = NEW.seq;
    END;
    UPDATE machine_jobs SET allocate_ms = {_ALLOCATION_AT_SQL}
    WHERE allocate_ms IS NULL AND action = 'provision' AND {PENDING_SQL}
        AND error IS NULL AND machine IN (
            SELECT id FROM machines WHERE json_extract(doc, '$.compute_node') IS NULL
        );
    """
)


@dataclass(frozen=True)
class JobContext:
    """Who asks for a machine job, when, and how long jobs take."""

    caller: Mapping[str, Any]
    now: float
    provision_delay: float


def _allocate_due(conn: sqlite3.Connection, now_ms: int, where: str, args: tuple[Any, ...]) -> None:
    """Allocate the provisioning machines whose allocation time has come (a fifth of their
    provision job); a machine no compute node fits has its provision job fail."""
    rows = conn.execute(
        "SELECT j.seq, j.params, j.phase, j.error, j.allocate_ms, m.id AS machine_id,"
        " json_extract(m.doc, '$.compute_node') AS compute_node"
        " FROM machine_jobs j INDEXED BY machine_jobs_allocations"
        " LEFT JOIN machines m ON m.id = j.machine"
        f" WHERE j.allocate_ms IS NOT NULL AND j.allocate_ms <= ? AND {where} ORDER BY j.seq",
        (now_ms, *args),
    ).fetchall()
    for row in rows:
        conn.execute("UPDATE machine_jobs SET allocate_ms = NULL WHERE seq = ?", (row["seq"],))
        owed = row["phase"] in PENDING and row["error"] is None and row["compute_node"] is None
        machine = load(conn, row["machine_id"]) if owed and row["machine_id"] else None
        if machine is None:
            continue
        if loads(row["params"]).get("fail"):  # no capacity: no compute node is found
            error: str | None = "provision failed"
        else:
            error = allocate(conn, machine, row["allocate_ms"])
        if error is not None:
            conn.execute("UPDATE machine_jobs SET error = ? WHERE seq = ?", (error, row["seq"]))
        machine.save(conn)


def _follows_a_failure(conn: sqlite3.Connection, params: dict[str, Any]) -> bool:
    """Whether the job was queued to follow another (``params["after"]``, a job id) that
    did not succeed or was dropped; such a job is dropped in turn when it would start."""
    after = params.get("after")
    if after is None:
        return False
    row = conn.execute("SELECT phase FROM machine_jobs WHERE id = ?", (after,)).fetchone()
    return row is None or row["phase"] != SUCCEEDED


# --- settling due jobs ---------------------------------------------------------------------

#: A running job's midpoint, when a step's ``late`` state replaces its ``during`` one.
_MIDPOINT_SQL = "(j.start_ms + (j.finish_ms - j.start_ms) / 2)"
_LATE_ACTIONS_SQL = ", ".join(f"'{action}'" for action in sorted(lifecycle.LATE_ACTIONS))
# Running jobs with a late state, on an index that holds only them (so that the jobs
# without one, tag and metadata writes above all, pay nothing to keep it).
register_schema(
    f"""
    CREATE INDEX IF NOT EXISTS machine_jobs_late ON machine_jobs (phase)
        WHERE action IN ({_LATE_ACTIONS_SQL});
    """
)
#: Running jobs that are due to enter their second half.
_ENTERS_LATE_SQL = (
    f"(j.phase = 'running' AND j.action IN ({_LATE_ACTIONS_SQL})"
    f" AND m.state != '{lifecycle.READY}' AND {_MIDPOINT_SQL} <= ?)"
)


def _enter_second_half(
    conn: sqlite3.Connection, m: Machine, job: dict[str, Any], now_ms: int
) -> None:
    """Show the step's ``late`` state once a succeeding job is half done."""
    if job["phase"] != RUNNING_JOB or job["error"] is not None:
        return
    middle = lifecycle.midpoint_ms(job["start_ms"], job["finish_ms"])
    late = lifecycle.late_state(job["action"], job["state_before"])
    during = lifecycle.begin(job["action"], job["state_before"]).during
    if late is None or middle > now_ms or m.state != during:
        return
    before = watched(m)
    m.state = late
    m.updated_ms = max(m.updated_ms, middle)
    log_change(conn, m, before, job["action"], middle)


def settle(conn: sqlite3.Connection, now_ms: int, where: str, args: tuple[Any, ...]) -> None:
    """Start and finish every job due at ``now_ms`` among the machines ``where`` selects."""
    _allocate_due(conn, now_ms, where, args)
    jobs = conn.execute(
        "SELECT j.* FROM machine_jobs j JOIN machines m ON m.id = j.machine"
        " WHERE ((j.phase = 'queued' AND j.start_ms <= ?)"
        f" OR (j.phase = 'running' AND j.finish_ms <= ?) OR {_ENTERS_LATE_SQL}) AND {where}"
        " ORDER BY j.seq",
        (now_ms, now_ms, now_ms, *args),
    ).fetchall()
    loaded: dict[str, Machine] = {}
    for job_row in jobs:
        job = dict(job_row)
        machine = loaded.get(job["machine"]) or load(conn, job["machine"])
        if machine is None:
            continue
        loaded[machine.id] = machine
        params: dict[str, Any] = loads(job["params"])
        action = job["action"]
        if job["phase"] == QUEUED:
            if _follows_a_failure(conn, params):
                conn.execute("DELETE FROM machine_jobs WHERE seq = ?", (job["seq"],))
                continue
            decision = lifecycle.begin(action, machine.state)
            error = (
                decision.error
                or job.get("error")
                or precondition_error(conn, machine, action, params)
            )
            job["state_before"] = machine.state
            job["error"] = error
            if error is None and decision.during is not None:
                before = watched(machine)
                machine.state = decision.during
                machine.updated_ms = job["start_ms"]
                log_change(conn, machine, before, action, job["start_ms"])
            job["phase"] = RUNNING_JOB
        _enter_second_half(conn, machine, job, now_ms)
        if job["finish_ms"] <= now_ms:
            before = watched(machine)
            ok = job["error"] is None
            machine.state = lifecycle.finish(action, job["state_before"], ok)
            effect = (EFFECTS if ok else FAILURE_EFFECTS).get(action)
            if effect is not None:
                effect(conn, machine, params, job)
            machine.updated_ms = job["finish_ms"]
            job["phase"] = SUCCEEDED if ok else FAILED_JOB
            log_change(conn, machine, before, action if ok else "", job["finish_ms"])
        conn.execute(
            "UPDATE machine_jobs SET phase = ?, state_before = ?, error = ? WHERE seq = ?",
            (job["phase"], job["state_before"], job["error"], job["seq"]),
        )
    for machine in loaded.values():
        machine.save(conn)


def settle_machine(conn: sqlite3.Connection, machine_id: str, now_ms: int) -> None:
    """Settle the jobs due at ``now_ms`` on one machine (in the caller's transaction);
    nothing to look for when the schedule says no job step anywhere is due yet."""
    if _is_due(_scheduled(conn.execute(_SCHEDULE_SQL).fetchone()), now_ms):
        settle(conn, now_ms, f"m.id = ? AND j.{PENDING_SQL}", (machine_id,))


_SCHEDULE_SQL = "SELECT next_due_ms FROM job_schedule"


def _scheduled(row: sqlite3.Row | None) -> int | None:
    """When the next job step is due by a ``job_schedule`` row (epoch milliseconds; never
    later than the truth, as triggers lower it when jobs are queued), ``None`` when none is."""
    if row is None:
        return 0  # no schedule row yet: settling finds out
    due = int(row[0])
    return None if due == _NOTHING_DUE_MS else due


def _is_due(scheduled: int | None, now_ms: int) -> bool:
    return scheduled is not None and now_ms >= scheduled


def settle_due(db: Database, now: float) -> int | None:
    """Apply every job due at ``now`` on every machine and volume; return when the next job
    step is due (epoch milliseconds), or ``None`` when no job is pending. The scheduler calls
    this at each due time, so changes happen (and reach the changefeed) on time."""
    with db.transaction() as conn:
        next_due = _settle_everything(conn, to_ms(now))
    return None if next_due == _NOTHING_DUE_MS else next_due


def settle_due_in(conn: sqlite3.Connection, now_ms: int) -> None:
    """In the caller's write transaction: apply what is due at ``now_ms`` everywhere, when
    ``job_schedule`` says something is (a write that looks at many machines, such as the
    alias check of a new machine, sees them as of its clock at the cost of the due work
    alone, not of every machine it could look at)."""
    if _is_due(_scheduled(conn.execute(_SCHEDULE_SQL).fetchone()), now_ms):
        _settle_everything(conn, now_ms)


def _settle_everything(conn: sqlite3.Connection, now_ms: int) -> int:
    """Settle every due machine and volume job; the next due time (``_NOTHING_DUE_MS`` when
    none is pending), which is also written to ``job_schedule``."""
    settle(conn, now_ms, "1 = 1", ())
    volume_jobs.settle(conn, now_ms)
    # The earliest of: a queued job's start, a running job's end, the midpoint still ahead
    # of a running job with a late state, an owed allocation; each on an index.
    (due,) = conn.execute(
        "SELECT MIN(due) FROM ("
        " SELECT MIN(start_ms) AS due FROM machine_jobs WHERE phase = ?"
        " UNION ALL SELECT MIN(finish_ms) FROM machine_jobs WHERE phase = ?"
        f" UNION ALL SELECT MIN({_MIDPOINT_SQL}) FROM machine_jobs j"
        f" WHERE j.action IN ({_LATE_ACTIONS_SQL}) AND j.phase = ? AND {_MIDPOINT_SQL} > ?"
        " UNION ALL SELECT MIN(allocate_ms) FROM machine_jobs WHERE allocate_ms IS NOT NULL)",
        (QUEUED, RUNNING_JOB, RUNNING_JOB, now_ms),
    ).fetchone()
    next_due = _NOTHING_DUE_MS if due is None else int(due)
    conn.execute(
        "UPDATE job_schedule SET next_due_ms = ? WHERE next_due_ms != ?", (next_due, next_due)
    )
    return next_due


def catch_up(db: Database, now: float) -> int | None:
    """Apply the job steps due by ``now`` that nobody applied yet (before a read; see the
    module docstring); nothing at all when none is due, which is the usual case. Returns
    when the next step is due (as :func:`settle_due` does)."""
    due = _scheduled(db.one(_SCHEDULE_SQL))
    if _is_due(due, to_ms(now)):
        return settle_due(db, now)
    return due


@contextmanager
def reading(
    db: Database, owner: Owner, machine_id: str, now: float
) -> Iterator[tuple[sqlite3.Connection, Machine]]:
    """A read-only view with the owner's machine as of ``now`` (404 when the owner has no
    such machine)."""
    catch_up(db, now)
    with db.reading() as conn:
        yield conn, load_owned(conn, owner, machine_id)


@contextmanager
def settled(
    db: Database, owner: Owner, machine_id: str, now_ms: int
) -> Iterator[tuple[sqlite3.Connection, Machine]]:
    """A transaction, and the owner's machine in it with its due jobs applied (404 when the
    owner has no such machine)."""
    with db.transaction() as conn:
        settle_machine(conn, machine_id, now_ms)
        yield conn, load_owned(conn, owner, machine_id)


#: What decides, for the request being handled, whether a job it queues must fail (the
#: emulator's ``FaultPlan.take_job_failure``); unset, no job is made to fail.
_JOB_FAILURES: ContextVar[Callable[[str], bool] | None] = ContextVar(
    "machine_job_failures", default=None
)


def use_job_failures(decide: Callable[[str], bool] | None) -> None:
    """Have the jobs queued from here on in this context ask ``decide(action)`` whether they
    must fail (a job made to fail fails when it starts, leaving the state alone)."""
    _JOB_FAILURES.set(decide)


def take_job_failure(action: str) -> bool:
    """Whether the job about to be queued must fail, as :func:`use_job_failures` decides."""
    decide = _JOB_FAILURES.get()
    return decide is not None and decide(action)


#: Jobs whose failure the caller decides before queueing them (provisions also use up the
#: ``fail_provision`` count; volume jobs are matched by their storage VM's job name).
_CALLER_DECIDES_FAILURE = frozenset({"provision", *volume_jobs.ACTIONS})


def enqueue(
    conn: sqlite3.Connection,
    machine_id: str,
    action: str,
    params: Mapping[str, Any],
    caller: Mapping[str, Any],
    now_ms: int,
    provision_delay: float,
) -> str:
    """Queue a job in the caller's transaction, after the machine's pending ones; its id."""
    decided = action in _CALLER_DECIDES_FAILURE
    if not decided and not params.get("fail") and take_job_failure(action):
        params = {**params, "fail": True}
    row = conn.execute(
        f"SELECT MAX(finish_ms) FROM machine_jobs WHERE machine = ? AND {PENDING_SQL}",
        (machine_id,),
    ).fetchone()
    busy_until = row[0] if row is not None and row[0] is not None else now_ms
    start_ms = max(now_ms, int(busy_until))
    job_id = ids.new_uuid(conn)
    conn.execute(
        "INSERT INTO machine_jobs (id, machine, action, params, caller, start_ms, finish_ms,"
        " phase) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            job_id,
            machine_id,
            action,
            dumps(dict(params)),
            dumps(dict(caller)),
            start_ms,
            start_ms + lifecycle.duration_ms(action, provision_delay),
            QUEUED,
        ),
    )
    return job_id


# --- queueing and reading jobs ------------------------------------------------------------


def queue_job(
    db: Database,
    owner: Owner,
    machine_id: str,
    action: str,
    params: Mapping[str, Any],
    *,
    caller: Mapping[str, Any],
    now: float,
    provision_delay: float,
) -> str:
    """Queue a job on the machine and return its id.

    Raises 404 for a machine the owner does not have, and 409 ``UnallocatedVM`` for an action
    on a machine still provisioning. Whether the job succeeds is decided when it starts.
    """
    if not lifecycle.known_action(action):
        raise ValueError(f"unknown job action {action!r}")
    now_ms = to_ms(now)
    with settled(db, owner, machine_id, now_ms) as (conn, machine):
        lifecycle.check_allocated(action, machine.state)
        if action == "rename":
            check_alias(
                conn,
                owner,
                str(params["name"]),
                exclude=machine.id,
                prefix="Invalid VM update parameters",
            )
        return enqueue(conn, machine.id, action, params, caller, now_ms, provision_delay)


@dataclass(frozen=True)
class JobStatus:
    """Where a job stands: its workflow phase, schedule (ms) and failure reason."""

    id: str
    action: str
    phase: str
    start_ms: int
    finish_ms: int
    error: str | None


def job_statuses(
    db: Database, owner: Owner, machine_id: str, job_ids: Sequence[str], now: float
) -> dict[str, JobStatus]:
    """The machine's jobs among ``job_ids`` as of ``now`` (dropped jobs are absent)."""
    with reading(db, owner, machine_id, now) as (conn, machine):
        marks = ", ".join("?" for _ in job_ids)
        rows = conn.execute(
            f"SELECT * FROM machine_jobs WHERE machine = ? AND id IN ({marks})",
            (machine.id, *job_ids),
        ).fetchall()
    return {
        row["id"]: JobStatus(
            row["id"], row["action"], row["phase"], row["start_ms"], row["finish_ms"], row["error"]
        )
        for row in rows
    }


def job_status(db: Database, job_id: str, now: float) -> JobStatus | None:
    """Where one job stands as of ``now``, its machine's due jobs applied first (``None``
    for a job that was dropped or never queued)."""
    catch_up(db, now)
    row = db.one("SELECT * FROM machine_jobs WHERE id = ?", (job_id,))
    if row is None:
        return None
    return JobStatus(
        row["id"], row["action"], row["phase"], row["start_ms"], row["finish_ms"], row["error"]
    )


def end_jobs(
    db: Database, owner: Owner, machine_id: str, job_ids: Sequence[str], now: float
) -> None:
    """Stop jobs early: a running one finishes (successfully) at ``now``, a queued one is
    dropped, a finished one is left alone."""
    now_ms = to_ms(now)
    with settled(db, owner, machine_id, now_ms) as (conn, machine):
        for job_id in job_ids:
            conn.execute(
                "UPDATE machine_jobs SET finish_ms = ? WHERE id = ? AND machine = ? AND phase = ?",
                (now_ms, job_id, machine.id, RUNNING_JOB),
            )
            conn.execute(
                "DELETE FROM machine_jobs WHERE id = ? AND machine = ? AND phase = ?",
                (job_id, machine.id, QUEUED),
            )
        settle_machine(conn, machine.id, now_ms)


def pending_jobs(
    db: Database, owner: Owner, machine_id: str, now: float
) -> list[tuple[str, dict[str, Any]]]:
    """The machine's queued and running jobs as ``(action, params)``, oldest first."""
    with reading(db, owner, machine_id, now) as (conn, machine):
        rows = conn.execute(
            f"SELECT action, params FROM machine_jobs WHERE machine = ? AND {PENDING_SQL}"
            " ORDER BY seq",
            (machine.id,),
        ).fetchall()
    return [(str(row["action"]), loads(row["params"])) for row in rows]


def audit(db: Database, owner: Owner, machine_id: str, now: float) -> list[dict[str, Any]]:
    """Finished jobs, newest first, as AuditEntry objects."""
    with reading(db, owner, machine_id, now) as (conn, machine):
        rows = conn.execute(
            "SELECT * FROM machine_jobs WHERE machine = ? AND phase IN (?, ?)"
            " ORDER BY finish_ms DESC, seq DESC",
            (machine.id, SUCCEEDED, FAILED_JOB),
        ).fetchall()
    return [
        {
            "action": row["action"],
            "success": "yes" if row["phase"] == SUCCEEDED else "no",
            "time": iso_ms(row["finish_ms"]),
            "caller": loads(row["caller"]),
        }
        for row in rows
    ]
