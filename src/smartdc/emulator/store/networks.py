"""Networks as NAPI holds them, and each account's default network.

HTTP-free: functions take a :class:`Database` and return :class:`NetworkRecord` values.
"""

from __future__ import annotations

import ipaddress
import sqlite3
from dataclasses import dataclass
from typing import Any

from smartdc.emulator.db import Database, dumps, loads


@dataclass(frozen=True)
class NetworkRecord:
    """A network as CloudAPI shows it, plus the addressing NAPI uses to hand out IPs."""

    network: dict[str, Any]
    subnet: str
    gateway: str
    provision_start_ip: str
    provision_end_ip: str

    @property
    def id(self) -> str:
        return str(self.network["id"])

    @property
    def public(self) -> bool:
        return bool(self.network["public"])

    @property
    def netmask(self) -> str:
        return str(ipaddress.ip_network(self.subnet).netmask)


def _network_from_row(row: Any) -> NetworkRecord:
    return NetworkRecord(
        network=loads(row["doc"]),
        subnet=row["subnet"],
        gateway=row["gateway"],
        provision_start_ip=row["provision_start_ip"],
        provision_end_ip=row["provision_end_ip"],
    )


def network_row(record: NetworkRecord, owner: str | None) -> dict[str, Any]:
    """The ``networks`` row holding ``record`` (``owner`` ``None``: shared by every account)."""
    return {
        "id": record.id,
        "name": record.network["name"],
        "public": record.public,
        "owner": owner,
        "subnet": record.subnet,
        "gateway": record.gateway,
        "provision_start_ip": record.provision_start_ip,
        "provision_end_ip": record.provision_end_ip,
        "doc": dumps(record.network),
    }


def save_network(conn: sqlite3.Connection, record: NetworkRecord, owner: str | None) -> None:
    """Insert or replace the network (in the caller's transaction)."""
    row = network_row(record, owner)
    marks = ", ".join("?" for _ in row)
    conn.execute(
        f"INSERT OR REPLACE INTO networks ({', '.join(row)}) VALUES ({marks})",
        tuple(row.values()),
    )


def list_networks(db: Database, account_uuid: str) -> list[NetworkRecord]:
    """Networks the account may provision on: shared ones first, then its own."""
    rows = db.query(
        "SELECT * FROM networks WHERE owner IS NULL OR owner = ? ORDER BY owner IS NOT NULL, rowid",
        (account_uuid,),
    )
    return [_network_from_row(r) for r in rows]


def get_network(db: Database, account_uuid: str, network_id: str) -> NetworkRecord | None:
    """The network if the account may provision on it, else ``None``."""
    row = db.one(
        "SELECT * FROM networks WHERE id = ? AND (owner IS NULL OR owner = ?)",
        (network_id, account_uuid),
    )
    return None if row is None else _network_from_row(row)


def configured_default_network(db: Database, account_uuid: str) -> str | None:
    """The default network the account set with UpdateConfig, if any."""
    row = db.one("SELECT default_network FROM account_config WHERE account = ?", (account_uuid,))
    return None if row is None else str(row["default_network"])


def default_network_id(db: Database, account_uuid: str) -> str | None:
    """The account's default network: as set with UpdateConfig, else the first public one."""
    row = db.one("SELECT default_network FROM account_config WHERE account = ?", (account_uuid,))
    if row is not None and get_network(db, account_uuid, row["default_network"]) is not None:
        return str(row["default_network"])
    for record in list_networks(db, account_uuid):
        if record.public:
            return record.id
    return None


def set_default_network(db: Database, account_uuid: str, network_id: str) -> None:
    """Record the account's default network (the caller checks it is one of its networks)."""
    db.execute(
        "INSERT OR REPLACE INTO account_config (account, default_network) VALUES (?, ?)",
        (account_uuid, network_id),
    )
