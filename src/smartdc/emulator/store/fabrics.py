"""An account's fabric: its VLANs and the private networks on them, as NAPI keeps them.

Every account starts with VLAN 2 ("My-Fabric-VLAN") carrying "My-Fabric-Network"
(192.168.128.0/22), as Triton sets an account's fabric up; they are created the first time
the account's networks are looked at. Fabric networks live in the catalog's ``networks``
table, owned by the account, so they are listed and provisioned on like any other network.

HTTP-free; refusals are raised as CloudAPI passes NAPI's on (404 ``ResourceNotFound``, any
other refusal 409 ``InvalidArgument``). Inputs are validated by the caller.
"""

from __future__ import annotations

import ipaddress
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from smartdc.emulator.context import EmulatorError, invalid_argument, not_found
from smartdc.emulator.db import Database, loads, register_schema
from smartdc.emulator.store import ids
from smartdc.emulator.store.catalog import NetworkRecord, catalog_uuid, save_network

register_schema(
    """
    CREATE TABLE IF NOT EXISTS fabric_vlans (
        account TEXT NOT NULL,
        vlan_id INTEGER NOT NULL,
        name TEXT NOT NULL,
        description TEXT,
        PRIMARY KEY (account, vlan_id)
    );
    CREATE TABLE IF NOT EXISTS account_fabrics (
        account TEXT PRIMARY KEY
    );
    """
)

DEFAULT_VLAN_ID = 2
DEFAULT_VLAN_NAME = "My-Fabric-VLAN"
DEFAULT_NETWORK_NAME = "My-Fabric-Network"


def vlan_not_found() -> EmulatorError:
    return not_found("vlan not found")


def network_not_found() -> EmulatorError:
    return not_found("network not found")


@dataclass(frozen=True)
class FabricNetworkSpec:
    """A fabric network's settings, already validated."""

    name: str
    subnet: str
    provision_start_ip: str
    provision_end_ip: str
    gateway: str | None = None
    resolvers: Sequence[str] = ()
    routes: Mapping[str, str] = field(default_factory=dict)
    description: str | None = None
    internet_nat: bool = True

    def network(self, network_id: str, vlan_id: int) -> dict[str, Any]:
        """The Network object for these settings."""
        doc: dict[str, Any] = {"id": network_id, "name": self.name, "public": False}
        doc["fabric"] = True
        if self.description is not None:
            doc["description"] = self.description
        doc.update(
            subnet=self.subnet,
            provision_start_ip=self.provision_start_ip,
            provision_end_ip=self.provision_end_ip,
        )
        if self.gateway is not None:
            doc["gateway"] = self.gateway
        doc["resolvers"] = list(self.resolvers)
        if self.routes:
            doc["routes"] = dict(self.routes)
        doc.update(internet_nat=self.internet_nat, vlan_id=vlan_id)
        return doc


def spec_of(network: Mapping[str, Any]) -> FabricNetworkSpec:
    """The settings of a stored fabric Network object."""
    return FabricNetworkSpec(
        name=network["name"],
        subnet=network["subnet"],
        provision_start_ip=network["provision_start_ip"],
        provision_end_ip=network["provision_end_ip"],
        gateway=network.get("gateway"),
        resolvers=tuple(network.get("resolvers", ())),
        routes=dict(network.get("routes", {})),
        description=network.get("description"),
        internet_nat=bool(network.get("internet_nat", True)),
    )


DEFAULT_NETWORK = FabricNetworkSpec(
    name=DEFAULT_NETWORK_NAME,
    subnet="192.168.128.0/22",
    provision_start_ip="192.168.128.5",
    provision_end_ip="192.168.131.250",
    gateway="192.168.128.1",
    resolvers=("8.8.8.8", "8.8.4.4"),
)


def default_network_id(account_uuid: str) -> str:
    """The identifier of the account's default fabric network."""
    return catalog_uuid("fabric-network", account_uuid)


