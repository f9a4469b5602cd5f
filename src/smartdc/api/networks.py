"""Network operations: networks, their IP addresses, and the account's default network."""

from __future__ import annotations

from typing import Any

from smartdc.api._base import ApiBase, JSONObject, Ref, _check_names, _fields, _id_of, _path
from smartdc.api._operation import Call, operation
from smartdc.wire import NETWORK_FILTERS as NETWORK_FILTERS


class NetworksMixin(ApiBase):
    """Networks the account may provision on, and its default network."""

    @operation
    def list_networks(self, /, **filters: Any) -> Call[list[JSONObject]]:
        """ListNetworks: ``GET /:login/networks``.

        Filter: ``fabric=True`` lists only the account's fabric networks. Network pools are
        listed too (their members are not).
        """
        _check_names("list_networks", filters, NETWORK_FILTERS)
        return self._objects("GET", "networks", params=filters)

    @operation
    def get_network(self, id: Ref) -> Call[JSONObject]:
        """GetNetwork: ``GET /:login/networks/:id``."""
        return self._object("GET", _path("networks", _id_of(id, "id")))

    @operation
    def list_network_ips(
        self, id: Ref, *, limit: int | None = None, offset: int | None = None
    ) -> Call[list[JSONObject]]:
        """ListNetworkIPs: ``GET /:login/networks/:id/ips``.

        Lists the reserved or assigned addresses (on public networks only the account's own),
        one page of at most ``limit`` (CloudAPI's default 1000) from ``offset``. Each is
        ``{"ip", "reserved", "managed", "owner_uuid"?, "belongs_to_uuid"?}``.
        """
        params = _fields(limit=limit, offset=offset)
        return self._objects("GET", _path("networks", _id_of(id, "id"), "ips"), params=params)

    @operation
    def get_network_ip(self, id: Ref, ip_address: Ref) -> Call[JSONObject]:
        """GetNetworkIP: ``GET /:login/networks/:id/ips/:ip_address``.

        ``ip_address`` is the address, or an IP dict (``{"ip": ...}``). Returns the IP.
        """
        return self._object("GET", self._ip_path(id, ip_address))

    @operation
    def update_network_ip(self, id: Ref, ip_address: Ref, *, reserved: bool) -> Call[JSONObject]:
        """UpdateNetworkIP: ``PUT /:login/networks/:id/ips/:ip_address`` with ``reserved``.

        Reserves (``True``) or releases (``False``) the address. Returns the IP.
        """
        if not isinstance(reserved, bool):
            raise TypeError(f"reserved must be True or False, not {reserved!r}")
        return self._object("PUT", self._ip_path(id, ip_address), json={"reserved": reserved})

    def _ip_path(self, network: Ref, ip_address: Ref) -> str:
        return _path("networks", _id_of(network, "id"), "ips", _id_of(ip_address, "ip"))

    @operation
    def get_config(self) -> Call[JSONObject]:
        """GetConfig: ``GET /:login/config``. Returns ``{"default_network": uuid}`` or ``{}``."""
        return self._object("GET", "config")

    @operation
    def update_config(self, *, default_network: Ref) -> Call[JSONObject]:
        """UpdateConfig: ``PUT /:login/config`` with ``default_network`` (a network UUID).

        Returns the new config.
        """
        return self._object(
            "PUT", "config", json={"default_network": _id_of(default_network, "id")}
        )
