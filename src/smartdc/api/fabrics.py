"""Fabric operations: the account's VLANs and the networks on them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from smartdc.api._base import ApiBase, JSONObject, Ref, _fields, _id_of, _path
from smartdc.api._operation import Call, operation

#: A VLAN as CloudAPI names it: its number, or a VLAN dict with ``vlan_id``.
VlanRef = int | Mapping[str, object]


def _vlan_id(vlan: VlanRef) -> str:
    """The ``vlan_id`` path segment: CloudAPI's VLAN ids are integers (2-4095)."""
    value = vlan.get("vlan_id") if isinstance(vlan, Mapping) else vlan
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected a VLAN id (int) or a dict with 'vlan_id', got {vlan!r}")
    return str(value)


class FabricsMixin(ApiBase):
    """Fabric VLANs and fabric networks (the DC answers 501 when fabrics are disabled)."""

    def _vlans_path(self, *rest: str) -> str:
        return _path("fabrics", "default", "vlans", *rest)

    def _fabric_networks_path(self, vlan: VlanRef, *rest: str) -> str:
        return self._vlans_path(_vlan_id(vlan), "networks", *rest)

    # --- VLANs -------------------------------------------------------------------------------

    @operation
    def list_fabric_vlans(self) -> Call[list[JSONObject]]:
        """ListFabricVLANs: ``GET /:login/fabrics/default/vlans``.

        Returns ``[{"vlan_id", "name", "description"?}, ...]``.
        """
        return self._objects("GET", self._vlans_path())

    @operation
    def create_fabric_vlan(
        self, *, vlan_id: int, name: str, description: str | None = None
    ) -> Call[JSONObject]:
        """CreateFabricVLAN: ``POST /:login/fabrics/default/vlans``.

        ``vlan_id`` is the VLAN number (2-4095), ``name`` its name. Returns the new VLAN.
        """
        body = _fields(vlan_id=int(_vlan_id(vlan_id)), name=name, description=description)
        return self._object("POST", self._vlans_path(), json=body)

    @operation
    def get_fabric_vlan(self, vlan_id: VlanRef) -> Call[JSONObject]:
        """GetFabricVLAN: ``GET /:login/fabrics/default/vlans/:vlan_id``."""
        return self._object("GET", self._vlans_path(_vlan_id(vlan_id)))

    @operation
    def update_fabric_vlan(
        self, vlan_id: VlanRef, *, name: str | None = None, description: str | None = None
    ) -> Call[JSONObject]:
        """UpdateFabricVLAN: ``PUT /:login/fabrics/default/vlans/:vlan_id``.

        Changes ``name`` and/or ``description``. CloudAPI answers 202 with the updated VLAN,
        which is returned.
        """
        body = _fields(name=name, description=description)
        if not body:
            raise ValueError("update_fabric_vlan() needs name or description")
        return self._object("PUT", self._vlans_path(_vlan_id(vlan_id)), json=body)

    @operation
    def delete_fabric_vlan(self, vlan_id: VlanRef) -> Call[None]:
        """DeleteFabricVLAN: ``DELETE /:login/fabrics/default/vlans/:vlan_id``.

        CloudAPI refuses (409) while networks remain on the VLAN.
        """
        return self._none("DELETE", self._vlans_path(_vlan_id(vlan_id)))

    # --- networks on a VLAN ------------------------------------------------------------------

    @operation
    def list_fabric_networks(self, vlan_id: VlanRef) -> Call[list[JSONObject]]:
        """ListFabricNetworks: ``GET /:login/fabrics/default/vlans/:vlan_id/networks``."""
        return self._objects("GET", self._fabric_networks_path(vlan_id))

    @operation
    def create_fabric_network(
        self,
        vlan_id: VlanRef,
        *,
        name: str,
        subnet: str,
        provision_start_ip: str,
        provision_end_ip: str,
        gateway: str | None = None,
        resolvers: Sequence[str] | None = None,
        routes: Mapping[str, str] | None = None,
        description: str | None = None,
        internet_nat: bool | None = None,
    ) -> Call[JSONObject]:
        """CreateFabricNetwork: ``POST /:login/fabrics/default/vlans/:vlan_id/networks``.

        ``subnet`` is a CIDR; addresses are handed out from ``provision_start_ip`` to
        ``provision_end_ip``. Optional: ``gateway``, ``resolvers`` (at most 4 IPv4
        addresses), ``routes`` (``{cidr or ip: gateway ip}``), ``description``,
        ``internet_nat`` (default true). Returns the new
        network.
        """
        body = _fields(
            name=name,
            subnet=subnet,
            provision_start_ip=provision_start_ip,
            provision_end_ip=provision_end_ip,
            gateway=gateway,
            resolvers=None if resolvers is None else list(resolvers),
            routes=None if routes is None else dict(routes),
            description=description,
            internet_nat=internet_nat,
        )
        return self._object("POST", self._fabric_networks_path(vlan_id), json=body)

    @operation
    def get_fabric_network(self, vlan_id: VlanRef, id: Ref) -> Call[JSONObject]:
        """GetFabricNetwork: ``GET /:login/fabrics/default/vlans/:vlan_id/networks/:id``."""
        return self._object("GET", self._fabric_networks_path(vlan_id, _id_of(id, "id")))

    @operation
    def update_fabric_network(
        self,
        vlan_id: VlanRef,
        id: Ref,
        *,
        name: str | None = None,
        description: str | None = None,
        provision_start_ip: str | None = None,
        provision_end_ip: str | None = None,
        resolvers: Sequence[str] | None = None,
        routes: Mapping[str, str] | None = None,
    ) -> Call[JSONObject]:
        """UpdateFabricNetwork: ``PUT /:login/fabrics/default/vlans/:vlan_id/networks/:id``.

        Changes the given fields (``name``, ``description``, ``provision_start_ip``,
        ``provision_end_ip``, ``resolvers``, ``routes``). Returns the updated network.
        """
        body = _fields(
            name=name,
            description=description,
            provision_start_ip=provision_start_ip,
            provision_end_ip=provision_end_ip,
            resolvers=None if resolvers is None else list(resolvers),
            routes=None if routes is None else dict(routes),
        )
        if not body:
            raise ValueError("update_fabric_network() needs at least one field to change")
        path = self._fabric_networks_path(vlan_id, _id_of(id, "id"))
        return self._object("PUT", path, json=body)

    @operation
    def delete_fabric_network(self, vlan_id: VlanRef, id: Ref) -> Call[None]:
        """DeleteFabricNetwork: ``DELETE /:login/fabrics/default/vlans/:vlan_id/networks/:id``.

        CloudAPI refuses (409) for the account's default network or one still in use.
        """
        return self._none("DELETE", self._fabric_networks_path(vlan_id, _id_of(id, "id")))
