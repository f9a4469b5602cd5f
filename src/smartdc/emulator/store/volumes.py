"""NFS shared volumes (``tritonnfs``), as VOLAPI keeps them.

A volume is served by a storage VM with one NIC on each of the volume's fabric networks; its
``filesystem_path`` is the first NIC's address and the export path. A volume is ``creating``
for one provision delay and ``ready`` afterwards (``failed`` when its storage VM could not be
provisioned). Deleting makes it ``deleting`` for half a provision delay; then it is gone and
its addresses are free again. States follow from the stored times and the caller's clock,
and every read first settles the deletions that are due, so nothing runs in the background.

HTTP-free; inputs are validated by the caller. Refusals are raised as CloudAPI passes
VOLAPI's on.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from smartdc.emulator import lifecycle
from smartdc.emulator.context import EmulatorError
from smartdc.emulator.db import Database, dumps, loads, register_schema
from smartdc.emulator.store import ids, machines, nics
from smartdc.emulator.store.catalog import NetworkRecord
from smartdc.emulator.store.timestamps import iso_ms, to_ms

register_schema(
    """
    CREATE TABLE IF NOT EXISTS volumes (
        id TEXT PRIMARY KEY,
        account TEXT NOT NULL,
        datacenter TEXT NOT NULL,
        name TEXT NOT NULL,
        type TEXT NOT NULL,
        size INTEGER NOT NULL,
        networks TEXT NOT NULL,
        tags TEXT NOT NULL,
        storage_vm TEXT NOT NULL,
        filesystem_path TEXT NOT NULL,
        created_ms INTEGER NOT NULL,
        ready_ms INTEGER NOT NULL,
        failed INTEGER NOT NULL DEFAULT 0,
        deleting_ms INTEGER,
        gone_ms INTEGER
    );
    CREATE INDEX IF NOT EXISTS volumes_by_owner ON volumes (account, datacenter, created_ms);
    """
)

TRITONNFS = "tritonnfs"
CREATING = "creating"
READY = "ready"
FAILED = "failed"
DELETING = "deleting"
STATES: tuple[str, ...] = (CREATING, READY, FAILED, DELETING)
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


def _state(row: Any, now_ms: int) -> str:
    if row["deleting_ms"] is not None:
        return DELETING
    if now_ms < row["ready_ms"]:
        return CREATING
    return FAILED if row["failed"] else READY


def volume_in_use(name: str) -> EmulatorError:
    """VOLAPI's 409 for deleting a volume that machines still mount."""
    return EmulatorError(409, "VolumeInUse", f"Volume with name {name} is used")


def _refs(conn: sqlite3.Connection, owner: Owner, now_ms: int) -> dict[str, list[str]]:
    return machines.volume_refs(conn, owner.account, owner.datacenter, now_ms)


def _render(row: Any, now_ms: int, refs: Mapping[str, list[str]]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "owner_uuid": row["account"],
        "name": row["name"],
        "type": row["type"],
        "size": row["size"],
        "state": _state(row, now_ms),
        "networks": loads(row["networks"]),
        "refs": list(refs.get(row["id"], [])),
        "filesystem_path": row["filesystem_path"],
        "tags": loads(row["tags"]),
        "created": iso_ms(row["created_ms"]),
    }


def _settle(conn: sqlite3.Connection, owner: Owner, now_ms: int) -> None:
    """Remove the owner's volumes whose deletion has finished, freeing their addresses."""
    rows = conn.execute(
        "SELECT id, storage_vm FROM volumes WHERE account = ? AND datacenter = ?"
        " AND gone_ms IS NOT NULL AND gone_ms <= ?",
        (owner.account, owner.datacenter, now_ms),
    ).fetchall()
    for row in rows:
        for nic in nics.nic_rows(conn, [row["storage_vm"]])[row["storage_vm"]]:
            nics.delete_nic(conn, nic["mac"])
        conn.execute("DELETE FROM volumes WHERE id = ?", (row["id"],))


def _rows(conn: sqlite3.Connection, owner: Owner) -> list[Any]:
    return conn.execute(
        "SELECT * FROM volumes WHERE account = ? AND datacenter = ? ORDER BY created_ms, id",
        (owner.account, owner.datacenter),
    ).fetchall()


def list_volumes(db: Database, owner: Owner, now: float) -> list[dict[str, Any]]:
    """Every volume the owner has as of ``now`` (failed and deleting ones included), oldest
    first; the caller filters."""
    now_ms = to_ms(now)
    with db.transaction() as conn:
        _settle(conn, owner, now_ms)
        refs = _refs(conn, owner, now_ms)
        return [_render(row, now_ms, refs) for row in _rows(conn, owner)]


