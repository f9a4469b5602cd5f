"""Machine NICs and their addresses, as NAPI hands them out.

Each NIC takes the lowest free address in its network's provisioning range, per datacenter:
two datacenters share the catalog's networks but not their addresses. A destroyed machine's
NICs are released (the addresses become free again) but stay listed on the machine.
An address can also be *reserved* by an account: the allocator then skips it. A NIC added to
an existing machine is *pending* until the job that plugs it in finishes.

HTTP-free; refusals are raised as :class:`EmulatorError` the way CloudAPI passes NAPI's on.
"""

from __future__ import annotations

import ipaddress
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from smartdc.emulator.context import invalid_argument, invalid_parameters
from smartdc.emulator.db import register_schema
from smartdc.emulator.params import parse_ipv4
from smartdc.emulator.store import ids
from smartdc.emulator.store.catalog import NetworkRecord

register_schema(
    """
    CREATE TABLE IF NOT EXISTS machine_nics (
        mac TEXT PRIMARY KEY,
        machine TEXT NOT NULL,
        position INTEGER NOT NULL,
        datacenter TEXT NOT NULL,
        network TEXT NOT NULL,
        ip TEXT NOT NULL,
        ip_num INTEGER NOT NULL,
        netmask TEXT NOT NULL,
        gateway TEXT NOT NULL,
        is_primary INTEGER NOT NULL,
        released INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX IF NOT EXISTS machine_nics_by_machine ON machine_nics (machine, position);
    CREATE INDEX IF NOT EXISTS machine_nics_by_address
        ON machine_nics (datacenter, network, released, ip_num);
    CREATE TABLE IF NOT EXISTS pending_nics (
        mac TEXT PRIMARY KEY
    );
    CREATE TABLE IF NOT EXISTS ip_reservations (
        datacenter TEXT NOT NULL,
        network TEXT NOT NULL,
        ip_num INTEGER NOT NULL,
        owner TEXT NOT NULL,
        PRIMARY KEY (datacenter, network, ip_num)
    );
    """
)

#: NIC states: a NIC follows its machine once plugged in.
NIC_PROVISIONING = "provisioning"
NIC_RUNNING = "running"
NIC_STOPPED = "stopped"

#: The organisationally unique identifier Triton's NICs carry.
MAC_PREFIX = "90:b8:d0"


@dataclass(frozen=True)
class NicRequest:
    """One NIC to create: its network and, optionally, the address wanted on it."""

    network: NetworkRecord
    ip: str | None = None


def _ip_used(conn: sqlite3.Connection, datacenter: str, network: str, ip_num: int) -> bool:
    row = conn.execute(
        "SELECT 1 FROM machine_nics"
        " WHERE datacenter = ? AND network = ? AND released = 0 AND ip_num = ?",
        (datacenter, network, ip_num),
    ).fetchone()
    return row is not None


def reserved_addresses(conn: sqlite3.Connection, datacenter: str, network: str) -> dict[int, str]:
    """Reserved addresses on the network (as integers) and the account holding each."""
    rows = conn.execute(
        "SELECT ip_num, owner FROM ip_reservations WHERE datacenter = ? AND network = ?",
        (datacenter, network),
    )
    return {int(r["ip_num"]): str(r["owner"]) for r in rows}


def _free_address(conn: sqlite3.Connection, datacenter: str, record: NetworkRecord) -> int:
    first = int(ipaddress.IPv4Address(record.provision_start_ip))
    last = int(ipaddress.IPv4Address(record.provision_end_ip))
    reserved = reserved_addresses(conn, datacenter, record.id)
    row = conn.execute(
        "SELECT MAX(ip_num) FROM machine_nics"
        " WHERE datacenter = ? AND network = ? AND released = 0",
        (datacenter, record.id),
    ).fetchone()
    highest = row[0] if row is not None else None
    candidate = first if highest is None or highest < first else int(highest) + 1
    while candidate in reserved:
        candidate += 1
    if candidate <= last:
        return candidate
    # The top of the range is taken: look for a hole left by a destroyed machine.
    used = {
        r[0]
        for r in conn.execute(
            "SELECT ip_num FROM machine_nics WHERE datacenter = ? AND network = ? AND released = 0",
            (datacenter, record.id),
        )
    }
    for candidate in range(first, last + 1):
        if candidate not in used and candidate not in reserved:
            return candidate
    raise invalid_argument(f"No more free IPs on network {record.id}")


def _requested_address(conn: sqlite3.Connection, datacenter: str, request: NicRequest) -> int:
    record = request.network
    assert request.ip is not None
    address = parse_ipv4(request.ip)
    if address is None:
        raise invalid_argument(f"{request.ip} is not a valid IPv4 address")
    first = ipaddress.IPv4Address(record.provision_start_ip)
    last = ipaddress.IPv4Address(record.provision_end_ip)
    if not first <= address <= last:
        raise invalid_argument(f"IP {request.ip} is not in the provisioning range of {record.id}")
    if _ip_used(conn, datacenter, record.id, int(address)):
        raise invalid_parameters([{"field": "ip", "code": "UsedBy", "message": "IP in use"}])
    return int(address)


