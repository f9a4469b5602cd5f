"""Compute nodes, and the choice of one for a new machine, as the designation API makes it.

A datacenter has :data:`SERVERS_PER_DATACENTER` compute nodes; the last one has encrypted
storage. A machine is placed when its provision job allocates it, honouring its *locality*
(what CloudAPI turns ``affinity`` rules into, or the deprecated ``locality`` parameter):

* ``far``: machines whose compute nodes the new one must avoid;
* ``near``: machines whose compute node the new one must share;
* ``strict``: whether those hints are requirements (the provision fails when none of the
  compute nodes fits) or wishes (dropped when they cannot be met).

``encrypted`` machines go on encrypted compute nodes only. Among the nodes that fit, the
choice follows from the machine's id, so placements are reproducible.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from smartdc.emulator.store.catalog import CATALOG_NAMESPACE

SERVERS_PER_DATACENTER = 4
#: Indexes of the compute nodes with encrypted storage.
_ENCRYPTED = frozenset({SERVERS_PER_DATACENTER - 1})
#: Why an allocation failed, as the provision job reports it.
NO_SERVER = "No compute resources available"


@dataclass(frozen=True)
class Locality:
    """Placement hints: machine ids to be near to and far from."""

    strict: bool = False
    near: tuple[str, ...] = ()
    far: tuple[str, ...] = ()

    def to_doc(self) -> dict[str, Any]:
        """The locality object as VMAPI keeps it (``near``/``far`` only when non-empty)."""
        doc: dict[str, Any] = {"strict": self.strict}
        if self.near:
            doc["near"] = list(self.near)
        if self.far:
            doc["far"] = list(self.far)
        return doc

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any] | None) -> Locality | None:
        """The locality stored with :meth:`to_doc` (``None`` when there is none)."""
        if not doc:
            return None
        return cls(
            strict=bool(doc.get("strict", False)),
            near=tuple(str(v) for v in doc.get("near", ())),
            far=tuple(str(v) for v in doc.get("far", ())),
        )


@dataclass(frozen=True)
class Request:
    """What the new machine asks of its compute node."""

    machine_id: str
    locality: Locality | None = None
    encrypted: bool = False
    #: Machine id -> compute node, for the machines the locality names.
    placed: Mapping[str, str] = field(default_factory=dict)


def compute_nodes(datacenter: str) -> tuple[str, ...]:
    """The ids of the datacenter's compute nodes."""
    return tuple(
        str(uuid.uuid5(CATALOG_NAMESPACE, f"server:{datacenter}:{index}"))
        for index in range(SERVERS_PER_DATACENTER)
    )


def encrypted_nodes(datacenter: str) -> tuple[str, ...]:
    """The compute nodes with encrypted storage."""
    nodes = compute_nodes(datacenter)
    return tuple(nodes[index] for index in sorted(_ENCRYPTED))


def _pick(machine_id: str, candidates: Sequence[str]) -> str:
    return candidates[int(machine_id[:8], 16) % len(candidates)]


def _honouring(candidates: Sequence[str], request: Request) -> list[str]:
    locality = request.locality
    if locality is None:
        return list(candidates)
    avoid = {request.placed[m] for m in locality.far if m in request.placed}
    fitting = [node for node in candidates if node not in avoid]
    for near in locality.near:
        server = request.placed.get(near)
        fitting = [node for node in fitting if node == server]
    return fitting


def choose(datacenter: str, request: Request) -> str | None:
    """The compute node for the machine, or ``None`` when a strict locality (or the need for
    encryption) leaves none."""
    candidates = list(
        encrypted_nodes(datacenter) if request.encrypted else compute_nodes(datacenter)
    )
    fitting = _honouring(candidates, request)
    if not fitting:
        if request.locality is None or request.locality.strict:
            return None
        fitting = candidates
    return _pick(request.machine_id, fitting)
