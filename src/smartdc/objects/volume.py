"""``Volume``: one shared (``tritonnfs``) volume that machines can mount.

A volume starts ``creating`` and becomes ``ready`` (or ``failed``); deleting it shows
``deleting`` until it is gone. A volume CloudAPI no longer knows (404 ``VolumeNotFound``)
is recorded as state ``deleted`` by ``refresh()``, so this works::

    vol = dc.create_volume(name="shared", size=10240).poll_until("ready")
    vol.rename("shared-data")
    vol.delete().poll_until("deleted")
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self

from smartdc.errors import VolumeNotFoundError
from smartdc.objects.polling import PolledResource
from smartdc.objects.refs import ref_value

if TYPE_CHECKING:
    from smartdc.api import CloudAPI
    from smartdc.objects.datacenter import DataCenter

__all__ = ["Volume"]


class Volume(PolledResource):
    """A volume in a :class:`~smartdc.DataCenter`.

    Made by ``DataCenter.volumes()``, ``volume()`` and ``create_volume()``. Built by hand,
    ``Volume(dc, volume_id)`` fetches it. Volumes compare equal by id.
    """

    _known_states = frozenset({"creating", "ready", "failed", "deleting", "deleted"})

    def __init__(
        self,
        datacenter: DataCenter,
        volume_id: str | Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> None:
        """Wrap ``data``, or fetch the volume ``volume_id`` (an id or a volume dict).

        Raises:
            TypeError: neither ``volume_id`` nor ``data`` with an ``id`` was given.
            VolumeNotFoundError: no such volume.
        """
        self.datacenter = datacenter
        if data is None:
            if volume_id is None:
                raise TypeError("Volume needs a volume_id or data")
            data = datacenter.api.get_volume(ref_value(volume_id, "id", what="volume"))
        self.id: str = ref_value(data, "id", what="volume")
        self._data: dict[str, Any] = dict(data)

    @property
    def api(self) -> CloudAPI:
        """The CloudAPI client of this volume's datacenter."""
        return self.datacenter.api

    @property
    def name(self) -> str | None:
        """The volume's name."""
        value = self._data.get("name")
        return value if isinstance(value, str) else None

    @property
    def size(self) -> int | None:
        """Size in MiB."""
        value = self._data.get("size")
        return value if isinstance(value, int) else None

    @property
    def type(self) -> str | None:
        """``tritonnfs``."""
        value = self._data.get("type")
        return value if isinstance(value, str) else None

    @property
    def networks(self) -> list[str]:
        """Ids of the networks the volume is reachable on."""
        return [str(n) for n in self._data.get("networks") or []]

    @property
    def refs(self) -> list[str]:
        """Ids of the machines that mount the volume (non-empty: the volume is in use)."""
        return [str(r) for r in self._data.get("refs") or []]

    @property
    def filesystem_path(self) -> str | None:
        """``<host>:<path>``, what an NFS client mounts."""
        value = self._data.get("filesystem_path")
        return value if isinstance(value, str) else None

    @property
    def tags(self) -> dict[str, Any]:
        """Volume tags."""
        return dict(self._data.get("tags") or {})

    @property
    def _label(self) -> str:
        return f"volume {self.name} ({self.id})"

    def __str__(self) -> str:
        return self.id

    def __repr__(self) -> str:
        return f"<Volume {self.name} ({self.id}) {self.state}>"

    @property
    def _identity(self) -> tuple[Any, ...]:
        return (self.id,)

    def refresh(self) -> Self:
        """Fetch the volume again (``GetVolume``); a 404 records state ``deleted``."""
        try:
            self._data = dict(self.api.get_volume(self.id))
        except VolumeNotFoundError:
            self._merge(state="deleted")
        return self

    def rename(self, name: str) -> Self:
        """Give the volume a new name (``UpdateVolume``; refused while machines use it)."""
        self._data = dict(self.api.update_volume(self.id, name=name))
        return self

    def update(self, *, name: str) -> Self:
        """``UpdateVolume``: the name is the only field CloudAPI lets change."""
        return self.rename(name)

    def delete(self) -> Self:
        """Delete the volume (asynchronous: ``poll_until("deleted")`` waits).

        Raises:
            VolumeInUseError: machines still mount it.
        """
        self.api.delete_volume(self.id)
        return self
