"""Machines, their jobs (audit), snapshots, tags and metadata, as VMAPI keeps them.

A machine belongs to one account in one datacenter. Every change after creation is a job
queued through :func:`queue_job`; :mod:`smartdc.emulator.lifecycle` decides what the job does
to the state, and this module applies the job's other effects (new name, tags, metadata ...)
when it finishes. Jobs advance lazily: every read first settles the jobs that are due at the
caller's ``now``, so nothing runs in the background.

HTTP-free: functions take a :class:`Database` and the caller's clock, and return
CloudAPI-shaped dicts. Refusals that VMAPI makes are raised as
:class:`EmulatorError` with VMAPI's status, code and message.
"""

from __future__ import annotations

import re
import sqlite3
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field
from typing import Any

from smartdc.emulator import lifecycle
from smartdc.emulator.context import EmulatorError, not_found, validation_failed
from smartdc.emulator.db import Database, dumps, loads, register_schema
from smartdc.emulator.store import changes, ids, nics, placement
from smartdc.emulator.store.catalog import CATALOG_NAMESPACE, filter_text, matches_wildcard
from smartdc.emulator.store.timestamps import iso_ms, to_ms

register_schema(
    """
    CREATE TABLE IF NOT EXISTS machines (
        id TEXT PRIMARY KEY,
        account TEXT NOT NULL,
        datacenter TEXT NOT NULL,
        name TEXT NOT NULL,
        brand TEXT NOT NULL,
        state TEXT NOT NULL,
        image TEXT NOT NULL,
        created_ms INTEGER NOT NULL,
        updated_ms INTEGER NOT NULL,
        doc TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS machines_by_owner ON machines (account, datacenter, id);
    CREATE INDEX IF NOT EXISTS machines_by_name ON machines (account, datacenter, name);
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
        error TEXT
    );
    CREATE INDEX IF NOT EXISTS machine_jobs_pending ON machine_jobs (phase, start_ms);
    CREATE INDEX IF NOT EXISTS machine_jobs_running ON machine_jobs (phase, finish_ms);
    CREATE INDEX IF NOT EXISTS machine_jobs_by_machine ON machine_jobs (machine, finish_ms);
    CREATE TABLE IF NOT EXISTS machine_snapshots (
        job TEXT PRIMARY KEY,
        machine TEXT NOT NULL,
        name TEXT NOT NULL,
        created_ms INTEGER NOT NULL,
        deleted_ms INTEGER
    );
    CREATE INDEX IF NOT EXISTS machine_snapshots_by_name ON machine_snapshots (machine, name);
    """
)

#: Job phases, as the workflow API names a job's execution.
QUEUED = "queued"
RUNNING_JOB = "running"
SUCCEEDED = "succeeded"
FAILED_JOB = "failed"
_PENDING = (QUEUED, RUNNING_JOB)

HVM_BRANDS = frozenset({"kvm", "bhyve"})
#: VMAPI's rules for a machine name (its ``alias``).
MAX_NAME_LENGTH = 189
NAME_PATTERN = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")
#: Share of the provision job after which the machine has a compute node (is *allocated*).
_ALLOCATION_FRACTION = 5


@dataclass(frozen=True)
class Owner:
    """Whose machines: one account in one datacenter."""

    account: str
    datacenter: str


@dataclass(frozen=True)
class JobContext:
    """Who asks for a machine job, when, and how long jobs take."""

    caller: Mapping[str, Any]
    now: float
    provision_delay: float


# --- errors VMAPI raises -------------------------------------------------------------------


def _alias_errors(
    conn: sqlite3.Connection, owner: Owner, name: str, exclude: str | None
) -> list[dict[str, str]]:
    if len(name) > MAX_NAME_LENGTH or not NAME_PATTERN.match(name):
        return [{"field": "alias", "code": "Invalid", "message": "Invalid machine name"}]
    clash = conn.execute(
        "SELECT id FROM machines WHERE account = ? AND datacenter = ? AND name = ?"
        " AND state NOT IN ('deleted', 'failed') AND id != ?",
        (owner.account, owner.datacenter, name, exclude or ""),
    ).fetchone()
    if clash is not None:
        return [
            {"field": "alias", "code": "Duplicate", "message": "Already exists for this owner_uuid"}
        ]
    return []


def _check_alias(
    conn: sqlite3.Connection, owner: Owner, name: str, *, exclude: str | None, prefix: str
) -> None:
    errors = _alias_errors(conn, owner, name, exclude)
    if errors:
        raise validation_failed(errors, f"{prefix}: {errors[0]['message']}")


def vm_not_found() -> EmulatorError:
    """VMAPI's answer for an unknown machine, or one of another owner."""
    return not_found("VM not found")


# --- the machine record --------------------------------------------------------------------


@dataclass
class _Machine:
    """A machines row, decoded; ``doc`` holds the open-ended fields."""

    id: str
    account: str
    datacenter: str
    name: str
    brand: str
    state: str
    image: str
    created_ms: int
    updated_ms: int
    doc: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_row(cls, row: Any) -> _Machine:
        return cls(
            id=row["id"],
            account=row["account"],
            datacenter=row["datacenter"],
            name=row["name"],
            brand=row["brand"],
            state=row["state"],
            image=row["image"],
            created_ms=row["created_ms"],
            updated_ms=row["updated_ms"],
            doc=loads(row["doc"]),
        )

    def save(self, conn: sqlite3.Connection) -> None:
        conn.execute(
            "UPDATE machines SET name = ?, brand = ?, state = ?, image = ?, updated_ms = ?,"
            " doc = ? WHERE id = ?",
            (
                self.name,
                self.brand,
                self.state,
                self.image,
                self.updated_ms,
                dumps(self.doc),
                self.id,
            ),
        )


