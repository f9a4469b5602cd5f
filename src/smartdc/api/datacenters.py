"""Datacenter and service operations: ListDatacenters, GetDatacenter, ListServices."""

from __future__ import annotations

from smartdc import errors
from smartdc.api._base import ApiBase, _path


class DatacentersMixin(ApiBase):
    """The datacenters of the cloud this endpoint belongs to, and this one's services."""

    def list_datacenters(self) -> dict[str, str]:
        """ListDatacenters: ``GET /:login/datacenters``. Returns ``{name: cloudapi_url}``."""
        datacenters: dict[str, str] = self._request("GET", "datacenters").body
        return datacenters

    def get_datacenter(self, name: str) -> dict[str, str]:
        """GetDatacenter: ``GET /:login/datacenters/:name``. Returns ``{"name", "url"}``.

        CloudAPI answers with a 302 redirect whose ``Location`` is the datacenter's URL; the
        redirect is reported, not followed. An unknown name raises ``ResourceNotFoundError``.
        """
        response = self._request("GET", _path("datacenters", name), accept_redirect=True)
        location = response.headers.get("location")
        if not location:
            raise errors.CloudAPIError(
                f"GetDatacenter {name!r} answered {response.status} without a Location header",
                status=response.status,
                request_id=response.request_id,
                body=response.body,
            )
        return {"name": name, "url": location}

    def list_services(self) -> dict[str, str]:
        """ListServices: ``GET /:login/services``.

        Returns ``{service name: url}`` for this datacenter (``cloudapi``, ``docker``,
        ``manta`` ...); ``{}`` when none are configured.
        """
        services: dict[str, str] = self._request("GET", "services").body
        return services