def _record(network: dict[str, Any]) -> NetworkRecord:
    return NetworkRecord(
        network=network,
        subnet=network["subnet"],
        gateway=network.get("gateway") or "",
        provision_start_ip=network["provision_start_ip"],
        provision_end_ip=network["provision_end_ip"],
    )


def ensure_account_fabric(db: Database, account_uuid: str) -> None:
    """Create the account's default VLAN and network, once in the account's life."""
    if db.one("SELECT 1 FROM account_fabrics WHERE account = ?", (account_uuid,)) is not None:
        return
    with db.transaction() as conn:
        conn.execute("INSERT OR IGNORE INTO account_fabrics (account) VALUES (?)", (account_uuid,))
        conn.execute(
            "INSERT OR IGNORE INTO fabric_vlans (account, vlan_id, name) VALUES (?, ?, ?)",
            (account_uuid, DEFAULT_VLAN_ID, DEFAULT_VLAN_NAME),
        )
        network_id = default_network_id(account_uuid)
        if conn.execute("SELECT 1 FROM networks WHERE id = ?", (network_id,)).fetchone() is None:
            doc = DEFAULT_NETWORK.network(network_id, DEFAULT_VLAN_ID)
            save_network(conn, _record(doc), account_uuid)


# --- VLANs ---------------------------------------------------------------------------------


def _render_vlan(row: Any) -> dict[str, Any]:
    vlan: dict[str, Any] = {"vlan_id": int(row["vlan_id"]), "name": row["name"]}
    if row["description"] is not None:
        vlan["description"] = row["description"]
    return vlan


def list_vlans(db: Database, account_uuid: str) -> list[dict[str, Any]]:
    """The account's VLANs, by VLAN id."""
    rows = db.query(
        "SELECT * FROM fabric_vlans WHERE account = ? ORDER BY vlan_id", (account_uuid,)
    )
    return [_render_vlan(row) for row in rows]


def get_vlan(db: Database, account_uuid: str, vlan_id: int) -> dict[str, Any]:
    """One VLAN; 404 "vlan not found"."""
    row = db.one(
        "SELECT * FROM fabric_vlans WHERE account = ? AND vlan_id = ?", (account_uuid, vlan_id)
    )
    if row is None:
        raise vlan_not_found()
    return _render_vlan(row)


def create_vlan(
    db: Database, account_uuid: str, vlan_id: int, name: str, description: str | None
) -> dict[str, Any]:
    """A new VLAN; 409 when the account already has that VLAN id."""
    with db.transaction() as conn:
        taken = conn.execute(
            "SELECT 1 FROM fabric_vlans WHERE account = ? AND vlan_id = ?",
            (account_uuid, vlan_id),
        ).fetchone()
        if taken is not None:
            raise invalid_argument(f"VLAN {vlan_id} already exists")
        conn.execute(
            "INSERT INTO fabric_vlans (account, vlan_id, name, description) VALUES (?, ?, ?, ?)",
            (account_uuid, vlan_id, name, description),
        )
    return get_vlan(db, account_uuid, vlan_id)


def update_vlan(
    db: Database, account_uuid: str, vlan_id: int, changes: Mapping[str, str]
) -> dict[str, Any]:
    """Change the VLAN's ``name`` and/or ``description``."""
    get_vlan(db, account_uuid, vlan_id)
    with db.transaction() as conn:
        for column in ("name", "description"):
            if column in changes:
                conn.execute(
                    f"UPDATE fabric_vlans SET {column} = ? WHERE account = ? AND vlan_id = ?",
                    (changes[column], account_uuid, vlan_id),
                )
    return get_vlan(db, account_uuid, vlan_id)