def _load(conn: sqlite3.Connection, machine_id: str) -> _Machine | None:
    row = conn.execute("SELECT * FROM machines WHERE id = ?", (machine_id,)).fetchone()
    return None if row is None else _Machine.from_row(row)


def _load_owned(conn: sqlite3.Connection, owner: Owner, machine_id: str) -> _Machine:
    machine = _load(conn, machine_id)
    if machine is None or Owner(machine.account, machine.datacenter) != owner:
        raise vm_not_found()
    return machine


def compute_nodes(datacenter: str) -> tuple[str, ...]:
    """The ids of the datacenter's compute nodes, which machines are spread over."""
    return placement.compute_nodes(datacenter)


def _allocate(conn: sqlite3.Connection, m: _Machine, at_ms: int) -> str | None:
    """Give the machine its compute node, as its locality and encryption allow; the reason
    when none fits."""
    locality = placement.Locality.from_doc(m.doc.get("locality"))
    placed: dict[str, str] = {}
    if locality is not None and (locality.near or locality.far):
        wanted = [*locality.near, *locality.far]
        marks = ", ".join("?" for _ in wanted)
        rows = conn.execute(
            "SELECT id, json_extract(doc, '$.compute_node') AS server FROM machines"
            f" WHERE id IN ({marks}) AND state NOT IN ('deleted', 'failed')",
            tuple(wanted),
        )
        placed = {row["id"]: row["server"] for row in rows if row["server"]}
    request = placement.Request(m.id, locality, bool(m.doc.get("encrypted")), placed)
    server = placement.choose(m.datacenter, request)
    if server is None:
        return placement.NO_SERVER
    before = _watched(m)
    m.doc["compute_node"] = server
    m.updated_ms = max(m.updated_ms, at_ms)
    _log_change(conn, m, before, "", at_ms)
    return None


def _allocate_due(conn: sqlite3.Connection, now_ms: int, where: str, args: tuple[Any, ...]) -> None:
    """Allocate the provisioning machines whose allocation time has come (a fifth of their
    provision job); a machine no compute node fits has its provision job fail."""
    rows = conn.execute(
        "SELECT j.seq, j.params, j.start_ms, j.finish_ms, j.error, m.id AS machine_id"
        " FROM machine_jobs j JOIN machines m ON m.id = j.machine"
        " WHERE j.action = 'provision' AND j.phase IN ('queued', 'running')"
        f" AND j.start_ms + (j.finish_ms - j.start_ms) / {_ALLOCATION_FRACTION} <= ?"
        " AND json_extract(m.doc, '$.compute_node') IS NULL AND j.error IS NULL"
        f" AND {where} ORDER BY j.seq",
        (now_ms, *args),
    ).fetchall()
    for row in rows:
        machine = _load(conn, row["machine_id"])
        if machine is None:
            continue
        at_ms = row["start_ms"] + (row["finish_ms"] - row["start_ms"]) // _ALLOCATION_FRACTION
        if loads(row["params"]).get("fail"):  # no capacity: no compute node is found
            error: str | None = "provision failed"
        else:
            error = _allocate(conn, machine, at_ms)
        if error is not None:
            conn.execute("UPDATE machine_jobs SET error = ? WHERE seq = ?", (error, row["seq"]))
        machine.save(conn)


# --- job effects ---------------------------------------------------------------------------

Effect = Callable[[sqlite3.Connection, _Machine, dict[str, Any], dict[str, Any]], None]


def _provisioned(
    conn: sqlite3.Connection, m: _Machine, _params: dict[str, Any], job: dict[str, Any]
) -> None:
    if not m.doc.get("compute_node"):
        _allocate(conn, m, job["finish_ms"])


def _destroyed(
    conn: sqlite3.Connection, m: _Machine, _params: dict[str, Any], _job: dict[str, Any]
) -> None:
    nics.release_nics(conn, m.id)


def _renamed(
    conn: sqlite3.Connection, m: _Machine, params: dict[str, Any], _job: dict[str, Any]
) -> None:
    m.name = str(params["name"])


def _resized(
    conn: sqlite3.Connection, m: _Machine, params: dict[str, Any], _job: dict[str, Any]
) -> None:
    package = params["package"]
    m.doc.update(
        package_id=package["id"],
        package_name=package["name"],
        memory=package["memory"],
        disk=package["disk"],
    )


def _dict_effect(key: str, mode: str) -> Effect:
    """An effect on the machine's ``tags`` or ``metadata``: set, replace, or remove keys."""

    def apply(
        conn: sqlite3.Connection, m: _Machine, params: dict[str, Any], _job: dict[str, Any]
    ) -> None:
        current: dict[str, Any] = m.doc.setdefault(key, {})
        if mode == "set":
            current.update(params["values"])
        elif mode == "replace":
            m.doc[key] = dict(params["values"])
        else:
            for name in params["keys"]:
                current.pop(name, None)

    return apply


def _flag_effect(name: str, value: bool | None) -> Effect:
    def apply(
        conn: sqlite3.Connection, m: _Machine, params: dict[str, Any], _job: dict[str, Any]
    ) -> None:
        m.doc[name] = bool(params["enabled"]) if value is None else value

    return apply


def _snapshot_deleted(
    conn: sqlite3.Connection, m: _Machine, params: dict[str, Any], job: dict[str, Any]
) -> None:
    conn.execute(
        "UPDATE machine_snapshots SET deleted_ms = ? WHERE machine = ? AND name = ?"
        " AND deleted_ms IS NULL",
        (job["finish_ms"], m.id, params["name"]),
    )


