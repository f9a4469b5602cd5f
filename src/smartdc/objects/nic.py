"""``Nic``: one network interface of a machine.

Adding a NIC reboots the machine; the NIC is ``provisioning`` until the machine is back
(``running``, or ``stopped`` with a stopped machine). ``remove()`` reboots it too, and
``poll_until("deleted")`` then waits until CloudAPI no longer lists the NIC::

    nic = machine.add_nic(network_id).poll_while("provisioning")
    nic.ip, nic.netmask
    nic.remove().poll_until("deleted")
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self

from smartdc.objects.polling import PolledResource

if TYPE_CHECKING:
    from smartdc.objects.machine import Machine

__all__ = ["Nic"]


class Nic(PolledResource):
    """A NIC of :attr:`machine`, known by its MAC address.

    Made by ``Machine.list_nics()``, ``get_nic()`` and ``add_nic()``. NICs compare equal by
    machine id and MAC.
    """

    _known_states = frozenset({"provisioning", "running", "stopped", "deleted"})

    def __init__(self, machine: Machine, data: Mapping[str, Any]) -> None:
        """Wrap ``data`` (a NIC dict with ``mac``).

        Raises:
            TypeError: ``data`` has no ``mac``.
        """
        mac = data.get("mac")
        if not isinstance(mac, str) or not mac:
            raise TypeError("Nic needs data with a mac")
        self.machine = machine
        self.mac: str = mac
        self._data: dict[str, Any] = dict(data)

    def _text(self, key: str) -> str | None:
        value = self._data.get(key)
        return value if isinstance(value, str) else None

    @property
    def ip(self) -> str | None:
        """The NIC's IPv4 address."""
        return self._text("ip")

    @property
    def netmask(self) -> str | None:
        """The network's netmask."""
        return self._text("netmask")

    @property
    def gateway(self) -> str | None:
        """The network's gateway, if it has one."""
        return self._text("gateway")

    @property
    def network(self) -> str | None:
        """Id of the network the NIC is on."""
        return self._text("network")

    @property
    def primary(self) -> bool:
        """Whether this is the machine's primary NIC (its default route)."""
        return bool(self._data.get("primary"))

    @property
    def _label(self) -> str:
        return f"NIC {self.mac} of machine {self.machine.id}"

    def __str__(self) -> str:
        return self.mac

    def __repr__(self) -> str:
        return f"<Nic {self.mac} {self.ip} of {self.machine.name} {self.state}>"

    @property
    def _identity(self) -> tuple[Any, ...]:
        return (self.machine.id, self.mac)

    def refresh(self) -> Self:
        """Fetch the NIC again (``GetNic``)."""
        self._data = dict(self.machine.api.get_nic(self.machine.id, self.mac))
        return self

    def remove(self) -> Self:
        """Remove the NIC from the machine (which reboots)."""
        self.machine.api.remove_nic(self.machine.id, self.mac)
        return self

    delete = remove
