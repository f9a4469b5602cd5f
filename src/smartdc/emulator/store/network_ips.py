"""The IP objects of a network, as NAPI keeps them per datacenter.

An address has a record when it is assigned to a NIC, reserved by an account, or *managed*:
the gateway and the broadcast address, which belong to the network itself. Every other
address in the subnet is free and has no owner.

HTTP-free; the caller decides what an account may see (public networks show only its own).
"""

from __future__ import annotations

import ipaddress
import sqlite3
from dataclasses import dataclass
from typing import Any

from smartdc.emulator.db import Database
from smartdc.emulator.store import nics
from smartdc.emulator.store.catalog import NetworkRecord


@dataclass(frozen=True)
class IpRecord:
    """What NAPI knows about one address."""

    address: ipaddress.IPv4Address
    reserved: bool = False
    managed: bool = False
    owner: str | None = None
    #: The machine whose NIC holds the address.
    machine: str | None = None

    def render(self, viewer: str) -> dict[str, Any]:
        """The IP object as ``viewer`` (an account UUID) sees it."""
        ip: dict[str, Any] = {
            "ip": str(self.address),
            "reserved": self.reserved,
            "managed": self.managed,
        }
        if not self.managed and self.owner is not None:
            ip["owner_uuid"] = self.owner
            if self.owner == viewer and self.machine is not None:
                ip["belongs_to_uuid"] = self.machine
        return ip


def managed_addresses(record: NetworkRecord) -> set[int]:
    """The addresses the network keeps for itself: its gateway and broadcast address."""
    subnet = ipaddress.IPv4Network(record.subnet)
    managed = {int(subnet.broadcast_address)} if subnet.prefixlen < 31 else set()
    if record.gateway:
        managed.add(int(ipaddress.IPv4Address(record.gateway)))
    return managed


def _records(conn: sqlite3.Connection, datacenter: str, record: NetworkRecord) -> list[IpRecord]:
    assigned = {
        int(row["ip_num"]): (str(row["account"]), str(row["machine"]))
        for row in conn.execute(
            "SELECT n.ip_num, n.machine, m.account FROM machine_nics n"
            " JOIN machines m ON m.id = n.machine"
            " WHERE n.datacenter = ? AND n.network = ? AND n.released = 0",
            (datacenter, record.id),
        )
    }
    reserved = nics.reserved_addresses(conn, datacenter, record.id)
    managed = managed_addresses(record)
    found: list[IpRecord] = []
    for number in sorted(assigned.keys() | reserved.keys() | managed):
        if number in managed:
            found.append(IpRecord(ipaddress.IPv4Address(number), reserved=True, managed=True))
            continue
        owner, machine = assigned.get(number, (reserved.get(number), None))
        found.append(
            IpRecord(
                ipaddress.IPv4Address(number),
                reserved=number in reserved,
                owner=owner,
                machine=machine,
            )
        )
    return found


def list_ips(db: Database, datacenter: str, record: NetworkRecord) -> list[IpRecord]:
    """Every managed, assigned or reserved address of the network, lowest first."""
    with db.transaction() as conn:
        return _records(conn, datacenter, record)


def get_ip(
    db: Database, datacenter: str, record: NetworkRecord, address: ipaddress.IPv4Address
) -> IpRecord:
    """What NAPI knows of one address of the network (a free one has no owner)."""
    with db.transaction() as conn:
        return _lookup(conn, datacenter, record, address)


def _lookup(
    conn: sqlite3.Connection,
    datacenter: str,
    record: NetworkRecord,
    address: ipaddress.IPv4Address,
) -> IpRecord:
    for found in _records(conn, datacenter, record):
        if found.address == address:
            return found
    return IpRecord(address)


def set_reserved(
    db: Database,
    datacenter: str,
    record: NetworkRecord,
    address: ipaddress.IPv4Address,
    *,
    owner: str,
    reserved: bool,
) -> IpRecord:
    """Reserve the address for ``owner`` or release the reservation; return the new record.
    The caller checks that ``owner`` may change it."""
    with db.transaction() as conn:
        if reserved:
            conn.execute(
                "INSERT OR REPLACE INTO ip_reservations (datacenter, network, ip_num, owner)"
                " VALUES (?, ?, ?, ?)",
                (datacenter, record.id, int(address), owner),
            )
        else:
            conn.execute(
                "DELETE FROM ip_reservations WHERE datacenter = ? AND network = ? AND ip_num = ?",
                (datacenter, record.id, int(address)),
            )
        return _lookup(conn, datacenter, record, address)