def _nic_plugged(
    conn: sqlite3.Connection, m: _Machine, params: dict[str, Any], _job: dict[str, Any]
) -> None:
    nics.plug_nic(conn, str(params["mac"]), bool(params.get("primary")))


def _nic_unplugged(
    conn: sqlite3.Connection, m: _Machine, params: dict[str, Any], _job: dict[str, Any]
) -> None:
    nics.delete_nic(conn, str(params["mac"]))


def _migrated(
    conn: sqlite3.Connection, m: _Machine, params: dict[str, Any], _job: dict[str, Any]
) -> None:
    m.doc["compute_node"] = str(params["server"])


def _no_effect(
    conn: sqlite3.Connection, m: _Machine, _params: dict[str, Any], _job: dict[str, Any]
) -> None:
    return None


_EFFECTS: dict[str, Effect] = {
    "provision": _provisioned,
    "destroy": _destroyed,
    "rename": _renamed,
    "resize": _resized,
    "set_metadata": _dict_effect("metadata", "set"),
    "replace_metadata": _dict_effect("metadata", "replace"),
    "remove_metadata": _dict_effect("metadata", "remove"),
    "set_tags": _dict_effect("tags", "set"),
    "replace_tags": _dict_effect("tags", "replace"),
    "remove_tags": _dict_effect("tags", "remove"),
    "enable_deletion_protection": _flag_effect("deletion_protection", True),
    "disable_deletion_protection": _flag_effect("deletion_protection", False),
    "unknown": _flag_effect("firewall_enabled", None),
    "delete_snapshot": _snapshot_deleted,
    "add_nics": _nic_plugged,
    "remove_nics": _nic_unplugged,
    "migrate-switch": _migrated,
}


def register_effect(action: str, effect: Effect) -> None:
    """Have ``effect`` applied when a job of ``action`` succeeds (for job actions whose data
    another store module keeps)."""
    _EFFECTS[action] = effect


def _live_snapshot(conn: sqlite3.Connection, machine_id: str, name: str) -> Any:
    return conn.execute(
        "SELECT s.* FROM machine_snapshots s JOIN machine_jobs j ON j.id = s.job"
        " WHERE s.machine = ? AND s.name = ? AND s.deleted_ms IS NULL AND j.phase = ?",
        (machine_id, name, SUCCEEDED),
    ).fetchone()


def _precondition_error(
    conn: sqlite3.Connection, m: _Machine, action: str, params: dict[str, Any]
) -> str | None:
    """Why a job that the state allows still cannot do its work, or ``None``."""
    if params.get("fail"):
        return f"{action} failed"
    if action == "create_snapshot" and _live_snapshot(conn, m.id, params["name"]) is not None:
        return f"snapshot {params['name']} already exists"
    needs_snapshot = action in ("delete_snapshot", "rollback_snapshot")
    if needs_snapshot and _live_snapshot(conn, m.id, params["name"]) is None:
        return f"snapshot {params['name']} does not exist"
    return None


def _follows_a_failure(conn: sqlite3.Connection, params: dict[str, Any]) -> bool:
    """Whether the job was queued to follow another (``params["after"]``, a job id) that
    did not succeed or was dropped; such a job is dropped in turn when it would start."""
    after = params.get("after")
    if after is None:
        return False
    row = conn.execute("SELECT phase FROM machine_jobs WHERE id = ?", (after,)).fetchone()
    return row is None or row["phase"] != SUCCEEDED


# --- settling due jobs ---------------------------------------------------------------------

#: Job actions that change a machine's NICs, for the changefeed's ``nics`` sub-resource.
_NIC_ACTIONS = frozenset({"add_nics", "remove_nics", "provision", "destroy"})


def _watched(m: _Machine) -> tuple[Any, ...]:
    """What the changefeed reports on, in :data:`changes.VM_SUB_RESOURCES` terms."""
    doc = m.doc
    return (
        m.name,
        dumps(doc.get("metadata", {})),
        m.state == lifecycle.DELETED,
        m.state,
        doc.get("compute_node"),
        dumps(doc.get("tags", {})),
    )


def _log_change(
    conn: sqlite3.Connection, m: _Machine, before: tuple[Any, ...], action: str, at_ms: int
) -> None:
    """Record what a job step changed on the machine, if anything."""
    after = _watched(m)
    names = ("alias", "customer_metadata", "destroyed", "state", "server_uuid", "tags")
    changed = [name for name, old, new in zip(names, before, after, strict=True) if old != new]
    if action in _NIC_ACTIONS and (changed or action in ("add_nics", "remove_nics")):
        changed.append("nics")
    if not changed:
        return
    changes.record_vm_change(
        conn,
        account=m.account,
        datacenter=m.datacenter,
        machine=_render_many(conn, [m])[0],
        sub_resources=sorted(changed, key=changes.VM_SUB_RESOURCES.index),
        published_ms=at_ms,
    )


#: A running job's midpoint, when a step's ``late`` state replaces its ``during`` one.
_MIDPOINT_SQL = "(j.start_ms + (j.finish_ms - j.start_ms) / 2)"
_LATE_ACTIONS_SQL = ", ".join(f"'{action}'" for action in sorted(lifecycle.LATE_ACTIONS))
#: Running jobs that are due to enter their second half.
_ENTERS_LATE_SQL = (
    f"(j.phase = 'running' AND j.action IN ({_LATE_ACTIONS_SQL})"
    f" AND m.state != '{lifecycle.READY}' AND {_MIDPOINT_SQL} <= ?)"
)


