"""Datacenter and service operations: ListDatacenters, GetDatacenter, ListServices."""

from __future__ import annotations

from smartdc import errors
from smartdc.api._base import ApiBase, _path
from smartdc.api._operation import Call, operation
from smartdc.transport import Response


def _datacenter(name: str, response: Response) -> dict[str, str]:
    """GetDatacenter's answer: the redirect's ``Location`` is the datacenter's URL."""
    location = response.headers.get("location")
    if not location:
        raise errors.CloudAPIError(
            f"GetDatacenter {name!r} answered {response.status} without a Location header",
            status=response.status,
            request_id=response.request_id,
            body=response.body,
        )
    return {"name": name, "url": location}


class DatacentersMixin(ApiBase):
    """The datacenters of the cloud this endpoint belongs to, and this one's services."""

    @operation
    def list_datacenters(self) -> Call[dict[str, str]]:
        """ListDatacenters: ``GET /:login/datacenters``. Returns ``{name: cloudapi_url}``."""
        return Call("GET", "datacenters")

    @operation
    def get_datacenter(self, name: str) -> Call[dict[str, str]]:
        """GetDatacenter: ``GET /:login/datacenters/:name``. Returns ``{"name", "url"}``.

        CloudAPI answers with a 302 redirect whose ``Location`` is the datacenter's URL; the
        redirect is reported, not followed. An unknown name raises ``ResourceNotFoundError``.
        """
        return self._call("GET", _path("datacenters", name), accept_redirect=True).then(
            lambda response: _datacenter(name, response)
        )

    @operation
    def list_services(self) -> Call[dict[str, str]]:
        """ListServices: ``GET /:login/services``.

        Returns ``{service name: url}`` for this datacenter (``cloudapi``, ``docker``,
        ``manta`` ...); ``{}`` when none are configured.
        """
        return Call("GET", "services")
