"""``Image``: one machine image the account owns or may use, with its life cycle.

An image made from a machine starts ``creating`` and becomes ``active`` (or ``failed``);
``unactivated`` and ``disabled`` images exist too. Attributes read the data last fetched;
``refresh()`` fetches it again. ``DataCenter.images()`` still returns plain dicts, as
py-smartdc's datasets were; :meth:`DataCenter.image_objects` returns these objects::

    image = machine.create_image("web-base", "1.0.0")
    image.poll_until("active")
    image.update(description="nginx on base-64-lts").share(other_account_uuid)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self

from smartdc.errors import ConfigError
from smartdc.objects.polling import PolledResource
from smartdc.objects.refs import ref_value

if TYPE_CHECKING:
    from smartdc.api import CloudAPI
    from smartdc.objects.datacenter import DataCenter

__all__ = ["Image"]

#: UpdateImage's fields, as sdc-cloudapi lib/images.js lets them change.
_UPDATABLE = ("name", "version", "description", "homepage", "eula", "acl", "tags")


class Image(PolledResource):
    """An image in a :class:`~smartdc.DataCenter`.

    Made by ``DataCenter.image_objects()``, ``image_object()``, ``create_image()`` and
    ``Machine.create_image()``. Built by hand, ``Image(dc, image_id)`` fetches it. Images
    compare equal by id and may be passed wherever an image is expected
    (``dc.create_machine(image=image)``).
    """

    _known_states = frozenset({"creating", "unactivated", "active", "disabled", "failed"}) | {
        "deleted"
    }

    def __init__(
        self,
        datacenter: DataCenter,
        image_id: str | Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> None:
        """Wrap ``data``, or fetch the image ``image_id`` (an id or an image dict).

        Raises:
            TypeError: neither ``image_id`` nor ``data`` with an ``id`` was given.
        """
        self.datacenter = datacenter
        if data is None:
            if image_id is None:
                raise TypeError("Image needs an image_id or data")
            data = datacenter.api.get_image(ref_value(image_id, "id", what="image"))
        self.id: str = ref_value(data, "id", what="image")
        self._data: dict[str, Any] = dict(data)

    @property
    def api(self) -> CloudAPI:
        """The CloudAPI client of this image's datacenter."""
        return self.datacenter.api

    @property
    def name(self) -> str | None:
        """The image's name."""
        return self._text("name")

    @property
    def version(self) -> str | None:
        """The image's version."""
        return self._text("version")

    @property
    def os(self) -> str | None:
        """``smartos``, ``linux``, ``windows`` ..."""
        return self._text("os")

    @property
    def type(self) -> str | None:
        """The IMGAPI type: ``zone-dataset``, ``lx-dataset``, ``zvol`` ..."""
        return self._text("type")

    @property
    def owner(self) -> str | None:
        """UUID of the owning account."""
        return self._text("owner")

    @property
    def public(self) -> bool:
        """Whether every account may use the image."""
        return bool(self._data.get("public"))

    @property
    def description(self) -> str | None:
        """The image's description."""
        return self._text("description")

    @property
    def acl(self) -> list[str]:
        """UUIDs of the accounts the image is shared with."""
        return [str(a) for a in self._data.get("acl") or []]

    @property
    def tags(self) -> dict[str, Any]:
        """Image tags."""
        return dict(self._data.get("tags") or {})

    @property
    def error(self) -> dict[str, Any] | None:
        """Why a ``failed`` image failed, when CloudAPI says."""
        value = self._data.get("error")
        return dict(value) if isinstance(value, Mapping) else None

    def _text(self, key: str) -> str | None:
        value = self._data.get(key)
        return value if isinstance(value, str) else None

    @property
    def _label(self) -> str:
        return f"image {self.name}@{self.version} ({self.id})"

    def __str__(self) -> str:
        return self.id

    def __repr__(self) -> str:
        return f"<Image {self.name}@{self.version} ({self.id}) {self.state}>"

    @property
    def _identity(self) -> tuple[Any, ...]:
        return (self.id,)

    # --- life cycle -------------------------------------------------------------------------

    def refresh(self) -> Self:
        """Fetch the image again (``GetImage``)."""
        self._data = dict(self.api.get_image(self.id))
        return self

    def update(self, **fields: Any) -> Self:
        """Change ``name``, ``version``, ``description``, ``homepage``, ``eula``, ``acl``
        (account UUIDs) or ``tags``; the image then shows CloudAPI's answer.

        Raises:
            TypeError: a field UpdateImage does not change.
        """
        unknown = sorted(set(fields) - set(_UPDATABLE))
        if unknown:
            raise TypeError(f"update() cannot change {', '.join(unknown)}")
        self._data = dict(self.api.update_image(self.id, **fields))
        return self

    def share(self, account: str | Mapping[str, Any]) -> Self:
        """Let another account (its UUID, or an account dict) use the image, by adding it to
        the image's ``acl``, as ``triton image share`` does."""
        wanted = ref_value(account, "id", what="account")
        acl = self.refresh().acl
        return self if wanted in acl else self.update(acl=[*acl, wanted])

    def unshare(self, account: str | Mapping[str, Any]) -> Self:
        """Take an account out of the image's ``acl``."""
        wanted = ref_value(account, "id", what="account")
        acl = self.refresh().acl
        return self.update(acl=[a for a in acl if a != wanted]) if wanted in acl else self

    def delete(self) -> Self:
        """Delete the image (its owner only); ``poll_until("deleted")`` waits until
        CloudAPI no longer lists it."""
        self.api.delete_image(self.id)
        return self

    def clone(self) -> Image:
        """Copy an image shared with the account into one the account owns; return the copy."""
        return Image(self.datacenter, data=self.api.clone_image(self.id))

    def export(self, manta_path: str) -> dict[str, Any]:
        """Write the image file and manifest to Manta under ``manta_path``; returns
        ``{"manta_url", "image_path", "manifest_path"}``."""
        return dict(self.api.export_image(self.id, manta_path))

    def copy_to(self, datacenter: DataCenter) -> Image:
        """Import this image (the account's own) into another datacenter of the same cloud;
        return the copy there::

            east_copy = image.copy_to(dc.datacenter("us-east-2"))

        Raises:
            ConfigError: this image's datacenter is not one the cloud lists by name.
        """
        found = datacenter.api.import_image_from_datacenter(
            datacenter=self._datacenter_name(), id=self.id
        )
        return Image(datacenter, data=found)

    def _datacenter_name(self) -> str:
        """The name the cloud gives this image's datacenter (ImportImageFromDatacenter
        wants the name, not the URL)."""
        here = self.datacenter
        listed = here.datacenters()
        if here.name and here.name in listed:
            return here.name
        mine = here.base_url.rstrip("/")
        for name, url in listed.items():
            if url.rstrip("/") == mine:
                return name
        raise ConfigError(
            f"{here.base_url} is not among the datacenters the cloud lists "
            f"({', '.join(sorted(listed)) or 'none'}); cannot name it as the image's source"
        )