def _enter_second_half(
    conn: sqlite3.Connection, m: _Machine, job: dict[str, Any], now_ms: int
) -> None:
    """Show the step's ``late`` state once a succeeding job is half done."""
    if job["phase"] != RUNNING_JOB or job["error"] is not None:
        return
    middle = lifecycle.midpoint_ms(job["start_ms"], job["finish_ms"])
    late = lifecycle.late_state(job["action"], job["state_before"])
    during = lifecycle.begin(job["action"], job["state_before"]).during
    if late is None or middle > now_ms or m.state != during:
        return
    before = _watched(m)
    m.state = late
    m.updated_ms = max(m.updated_ms, middle)
    _log_change(conn, m, before, job["action"], middle)


def _settle(conn: sqlite3.Connection, now_ms: int, where: str, args: tuple[Any, ...]) -> None:
    """Start and finish every job due at ``now_ms`` among the machines ``where`` selects."""
    _allocate_due(conn, now_ms, where, args)
    jobs = conn.execute(
        "SELECT j.* FROM machine_jobs j JOIN machines m ON m.id = j.machine"
        " WHERE ((j.phase = 'queued' AND j.start_ms <= ?)"
        f" OR (j.phase = 'running' AND j.finish_ms <= ?) OR {_ENTERS_LATE_SQL}) AND {where}"
        " ORDER BY j.seq",
        (now_ms, now_ms, now_ms, *args),
    ).fetchall()
    machines: dict[str, _Machine] = {}
    for job_row in jobs:
        job = dict(job_row)
        machine = machines.get(job["machine"]) or _load(conn, job["machine"])
        if machine is None:
            continue
        machines[machine.id] = machine
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
                or _precondition_error(conn, machine, action, params)
            )
            job["state_before"] = machine.state
            job["error"] = error
            if error is None and decision.during is not None:
                before = _watched(machine)
                machine.state = decision.during
                machine.updated_ms = job["start_ms"]
                _log_change(conn, machine, before, action, job["start_ms"])
            job["phase"] = RUNNING_JOB
        _enter_second_half(conn, machine, job, now_ms)
        if job["finish_ms"] <= now_ms:
            before = _watched(machine)
            ok = job["error"] is None
            machine.state = lifecycle.finish(action, job["state_before"], ok)
            if ok:
                _EFFECTS.get(action, _no_effect)(conn, machine, params, job)
            elif action == "provision":
                nics.release_nics(conn, machine.id)
            elif action == "add_nics":  # a NIC that could not be plugged in is gone
                nics.delete_nic(conn, str(params["mac"]))
            machine.updated_ms = job["finish_ms"]
            job["phase"] = SUCCEEDED if ok else FAILED_JOB
            _log_change(conn, machine, before, action if ok else "", job["finish_ms"])
        conn.execute(
            "UPDATE machine_jobs SET phase = ?, state_before = ?, error = ? WHERE seq = ?",
            (job["phase"], job["state_before"], job["error"], job["seq"]),
        )
    for machine in machines.values():
        machine.save(conn)


def _settle_machine(conn: sqlite3.Connection, machine_id: str, now_ms: int) -> None:
    _settle(conn, now_ms, "m.id = ?", (machine_id,))


def _settle_owner(conn: sqlite3.Connection, owner: Owner, now_ms: int) -> None:
    _settle(conn, now_ms, "m.account = ? AND m.datacenter = ?", (owner.account, owner.datacenter))


def settle_due(db: Database, now: float) -> int | None:
    """Apply every job due at ``now`` on every machine; return when the next job step is due
    (epoch milliseconds), or ``None`` when no job is pending. The server's scheduler calls
    this at each due time, so changes happen (and reach the changefeed) on time."""
    now_ms = to_ms(now)
    with db.transaction() as conn:
        _settle(conn, now_ms, "1 = 1", ())
        row = conn.execute(
            "SELECT MIN(CASE WHEN j.phase = ? THEN j.start_ms"
            f" WHEN j.action IN ({_LATE_ACTIONS_SQL}) AND {_MIDPOINT_SQL} > ?"
            f" THEN {_MIDPOINT_SQL} ELSE j.finish_ms END)"
            " FROM machine_jobs j WHERE j.phase IN (?, ?)",
            (QUEUED, now_ms, *_PENDING),
        ).fetchone()
        allocation = conn.execute(
            f"SELECT MIN(j.start_ms + (j.finish_ms - j.start_ms) / {_ALLOCATION_FRACTION})"
            " FROM machine_jobs j JOIN machines m ON m.id = j.machine"
            " WHERE j.action = 'provision' AND j.phase IN (?, ?) AND j.error IS NULL"
            " AND json_extract(m.doc, '$.compute_node') IS NULL",
            _PENDING,
        ).fetchone()
    due = [int(r[0]) for r in (row, allocation) if r is not None and r[0] is not None]
    return min(due) if due else None


def settle_account(db: Database, account: str, now: float) -> None:
    """Apply the jobs due at ``now`` on every machine of the account, in every datacenter."""
    with db.transaction() as conn:
        _settle(conn, to_ms(now), "m.account = ?", (account,))


@contextmanager
def _settled(
    db: Database, owner: Owner, machine_id: str, now_ms: int
) -> Iterator[tuple[sqlite3.Connection, _Machine]]:
    """A transaction, and the owner's machine in it with its due jobs applied (404 when the
    owner has no such machine)."""
    with db.transaction() as conn:
        _settle_machine(conn, machine_id, now_ms)
        yield conn, _load_owned(conn, owner, machine_id)


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


