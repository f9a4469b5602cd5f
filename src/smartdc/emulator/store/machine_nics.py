"""The NICs of one machine: list, get, add and remove.

Adding or removing a NIC is a machine job (``add_nics``/``remove_nics`` in the audit) that
reboots a running machine. An added NIC shows ``provisioning`` until its job finishes and
joins the machine's ``nics``, ``ips`` and ``networks`` then; a removed one goes away when its
job finishes.

HTTP-free; ``mac`` values are in colon form.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from smartdc.emulator.context import EmulatorError, not_found
from smartdc.emulator.db import Database
from smartdc.emulator.store import machines, nics


def nic_not_found() -> EmulatorError:
    """NAPI's 404 for a NIC the machine does not have."""
    return not_found("nic not found")


def _live_rows(conn: sqlite3.Connection, machine_id: str) -> list[Any]:
    return [row for row in nics.nic_rows(conn, [machine_id])[machine_id] if not row["released"]]


def _render(rows: list[Any], machine_state: str) -> list[dict[str, Any]]:
    return [nics.render_nic(row, nics.nic_state(row, machine_state)) for row in rows]


def list_nics(
    db: Database, owner: machines.Owner, machine_id: str, now: float
) -> list[dict[str, Any]]:
    """The machine's NICs (pending ones included), in the order they were added."""
    with db.transaction() as conn:
        machine = machines.get_machine(db, owner, machine_id, now)
        return _render(_live_rows(conn, machine_id), machine["state"])


def get_nic(
    db: Database, owner: machines.Owner, machine_id: str, mac: str, now: float
) -> dict[str, Any]:
    """One NIC of the machine; 404 "nic not found" when it has no NIC with that MAC."""
    for nic in list_nics(db, owner, machine_id, now):
        if nic["mac"] == mac:
            return nic
    raise nic_not_found()


@dataclass(frozen=True)
class AddedNic:
    """AddNic's outcome: the NIC, and whether it is new (else the machine already had a NIC
    on that network, which is returned instead)."""

    nic: dict[str, Any]
    created: bool


def add_nic(
    db: Database,
    owner: machines.Owner,
    machine_id: str,
    request: nics.NicRequest,
    *,
    primary: bool,
    job: machines.JobContext,
) -> AddedNic:
    """Create a pending NIC on the request's network and queue the job that plugs it in."""
    with db.transaction() as conn:
        machine = machines.get_machine(db, owner, machine_id, job.now)
        for row in _live_rows(conn, machine_id):
            if row["network"] == request.network.id:
                return AddedNic(_render([row], machine["state"])[0], created=False)
        mac = nics.add_pending_nic(conn, machine_id, owner.datacenter, request)
        machines.queue_job(
            db,
            owner,
            machine_id,
            "add_nics",
            {"mac": mac, "primary": primary},
            caller=job.caller,
            now=job.now,
            provision_delay=job.provision_delay,
        )
        row = next(r for r in _live_rows(conn, machine_id) if r["mac"] == mac)
        return AddedNic(_render([row], machine["state"])[0], created=True)


def remove_nic(
    db: Database, owner: machines.Owner, machine_id: str, mac: str, *, job: machines.JobContext
) -> None:
    """Queue the job that takes the NIC out; 404 "nic not found" for a MAC it does not have."""
    with db.transaction() as conn:
        machines.get_machine(db, owner, machine_id, job.now)
        if not any(row["mac"] == mac for row in _live_rows(conn, machine_id)):
            raise nic_not_found()
        machines.queue_job(
            db,
            owner,
            machine_id,
            "remove_nics",
            {"mac": mac},
            caller=job.caller,
            now=job.now,
            provision_delay=job.provision_delay,
        )
