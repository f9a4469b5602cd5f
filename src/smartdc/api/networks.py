"""Network and network-config operations: ListNetworks, GetNetwork, GetConfig, UpdateConfig."""

from __future__ import annotations

from typing import Any

from smartdc.api._base import ApiBase, JSONObject, Ref, _check_names, _id_of, _path

#: Filters ListNetworks documents.
NETWORK_FILTERS = frozenset({"fabric"})


class NetworksMixin(ApiBase):
    """Networks the account may provision on, and its default network."""

    def list_networks(self, **filters: Any) -> list[JSONObject]:
        """ListNetworks: ``GET /:login/networks``.

        Filter: ``fabric=True`` lists only the account's fabric networks. Network pools are
        listed too (their members are not).
        """
        _check_names("list_networks", filters, NETWORK_FILTERS)
        return self._objects("GET", "networks", params=filters)

    def get_network(self, id: Ref) -> JSONObject:
        """GetNetwork: ``GET /:login/networks/:id``."""
        return self._object("GET", _path("networks", _id_of(id, "id")))

    def get_config(self) -> JSONObject:
        """GetConfig: ``GET /:login/config``. Returns ``{"default_network": uuid}`` or ``{}``."""
        return self._object("GET", "config")

    def update_config(self, *, default_network: Ref) -> JSONObject:
        """UpdateConfig: ``PUT /:login/config`` with ``default_network`` (a network UUID).

        Returns the new config.
        """
        return self._object(
            "PUT", "config", json={"default_network": _id_of(default_network, "id")}
        )
