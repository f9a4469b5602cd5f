"""The machine record as VMAPI keeps it: the row, its name rules, and how it is rendered.

Below the job engine (:mod:`smartdc.emulator.store.jobs`) and the machine operations
(:mod:`smartdc.emulator.store.machines`), which both read and write this record.
HTTP-free: functions take a connection inside the caller's transaction.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from smartdc.emulator import lifecycle
from smartdc.emulator.context import EmulatorError, not_found, validation_failed
from smartdc.emulator.db import dumps, loads, register_schema
from smartdc.emulator.store import changes, nics
from smartdc.emulator.store.timestamps import iso_ms
from smartdc.wire import CHANGEFEED_SUB_RESOURCES
from smartdc.wire import HVM_BRANDS as HVM_BRANDS

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
    """
)

#: VMAPI's rules for a machine name (its ``alias``).
MAX_NAME_LENGTH = 189
NAME_PATTERN = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")
#: Share of the provision job after which the machine has a compute node (is *allocated*).

#: The block size of a disk that does not ask for one.
BLOCK_SIZE = 8192


@dataclass(frozen=True)
class Owner:
    """Whose machines: one account in one datacenter."""

    account: str
    datacenter: str


# --- errors VMAPI raises -------------------------------------------------------------------


def _alias_errors(
    conn: sqlite3.Connection, owner: Owner, name: str, exclude: str | None
) -> list[dict[str, str]]:
    if len(name) > MAX_NAME_LENGTH or not NAME_PATTERN.fullmatch(name):
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


def check_alias(
    conn: sqlite3.Connection, owner: Owner, name: str, *, exclude: str | None, prefix: str
) -> None:
    """Raise VMAPI's 409 ``ValidationFailed`` for a bad or taken machine name."""
    errors = _alias_errors(conn, owner, name, exclude)
    if errors:
        raise validation_failed(errors, f"{prefix}: {errors[0]['message']}")


def vm_not_found() -> EmulatorError:
    """VMAPI's answer for an unknown machine, or one of another owner."""
    return not_found("VM not found")


# --- the machine record --------------------------------------------------------------------


@dataclass
class Machine:
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
    def from_row(cls, row: Any) -> Machine:
        """Decode a ``machines`` row."""
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
        """Write the record back."""
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


def load(conn: sqlite3.Connection, machine_id: str) -> Machine | None:
    """The machine row, decoded; ``None`` when there is none."""
    row = conn.execute("SELECT * FROM machines WHERE id = ?", (machine_id,)).fetchone()
    return None if row is None else Machine.from_row(row)


def load_owned(conn: sqlite3.Connection, owner: Owner, machine_id: str) -> Machine:
    """The owner's machine; 404 "VM not found" for one it does not have."""
    machine = load(conn, machine_id)
    if machine is None or Owner(machine.account, machine.datacenter) != owner:
        raise vm_not_found()
    return machine


# --- the change log ----------------------------------------------------------------------

#: Job actions that change a machine's NICs, for the changefeed's ``nics`` sub-resource.
_NIC_ACTIONS = frozenset({"add_nics", "remove_nics", "provision", "destroy"})


def watched(m: Machine) -> tuple[Any, ...]:
    """What the changefeed reports on, in :data:`~smartdc.wire.CHANGEFEED_SUB_RESOURCES` terms."""
    doc = m.doc
    return (
        m.name,
        dumps(doc.get("metadata", {})),
        m.state == lifecycle.DELETED,
        m.state,
        doc.get("compute_node"),
        dumps(doc.get("tags", {})),
    )


def log_change(
    conn: sqlite3.Connection, m: Machine, before: tuple[Any, ...], action: str, at_ms: int
) -> None:
    """Record what a job step changed on the machine, if anything."""
    after = watched(m)
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
        machine=render_many(conn, [m])[0],
        sub_resources=sorted(changed, key=CHANGEFEED_SUB_RESOURCES.index),
        published_ms=at_ms,
    )


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


def _dns_names(m: Machine) -> list[str]:
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


def _render(m: Machine, nic_rows: Sequence[Any], cns: bool) -> dict[str, Any]:
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
        f"SELECT uuid FROM accounts WHERE uuid IN ({marks})"
        " AND json_type(doc, '$.triton_cns_enabled') = 'true'",
        tuple(accounts),
    ).fetchall()
    return {row["uuid"] for row in rows}


def render_many(conn: sqlite3.Connection, machines: Sequence[Machine]) -> list[dict[str, Any]]:
    """The machines as CloudAPI shows them."""
    rows = nics.nic_rows(conn, (m.id for m in machines))
    cns = _cns_accounts(conn, {m.account for m in machines})
    return [_render(m, rows[m.id], m.account in cns) for m in machines]
