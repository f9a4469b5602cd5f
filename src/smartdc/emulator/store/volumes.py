"""NFS shared volumes (``tritonnfs``), as VOLAPI keeps them.

A volume is served by a storage VM with one NIC on each of the volume's fabric networks; its
``filesystem_path`` is the first NIC's address and the export path. Its state is stored, and
changed by the request that makes or deletes it and by the job engine: CreateVolume makes it
``creating`` and queues a ``create_volume`` job (``ready`` when it succeeds, ``failed`` when
the storage VM could not be provisioned); DeleteVolume makes it ``deleting`` and queues a
``delete_volume`` job, whose success removes it and frees its addresses (see
:mod:`smartdc.emulator.store.volume_jobs`). Reads only read: the server's scheduler applies
the jobs when they are due.

HTTP-free; inputs are validated by the caller. Refusals are raised as CloudAPI passes
VOLAPI's on.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from smartdc.emulator.context import EmulatorError
from smartdc.emulator.db import Database, dumps, loads
from smartdc.emulator.store import ids, jobs, machines, nics, volume_jobs
from smartdc.emulator.store.catalog import NetworkRecord
from smartdc.emulator.store.timestamps import iso_ms, to_ms

CREATING = volume_jobs.CREATING
READY = volume_jobs.READY
FAILED = volume_jobs.FAILED
DELETING = volume_jobs.DELETING
STATES = volume_jobs.STATES
TRITONNFS = "tritonnfs"
#: Where a ``tritonnfs`` storage VM exports the volume.
EXPORT_PATH = "/exports/data"
#: The sizes (MiB) this datacenter offers: 10 to 100 GiB in 10 GiB steps, then 100 GiB steps
#: up to 1000 GiB.
VOLUME_SIZES: tuple[int, ...] = tuple(
    [10240 * n for n in range(1, 11)] + [102400 * n for n in range(2, 11)]
)
DEFAULT_SIZE = VOLUME_SIZES[0]


def volume_not_found() -> EmulatorError:
    """VOLAPI's 404 for a volume the account does not have (``triton`` waits for it)."""
    return EmulatorError(404, "VolumeNotFound", "Volume not found")


def size_not_available(size: int) -> EmulatorError:
    """VOLAPI's 409 for a size that is not on offer."""
    sizes = ", ".join(str(s) for s in VOLUME_SIZES)
    return EmulatorError(
        409,
        "VolumeSizeNotAvailable",
        f"Volume size {size} is not available. Available sizes are: {sizes}",
    )


@dataclass(frozen=True)
class Owner:
    """Whose volumes: one account in one datacenter."""

    account: str
    datacenter: str


@dataclass(frozen=True)
class VolumeSpec:
    """A new volume's settings, already validated (``networks`` non-empty, size on offer).
    Without a name the volume is named after its short id."""

    name: str | None
    size: int
    networks: Sequence[NetworkRecord]
    tags: Mapping[str, str] = field(default_factory=dict)
    #: Make the storage VM's provision fail, so the volume ends ``failed``.
    fail: bool = False


def volume_in_use(name: str) -> EmulatorError:
    """VOLAPI's 409 for deleting a volume that machines still mount."""
    return EmulatorError(409, "VolumeInUse", f"Volume with name {name} is used")


def _refs(conn: sqlite3.Connection, owner: Owner, now_ms: int) -> dict[str, list[str]]:
    return machines.volume_refs(conn, owner.account, owner.datacenter, now_ms)


def _render(row: Any, refs: Mapping[str, list[str]]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "owner_uuid": row["account"],
        "name": row["name"],
        "type": row["type"],
        "size": row["size"],
        "state": row["state"],
        "networks": loads(row["networks"]),
        "refs": list(refs.get(row["id"], [])),
        "filesystem_path": row["filesystem_path"],
        "tags": loads(row["tags"]),
        "created": iso_ms(row["created_ms"]),
    }


def _rows(conn: sqlite3.Connection, owner: Owner) -> list[Any]:
    return conn.execute(
        "SELECT * FROM volumes WHERE account = ? AND datacenter = ? ORDER BY created_ms, id",
        (owner.account, owner.datacenter),
    ).fetchall()


def list_volumes(db: Database, owner: Owner, now: float) -> list[dict[str, Any]]:
    """Every volume the owner has (failed and deleting ones included), oldest first, with
    the machines that mount it as of ``now``; the caller filters."""
    with db.transaction() as conn:
        refs = _refs(conn, owner, to_ms(now))
        return [_render(row, refs) for row in _rows(conn, owner)]


def _owned_row(conn: sqlite3.Connection, owner: Owner, volume_id: str) -> Any:
    row = conn.execute(
        "SELECT * FROM volumes WHERE id = ? AND account = ? AND datacenter = ?",
        (volume_id, owner.account, owner.datacenter),
    ).fetchone()
    if row is None:
        raise volume_not_found()
    return row


def get_volume(db: Database, owner: Owner, volume_id: str, now: float) -> dict[str, Any]:
    """One volume; 404 ``VolumeNotFound`` once it is gone."""
    with db.transaction() as conn:
        return _render(_owned_row(conn, owner, volume_id), _refs(conn, owner, to_ms(now)))


def _check_name_free(conn: sqlite3.Connection, owner: Owner, name: str, exclude: str = "") -> None:
    for row in _rows(conn, owner):
        if row["id"] != exclude and row["name"] == name and row["state"] != FAILED:
            raise EmulatorError(
                409, "VolumeAlreadyExists", f"Volume with name {name} already exists"
            )


