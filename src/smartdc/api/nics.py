"""Machine NIC operations: ListNics, GetNic, AddNic, RemoveNic."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from smartdc import errors
from smartdc.api._base import ApiBase, JSONObject, Ref, _fields, _id_of, _path
from smartdc.api._operation import Call, Flow, operation

_MAC = re.compile(r"[0-9a-f]{12}")


def _mac_segment(nic: Ref) -> str:
    """A MAC as the NIC paths want it: 12 hex digits, no separators."""
    mac = _id_of(nic, "mac")
    compact = re.sub(r"[:\-.]", "", mac).lower()
    if not _MAC.fullmatch(compact):
        raise ValueError(f"{mac!r} is not a MAC address such as '90:b8:d0:2f:b8:f9'")
    return compact


def _network_input(network: Ref) -> Any:
    """AddNic's ``network``: a UUID, or an ``{ipv4_uuid, ipv4_ips}`` object as is."""
    if isinstance(network, Mapping) and "ipv4_uuid" in network:
        return dict(network)
    return _id_of(network, "id")


class NicsMixin(ApiBase):
    """Network interfaces of a machine. Adding or removing one reboots the machine."""

    def _nics_path(self, machine: Ref, *rest: str) -> str:
        return _path("machines", _id_of(machine, "id"), "nics", *rest)

    @operation
    def list_nics(self, id: Ref) -> Call[list[JSONObject]]:
        """ListNics: ``GET /:login/machines/:id/nics``.

        Returns ``[{"mac", "ip", "primary", "netmask", "gateway", "state", "network"}, ...]``.
        """
        return self._objects("GET", self._nics_path(id))

    @operation
    def get_nic(self, id: Ref, mac: Ref) -> Call[JSONObject]:
        """GetNic: ``GET /:login/machines/:id/nics/:mac``.

        ``mac`` may have colons (``90:b8:d0:...``), or be a NIC dict; it is sent as 12 hex
        digits.
        """
        return self._object("GET", self._nics_path(id, _mac_segment(mac)))

    @operation
    def add_nic(self, id: Ref, network: Ref, *, primary: bool | None = None) -> Flow[JSONObject]:
        """AddNic: ``POST /:login/machines/:id/nics``.

        ``network`` is a network id (or dict), or ``{"ipv4_uuid", "ipv4_ips": [ip]}``;
        ``primary=True`` makes the new NIC the primary one. The machine reboots. Returns the
        NIC (state ``provisioning``; poll :meth:`get_nic`).

        When the machine already has a NIC on that network CloudAPI answers 302 with its
        ``Location``; that existing NIC is then fetched and returned.
        """
        body = _fields(network=_network_input(network), primary=primary)
        return self._add_nic(self._nics_path(id), body)

    def _add_nic(self, path: str, body: JSONObject) -> Flow[JSONObject]:
        response = yield self._call("POST", path, json=body, accept_redirect=True)
        if response.status < 300:
            nic: JSONObject = response.body
            return nic
        location = response.headers.get("location", "")
        if not location.startswith("/"):
            raise errors.CloudAPIError(
                f"AddNic answered {response.status} without a usable Location ({location!r})",
                status=response.status,
                request_id=response.request_id,
                body=response.body,
            )
        existing: JSONObject = yield self._object("GET", location)
        return existing

    @operation
    def remove_nic(self, id: Ref, mac: Ref) -> Call[None]:
        """RemoveNic: ``DELETE /:login/machines/:id/nics/:mac``. The machine reboots."""
        return self._none("DELETE", self._nics_path(id, _mac_segment(mac)))
