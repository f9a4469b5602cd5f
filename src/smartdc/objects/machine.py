"""``Machine``: a local view of one CloudAPI machine, with the calls that act on it.

Attributes read the machine data last fetched (at creation, listing or :meth:`Machine.refresh`);
they never make a request. Return conventions:

* actions on the machine (``start``, ``stop``, ``reboot``, ``resize``, ``rename``, ``delete``,
  ``start_from_snapshot``) and ``refresh``/``poll_until``/``poll_while`` return the machine
  itself, so calls chain: ``m.stop().poll_until("stopped")``;
* ``status()`` returns the state string;
* metadata and tag calls return the data CloudAPI answered with (``update_metadata`` and
  ``add_tags`` the merged dict, ``get_tag`` one value); ``delete_metadata_at_key`` and
  ``delete_all_metadata`` return the metadata left, as py-smartdc did, polling briefly until
  CloudAPI shows the deletion (at most 60 s); ``delete_tag`` and ``delete_all_tags`` return
  ``None``;
* snapshot calls return :class:`~smartdc.Snapshot` objects;
* ``role_tags`` and ``set_role_tags`` return the role names the machine is tagged with;
* ``enable_firewall``, ``disable_firewall``, ``enable_deletion_protection`` and
  ``disable_deletion_protection`` return the machine, once GetMachine shows the new flag
  (unless ``wait=False``);
* ``list_nics``/``get_nic``/``add_nic``, ``disks``/``get_disk``/``add_disk``,
  ``firewall_rules``, ``migrate``/``migration`` and ``create_image`` return
  :class:`~smartdc.objects.nic.Nic`, :class:`~smartdc.objects.disk.Disk`,
  :class:`~smartdc.objects.firewall.FirewallRule`,
  :class:`~smartdc.objects.migration.Migration` and :class:`~smartdc.objects.image.Image`
  objects. The :attr:`Machine.nics` attribute stays the list of NIC dicts GetMachine
  embeds; :meth:`Machine.list_nics` fetches them as objects.

A machine that CloudAPI reports as gone (410) is a machine in state ``deleted``: ``refresh()``
records that instead of raising, so ``m.delete().poll_until("deleted")`` works.

Metadata and tag writes are asynchronous in CloudAPI: it answers at once (with the merged
data) and applies the change in a job on the machine, so for a moment GetMachine,
ListMachineMetadata and ListMachineTags still show the old values. Two things follow:

* :attr:`metadata` and :attr:`tags` show this object's own writes at once and never flip
  back to the old values when ``refresh()``, ``get_metadata()`` or ``get_tags()`` read them
  before the job ran; once CloudAPI shows a write (or 60 s later, for a write it never
  showed) what it answers is shown as it is;
* :meth:`Machine.wait_for_writes` polls (every 0.25 s, at most 60 s) until CloudAPI shows
  every such write, for code that reads the machine through another client next::

      m.update_metadata(role="db")
      m.add_tags(tier="front")
      m.wait_for_writes()

  Metadata deletions (``delete_metadata_at_key``, ``delete_all_metadata``) always wait, as
  py-smartdc's did.

Machine objects may be shared between threads (e.g. mapped over a
``multiprocessing.dummy.Pool``); each call replaces the cached data in one assignment.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Literal, Self, TypeVar, overload

from smartdc.change_waits import machine_changes
from smartdc.errors import (
    MachineFailedError,
    MachineGoneError,
    ResourceNotFoundError,
    ScriptFileError,
    SmartDCError,
    SnapshotExistsError,
)
from smartdc.objects.disk import Disk
from smartdc.objects.firewall import FirewallRule
from smartdc.objects.image import Image
from smartdc.objects.migration import Migration
from smartdc.objects.nic import Nic
from smartdc.objects.pending import PendingWrites
from smartdc.objects.polling import PolledResource
from smartdc.objects.refs import ref_value
from smartdc.objects.snapshot import Snapshot
from smartdc.wait import ChangeSource, wait_for

if TYPE_CHECKING:
    from smartdc.api import CloudAPI
    from smartdc.objects.datacenter import DataCenter

__all__ = ["Machine", "is_private_ip", "read_script"]

T = TypeVar("T")

#: Metadata keys DeleteAllMachineMetadata leaves in place.
_KEPT_METADATA = frozenset({"root_authorized_keys", "administrator_pw", "credentials"})

#: How metadata and tag writes are awaited (metadata deletions always, others on request).
METADATA_POLL_INTERVAL = 0.25
METADATA_POLL_TIMEOUT = 60.0

#: Snapshot states whose name may be used again.
_ENDED_SNAPSHOT_STATES = frozenset({"deleted", "failed", "canceled"})

#: How long this object's own metadata and tag writes are laid over what CloudAPI shows.
PENDING_WRITE_TTL = 60.0

#: The machine fields whose writes CloudAPI applies in a job.
AsyncField = Literal["metadata", "tags"]
_ASYNC_FIELDS: tuple[AsyncField, ...] = ("metadata", "tags")

_PRIVATE_NETWORKS = tuple(
    ipaddress.ip_network(net)
    for net in (
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",  # carrier-grade NAT, used by Triton for internal networks too
        "169.254.0.0/16",
        "127.0.0.0/8",
        "fc00::/7",
        "fe80::/10",
        "::1/128",
    )
)


def is_private_ip(address: str) -> bool | None:
    """True for RFC 1918, CGNAT (100.64/10), link-local, loopback and IPv6 ULA addresses.

    Every other valid address counts as public, documentation ranges included (emulators hand
    those out as public IPs). Returns ``None`` for something that is not an IP (``"dhcp"``).
    """
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    return any(ip in net for net in _PRIVATE_NETWORKS if net.version == ip.version)


def read_script(filename: str | Path) -> str:
    """The text of a boot script file (``~`` expanded).

    Raises:
        ScriptFileError: the file is missing, a directory, unreadable or not text.
    """
    path = Path(filename).expanduser()
    try:
        return path.read_text()
    except IsADirectoryError:
        raise ScriptFileError(f"boot script {path} is a directory", str(path)) from None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ScriptFileError(f"cannot read boot script {path}: {reason}", str(path)) from None
    except UnicodeDecodeError:
        raise ScriptFileError(f"boot script {path} is not text", str(path)) from None


class _Field(Generic[T]):
    """A read-only attribute backed by one key of the machine data."""

    def __init__(self, key: str, default: T, doc: str) -> None:
        self.key = key
        self.default = default
        self.__doc__ = doc

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> _Field[T]: ...
    @overload
    def __get__(self, obj: Machine, owner: type[Any]) -> T: ...
    def __get__(self, obj: Machine | None, owner: type[Any]) -> T | _Field[T]:
        if obj is None:
            return self
        value = obj._data.get(self.key)
        return self.default if value is None else value


class Machine(PolledResource):
    """A machine (instance) in a :class:`~smartdc.DataCenter`.

    Usually made by ``DataCenter.machines()``, ``machine()`` or ``create_machine()``. Built by
    hand, ``Machine(dc, machine_id)`` fetches the machine; ``Machine(dc, data=a_dict)`` wraps
    data already fetched.

    Machines compare equal (and hash) by id; a machine also equals a dict with the same
    ``id``.
    """

    name = _Field[str | None]("name", None, "Name (alias) of the machine.")
    type = _Field[str | None]("type", None, "``smartmachine`` or ``virtualmachine`` (deprecated).")
    brand = _Field[str | None]("brand", None, "``joyent``, ``lx``, ``kvm``, ``bhyve`` ...")
    image = _Field[str | None]("image", None, "Id of the image the machine runs.")
    memory = _Field[int | None]("memory", None, "RAM in MiB.")
    disk = _Field[int | None]("disk", None, "Disk in MiB.")
    package = _Field[str | None]("package", None, "Name of the machine's package.")
    primary_ip = _Field[str | None]("primaryIp", None, "The primary IP address, when known.")
    firewall_enabled = _Field[bool | None]("firewall_enabled", None, "Cloud firewall on?")
    deletion_protection = _Field[bool | None]("deletion_protection", None, "Protected?")
    compute_node = _Field[str | None]("compute_node", None, "UUID of the server it runs on.")
    docker = _Field[bool]("docker", False, "True for Docker containers.")

    # The states CloudAPI maps VMAPI's to; "deleted" also covers a machine that is gone.
    _known_states = frozenset(
        {"provisioning", "ready", "running", "stopping", "stopped", "offline", "failed"}
        | {"deleted", "unknown"}
    )

    def __init__(
        self,
        datacenter: DataCenter,
        machine_id: str | Mapping[str, Any] | Machine | None = None,
        data: Mapping[str, Any] | None = None,
        credentials: bool = False,
    ) -> None:
        """Wrap ``data``, or fetch the machine ``machine_id`` (an id, a name, or a dict with
        ``id``).

        Raises:
            TypeError: neither ``machine_id`` nor ``data`` (with an ``id``) was given.
        """
        self.datacenter = datacenter
        if data is None:
            if machine_id is None:
                raise TypeError("Machine needs a machine_id or data")
            data = datacenter.raw_machine_data(machine_id, credentials=credentials)
            machine_id = data.get("id") or machine_id  # a name was looked up
        elif machine_id is None:
            machine_id = data
        self.id: str = ref_value(machine_id, "id", what="machine")
        self._pending: dict[AsyncField, PendingWrites] = {}
        self._data: dict[str, Any] = dict(data)

    # --- data -------------------------------------------------------------------------------

    @property
    def api(self) -> CloudAPI:
        """The CloudAPI client of this machine's datacenter."""
        return self.datacenter.api

    @property
    def dataset(self) -> str | None:
        """Id of the image the machine runs (py-smartdc's name for :attr:`image`)."""
        return self._data.get("image") or self._data.get("dataset")

    @property
    def ips(self) -> list[str]:
        """Every IP address the machine has (empty while provisioning)."""
        return list(self._data.get("ips") or [])

    @property
    def public_ips(self) -> list[str]:
        """The machine's IPs that are not private (see :func:`is_private_ip`)."""
        return [ip for ip in self.ips if is_private_ip(ip) is False]

    @property
    def private_ips(self) -> list[str]:
        """The machine's RFC 1918 / CGNAT / link-local / ULA addresses."""
        return [ip for ip in self.ips if is_private_ip(ip)]

    @property
    def metadata(self) -> dict[str, Any]:
        """Customer metadata as last fetched."""
        return dict(self._data.get("metadata") or {})

    @property
    def boot_script(self) -> str | None:
        """The ``user-script`` metadata run at boot, if any."""
        value = self.metadata.get("user-script")
        return value if isinstance(value, str) else None

    @property
    def tags(self) -> dict[str, Any]:
        """Tags as last fetched."""
        return dict(self._data.get("tags") or {})

    @property
    def networks(self) -> list[str]:
        """Ids of the networks the machine is on."""
        return list(self._data.get("networks") or [])

    @property
    def nics(self) -> list[dict[str, Any]]:
        """The machine's NICs, when CloudAPI reports them."""
        return list(self._data.get("nics") or [])

    @property
    def dns_names(self) -> list[str]:
        """CNS names, when the account uses CNS."""
        return list(self._data.get("dns_names") or [])

    @property
    def _label(self) -> str:
        """``machine <name> (<id>)``, as errors name the machine."""
        return f"machine {self.name} ({self.id})"

    def __str__(self) -> str:
        return self.id

    def __repr__(self) -> str:
        return f"<Machine {self.name} ({self.id}) {self.state}>"

    @property
    def _identity(self) -> tuple[Any, ...]:
        return (self.id,)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):  # a machine dict CloudAPI returned
            return self.id == other.get("id")
        return super().__eq__(other)

    __hash__ = PolledResource.__hash__

    def _save(self, data: Mapping[str, Any]) -> None:
        fresh = dict(data)
        for field in _ASYNC_FIELDS:
            value = fresh.get(field)
            if isinstance(value, Mapping):
                fresh[field] = self._seen(field, value)
        self._data = fresh

    # --- writes CloudAPI applies later -------------------------------------------------------

    def _seen(self, field: AsyncField, server: Mapping[str, Any]) -> dict[str, Any]:
        """``server``'s value of ``field`` with this object's pending writes laid over it;
        writes it already shows (or too old to keep) are forgotten."""
        pending = self._pending.get(field)
        if pending is None:
            return dict(server)
        if pending.expired(time.monotonic()) or pending.shown_by(server):
            self._pending = {name: p for name, p in self._pending.items() if name != field}
            return dict(server)
        return pending.view(server)

    def _wrote(
        self, field: AsyncField, write: PendingWrites, answer: Mapping[str, Any] | None
    ) -> None:
        """Remember a write CloudAPI accepted, and show it in the cached data at once."""
        earlier = self._pending.get(field)
        pending = write if earlier is None else earlier.then(write)
        self._pending = {**self._pending, field: pending}
        base = answer if answer is not None else self._data.get(field) or {}
        self._merge(**{field: pending.view(base)})

    def _expiry(self) -> float:
        return time.monotonic() + PENDING_WRITE_TTL

    def _await(
        self,
        field: AsyncField,
        write: PendingWrites,
        fetch: Callable[[], Mapping[str, Any]],
        goal: str,
        *,
        interval: float = METADATA_POLL_INTERVAL,
        timeout: float = METADATA_POLL_TIMEOUT,
    ) -> dict[str, Any]:
        """Poll ``fetch`` until CloudAPI shows ``write``; cache and return what it shows."""
        found = wait_for(
            lambda: dict(fetch()),
            write.shown_by,
            interval=interval,
            timeout=timeout,
            describe=f"{self._label} {goal}",
            changes=self._changes(),
        )
        self._merge(**{field: self._seen(field, found)})
        return found

    def wait_for_writes(
        self, interval: float = METADATA_POLL_INTERVAL, timeout: float = METADATA_POLL_TIMEOUT
    ) -> Self:
        """Poll until CloudAPI shows every metadata and tag write made through this object
        (``update_metadata``, ``add_tags``, ``replace_tags``, ``delete_tag``,
        ``delete_all_tags``) that it did not show yet; return the machine, whose
        :attr:`metadata` and :attr:`tags` are then as CloudAPI lists them.

        Makes no request when there is nothing to wait for.

        Raises:
            WaitTimeoutError: ``timeout`` seconds passed first (a write someone else
                overwrote meanwhile never shows).
        """
        deadline = time.monotonic() + timeout
        fetchers: dict[AsyncField, Callable[[], dict[str, Any]]] = {
            "metadata": self._list_metadata,
            "tags": self._list_tags,
        }
        for field in _ASYNC_FIELDS:
            pending = self._pending.get(field)
            if pending is None or pending.expired(time.monotonic()):
                continue
            self._await(
                field,
                pending,
                fetchers[field],
                f"to show its new {field}",
                interval=interval,
                timeout=max(deadline - time.monotonic(), 0.001),
            )
        return self

    # --- state ------------------------------------------------------------------------------

    def _changes(self) -> ChangeSource:
        return machine_changes(self.api, self.id)

    def refresh(self, credentials: bool = False) -> Self:
        """Fetch the machine again (``GetMachine``); a 410 Gone records state ``deleted``."""
        try:
            data = self.datacenter.raw_machine_data(self.id, credentials=credentials)
        except MachineGoneError as gone:
            if gone.machine is not None and gone.machine.get("id") == self.id:
                self._save(gone.machine)
            self._merge(state="deleted")
            return self
        self._save(data)
        return self

    def credentials(self) -> dict[str, Any]:
        """The login passwords CloudAPI set up for the machine (``GetMachine?credentials=true``)."""
        self.refresh(credentials=True)
        found = self.metadata.get("credentials")
        return dict(found) if isinstance(found, Mapping) else {}

    def _failed_error(self, current: str, goal: str, until: bool) -> BaseException | None:
        if current == "failed" and goal != "failed":
            return MachineFailedError(
                f"{self._label} failed while waiting for it to {'be' if until else 'leave'} "
                f"{goal!r}",
                machine=self.raw,
            )
        return None

    # --- actions ----------------------------------------------------------------------------

    def start(self) -> Machine:
        """Boot the machine (asynchronous; poll for ``running``)."""
        self.api.start_machine(self.id)
        return self

    def stop(self) -> Machine:
        """Shut the machine down (asynchronous; poll for ``stopped``)."""
        self.api.stop_machine(self.id)
        return self

    def reboot(self) -> Machine:
        """Reboot the machine (asynchronous)."""
        self.api.reboot_machine(self.id)
        return self

    def resize(self, package: str | Mapping[str, Any]) -> Machine:
        """Move the machine to another package (a name, an id, or a package dict)."""
        self.api.resize_machine(self.id, ref_value(package, "id", "name", what="package"))
        return self

    def rename(self, name: str) -> Machine:
        """Give the machine a new name (asynchronous)."""
        self.api.rename_machine(self.id, name)
        return self

    def delete(self) -> Machine:
        """Delete the machine (asynchronous; ``poll_until("deleted")`` to wait)."""
        self.api.delete_machine(self.id)
        return self

    def audit(self) -> list[dict[str, Any]]:
        """The machine's action log, newest first (``MachineAudit``)."""
        return list(self.api.machine_audit(self.id))

    # --- metadata ---------------------------------------------------------------------------

    @overload
    def get_metadata(self, key: None = None) -> dict[str, Any]: ...
    @overload
    def get_metadata(self, key: str) -> Any: ...
    def get_metadata(self, key: str | None = None) -> Any:
        """All metadata as CloudAPI lists it now, or the value at ``key``.

        The listing also refreshes :attr:`metadata`, where this object's own writes that
        CloudAPI does not show yet stay visible (see the module docstring).
        """
        if key is not None:
            return self.api.get_machine_metadata(self.id, key)
        found = dict(self.api.list_machine_metadata(self.id))
        self._merge(metadata=self._seen("metadata", found))
        return found

    def update_metadata(
        self, mapping: Mapping[str, Any] | None = None, /, **values: Any
    ) -> dict[str, Any]:
        """Add or change metadata keys (``dict.update`` style); return all metadata.

        Asynchronous in CloudAPI: the answer (returned, and shown in :attr:`metadata` at
        once) is the merged metadata, but GetMachine and ListMachineMetadata show the change
        only once the job on the machine has run; :meth:`wait_for_writes` waits for that.
        Keys CloudAPI ignores (``credentials``, ``*_pw`` ...) are not awaited.
        """
        changes = {**(mapping or {}), **values}
        if not changes:
            raise ValueError("update_metadata needs at least one key=value")
        found = dict(self.api.update_machine_metadata(self.id, changes))
        write = PendingWrites.setting(
            {key: found[key] for key in changes if key in found}, expires=self._expiry()
        )
        self._wrote("metadata", write, found)
        return found

    set_metadata = update_metadata

    def _list_metadata(self) -> dict[str, Any]:
        return dict(self.api.list_machine_metadata(self.id))

    def delete_metadata_at_key(self, key: str) -> dict[str, Any]:
        """Delete one metadata key; return the metadata left once CloudAPI shows the change
        (the deletion is a job on the machine: this polls for at most 60 s)."""
        self.api.delete_machine_metadata(self.id, key)
        write = PendingWrites.deleting([key], expires=self._expiry())
        self._wrote("metadata", write, None)
        return self._await("metadata", write, self._list_metadata, f"metadata {key!r} to go")

    delete_metadata = delete_metadata_at_key

    def delete_all_metadata(self) -> dict[str, Any]:
        """Delete all metadata (CloudAPI keeps ``root_authorized_keys`` and
        ``administrator_pw``); return what is left once CloudAPI shows the change (the
        deletion is a job on the machine: this polls for at most 60 s)."""
        self.api.delete_all_machine_metadata(self.id)
        self._pending = {name: p for name, p in self._pending.items() if name != "metadata"}
        found = wait_for(
            self._list_metadata,
            lambda found: set(found) <= _KEPT_METADATA,
            interval=METADATA_POLL_INTERVAL,
            timeout=METADATA_POLL_TIMEOUT,
            describe=f"{self._label} its metadata to be cleared",
            changes=self._changes(),
        )
        self._merge(metadata=found)
        return found

    def set_boot_script(self, filename: str | Path) -> Machine:
        """Upload the file as the ``user-script`` run at boot (asynchronous, as
        :meth:`update_metadata`).

        Raises:
            ScriptFileError: the file is missing or unreadable.
        """
        self.update_metadata({"user-script": read_script(filename)})
        return self

    def delete_boot_script(self) -> Machine:
        """Remove the boot script."""
        self.delete_metadata_at_key("user-script")
        return self

    # --- tags -------------------------------------------------------------------------------

    def get_tags(self) -> dict[str, Any]:
        """All tags as CloudAPI lists them now. The listing also refreshes :attr:`tags`,
        where this object's own writes that CloudAPI does not show yet stay visible."""
        found = dict(self.api.list_machine_tags(self.id))
        self._merge(tags=self._seen("tags", found))
        return found

    def get_tag(self, tag: str) -> Any:
        """The value of one tag."""
        return self.api.get_machine_tag(self.id, tag)

    def _list_tags(self) -> dict[str, Any]:
        return dict(self.api.list_machine_tags(self.id))

    def add_tags(self, mapping: Mapping[str, Any] | None = None, /, **tags: Any) -> dict[str, Any]:
        """Add or change tags, keeping the others; return all tags.

        Asynchronous in CloudAPI: the answer (returned, and shown in :attr:`tags` at once)
        is the merged tags, but GetMachine and ListMachineTags show them only once the job
        on the machine has run; :meth:`wait_for_writes` waits for that.
        """
        changes = {**(mapping or {}), **tags}
        if not changes:
            raise ValueError("add_tags needs at least one name=value")
        found = dict(self.api.add_machine_tags(self.id, changes))
        write = PendingWrites.setting(
            {name: found[name] for name in changes if name in found}, expires=self._expiry()
        )
        self._wrote("tags", write, found)
        return found

    set_tags = add_tags

    def replace_tags(
        self, mapping: Mapping[str, Any] | None = None, /, **tags: Any
    ) -> dict[str, Any]:
        """Make these the machine's only tags; return them. Asynchronous in CloudAPI, as
        :meth:`add_tags`."""
        found = dict(self.api.replace_machine_tags(self.id, {**(mapping or {}), **tags}))
        self._wrote("tags", PendingWrites.replacing(found, expires=self._expiry()), found)
        return found

    def delete_tag(self, tag: str) -> None:
        """Delete one tag. Asynchronous in CloudAPI, as :meth:`add_tags` (:attr:`tags`
        drops it at once)."""
        self.api.delete_machine_tag(self.id, tag)
        self._wrote("tags", PendingWrites.deleting([tag], expires=self._expiry()), None)

    def delete_all_tags(self) -> None:
        """Delete every tag. Asynchronous in CloudAPI, as :meth:`add_tags` (:attr:`tags`
        is empty at once)."""
        self.api.delete_machine_tags(self.id)
        self._wrote("tags", PendingWrites.replacing({}, expires=self._expiry()), None)

    delete_tags = delete_all_tags

    # --- RBAC role tags ----------------------------------------------------------------------

    def role_tags(self) -> list[str]:
        """The names of the RBAC roles this machine is tagged with (fetched now: CloudAPI
        sends them in the ``role-tag`` header of ``GetMachine``)."""
        return self.api.get_role_tags(f"machines/{self.id}")

    def set_role_tags(self, role_tags: Sequence[str]) -> list[str]:
        """Tag the machine with these roles, replacing its tags; ``[]`` clears them. Returns
        the role names CloudAPI now has on the machine.

        Sub-users whose active roles tag the machine may then act on it as those roles'
        policies allow.
        """
        return self.datacenter.set_role_tags(f"machines/{self.id}", role_tags)

    # --- snapshots --------------------------------------------------------------------------

    def raw_snapshot_data(self, name: str) -> dict[str, Any]:
        """The snapshot ``name`` as CloudAPI returns it."""
        return dict(self.api.get_machine_snapshot(self.id, name))

    def snapshots(self) -> list[Snapshot]:
        """Every snapshot of this machine."""
        return [Snapshot(self, data=s) for s in self.api.list_machine_snapshots(self.id)]

    def snapshot(self, name: str | Mapping[str, Any]) -> Snapshot:
        """The existing snapshot ``name`` (or a snapshot dict), fetched."""
        return Snapshot(self, name=ref_value(name, "name", what="snapshot"))

    def create_snapshot(self, name: str | None = None) -> Snapshot:
        """Start a snapshot (CloudAPI names it by time if ``name`` is omitted).

        The snapshot starts ``queued``; ``.poll_until("created")`` waits for it. A name in
        use is refused before anything is created (one GetMachineSnapshot): CloudAPI would
        queue the duplicate, which can never be made, and the name would keep finding the
        old snapshot. A name whose snapshot was deleted or failed may be used again.

        Raises:
            SnapshotExistsError: the machine already has a snapshot named ``name``.
        """
        if name:
            self._check_snapshot_name(name)
        answer = self.api.create_machine_snapshot(self.id, name=name)
        data = dict(answer) if isinstance(answer, Mapping) else {}
        if not data.get("name"):
            if not name:
                raise SmartDCError("CloudAPI's answer to CreateMachineSnapshot named no snapshot")
            data.setdefault("state", "queued")
            data["name"] = name
        return Snapshot(self, data=data)

    def _check_snapshot_name(self, name: str) -> None:
        try:
            existing = self.api.get_machine_snapshot(self.id, name)
        except ResourceNotFoundError:
            return
        state = existing.get("state") if isinstance(existing, Mapping) else None
        if state not in _ENDED_SNAPSHOT_STATES:
            raise SnapshotExistsError(
                f"{self._label} already has a snapshot named {name!r} (state {state}); "
                "choose another name, or delete that snapshot first"
            )

    def start_from_snapshot(self, name: str | Mapping[str, Any] | Snapshot) -> Machine:
        """Roll the machine back to a snapshot (a name, dict or :class:`Snapshot`) and boot it;
        the machine should be stopped."""
        snapshot_name = (
            name.name if isinstance(name, Snapshot) else ref_value(name, "name", what="snapshot")
        )
        self.api.start_machine_from_snapshot(self.id, snapshot_name)
        return self

    # --- firewall and deletion protection ---------------------------------------------------

    def _set_flag(self, flag: str, value: bool, send: Callable[[str], None], wait: bool) -> Self:
        send(self.id)
        if not wait:
            return self
        wait_for(
            lambda: self.refresh()._data.get(flag),
            lambda shown: shown is value,
            interval=METADATA_POLL_INTERVAL,
            timeout=METADATA_POLL_TIMEOUT,
            describe=f"{self._label} to show {flag}={value}",
        )
        return self

    def enable_firewall(self, wait: bool = True) -> Machine:
        """Turn the Cloud Firewall on for the machine; return it.

        CloudAPI applies the change in a job; with ``wait`` (the default) this polls (every
        0.25 s, at most 60 s) until :attr:`firewall_enabled` shows it::

            machine.enable_firewall().firewall_enabled   # True
        """
        return self._set_flag("firewall_enabled", True, self.api.enable_machine_firewall, wait)

    def disable_firewall(self, wait: bool = True) -> Machine:
        """Turn the Cloud Firewall off for the machine; waits as :meth:`enable_firewall`."""
        return self._set_flag("firewall_enabled", False, self.api.disable_machine_firewall, wait)

    def enable_deletion_protection(self, wait: bool = True) -> Machine:
        """Refuse deletion of the machine until protection is turned off (``delete()`` then
        raises); waits as :meth:`enable_firewall` until :attr:`deletion_protection` shows it."""
        send = self.api.enable_machine_deletion_protection
        return self._set_flag("deletion_protection", True, send, wait)

    def disable_deletion_protection(self, wait: bool = True) -> Machine:
        """Allow the machine to be deleted again; waits as :meth:`enable_firewall`."""
        send = self.api.disable_machine_deletion_protection
        return self._set_flag("deletion_protection", False, send, wait)

    def firewall_rules(self) -> list[FirewallRule]:
        """The firewall rules that apply to the machine (``ListMachineFirewallRules``)::

        [rule.rule for rule in machine.firewall_rules() if rule.enabled]
        """
        found = self.api.list_machine_firewall_rules(self.id)
        return [FirewallRule(self.datacenter, data=r) for r in found]

    # --- NICs and disks ---------------------------------------------------------------------

    def list_nics(self) -> list[Nic]:
        """The machine's NICs, fetched now (``ListNics``), as :class:`Nic` objects.

        (:attr:`nics` is the list of NIC dicts in the machine data last fetched.)
        """
        return [Nic(self, n) for n in self.api.list_nics(self.id)]

    def get_nic(self, mac: str | Mapping[str, Any]) -> Nic:
        """The NIC with this MAC address (``90:b8:d0:...`` or 12 hex digits, or a NIC dict)."""
        return Nic(self, self.api.get_nic(self.id, mac))

    def add_nic(self, network: str | Mapping[str, Any], primary: bool | None = None) -> Nic:
        """Add a NIC on ``network`` (an id, a network dict, or ``{"ipv4_uuid", "ipv4_ips"}``);
        the machine reboots. The NIC starts ``provisioning``::

            machine.add_nic(net["id"]).poll_while("provisioning")

        A NIC the machine already has on that network is returned as it is.
        """
        return Nic(self, self.api.add_nic(self.id, network, primary=primary))

    def disks(self) -> list[Disk]:
        """The machine's disks (bhyve), fetched now (``ListMachineDisks``)."""
        return [Disk(self, d) for d in self.api.list_machine_disks(self.id)]

    def get_disk(self, disk_id: str | Mapping[str, Any]) -> Disk:
        """One disk by id (or a disk dict)."""
        return Disk(self, self.api.get_machine_disk(self.id, disk_id))

    def add_disk(self, size: int | Literal["remaining"], pci_slot: str | None = None) -> Disk:
        """Add a disk of ``size`` MiB (or ``"remaining"``: the rest of a flexible package's
        space) to the stopped machine; return it (state ``creating``).

        Without ``pci_slot`` CloudAPI answers without the disk, which is then found as the one
        ListMachineDisks shows that was not there before.

        Raises:
            SmartDCError: CloudAPI accepted the disk but no new disk is listed.
        """
        before = {d.id for d in self.disks()} if pci_slot is None else set()
        answer = self.api.create_machine_disk(self.id, size=size, pci_slot=pci_slot)
        if answer:
            return Disk(self, answer)
        added = [d for d in self.disks() if d.id not in before]
        if not added:
            raise SmartDCError(f"{self._label} accepted a new disk, but lists none")
        return added[0]

    # --- migration --------------------------------------------------------------------------

    def migrate(
        self, action: str = "begin", affinity: str | Sequence[str] | None = None
    ) -> Migration:
        """Start moving the machine to another server: ``begin`` (then ``sync``,
        ``switch`` on the :class:`Migration`) or ``automatic`` (every phase in turn);
        ``affinity`` rules (``"instance!=db*"``) choose the target::

            machine.migrate("automatic").wait()

        Other actions (``sync``, ``switch``, ``pause``, ``abort``) act on the current
        migration, as the :class:`Migration` methods of those names do.
        """
        if action == "finalize":
            return self.migration().finalize()
        answer = self.api.migrate(self.id, action, affinity=affinity)
        if isinstance(answer, Mapping):
            return Migration(self, data=answer)
        return Migration(self)

    def migration(self) -> Migration:
        """The machine's migration, fetched now (``GetMigration``).

        Raises:
            ResourceNotFoundError: the machine has no migration.
        """
        return Migration(self)

    # --- images -----------------------------------------------------------------------------

    def create_image(self, name: str, version: str, **fields: Any) -> Image:
        """Make an image of this (prepared, stopped) machine; return it in state
        ``creating``. ``fields``: ``description``, ``homepage``, ``eula``, ``acl``, ``tags``::

            machine.create_image("web-base", "1.0.0").poll_until("active")
        """
        answer = self.api.create_image_from_machine(
            machine=self.id, name=name, version=version, **fields
        )
        return Image(self.datacenter, data=answer)
