"""Machines as VMAPI keeps them: create, read, list and destroy.

A machine belongs to one account in one datacenter. Every change after creation is a job of
the engine in :mod:`smartdc.emulator.store.jobs`; snapshots are in
:mod:`smartdc.emulator.store.snapshots`. The names routes and other store modules use from
those modules are importable from here too.

HTTP-free: functions take a :class:`Database` and the caller's clock, and return
CloudAPI-shaped dicts. Refusals that VMAPI makes are raised as
:class:`EmulatorError` with VMAPI's status, code and message.
"""

from __future__ import annotations

import functools
import sqlite3
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from smartdc.emulator import lifecycle
from smartdc.emulator.context import EmulatorError
from smartdc.emulator.db import Database, dumps, loads, register_function
from smartdc.emulator.store import changes, ids, nics, placement
from smartdc.emulator.store.filters import filter_text, matches_wildcard
from smartdc.emulator.store.jobs import (
    FAILED_JOB,
    PENDING_SQL,
    QUEUED,
    RUNNING_JOB,
    SUCCEEDED,
    JobContext,
    JobStatus,
    audit,
    catch_up,
    end_jobs,
    enqueue,
    job_status,
    job_statuses,
    pending_jobs,
    queue_job,
    reading,
    settle,
    settle_due,
    settle_due_in,
    settled,
    take_job_failure,
    use_job_failures,
)
from smartdc.emulator.store.machine_record import (
    BLOCK_SIZE,
    CNS_SUFFIX,
    HVM_BRANDS,
    MAX_NAME_LENGTH,
    NAME_PATTERN,
    Machine,
    Owner,
    check_alias,
    dnsify,
    load,
    load_owned,
    machine_type,
    render_many,
    vm_not_found,
)
from smartdc.emulator.store.seed import CATALOG_NAMESPACE
from smartdc.emulator.store.snapshots import (
    create_snapshot,
    get_snapshot,
    list_snapshots,
    snapshot_exists,
)
from smartdc.emulator.store.timestamps import to_ms

__all__ = [
    "BLOCK_SIZE",
    "CNS_SUFFIX",
    "FAILED_JOB",
    "HVM_BRANDS",
    "MAX_NAME_LENGTH",
    "NAME_PATTERN",
    "QUEUED",
    "RUNNING_JOB",
    "SUCCEEDED",
    "DiskRequest",
    "JobContext",
    "JobStatus",
    "MachineQuery",
    "MachineSpec",
    "Owner",
    "VolumeMount",
    "audit",
    "catch_up",
    "compute_nodes",
    "create_machine",
    "create_snapshot",
    "credentials",
    "delete_machine",
    "disk_id",
    "dnsify",
    "end_jobs",
    "get_machine",
    "get_snapshot",
    "job_status",
    "job_statuses",
    "list_machines",
    "list_snapshots",
    "machine_type",
    "pending_jobs",
    "queue_job",
    "settle_due",
    "snapshot_exists",
    "stored_disks",
    "take_job_failure",
    "use_job_failures",
    "vm_not_found",
    "volume_refs",
]


def compute_nodes(datacenter: str) -> tuple[str, ...]:
    """The ids of the datacenter's compute nodes, which machines are spread over."""
    return placement.compute_nodes(datacenter)


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
        settle_due_in(conn, now_ms)
        check_alias(conn, owner, name, exclude=None, prefix="Invalid VM parameters")
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
        enqueue(conn, new_id, "provision", params, caller, now_ms, provision_delay)
        machine = load(conn, new_id)
        assert machine is not None
        rendered = render_many(conn, [machine])[0]
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
    with reading(db, owner, machine_id, now) as (conn, machine):
        return render_many(conn, [machine])[0]


def credentials(db: Database, owner: Owner, machine_id: str) -> dict[str, str]:
    """``{user: password}`` from the machine's internal ``<user>_pw`` metadata."""
    with db.reading() as conn:
        machine = load_owned(conn, owner, machine_id)
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


def _doc_filter(query: MachineQuery) -> str | None:
    """The filters on the machine's document as the JSON :func:`_doc_matches` reads, or
    ``None`` when the query has none."""
    if query.memory is None and query.docker is None and not query.any_tag and not query.tags:
        return None
    spec = {
        "memory": query.memory,
        "docker": query.docker,
        "any_tag": query.any_tag,
        "tags": dict(query.tags),
    }
    return dumps(spec)


@functools.lru_cache(maxsize=64)
def _spec(text: str) -> dict[str, Any]:
    spec: dict[str, Any] = loads(text)
    return spec


