"""``FabricVlan``: one VLAN of the account's fabric, and the networks on it.

A VLAN has no life cycle to wait for; its networks are plain records (dicts), as the
account's other networks are::

    vlan = dc.create_fabric_vlan(vlan_id=42, name="backend")
    net = vlan.create_network(name="db", subnet="10.42.0.0/24",
                              provision_start_ip="10.42.0.10", provision_end_ip="10.42.0.250")
    vlan.update(description="database traffic")
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self

if TYPE_CHECKING:
    from smartdc.api import CloudAPI
    from smartdc.objects.datacenter import DataCenter

__all__ = ["FabricVlan"]


class FabricVlan:
    """A fabric VLAN in a :class:`~smartdc.DataCenter`, known by its number
    :attr:`vlan_id`.

    Made by ``DataCenter.fabric_vlans()``, ``fabric_vlan()`` and ``create_fabric_vlan()``.
    Built by hand, ``FabricVlan(dc, 42)`` fetches VLAN 42. VLANs compare equal by number.
    """

    def __init__(
        self,
        datacenter: DataCenter,
        vlan_id: int | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> None:
        """Wrap ``data``, or fetch the VLAN numbered ``vlan_id``.

        Raises:
            TypeError: neither ``vlan_id`` nor ``data`` with a ``vlan_id`` was given.
        """
        self.datacenter = datacenter
        if data is None:
            if vlan_id is None:
                raise TypeError("FabricVlan needs a vlan_id or data")
            data = datacenter.api.get_fabric_vlan(vlan_id)
        found = data.get("vlan_id")
        if isinstance(found, bool) or not isinstance(found, int):
            raise TypeError(f"FabricVlan data has no vlan_id: {dict(data)!r}")
        self.vlan_id: int = found
        self._data: dict[str, Any] = dict(data)

    @property
    def api(self) -> CloudAPI:
        """The CloudAPI client of this VLAN's datacenter."""
        return self.datacenter.api

    @property
    def raw(self) -> dict[str, Any]:
        """A copy of the VLAN as CloudAPI last returned it."""
        return dict(self._data)

    @property
    def name(self) -> str | None:
        """The VLAN's name."""
        value = self._data.get("name")
        return value if isinstance(value, str) else None

    @property
    def description(self) -> str | None:
        """The VLAN's description."""
        value = self._data.get("description")
        return value if isinstance(value, str) else None

    def __repr__(self) -> str:
        return f"<FabricVlan {self.vlan_id} {self.name}>"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FabricVlan):
            return self.vlan_id == other.vlan_id
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.vlan_id)

    def refresh(self) -> Self:
        """Fetch the VLAN again (``GetFabricVLAN``)."""
        self._data = dict(self.api.get_fabric_vlan(self.vlan_id))
        return self

    def update(self, *, name: str | None = None, description: str | None = None) -> Self:
        """Change the VLAN's ``name`` and/or ``description``."""
        self._data = dict(
            self.api.update_fabric_vlan(self.vlan_id, name=name, description=description)
        )
        return self

    def delete(self) -> None:
        """Delete the VLAN (refused while networks remain on it)."""
        self.api.delete_fabric_vlan(self.vlan_id)

    def networks(self) -> list[dict[str, Any]]:
        """The fabric networks on this VLAN, as dicts."""
        return self.api.list_fabric_networks(self.vlan_id)

    def create_network(self, **fields: Any) -> dict[str, Any]:
        """Create a network on this VLAN; ``fields`` are those of
        :meth:`smartdc.CloudAPI.create_fabric_network` (``name``, ``subnet``,
        ``provision_start_ip``, ``provision_end_ip``, ``gateway`` ...). Returns the network."""
        return self.api.create_fabric_network(self.vlan_id, **fields)

    def delete_network(self, network: str | Mapping[str, Any]) -> None:
        """Delete one of this VLAN's networks (its id or dict)."""
        self.api.delete_fabric_network(self.vlan_id, network)