def delete_vlan(db: Database, account_uuid: str, vlan_id: int) -> None:
    """Delete the VLAN; 409 while networks are on it."""
    get_vlan(db, account_uuid, vlan_id)
    if list_networks(db, account_uuid, vlan_id):
        raise invalid_argument(f"VLAN {vlan_id} has networks and cannot be deleted")
    db.execute(
        "DELETE FROM fabric_vlans WHERE account = ? AND vlan_id = ?", (account_uuid, vlan_id)
    )


# --- networks ------------------------------------------------------------------------------


def list_networks(db: Database, account_uuid: str, vlan_id: int) -> list[dict[str, Any]]:
    """The fabric networks on the VLAN, oldest first (404 for an unknown VLAN)."""
    get_vlan(db, account_uuid, vlan_id)
    rows = db.query("SELECT doc FROM networks WHERE owner = ? ORDER BY rowid", (account_uuid,))
    networks = [loads(row["doc"]) for row in rows]
    return [n for n in networks if n.get("fabric") and n.get("vlan_id") == vlan_id]


def get_network(db: Database, account_uuid: str, vlan_id: int, network_id: str) -> dict[str, Any]:
    """One fabric network of the VLAN; 404 "vlan not found" / "network not found"."""
    for network in list_networks(db, account_uuid, vlan_id):
        if network["id"] == network_id:
            return network
    raise network_not_found()


def _check_unique(
    conn: sqlite3.Connection, account_uuid: str, spec: FabricNetworkSpec, vlan_id: int, own: str
) -> None:
    subnet = ipaddress.IPv4Network(spec.subnet)
    rows = conn.execute(
        "SELECT id, name, doc FROM networks WHERE owner = ? AND id != ?", (account_uuid, own)
    ).fetchall()
    for row in rows:
        other = loads(row["doc"])
        if row["name"] == spec.name:
            raise invalid_argument(f"network name {spec.name} is already in use")
        same_vlan = other.get("fabric") and other.get("vlan_id") == vlan_id
        if same_vlan and subnet.overlaps(ipaddress.IPv4Network(other["subnet"])):
            raise invalid_argument(f"subnet {spec.subnet} overlaps with network {row['id']}")


def create_network(
    db: Database, account_uuid: str, vlan_id: int, spec: FabricNetworkSpec
) -> dict[str, Any]:
    """A new fabric network on the VLAN; 409 for a name in use or an overlapping subnet."""
    get_vlan(db, account_uuid, vlan_id)
    network_id = ids.new_uuid(db)
    with db.transaction() as conn:
        _check_unique(conn, account_uuid, spec, vlan_id, network_id)
        doc = spec.network(network_id, vlan_id)
        save_network(conn, _record(doc), account_uuid)
    return doc


def update_network(
    db: Database, account_uuid: str, vlan_id: int, network_id: str, spec: FabricNetworkSpec
) -> dict[str, Any]:
    """Replace the network's settings with ``spec`` (its subnet and gateway stay)."""
    get_network(db, account_uuid, vlan_id, network_id)
    with db.transaction() as conn:
        _check_unique(conn, account_uuid, spec, vlan_id, network_id)
        doc = spec.network(network_id, vlan_id)
        save_network(conn, _record(doc), account_uuid)
    return doc


def network_in_use(db: Database, network_id: str) -> bool:
    """Whether a NIC in any datacenter holds an address on the network."""
    row = db.one(
        "SELECT 1 FROM machine_nics WHERE network = ? AND released = 0 LIMIT 1", (network_id,)
    )
    return row is not None


def delete_network(db: Database, account_uuid: str, vlan_id: int, network_id: str) -> None:
    """Delete the network; 409 while NICs use it (the caller refuses the default network)."""
    get_network(db, account_uuid, vlan_id, network_id)
    if network_in_use(db, network_id):
        raise invalid_argument(f"network {network_id} is in use and cannot be deleted")
    with db.transaction() as conn:
        conn.execute("DELETE FROM ip_reservations WHERE network = ?", (network_id,))
        conn.execute("DELETE FROM networks WHERE id = ?", (network_id,))