def create_volume(
    db: Database, owner: Owner, spec: VolumeSpec, *, now: float, provision_delay: float
) -> dict[str, Any]:
    """Create the volume in ``creating`` and queue its ``create_volume`` job; 409
    ``VolumeAlreadyExists`` when the owner has a volume of that name that has not failed."""
    now_ms = to_ms(now)
    volume_id = ids.new_uuid(db)
    storage_vm = ids.new_uuid(db)
    name = spec.name or f"volume-{volume_id[:8]}"
    with db.transaction() as conn:
        _check_name_free(conn, owner, name)
        requests = [nics.NicRequest(network) for network in spec.networks]
        nics.allocate_nics(conn, storage_vm, owner.datacenter, requests)
        first = nics.nic_rows(conn, [storage_vm])[storage_vm][0]
        conn.execute(
            "INSERT INTO volumes (id, account, datacenter, name, type, size, networks, tags,"
            " storage_vm, filesystem_path, created_ms, state)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                volume_id,
                owner.account,
                owner.datacenter,
                name,
                TRITONNFS,
                spec.size,
                dumps([network.id for network in spec.networks]),
                dumps(dict(spec.tags)),
                storage_vm,
                f"{first['ip']}:{EXPORT_PATH}",
                now_ms,
                CREATING,
            ),
        )
        params = {"fail": True} if spec.fail else {}
        jobs.enqueue(conn, volume_id, volume_jobs.CREATE, params, {}, now_ms, provision_delay)
        return _render(_owned_row(conn, owner, volume_id), {})


def rename_volume(
    db: Database, owner: Owner, volume_id: str, name: str, now: float
) -> dict[str, Any]:
    """Give the volume a new name; 409 ``VolumeAlreadyExists`` when another one has it."""
    with db.transaction() as conn:
        _owned_row(conn, owner, volume_id)
        _check_name_free(conn, owner, name, exclude=volume_id)
        conn.execute("UPDATE volumes SET name = ? WHERE id = ?", (name, volume_id))
        return _render(_owned_row(conn, owner, volume_id), _refs(conn, owner, to_ms(now)))


def delete_volume(
    db: Database,
    owner: Owner,
    volume_id: str,
    *,
    now: float,
    provision_delay: float,
    fail: bool = False,
) -> bool:
    """Make the volume ``deleting`` and queue its ``delete_volume`` job (``fail``: one that
    fails); whether a job was queued (a volume already being deleted is left as it is).
    409 ``VolumeInUse`` while machines mount it."""
    now_ms = to_ms(now)
    with db.transaction() as conn:
        row = _owned_row(conn, owner, volume_id)
        if row["state"] == DELETING:
            return False
        if _refs(conn, owner, now_ms).get(row["id"]):
            raise volume_in_use(row["name"])
        # VOLAPI marks the volume deleting before it asks VMAPI to destroy the storage VM
        # (sdc-volapi lib/endpoints/volumes.js deleteVolume).
        conn.execute("UPDATE volumes SET state = ? WHERE id = ?", (DELETING, volume_id))
        params = {"fail": True} if fail else {}
        jobs.enqueue(conn, volume_id, volume_jobs.DELETE, params, {}, now_ms, provision_delay)
        return True


def mountable(db: Database, owner: Owner, names: Sequence[str], now: float) -> dict[str, Any]:
    """The owner's ``ready`` volumes among ``names``, by name, each with its ``networks``."""
    with db.transaction() as conn:
        return {
            row["name"]: _render(row, {})
            for row in _rows(conn, owner)
            if row["name"] in names and row["state"] == READY
        }


# --- listing filters -----------------------------------------------------------------------

#: The fields a ListVolumes predicate may test; ``tags.<key>`` tests one tag.
PREDICATE_FIELDS = frozenset({"name", "billing_id", "type", "state", "tags"})


def _field_value(volume: Mapping[str, Any], name: str) -> Any:
    if name.startswith("tags."):
        return volume["tags"].get(name.removeprefix("tags."))
    return volume.get(name)


def predicate_matches(predicate: Mapping[str, Any], volume: Mapping[str, Any]) -> bool:
    """Whether the volume satisfies a validated predicate (``eq``, ``ne``, ``and``, ``or``)."""
    (operator, operand), *_ = predicate.items()
    if operator == "and":
        return all(predicate_matches(part, volume) for part in operand)
    if operator == "or":
        return any(predicate_matches(part, volume) for part in operand)
    name, wanted = operand
    equal = _field_value(volume, name) == wanted
    return equal if operator == "eq" else not equal


@dataclass(frozen=True)
class VolumeQuery:
    """ListVolumes filters, already validated; ``None`` means "do not filter on this"."""

    #: An exact name, or one with a leading and/or trailing ``*``.
    name: str | None = None
    size: int | None = None
    state: str | None = None
    type: str | None = None
    predicate: Mapping[str, Any] | None = None

    def _name_matches(self, name: str) -> bool:
        if self.name is None:
            return True
        core = self.name.strip("*")
        if self.name.startswith("*") and self.name.endswith("*") and len(self.name) > 1:
            return core in name
        if self.name.startswith("*"):
            return name.endswith(core)
        if self.name.endswith("*"):
            return name.startswith(core)
        return name == self.name

    def matches(self, volume: Mapping[str, Any]) -> bool:
        """Whether ``volume`` passes every filter; failed volumes pass only when the query
        names a state or has a predicate."""
        if self.state is None and self.predicate is None and volume["state"] == FAILED:
            return False
        return all(
            (
                self._name_matches(str(volume["name"])),
                self.size is None or volume["size"] == self.size,
                self.state is None or volume["state"] == self.state,
                self.type is None or volume["type"] == self.type,
                self.predicate is None or predicate_matches(self.predicate, volume),
            )
        )