def _doc_matches(doc_text: str, spec_text: str) -> int:
    """SQL function: whether a machine's document passes the query's document filters."""
    spec = _spec(spec_text)
    doc: dict[str, Any] = loads(doc_text)
    tags: dict[str, Any] = doc.get("tags", {})
    checks = (
        spec["memory"] is None or doc["memory"] == spec["memory"],
        spec["docker"] is None or bool(doc.get("docker", False)) == spec["docker"],
        not spec["any_tag"] or bool(tags),
        all(
            k in tags and matches_wildcard(v, filter_text(tags[k])) for k, v in spec["tags"].items()
        ),
    )
    return int(all(checks))


register_function("emulator_machine_doc_matches", 2, _doc_matches)


def _where(owner: Owner, query: MachineQuery) -> tuple[str, list[Any]]:
    """The SQL condition (and its arguments) selecting the owner's machines ``query`` wants."""
    clauses = ["account = ?", "datacenter = ?"]
    args: list[Any] = [owner.account, owner.datacenter]

    def one_of(column: str, values: Sequence[str], negate: bool = False) -> None:
        marks = ", ".join("?" for _ in values) or "NULL"
        clauses.append(f"{column} {'NOT IN' if negate else 'IN'} ({marks})")
        args.extend(values)

    if query.states is not None:
        one_of("state", sorted(query.states))
    elif query.active_only:
        one_of("state", sorted(lifecycle.INACTIVE_STATES), negate=True)
    if query.type is not None:
        one_of("brand", sorted(HVM_BRANDS), negate=query.type != "virtualmachine")
    if query.brand is not None:
        clauses.append("brand = ?")
        args.append(query.brand)
    if query.name is not None:
        clauses.append("substr(name, 1, ?) = ?")
        args += [len(query.name), query.name]
    if query.image is not None:
        clauses.append("image = ?")
        args.append(query.image)
    spec = _doc_filter(query)
    if spec is not None:
        clauses.append("emulator_machine_doc_matches(doc, ?)")
        args.append(spec)
    return " AND ".join(clauses), args


def list_machines(
    db: Database,
    owner: Owner,
    query: MachineQuery,
    now: float,
    *,
    limit: int | None = None,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """The owner's machines matching ``query``, as of ``now``, in VMAPI's order (uuid DESC);
    ``limit`` and ``offset`` select one page of them, in the database."""
    catch_up(db, now)
    where, args = _where(owner, query)
    sql = f"SELECT * FROM machines WHERE {where} ORDER BY id DESC"
    if limit is not None or offset:
        sql += " LIMIT ? OFFSET ?"
        args += [-1 if limit is None else limit, offset]
    with db.reading() as conn:
        rows = conn.execute(sql, args).fetchall()
        return render_many(conn, [Machine.from_row(r) for r in rows])


def volume_refs(
    conn: sqlite3.Connection, account: str, datacenter: str, now_ms: int
) -> dict[str, list[str]]:
    """Volume id -> the ids of the account's live machines that mount it (in the caller's
    transaction, the machines' due jobs applied first)."""
    settle(conn, now_ms, "m.account = ? AND m.datacenter = ?", (account, datacenter))
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


def stored_disks(db: Database, owner: Owner, machine_id: str, now: float) -> list[dict[str, Any]]:
    """A flexible machine's disks as kept, with the fields the machine object leaves out."""
    with reading(db, owner, machine_id, now) as (_conn, machine):
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
    with settled(db, owner, machine_id, now_ms) as (conn, machine):
        if machine.state == lifecycle.DELETED:
            raise EmulatorError(410, None, "Gone", body=render_many(conn, [machine])[0])
        if machine.doc.get("deletion_protection"):
            raise EmulatorError(
                409,
                "CannotDestroyMachineError",
                'Instance has "deletion_protection" enabled, preventing deletion',
            )
        pending = conn.execute(
            "SELECT 1 FROM machine_jobs WHERE machine = ? AND action = 'destroy'"
            f" AND {PENDING_SQL}",
            (machine.id,),
        ).fetchone()
        if pending is not None:
            return None
        if machine.state != lifecycle.FAILED and not machine.doc.get("compute_node"):
            # as sdc-vmapi lib/endpoints/vms.js: no compute node yet, nothing to destroy on
            raise EmulatorError(409, "Conflict", "Cannot delete a VM with no server_uuid")
        return enqueue(conn, machine.id, "destroy", {}, caller, now_ms, provision_delay)