def _owned_row(conn: sqlite3.Connection, owner: Owner, volume_id: str) -> Any:
    row = conn.execute(
        "SELECT * FROM volumes WHERE id = ? AND account = ? AND datacenter = ?",
        (volume_id, owner.account, owner.datacenter),
    ).fetchone()
    if row is None:
        raise volume_not_found()
    return row


def get_volume(db: Database, owner: Owner, volume_id: str, now: float) -> dict[str, Any]:
    """One volume as of ``now``; 404 ``VolumeNotFound`` once it is gone."""
    now_ms = to_ms(now)
    with db.transaction() as conn:
        _settle(conn, owner, now_ms)
        return _render(_owned_row(conn, owner, volume_id), now_ms, _refs(conn, owner, now_ms))


def _check_name_free(
    conn: sqlite3.Connection, owner: Owner, name: str, now_ms: int, exclude: str = ""
) -> None:
    for row in _rows(conn, owner):
        if row["id"] != exclude and row["name"] == name and _state(row, now_ms) != FAILED:
            raise EmulatorError(
                409, "VolumeAlreadyExists", f"Volume with name {name} already exists"
            )


def create_volume(
    db: Database, owner: Owner, spec: VolumeSpec, *, now: float, provision_delay: float
) -> dict[str, Any]:
    """Create the volume in ``creating``; 409 ``VolumeAlreadyExists`` when the owner has a
    volume of that name that has not failed."""
    now_ms = to_ms(now)
    volume_id = ids.new_uuid(db)
    storage_vm = ids.new_uuid(db)
    name = spec.name or f"volume-{volume_id[:8]}"
    with db.transaction() as conn:
        _settle(conn, owner, now_ms)
        _check_name_free(conn, owner, name, now_ms)
        requests = [nics.NicRequest(network) for network in spec.networks]
        nics.allocate_nics(conn, storage_vm, owner.datacenter, requests)
        first = nics.nic_rows(conn, [storage_vm])[storage_vm][0]
        conn.execute(
            "INSERT INTO volumes (id, account, datacenter, name, type, size, networks, tags,"
            " storage_vm, filesystem_path, created_ms, ready_ms, failed)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
                now_ms + lifecycle.duration_ms("provision", provision_delay),
                int(spec.fail),
            ),
        )
        return _render(_owned_row(conn, owner, volume_id), now_ms, {})


def rename_volume(
    db: Database, owner: Owner, volume_id: str, name: str, now: float
) -> dict[str, Any]:
    """Give the volume a new name; 409 ``VolumeAlreadyExists`` when another one has it."""
    now_ms = to_ms(now)
    with db.transaction() as conn:
        _settle(conn, owner, now_ms)
        _owned_row(conn, owner, volume_id)
        _check_name_free(conn, owner, name, now_ms, exclude=volume_id)
        conn.execute("UPDATE volumes SET name = ? WHERE id = ?", (name, volume_id))
        return _render(_owned_row(conn, owner, volume_id), now_ms, _refs(conn, owner, now_ms))


def delete_volume(
    db: Database, owner: Owner, volume_id: str, *, now: float, provision_delay: float
) -> None:
    """Start deleting the volume (a volume already being deleted is left as it is); 409
    ``VolumeInUse`` while machines mount it."""
    now_ms = to_ms(now)
    with db.transaction() as conn:
        _settle(conn, owner, now_ms)
        row = _owned_row(conn, owner, volume_id)
        if row["deleting_ms"] is not None:
            return
        if _refs(conn, owner, now_ms).get(row["id"]):
            raise volume_in_use(row["name"])
        gone_ms = now_ms + lifecycle.duration_ms("destroy", provision_delay)
        conn.execute(
            "UPDATE volumes SET deleting_ms = ?, gone_ms = ? WHERE id = ?",
            (now_ms, gone_ms, volume_id),
        )


def mountable(db: Database, owner: Owner, names: Sequence[str], now: float) -> dict[str, Any]:
    """The owner's ``ready`` volumes among ``names``, by name, each with its ``networks``."""
    now_ms = to_ms(now)
    with db.transaction() as conn:
        _settle(conn, owner, now_ms)
        found = {}
        for row in _rows(conn, owner):
            if row["name"] in names and _state(row, now_ms) == READY:
                found[row["name"]] = _render(row, now_ms, {})
        return found


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