def _new_mac(conn: sqlite3.Connection) -> str:
    while True:
        tail = ":".join(f"{b:02x}" for b in ids.new_bytes(conn, 3))
        mac = f"{MAC_PREFIX}:{tail}"
        if conn.execute("SELECT 1 FROM machine_nics WHERE mac = ?", (mac,)).fetchone() is None:
            return mac


def _insert_nic(
    conn: sqlite3.Connection,
    machine_id: str,
    position: int,
    datacenter: str,
    request: NicRequest,
    primary: bool,
) -> str:
    if request.ip is None:
        ip_num = _free_address(conn, datacenter, request.network)
    else:
        ip_num = _requested_address(conn, datacenter, request)
    mac = _new_mac(conn)
    conn.execute(
        "INSERT INTO machine_nics (mac, machine, position, datacenter, network, ip, ip_num,"
        " netmask, gateway, is_primary) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            mac,
            machine_id,
            position,
            datacenter,
            request.network.id,
            str(ipaddress.IPv4Address(ip_num)),
            ip_num,
            request.network.netmask,
            request.network.gateway,
            int(primary),
        ),
    )
    return mac


def allocate_nics(
    conn: sqlite3.Connection, machine_id: str, datacenter: str, requests: Sequence[NicRequest]
) -> None:
    """Create the machine's NICs; the first public network's NIC (else the first) is primary."""
    primary = next((i for i, r in enumerate(requests) if r.network.public), 0)
    for position, request in enumerate(requests):
        _insert_nic(conn, machine_id, position, datacenter, request, position == primary)


def add_pending_nic(
    conn: sqlite3.Connection, machine_id: str, datacenter: str, request: NicRequest
) -> str:
    """Create one more NIC on the machine, pending until :func:`plug_nic`; return its MAC."""
    row = conn.execute(
        "SELECT COALESCE(MAX(position), -1) + 1 FROM machine_nics WHERE machine = ?",
        (machine_id,),
    ).fetchone()
    mac = _insert_nic(conn, machine_id, int(row[0]), datacenter, request, primary=False)
    conn.execute("INSERT INTO pending_nics (mac) VALUES (?)", (mac,))
    return mac


def plug_nic(conn: sqlite3.Connection, mac: str, primary: bool) -> None:
    """The pending NIC is in the machine now; ``primary`` moves the primary flag to it."""
    conn.execute("DELETE FROM pending_nics WHERE mac = ?", (mac,))
    if primary:
        row = conn.execute("SELECT machine FROM machine_nics WHERE mac = ?", (mac,)).fetchone()
        if row is not None:
            conn.execute(
                "UPDATE machine_nics SET is_primary = (mac = ?) WHERE machine = ?",
                (mac, row["machine"]),
            )


def delete_nic(conn: sqlite3.Connection, mac: str) -> None:
    """Remove the NIC for good; its address becomes free."""
    conn.execute("DELETE FROM pending_nics WHERE mac = ?", (mac,))
    conn.execute("DELETE FROM machine_nics WHERE mac = ?", (mac,))


def release_nics(conn: sqlite3.Connection, machine_id: str) -> None:
    """Free the machine's addresses (its NICs stay listed on the destroyed machine)."""
    conn.execute("UPDATE machine_nics SET released = 1 WHERE machine = ?", (machine_id,))


def nic_rows(conn: sqlite3.Connection, machine_ids: Iterable[str]) -> dict[str, list[Any]]:
    """Each machine's NIC rows in creation order."""
    ids = list(machine_ids)
    found: dict[str, list[Any]] = {machine_id: [] for machine_id in ids}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        rows = conn.execute(
            "SELECT n.*, p.mac IS NOT NULL AS pending FROM machine_nics n"
            f" LEFT JOIN pending_nics p ON p.mac = n.mac WHERE n.machine IN ({marks})"
            " ORDER BY n.machine, n.position",
            tuple(chunk),
        )
        for row in rows:
            found[row["machine"]].append(row)
    return found


def nic_state(row: Any, machine_state: str) -> str:
    """A NIC's state: ``provisioning`` while pending or while its machine is, then the
    machine's ``stopped``, else ``running``."""
    if row["pending"] or machine_state == "provisioning":
        return NIC_PROVISIONING
    return NIC_STOPPED if machine_state == "stopped" else NIC_RUNNING


def render_nic(row: Any, state: str) -> dict[str, Any]:
    """A Nic object; ``gateway`` only when the network has one."""
    nic: dict[str, Any] = {
        "mac": row["mac"],
        "ip": row["ip"],
        "primary": bool(row["is_primary"]),
        "netmask": row["netmask"],
    }
    if row["gateway"]:
        nic["gateway"] = row["gateway"]
    nic.update(state=state, network=row["network"])
    return nic