def _enqueue(
    conn: sqlite3.Connection,
    machine_id: str,
    action: str,
    params: Mapping[str, Any],
    caller: Mapping[str, Any],
    now_ms: int,
    provision_delay: float,
) -> str:
    if action != "provision" and not params.get("fail") and take_job_failure(action):
        params = {**params, "fail": True}
    row = conn.execute(
        "SELECT MAX(finish_ms) FROM machine_jobs WHERE machine = ? AND phase IN (?, ?)",
        (machine_id, *_PENDING),
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


# --- rendering -----------------------------------------------------------------------------


def machine_type(brand: str) -> str:
    """The deprecated ``type`` field: ``virtualmachine`` for HVM brands."""
    return "virtualmachine" if brand in HVM_BRANDS else "smartmachine"


#: Where CNS names live: ``<name>.inst.<account>.<datacenter>.<suffix>``.
CNS_SUFFIX = "cns.smartdc-emulator.invalid"
_NOT_DNS = re.compile(r"[^a-z0-9-]+")


def dnsify(text: str) -> str:
    """A name as CNS puts it in DNS: lower case, anything else than ``[a-z0-9-]`` a dash."""
    return _NOT_DNS.sub("-", text.lower())


def _dns_names(m: _Machine) -> list[str]:
    """The names CNS serves for the machine (none when its tags turn CNS off)."""
    tags: dict[str, Any] = m.doc.get("tags", {})
    if tags.get("triton.cns.disable") is True:
        return []
    zone = f"{m.account}.{m.datacenter}.{CNS_SUFFIX}"
    names = [f"{m.id}.inst.{zone}", f"{dnsify(m.name)}.inst.{zone}"]
    services = tags.get("triton.cns.services")
    if isinstance(services, str):
        for service in services.split(","):
            name = service.strip().split(":", 1)[0]
            if name:
                names.append(f"{dnsify(name)}.svc.{zone}")
    return names


def _machine_disks(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The disks as the machine object lists them: ``boot`` only on the boot disk, ``image``
    only where there is one."""
    shown = []
    for disk in doc.get("disks", []):
        item: dict[str, Any] = {"id": disk["id"], "size": disk["size"]}
        item["block_size"] = disk.get("block_size", BLOCK_SIZE)
        if disk.get("boot"):
            item["boot"] = True
        if disk.get("image"):
            item["image"] = disk["image"]
        shown.append(item)
    return shown


def _render(m: _Machine, nic_rows: Sequence[Any], cns: bool) -> dict[str, Any]:
    settled = [row for row in nic_rows if not row["pending"]]
    shown = [] if m.state in (lifecycle.PROVISIONING, lifecycle.FAILED) else settled
    doc = m.doc
    machine: dict[str, Any] = {
        "id": m.id,
        "name": m.name,
        "type": machine_type(m.brand),
        "brand": m.brand,
        "state": m.state,
        "image": m.image,
        "ips": [row["ip"] for row in shown],
        "memory": doc["memory"],
        "disk": doc["disk"],
        "metadata": dict(doc.get("metadata", {})),
        "tags": dict(doc.get("tags", {})),
        "created": iso_ms(m.created_ms),
        "updated": iso_ms(m.updated_ms),
        "networks": [row["network"] for row in shown],
    }
    if shown:
        primary = next((row for row in shown if row["is_primary"]), shown[0])
        machine["primaryIp"] = primary["ip"]
    machine["firewall_enabled"] = bool(doc.get("firewall_enabled", False))
    machine["deletion_protection"] = bool(doc.get("deletion_protection", False))
    if doc.get("compute_node"):
        machine["compute_node"] = doc["compute_node"]
    machine["package"] = doc.get("package_name", "")
    if shown:
        machine["nics"] = [nics.render_nic(row, nics.nic_state(row, m.state)) for row in shown]
    if m.brand == "bhyve":
        machine["flexible"] = bool(doc.get("flexible"))
        machine["disks"] = _machine_disks(doc)
        if doc.get("flexible"):
            used = sum(int(d["size"]) for d in doc.get("disks", []))
            machine["free_space"] = max(int(doc["disk"]) - used, 0)
    if doc.get("encrypted"):
        machine["encrypted"] = True
    if doc.get("delegate_dataset"):
        machine["delegate_dataset"] = True
    if cns:
        machine["dns_names"] = _dns_names(m)
    return machine


def _cns_accounts(conn: sqlite3.Connection, accounts: set[str]) -> set[str]:
    """The accounts among ``accounts`` that have CNS turned on."""
    if not accounts:
        return set()
    marks = ", ".join("?" for _ in accounts)
    rows = conn.execute(
        f"SELECT uuid, doc FROM accounts WHERE uuid IN ({marks})", tuple(accounts)
    ).fetchall()
    return {row["uuid"] for row in rows if loads(row["doc"]).get("triton_cns_enabled") is True}


def _render_many(conn: sqlite3.Connection, machines: Sequence[_Machine]) -> list[dict[str, Any]]:
    rows = nics.nic_rows(conn, (m.id for m in machines))
    cns = _cns_accounts(conn, {m.account for m in machines})
    return [_render(m, rows[m.id], m.account in cns) for m in machines]


# --- creating and reading machines ---------------------------------------------------------

#: The block size of a disk that does not ask for one.
BLOCK_SIZE = 8192
#: Where a machine's disks sit: PCI device ``0:4``, functions 0-7.
_DISK_SLOT = "0:4:{}"


@dataclass(frozen=True)
class DiskRequest:
    """One disk of a new HVM machine, sizes resolved (``image`` only on the boot disk)."""

    size: int
    boot: bool = False
    image: str | None = None
    block_size: int | None = None


@dataclass(frozen=True)
class VolumeMount:
    """An NFS volume the new machine mounts at boot."""

    volume: str
    name: str
    mountpoint: str
    mode: str = "rw"
    type: str = "tritonnfs"


@dataclass
class MachineSpec:
    """Everything CreateMachine decided about a new machine (validated by the caller)."""

    image: Mapping[str, Any]
    package: Mapping[str, Any]
    brand: str
    nics: Sequence[nics.NicRequest]
    name: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    internal_metadata: Mapping[str, Any] = field(default_factory=dict)
    tags: Mapping[str, Any] = field(default_factory=dict)
    firewall_enabled: bool = False
    deletion_protection: bool = False
    #: Make the provision job fail (the machine ends ``failed``), as when capacity runs out.
    fail_provision: bool = False
    #: The disks of an HVM machine; ``None``: the package's layout (image disk, data disk).
    disks: Sequence[DiskRequest] | None = None
    locality: placement.Locality | None = None
    encrypted: bool = False
    delegate_dataset: bool = False
    bootrom: str | None = None
    volumes: Sequence[VolumeMount] = ()


def disk_id(machine_id: str, pci_slot: str) -> str:
    """The stable id of the disk at ``pci_slot`` of the machine."""
    return str(uuid.uuid5(CATALOG_NAMESPACE, f"disk:{machine_id}/{pci_slot}"))


def _default_disks(spec: MachineSpec) -> list[DiskRequest]:
    boot_size = int(spec.image.get("image_size") or 10240)
    boot = DiskRequest(boot_size, boot=True, image=str(spec.image["id"]))
    total = int(spec.package["disk"])
    if spec.package.get("flexible_disk"):
        return [boot, DiskRequest(total - boot_size)] if total > boot_size else [boot]
    return [boot, DiskRequest(total)]


def _hvm_disks(machine_id: str, spec: MachineSpec) -> list[dict[str, Any]]:
    wanted = list(spec.disks) if spec.disks is not None else _default_disks(spec)
    disks = []
    for index, disk in enumerate(wanted):
        slot = _DISK_SLOT.format(index)
        stored: dict[str, Any] = {
            "id": disk_id(machine_id, slot),
            "boot": disk.boot,
            "size": disk.size,
            "block_size": disk.block_size or BLOCK_SIZE,
            "pci_slot": slot,
        }
        if disk.image is not None:
            stored["image"] = disk.image
        disks.append(stored)
    return disks


def create_machine(
    db: Database,
    owner: Owner,
    spec: MachineSpec,
    *,
    caller: Mapping[str, Any],
    now: float,
    provision_delay: float,
    machine_id: str | None = None,
) -> dict[str, Any]:
    """Create a machine in ``provisioning`` and queue its provision job; return the machine.

    Raises VMAPI's 409 ``ValidationFailed`` for a bad or duplicate name, and NAPI's errors
    when a requested address cannot be had.
    """
    new_id = machine_id or ids.new_uuid(db)
    now_ms = to_ms(now)
    name = (spec.name or "{{shortId}}").replace("{{shortId}}", new_id[:8])
    doc: dict[str, Any] = {
        "package_id": spec.package["id"],
        "package_name": spec.package["name"],
        "memory": spec.package["memory"],
        "disk": spec.package["disk"],
        "metadata": dict(spec.metadata),
        "internal_metadata": dict(spec.internal_metadata),
        "tags": dict(spec.tags),
        "firewall_enabled": spec.firewall_enabled,
        "deletion_protection": spec.deletion_protection,
    }
    if spec.brand in HVM_BRANDS:
        doc["disks"] = _hvm_disks(new_id, spec)
        if spec.brand == "bhyve" and spec.package.get("flexible_disk"):
            doc["flexible"] = True
        elif len(doc["disks"]) > 1:
            doc["disk"] = doc["disks"][1]["size"]
    optional = {
        "locality": spec.locality.to_doc() if spec.locality is not None else None,
        "encrypted": spec.encrypted or None,
        "delegate_dataset": spec.delegate_dataset or None,
        "bootrom": spec.bootrom,
        "volumes": [asdict(v) for v in spec.volumes] or None,
    }
    doc.update({k: v for k, v in optional.items() if v is not None})
    with db.transaction() as conn:
        _settle_owner(conn, owner, now_ms)
        _check_alias(conn, owner, name, exclude=None, prefix="Invalid VM parameters")
        conn.execute(
            "INSERT INTO machines (id, account, datacenter, name, brand, state, image,"
            " created_ms, updated_ms, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                new_id,
                owner.account,
                owner.datacenter,
                name,
                spec.brand,
                lifecycle.PROVISIONING,
                spec.image["id"],
                now_ms,
                now_ms,
                dumps(doc),
            ),
        )
        nics.allocate_nics(conn, new_id, owner.datacenter, spec.nics)
        params = {"fail": True} if spec.fail_provision else {}
        _enqueue(conn, new_id, "provision", params, caller, now_ms, provision_delay)
        machine = _load(conn, new_id)
        assert machine is not None
        rendered = _render_many(conn, [machine])[0]
        changes.record_vm_change(
            conn,
            account=owner.account,
            datacenter=owner.datacenter,
            machine=rendered,
            sub_resources=["state"],
            published_ms=now_ms,
        )
        return rendered


def get_machine(db: Database, owner: Owner, machine_id: str, now: float) -> dict[str, Any]:
    """The machine as of ``now`` (``state: deleted`` included); 404 "VM not found" otherwise."""
    with _settled(db, owner, machine_id, to_ms(now)) as (conn, machine):
        return _render_many(conn, [machine])[0]


def credentials(db: Database, owner: Owner, machine_id: str) -> dict[str, str]:
    """``{user: password}`` from the machine's internal ``<user>_pw`` metadata."""
    with db.transaction() as conn:
        machine = _load_owned(conn, owner, machine_id)
    internal: dict[str, Any] = machine.doc.get("internal_metadata", {})
    return {
        key.removesuffix("_pw"): str(value)
        for key, value in internal.items()
        if key.endswith("_pw")
    }


@dataclass(frozen=True)
class MachineQuery:
    """ListMachines filters, already validated. ``None`` means "do not filter on this"."""

    #: Exact states wanted; when ``None``, ``active_only`` decides.
    states: frozenset[str] | None = None
    #: Leave out destroyed and failed machines (VMAPI's default ``active`` filter).
    active_only: bool = True
    type: str | None = None
    brand: str | None = None
    #: A prefix of the name (VMAPI matches ``alias=<name>*``).
    name: str | None = None
    image: str | None = None
    memory: int | None = None
    docker: bool | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    #: Only machines that carry at least one tag (``tags=*``).
    any_tag: bool = False


def _matches(m: _Machine, query: MachineQuery) -> bool:
    tags: dict[str, Any] = m.doc.get("tags", {})
    checks = (
        m.state in query.states
        if query.states is not None
        else not (query.active_only and m.state in lifecycle.INACTIVE_STATES),
        query.type is None or machine_type(m.brand) == query.type,
        query.brand is None or m.brand == query.brand,
        query.name is None or m.name.startswith(query.name),
        query.image is None or m.image == query.image,
        query.memory is None or m.doc["memory"] == query.memory,
        query.docker is None or bool(m.doc.get("docker", False)) == query.docker,
        not query.any_tag or bool(tags),
        all(k in tags and matches_wildcard(v, filter_text(tags[k])) for k, v in query.tags.items()),
    )
    return all(checks)


def list_machines(
    db: Database, owner: Owner, query: MachineQuery, now: float
) -> list[dict[str, Any]]:
    """The owner's machines matching ``query``, as of ``now``, in VMAPI's order (uuid DESC)."""
    with db.transaction() as conn:
        _settle_owner(conn, owner, to_ms(now))
        rows = conn.execute(
            "SELECT * FROM machines WHERE account = ? AND datacenter = ? ORDER BY id DESC",
            (owner.account, owner.datacenter),
        ).fetchall()
        machines = [m for m in (_Machine.from_row(r) for r in rows) if _matches(m, query)]
        return _render_many(conn, machines)


def volume_refs(
    conn: sqlite3.Connection, account: str, datacenter: str, now_ms: int
) -> dict[str, list[str]]:
    """Volume id -> the ids of the account's live machines that mount it (in the caller's
    transaction, the machines' due jobs applied first)."""
    _settle(conn, now_ms, "m.account = ? AND m.datacenter = ?", (account, datacenter))
    rows = conn.execute(
        "SELECT id, doc FROM machines WHERE account = ? AND datacenter = ?"
        " AND state NOT IN ('deleted', 'failed') AND json_extract(doc, '$.volumes') IS NOT NULL"
        " ORDER BY created_ms, id",
        (account, datacenter),
    ).fetchall()
    refs: dict[str, list[str]] = {}
    for row in rows:
        for mount in loads(row["doc"]).get("volumes", []):
            refs.setdefault(str(mount["volume"]), []).append(str(row["id"]))
    return refs


# --- jobs ----------------------------------------------------------------------------------


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
    with _settled(db, owner, machine_id, now_ms) as (conn, machine):
        lifecycle.check_allocated(action, machine.state)
        if action == "rename":
            _check_alias(
                conn,
                owner,
                str(params["name"]),
                exclude=machine.id,
                prefix="Invalid VM update parameters",
            )
        return _enqueue(conn, machine.id, action, params, caller, now_ms, provision_delay)


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
    with _settled(db, owner, machine_id, to_ms(now)) as (conn, machine):
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
    now_ms = to_ms(now)
    with db.transaction() as conn:
        found = conn.execute("SELECT machine FROM machine_jobs WHERE id = ?", (job_id,)).fetchone()
        if found is None:
            return None
        _settle_machine(conn, str(found["machine"]), now_ms)
        row = conn.execute("SELECT * FROM machine_jobs WHERE id = ?", (job_id,)).fetchone()
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
    with _settled(db, owner, machine_id, now_ms) as (conn, machine):
        for job_id in job_ids:
            conn.execute(
                "UPDATE machine_jobs SET finish_ms = ? WHERE id = ? AND machine = ? AND phase = ?",
                (now_ms, job_id, machine.id, RUNNING_JOB),
            )
            conn.execute(
                "DELETE FROM machine_jobs WHERE id = ? AND machine = ? AND phase = ?",
                (job_id, machine.id, QUEUED),
            )
        _settle_machine(conn, machine.id, now_ms)


def pending_jobs(
    db: Database, owner: Owner, machine_id: str, now: float
) -> list[tuple[str, dict[str, Any]]]:
    """The machine's queued and running jobs as ``(action, params)``, oldest first."""
    with _settled(db, owner, machine_id, to_ms(now)) as (conn, machine):
        rows = conn.execute(
            "SELECT action, params FROM machine_jobs WHERE machine = ? AND phase IN (?, ?)"
            " ORDER BY seq",
            (machine.id, *_PENDING),
        ).fetchall()
    return [(str(row["action"]), loads(row["params"])) for row in rows]


def stored_disks(db: Database, owner: Owner, machine_id: str, now: float) -> list[dict[str, Any]]:
    """A flexible machine's disks as kept, with the fields the machine object leaves out."""
    with _settled(db, owner, machine_id, to_ms(now)) as (_conn, machine):
        return [dict(d) for d in machine.doc.get("disks", [])]


def delete_machine(
    db: Database,
    owner: Owner,
    machine_id: str,
    *,
    caller: Mapping[str, Any],
    now: float,
    provision_delay: float,
) -> str | None:
    """Queue the destroy job (``None`` when one is already queued or running).

    Raises 404, 410 with the machine when it is already deleted, 409
    ``CannotDestroyMachineError`` under deletion protection, and 409 ``Conflict`` while the
    machine has no compute node yet (early in its provision job).
    """
    now_ms = to_ms(now)
    with _settled(db, owner, machine_id, now_ms) as (conn, machine):
        if machine.state == lifecycle.DELETED:
            raise EmulatorError(410, None, "Gone", body=_render_many(conn, [machine])[0])
        if machine.doc.get("deletion_protection"):
            raise EmulatorError(
                409,
                "CannotDestroyMachineError",
                'Instance has "deletion_protection" enabled, preventing deletion',
            )
        pending = conn.execute(
            "SELECT 1 FROM machine_jobs WHERE machine = ? AND action = 'destroy' AND phase IN"
            " (?, ?)",
            (machine.id, *_PENDING),
        ).fetchone()
        if pending is not None:
            return None
        if machine.state != lifecycle.FAILED and not machine.doc.get("compute_node"):
            # as sdc-vmapi lib/endpoints/vms.js: no compute node yet, nothing to destroy on
            raise EmulatorError(409, "Conflict", "Cannot delete a VM with no server_uuid")
        return _enqueue(conn, machine.id, "destroy", {}, caller, now_ms, provision_delay)


def audit(db: Database, owner: Owner, machine_id: str, now: float) -> list[dict[str, Any]]:
    """Finished jobs, newest first, as AuditEntry objects."""
    with _settled(db, owner, machine_id, to_ms(now)) as (conn, machine):
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


# --- snapshots -----------------------------------------------------------------------------

#: Snapshot ``state`` for each phase of its creating job.
_SNAPSHOT_STATES = {
    QUEUED: "queued",
    RUNNING_JOB: "running",
    SUCCEEDED: "created",
    FAILED_JOB: "failed",
}


def create_snapshot(
    db: Database,
    owner: Owner,
    machine_id: str,
    name: str,
    *,
    caller: Mapping[str, Any],
    now: float,
    provision_delay: float,
) -> dict[str, Any]:
    """Queue a ``create_snapshot`` job; return ``{"name", "state": "queued"}``.

    Raises 409 ``BrandNotSupported`` for kvm machines, which cannot be snapshotted.
    """
    now_ms = to_ms(now)
    with _settled(db, owner, machine_id, now_ms) as (conn, machine):
        if machine.brand == "kvm":
            raise EmulatorError(
                409, "BrandNotSupported", "snapshots are not supported for VMs of brand kvm"
            )
        lifecycle.check_allocated("create_snapshot", machine.state)
        job_id = _enqueue(
            conn, machine.id, "create_snapshot", {"name": name}, caller, now_ms, provision_delay
        )
        conn.execute(
            "INSERT INTO machine_snapshots (job, machine, name, created_ms) VALUES (?, ?, ?, ?)",
            (job_id, machine.id, name, now_ms),
        )
    return {"name": name, "state": "queued"}


def _render_snapshot(row: Any, state: str) -> dict[str, Any]:
    stamp = iso_ms(row["created_ms"])
    return {"name": row["name"], "state": state, "created": stamp, "updated": stamp}


def list_snapshots(db: Database, owner: Owner, machine_id: str, now: float) -> list[dict[str, Any]]:
    """Snapshots the machine has (created and not deleted), oldest first."""
    with _settled(db, owner, machine_id, to_ms(now)) as (conn, machine):
        rows = conn.execute(
            "SELECT s.* FROM machine_snapshots s JOIN machine_jobs j ON j.id = s.job"
            " WHERE s.machine = ? AND s.deleted_ms IS NULL AND j.phase = ? ORDER BY j.seq",
            (machine.id, SUCCEEDED),
        ).fetchall()
    return [_render_snapshot(row, "created") for row in rows]


def get_snapshot(
    db: Database, owner: Owner, machine_id: str, name: str, now: float
) -> dict[str, Any] | None:
    """The newest snapshot of that name with its creating job's state, ``deleted`` once it
    is gone; ``None`` if no snapshot job ever had that name."""
    with _settled(db, owner, machine_id, to_ms(now)) as (conn, machine):
        row = conn.execute(
            "SELECT s.*, j.phase FROM machine_snapshots s JOIN machine_jobs j ON j.id = s.job"
            " WHERE s.machine = ? AND s.name = ? ORDER BY j.seq DESC LIMIT 1",
            (machine.id, name),
        ).fetchone()
    if row is None:
        return None
    state = "deleted" if row["deleted_ms"] is not None else _SNAPSHOT_STATES[row["phase"]]
    return _render_snapshot(row, state)


def snapshot_exists(db: Database, owner: Owner, machine_id: str, name: str, now: float) -> bool:
    """Whether the machine has a created, undeleted snapshot of that name."""
    with _settled(db, owner, machine_id, to_ms(now)) as (conn, machine):
        return _live_snapshot(conn, machine.id, name) is not None
