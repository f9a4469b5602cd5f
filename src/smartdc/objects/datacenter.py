"""``DataCenter``: py-smartdc's connection object, on top of :class:`smartdc.CloudAPI`.

One ``DataCenter`` is one CloudAPI endpoint plus credentials. ``DataCenter.api`` is the
low-level client; everything here is a convenience over it. Nothing makes a request on
attribute access or in ``repr()``.

Packages, images (datasets), keys and networks come back as dicts. Wherever an identifier is
expected, such a dict may be passed instead; its ``id`` (or ``name``) is used.

What has a life cycle or actions of its own comes back as an object: machines, and
:class:`~smartdc.objects.image.Image` (from :meth:`DataCenter.image_objects`, alongside the
dicts of :meth:`DataCenter.images`), :class:`~smartdc.objects.volume.Volume`,
:class:`~smartdc.objects.firewall.FirewallRule`,
:class:`~smartdc.objects.fabric.FabricVlan` and :class:`~smartdc.objects.migration.Migration`.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from smartdc.api import CloudAPI
from smartdc.auth.keyid import parse_key_id
from smartdc.auth.keys import Passphrase
from smartdc.errors import (
    CloudAPIError,
    ConfigError,
    InvalidArgumentError,
    KeyFileError,
    ResourceNotFoundError,
    TransportError,
    ValidationFailedError,
)
from smartdc.objects import catalog
from smartdc.objects.config import read_config
from smartdc.objects.fabric import FabricVlan
from smartdc.objects.firewall import FirewallRule
from smartdc.objects.image import Image
from smartdc.objects.locations import DEFAULT_LOCATION, KNOWN_LOCATIONS, is_url, location_url
from smartdc.objects.machine import Machine, read_script
from smartdc.objects.migration import Migration
from smartdc.objects.refs import is_uuid, ref_value
from smartdc.objects.volume import Volume
from smartdc.transport import Closeable

__all__ = ["DataCenter", "account_of"]

#: The private key file used when ``secret`` is not given (py-smartdc's default).
DEFAULT_SECRET = "~/.ssh/id_rsa"

#: The ``config`` keys that tune retries.
_RETRY_KEYS = frozenset({"retries", "retry_delay", "retry_max_delay"})

# Seed-style keyword -> ListMachines parameter.
_MACHINE_FILTER_NAMES = {"machine_type": "type"}


def account_of(key_id: str) -> str:
    """The account in a full keyId (``/<account>/keys/<key>`` or the ``/users/`` form).

    Raises:
        ConfigError: ``key_id`` is not a full keyId.
    """
    try:
        return parse_key_id(key_id).account
    except (ValueError, AttributeError):
        raise ConfigError(
            f"key_id must look like '/<account>/keys/<key name or fingerprint>' "
            f"(or '/<account>/users/<user>/keys/<key>'), not {key_id!r}; or pass login="
        ) from None


def _search(
    items: Iterable[Mapping[str, Any]], pattern: str, fields: Sequence[str]
) -> list[dict[str, Any]]:
    matcher = re.compile(pattern, re.IGNORECASE)
    return [
        dict(item)
        for item in items
        if any(matcher.search(str(item.get(field) or "")) for field in fields)
    ]


class DataCenter(Closeable):
    """A connection to one datacenter's CloudAPI.

    Args:
        location: a datacenter name (looked up in ``known_locations``, then
            :data:`~smartdc.KNOWN_LOCATIONS`), a hostname (``https://`` is assumed) or a full
            URL (``http://`` is accepted, for a local emulator). Default ``us-west-1``.
        key_id: ``/<account>/keys/<key>``; ``<key>`` is the key's name on CloudAPI or its
            fingerprint (MD5 ``aa:bb:..`` or ``SHA256:...``). Sub-users use
            ``/<account>/users/<user>/keys/<key>``. A bare name or fingerprint works with
            ``login=``.
        secret: path of the private key file (``~`` expanded). ``None`` with
            ``allow_agent=True`` takes the key from ssh-agent, matched by fingerprint.
        headers: ``Accept-Version`` (or py-smartdc's ``X-Api-Version``) and ``User-Agent``
            may be set; the client manages every other header.
        login: account whose resources are used (default: the account in ``key_id``).
        config: ``{"verbose": stream, "timeout": seconds, "retries": n, "retry_delay":
            seconds, "retry_max_delay": seconds}``; see :mod:`smartdc.objects.config` and
            :data:`~smartdc.DEBUG_CONFIG`.
        known_locations: your own ``{name: url}`` table, consulted before the built-in one.
        allow_agent: let ssh-agent sign when the key file is not used. Off by default, as in
            py-smartdc (:class:`~smartdc.CloudAPI` turns it on by default); every error that
            the agent could have avoided says to pass ``allow_agent=True``.
        verify: ``True`` (the default) verifies TLS certificates against the system's CAs;
            a path to a CA bundle file or directory verifies against those instead (a
            private cloud's own CA); ``False`` turns verification off.
        user: sub-user login (instead of the ``/users/`` form of ``key_id``).
        roles: RBAC role names to act with, sent as ``as-role`` on every request (signed);
            without them CloudAPI applies the sub-user's default roles.
        act_as: another account to operate on, as ``triton --act-as`` (operators, or
            accounts granted roles on it): paths name it while the keyId still names the
            signing login. ``login`` then is ``act_as``.
        passphrase: for an encrypted key file: the passphrase (``str`` or ``bytes``), or a
            callback called with the prompt text (``"Enter passphrase for <path>: "``) that
            returns it (``None`` gives up); anything else raises ``TypeError``. Pass
            :func:`smartdc.api.prompt_passphrase` to be asked on the terminal; without it
            nothing prompts, and an encrypted key raises
            :class:`~smartdc.errors.PassphraseRequiredError`.
        api: an already built :class:`~smartdc.CloudAPI` to use instead of making one.

    Attributes:
        location: what was asked for; ``name``: the datacenter name if known; ``base_url``:
        the CloudAPI URL; ``login``: the account whose resources are used (``act_as`` when
        given); ``act_as``: that account when it is not the signing one, else ``None``;
        ``known_locations``: the caller's table.

    RBAC data (:meth:`users`, :meth:`roles`, :meth:`policies`) comes back as dicts, as
    packages and images do, following py-smartdc's rule of objects only where they help:
    these are plain records, with no state to poll and no actions of their own beyond the
    CRUD calls on :attr:`api` (``update_role``, ``delete_user`` ...), which accept these very
    dicts wherever an id is expected. Role tags are lists of role names.
    """

    def __init__(
        self,
        location: str | None = None,
        key_id: str | None = None,
        secret: str | Path | None = DEFAULT_SECRET,
        headers: Mapping[str, str] | None = None,
        login: str | None = None,
        config: Mapping[str, Any] | None = None,
        known_locations: Mapping[str, str] | None = None,
        allow_agent: bool = False,
        verify: bool | str = True,
        user: str | None = None,
        passphrase: Passphrase = None,
        *,
        roles: Sequence[str] | None = None,
        act_as: str | None = None,
        api: CloudAPI | None = None,
    ) -> None:
        self.location = location or DEFAULT_LOCATION
        self.known_locations: dict[str, str] = dict(known_locations or {})
        self.base_url = location_url(self.location, self.known_locations)
        self.name: str | None = _known_name(self.location, self.known_locations)
        if login:
            signing_login = login
        elif key_id:
            signing_login = account_of(key_id)
        else:
            raise ConfigError("DataCenter needs key_id='/<account>/keys/<key>' (or login=...)")
        if isinstance(roles, str):
            raise TypeError("roles must be a list of role names, not one string")
        self.act_as: str | None = act_as if act_as and act_as != signing_login else None
        self.login: str = act_as or signing_login
        self.key_id = key_id
        self.config = dict(config or {})
        self.headers = dict(headers or {})
        self._settings = read_config(self.config)
        self._cloud_datacenters: dict[str, str] | None = None
        self._options: dict[str, Any] = {
            "verify": verify,
            "timeout": self._settings.timeout,
            "debug": self._settings.debug or False,
            **_header_options(self.headers),
        }
        if api is None:
            api = CloudAPI(
                self.base_url,
                signing_login,
                key_id=key_id,
                key_file=_key_file(secret, allow_agent),
                passphrase=passphrase,
                allow_agent=allow_agent,
                user=user,
                act_as=act_as,
                roles=roles,
                **self._options,
            )
            api.retry_policy = self._settings.retry_policy
        elif _RETRY_KEYS & set(self.config):
            api.retry_policy = self._settings.retry_policy
        self.api: CloudAPI = api

    # --- identity ---------------------------------------------------------------------------

    def __repr__(self) -> str:
        label = f"{self.name} " if self.name else ""
        return f"<DataCenter {label}at {self.base_url} as {self.login}>"

    def __str__(self) -> str:
        return f"<DataCenter: {self.login}@{self.name or self.location}>"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, DataCenter):
            return (self.base_url, self.login) == (other.base_url, other.login)
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.base_url, self.login))

    @property
    def url(self) -> str:
        """``<base_url>/<login>/``: where this account's resources live."""
        return f"{self.base_url}/{self.login}/"

    @property
    def _where(self) -> str:
        """This datacenter as messages name it: its name, else its URL."""
        return self.name or self.base_url

    def close(self) -> None:
        """Close the connection pool."""
        self.api.close()

    # --- account and keys -------------------------------------------------------------------

    def me(self) -> dict[str, Any]:
        """The account (``GetAccount``)."""
        return self.api.get_account()

    def keys(self) -> list[dict[str, Any]]:
        """The account's public SSH keys."""
        return self.api.list_keys()

    def key(self, key_id: str | Mapping[str, Any]) -> dict[str, Any]:
        """One key, by name or fingerprint (or a key dict)."""
        return self.api.get_key(key_id)

    def add_key(self, key_id: str, key: str) -> dict[str, Any]:
        """Upload the OpenSSH public key ``key`` under the name ``key_id``."""
        return self.api.create_key(key, name=key_id)

    def delete_key(self, key_id: str | Mapping[str, Any]) -> None:
        """Delete a key by name or fingerprint (or a key dict)."""
        self.api.delete_key(key_id)

    # --- RBAC: users, roles, policies, role tags ---------------------------------------------

    def users(self) -> list[dict[str, Any]]:
        """The account's RBAC sub-users (``ListUsers``), as dicts (``id``, ``login``,
        ``email`` ...): plain records, edited with ``api.update_user(user, ...)``."""
        return self.api.list_users()

    def roles(self) -> list[dict[str, Any]]:
        """The account's RBAC roles (``ListRoles``), as dicts (``id``, ``name``, ``members``,
        ``policies`` ...): plain records, edited with ``api.update_role(role, ...)``."""
        return self.api.list_roles()

    def policies(self) -> list[dict[str, Any]]:
        """The account's RBAC policies (``ListPolicies``), as dicts (``id``, ``name``,
        ``rules``, ``description``): plain records, edited with ``api.update_policy``."""
        return self.api.list_policies()

    def role_tags(self, resource_path: str) -> list[str]:
        """The role names a resource is tagged with (its GET's ``role-tag`` header).

        ``resource_path`` is relative to the account: ``""`` (the account), ``"machines"``,
        ``"machines/<id>"``, ``"users/<login>"``, ``"users/<login>/keys/<key>"`` ... (a
        leading ``/my/`` or ``/<login>/`` is accepted). For a machine,
        :meth:`Machine.role_tags` does the same.
        """
        return self.api.get_role_tags(resource_path)

    def set_role_tags(self, resource_path: str, role_tags: Sequence[str]) -> list[str]:
        """Tag a resource with these roles, replacing its tags (``SetRoleTags``); ``[]`` clears
        them. ``resource_path`` is named as for :meth:`role_tags`. Returns the role names
        CloudAPI now has on the resource.

        Raises:
            InvalidArgumentError: a role does not exist.
        """
        answer = self.api.set_role_tags(resource_path, role_tags)
        return [str(name) for name in answer.get("role-tag") or []]

    # --- datacenters ------------------------------------------------------------------------

    def datacenters(self) -> dict[str, str]:
        """``{name: url}`` of every datacenter of this cloud (``ListDatacenters``)."""
        found = dict(self.api.list_datacenters())
        self._cloud_datacenters = found
        return found

    def datacenter(self, name: str) -> DataCenter:
        """Another datacenter of the same cloud, with the same credentials and settings
        (sub-user, roles, ``act_as``, TLS and retry settings included).

        ``name`` is looked up in your ``known_locations``, then in this cloud's
        ``ListDatacenters`` (one request, remembered). A URL or hostname is used directly.
        Signed requests go only to a host you named or the cloud listed: a name the cloud
        does not list is an error, even one of the built-in table of the former Joyent
        cloud. That table is used only when this datacenter is itself one of its URLs, and
        then only if ListDatacenters cannot be asked.

        Raises:
            ConfigError: the name is not known; the message lists the names that are.
        """
        url = self._datacenter_url(name)
        dc = copy.copy(self)
        dc.location = name
        dc.name = _known_name(name, self.known_locations, self._cloud_datacenters)
        dc.base_url = url
        dc.known_locations = dict(self.known_locations)
        dc.config = dict(self.config)
        dc.headers = dict(self.headers)
        # The keyId is complete (it names the signing login and sub-user), so the account
        # given is only the one paths name: this client's, act_as included.
        dc.api = CloudAPI(
            url,
            self.api.account,
            key_id=self.api.key_id,
            signer=self.api.signer,
            user=self.api.user,
            roles=self.api.roles,
            **self._options,
        )
        dc.api.retry_policy = self.api.retry_policy
        return dc

    def _datacenter_url(self, name: str) -> str:
        if not isinstance(name, str) or not name:
            raise ConfigError(f"datacenter name must be a non-empty string, not {name!r}")
        if is_url(name) or "." in name or ":" in name:
            return location_url(name)
        if name in self.known_locations:
            return location_url(self.known_locations[name])
        cloud = self._cloud_datacenters
        if cloud is None or name not in cloud:
            try:
                cloud = self.datacenters()
            except (CloudAPIError, TransportError):
                if self._on_builtin_cloud() and name in KNOWN_LOCATIONS:
                    return KNOWN_LOCATIONS[name]
                raise
        if name in cloud:
            return location_url(cloud[name])
        names = sorted({*self.known_locations, *cloud})
        raise ConfigError(
            f"unknown datacenter {name!r}: {self._where} lists "
            f"{', '.join(names) or '(none)'}; give another datacenter's URL to use it, or "
            "add it to known_locations"
        )

    def _on_builtin_cloud(self) -> bool:
        """Whether this datacenter is one of the built-in table's (the former Joyent cloud)."""
        return self.base_url.rstrip("/") in {url.rstrip("/") for url in KNOWN_LOCATIONS.values()}

    # --- packages ---------------------------------------------------------------------------

    def packages(
        self, search: str | None = None, fields: Sequence[str] = ("name",), **filters: Any
    ) -> list[dict[str, Any]]:
        """Packages (machine sizes). ``filters`` go to ``ListPackages``; ``search`` is a
        case-insensitive regular expression tried locally on ``fields``."""
        found = self.api.list_packages(**filters)
        return _search(found, search, fields) if search else found

    def package(self, name: str | Mapping[str, Any]) -> dict[str, Any]:
        """One package by name (highest active version) or id, or a package dict.

        Raises:
            ResourceNotFoundError: no such package (the message lists close names).
        """
        wanted = ref_value(name, "id", "name", what="package")
        try:
            return self.api.get_package(wanted)
        except ResourceNotFoundError:
            if is_uuid(wanted):
                raise
            names = [str(p.get("name", "")) for p in self.packages()]
            raise catalog.not_found("package", wanted, names) from None

    def default_package(self) -> dict[str, Any] | None:
        """The package to use when none is named.

        The package flagged ``default`` if any (CloudAPI no longer flags one), else the one
        with the least memory, preferring container packages over hardware-VM ones.
        """
        found = catalog.default_package(self.packages())
        return dict(found) if found is not None else None

    # --- images (datasets) ------------------------------------------------------------------

    def images(
        self,
        search: str | None = None,
        fields: Sequence[str] = ("name", "description", "urn"),
        **filters: Any,
    ) -> list[dict[str, Any]]:
        """Images (OS templates). ``filters`` go to ``ListImages``; ``search`` is a
        case-insensitive regular expression tried locally on ``fields``."""
        found = self.api.list_images(**filters)
        return _search(found, search, fields) if search else found

    datasets = images

    def image(self, ref: str | Mapping[str, Any]) -> dict[str, Any]:
        """One image, by id, ``name``, ``name@version`` or legacy URN (``sdc:sdc:smartos64:``).

        A name or URN picks the newest matching image. A dict is looked up by its ``id``.

        Raises:
            ResourceNotFoundError: nothing matches (the message lists close names).
        """
        wanted = ref_value(ref, "id", "urn", "name", what="image")
        if is_uuid(wanted):
            return self.api.get_image(wanted)
        return dict(catalog.find_image(self.images(), wanted))

    dataset = image

    def default_image(self) -> dict[str, Any] | None:
        """The image to use when none is named: one flagged ``default`` if any, else the
        newest ``base-64-lts``, else the newest ``base-64``, else the newest SmartOS image."""
        found = catalog.default_image(self.images())
        return dict(found) if found is not None else None

    default_dataset = default_image

    # --- networks ---------------------------------------------------------------------------

    def networks(self) -> list[dict[str, Any]]:
        """Networks the account may provision on."""
        return self.api.list_networks()

    def network(self, network_id: str | Mapping[str, Any]) -> dict[str, Any]:
        """One network by id (or a network dict)."""
        return self.api.get_network(ref_value(network_id, "id", what="network"))

    # --- image, volume, firewall, fabric and migration objects ------------------------------

    def image_objects(self, **filters: Any) -> list[Image]:
        """Images as :class:`~smartdc.objects.image.Image` objects (``filters`` as for
        ``ListImages``: ``name``, ``os``, ``state="all"``, ``owner`` ...)::

            mine = dc.image_objects(owner=dc.me()["id"], state="all")

        :meth:`images` returns the same images as dicts.
        """
        return [Image(self, data=i) for i in self.api.list_images(**filters)]

    def image_object(self, ref: str | Mapping[str, Any]) -> Image:
        """One image as an :class:`~smartdc.objects.image.Image`, found as :meth:`image`
        finds it (id, ``name``, ``name@version``, URN or image dict)."""
        return Image(self, data=self.image(ref))

    def create_image(
        self,
        machine: str | Mapping[str, Any] | Machine,
        name: str,
        version: str,
        **fields: Any,
    ) -> Image:
        """Make an image of a prepared, stopped machine (id, name, dict or ``Machine``); see
        :meth:`Machine.create_image`. Returns it in state ``creating``."""
        answer = self.api.create_image_from_machine(
            machine=self._machine_id(machine), name=name, version=version, **fields
        )
        return Image(self, data=answer)

    def volumes(self, **filters: Any) -> list[Volume]:
        """The account's volumes (``filters``: ``name``, ``size``, ``state``, ``type``,
        ``predicate``; failed volumes only when ``state`` asks for them)::

            [v.name for v in dc.volumes(state="ready")]
        """
        return [Volume(self, data=v) for v in self.api.list_volumes(**filters)]

    def volume(self, ref: str | Mapping[str, Any]) -> Volume:
        """One volume by id, name or volume dict (fetched now).

        Raises:
            VolumeNotFoundError: no volume has this id (``ResourceNotFoundError`` for a name).
        """
        wanted = ref_value(ref, "id", "name", what="volume")
        if is_uuid(wanted):
            return Volume(self, wanted)
        named = [v for v in self.api.list_volumes(name=wanted) if v.get("name") == wanted]
        if not named:
            raise ResourceNotFoundError(f"no volume named {wanted!r} in {self._where}", status=404)
        return Volume(self, data=named[0])

    def create_volume(
        self,
        name: str | None = None,
        size: int | None = None,
        networks: Sequence[str | Mapping[str, Any]] | None = None,
        **extra: Any,
    ) -> Volume:
        """Create a ``tritonnfs`` volume (``size`` in MiB; ``extra``: ``affinity``, ``tags``,
        ``type``); it starts ``creating``::

            dc.create_volume("shared", 10240).poll_until("ready")
        """
        answer = self.api.create_volume(
            name=name, size=size, networks=list(networks) if networks else None, **extra
        )
        return Volume(self, data=answer)

    def firewall_rules(self) -> list[FirewallRule]:
        """The account's firewall rules (global ones included)."""
        return [FirewallRule(self, data=r) for r in self.api.list_firewall_rules()]

    def firewall_rule(self, rule_id: str | Mapping[str, Any]) -> FirewallRule:
        """One firewall rule by id (or rule dict), fetched now."""
        return FirewallRule(self, rule_id)

    def create_firewall_rule(
        self,
        rule: str,
        enabled: bool = False,
        log: bool | None = None,
        description: str | None = None,
    ) -> FirewallRule:
        """Add a rule such as ``"FROM any TO tag role=web ALLOW tcp PORT 443"`` (disabled
        unless ``enabled``)::

            dc.create_firewall_rule("FROM any TO all vms ALLOW tcp PORT 22", enabled=True)
        """
        answer = self.api.create_firewall_rule(
            rule, enabled=enabled, log=log, description=description
        )
        return FirewallRule(self, data=answer)

    def fabric_vlans(self) -> list[FabricVlan]:
        """The account's fabric VLANs (``NotImplemented`` 501 where fabrics are off)."""
        return [FabricVlan(self, data=v) for v in self.api.list_fabric_vlans()]

    def fabric_vlan(self, vlan_id: int) -> FabricVlan:
        """The fabric VLAN numbered ``vlan_id``, fetched now."""
        return FabricVlan(self, vlan_id)

    def create_fabric_vlan(
        self, vlan_id: int, name: str, description: str | None = None
    ) -> FabricVlan:
        """Create fabric VLAN ``vlan_id`` (2-4095) named ``name``."""
        answer = self.api.create_fabric_vlan(vlan_id=vlan_id, name=name, description=description)
        return FabricVlan(self, data=answer)

    def migrations(self) -> list[Migration]:
        """The account's migrations not finalized yet, each with its machine (fetched)."""
        found = self.api.list_migrations()
        return [Migration(self.machine(str(m["machine"])), data=m) for m in found]

    # --- machines ---------------------------------------------------------------------------

    def raw_machine_data(
        self, machine_id: str | Mapping[str, Any] | Machine, credentials: bool = False
    ) -> dict[str, Any]:
        """The machine as CloudAPI returns it (``GetMachine``); see :meth:`machine`."""
        wanted = self._machine_id(machine_id)
        try:
            if credentials:
                return self.api.get_machine(wanted, credentials=True)
            return self.api.get_machine(wanted)
        except ResourceNotFoundError as exc:
            raise exc.about(f"machine {wanted} in {self._where}") from None

    def machine(
        self, machine_id: str | Mapping[str, Any] | Machine, credentials: bool = False
    ) -> Machine:
        """The machine with this id (fetched now). A machine's name works too.

        Raises:
            ResourceNotFoundError: no machine has this id (or name).
            MachineGoneError: the machine has been deleted.
        """
        return Machine(self, machine_id, credentials=credentials)

    def _machine_id(self, ref: str | Mapping[str, Any] | Machine) -> str:
        """The id in ``ref``; a string that is not a UUID is looked up as a machine name."""
        wanted = ref_value(ref, "id", what="machine")
        if is_uuid(wanted):
            return wanted
        # CloudAPI keeps machine names unique per account, so a name finds at most one.
        named = self.api.list_machines(name=wanted)
        if not named:
            raise ResourceNotFoundError(
                f"no machine named {wanted!r} in {self._where} (and it is not a machine id: "
                "those are UUIDs)",
                status=404,
            )
        return str(named[0]["id"])

    def machines(
        self,
        machine_type: str | None = None,
        name: str | None = None,
        dataset: str | Mapping[str, Any] | Image | None = None,
        state: str | None = None,
        memory: int | None = None,
        tombstone: bool | int | None = None,
        tags: Mapping[str, Any] | None = None,
        credentials: bool = False,
        paged: bool = False,
        limit: int | None = None,
        offset: int | None = None,
        **filters: Any,
    ) -> list[Machine]:
        """Machines matching every filter given, as :class:`~smartdc.Machine` objects.

        Without ``limit`` every page is fetched. ``dataset`` (alias ``image=``) takes an image
        id, name, URN or dict; ``tags`` is ``{name: value}``. Other keyword filters (``brand``,
        ``docker`` ...) go to ``ListMachines`` as they are.
        """
        params = self._machine_filters(
            machine_type=machine_type,
            name=name,
            dataset=dataset,
            state=state,
            memory=memory,
            tombstone=tombstone,
            tags=tags,
            **filters,
        )
        if credentials:
            params["credentials"] = True
        if limit is not None or paged:
            params["limit"] = limit if limit is not None else 1000
            params["offset"] = offset or 0
        elif offset:
            params["offset"] = offset
        return [Machine(self, data=m) for m in self.api.list_machines(**params)]

    def num_machines(
        self,
        machine_type: str | None = None,
        dataset: str | Mapping[str, Any] | Image | None = None,
        state: str | None = None,
        memory: int | None = None,
        tombstone: bool | int | None = None,
        tags: Mapping[str, Any] | None = None,
        **filters: Any,
    ) -> int:
        """How many machines match the filters (same filters as :meth:`machines`)."""
        params = self._machine_filters(
            machine_type=machine_type,
            dataset=dataset,
            state=state,
            memory=memory,
            tombstone=tombstone,
            tags=tags,
            **filters,
        )
        return self.api.count_machines(**params)

    def _machine_filters(
        self,
        *,
        dataset: str | Mapping[str, Any] | Image | None = None,
        tags: Mapping[str, Any] | None = None,
        **given: Any,
    ) -> dict[str, Any]:
        image = given.pop("image", None)
        if dataset is not None and image is not None:
            raise TypeError("give dataset= or image=, not both")
        params = {
            _MACHINE_FILTER_NAMES.get(key, key): value
            for key, value in given.items()
            if value is not None
        }
        chosen = dataset if dataset is not None else image
        if chosen is not None:
            params["image"] = self._image_id(chosen)
        for tag, value in (tags or {}).items():
            params[f"tag.{tag}"] = value
        return params

    def _image_id(self, ref: str | Mapping[str, Any] | Image) -> str:
        if isinstance(ref, Mapping) and isinstance(ref.get("id"), str):
            return str(ref["id"])
        wanted = ref_value(ref, "id", "urn", "name", what="image")
        return wanted if is_uuid(wanted) else str(self.image(wanted)["id"])

    def create_machine(
        self,
        name: str | None = None,
        package: str | Mapping[str, Any] | None = None,
        dataset: str | Mapping[str, Any] | Image | None = None,
        metadata: Mapping[str, Any] | None = None,
        tags: Mapping[str, Any] | None = None,
        boot_script: str | Path | None = None,
        credentials: bool = False,
        *,
        image: str | Mapping[str, Any] | Image | None = None,
        networks: Sequence[str | Mapping[str, Any]] | None = None,
        **extra: Any,
    ) -> Machine:
        """Provision a machine and return it (state ``provisioning``; poll for ``running``).

        Args:
            name: the machine's name (CloudAPI makes one up if omitted).
            package: name, id or package dict; default :meth:`default_package`.
            dataset: image id, name, ``name@version``, URN, image dict or Image (``image=`` is the
                same); default :meth:`default_image`.
            metadata, tags: ``{key: value}``.
            boot_script: path of a script stored as the ``user-script`` metadata (read
                before anything is sent).
            credentials: ask CloudAPI for the machine's login passwords in the returned machine.
            networks: network ids, network dicts or ``{"ipv4_uuid", "ipv4_ips"}`` objects.
            extra: other ``CreateMachine`` parameters (``firewall_enabled``, ``affinity`` ...);
                see :meth:`smartdc.CloudAPI.create_machine`.

        Raises:
            TypeError: an argument CreateMachine does not take.
            ScriptFileError: ``boot_script`` is missing or unreadable.
            ConfigError: no package or image was given and the datacenter has no default.
            ResourceNotFoundError: the package or image does not exist (the message lists
                close names).
        """
        if dataset is not None and image is not None:
            raise TypeError("give dataset= or image=, not both")
        all_metadata = dict(metadata or {})
        if boot_script is not None:
            all_metadata["user-script"] = read_script(boot_script)
        chosen_image = dataset if dataset is not None else image
        if chosen_image is None:
            chosen_image = self.default_image()
            if chosen_image is None:
                raise ConfigError("this datacenter has no default image; pass dataset=")
        if package is None:
            package = self.default_package()
            if package is None:
                raise ConfigError("this datacenter has no default package; pass package=")
        package_ref = ref_value(package, "id", "name", what="package")
        try:
            data = self.api.create_machine(
                image=self._image_id(chosen_image),
                package=package_ref,
                name=name,
                networks=list(networks) if networks is not None else None,
                metadata=all_metadata or None,
                tags=dict(tags) if tags else None,
                **extra,
            )
        except (InvalidArgumentError, ResourceNotFoundError, ValidationFailedError) as refused:
            # CloudAPI's answer to an unknown package is terse; look it up to name close ones.
            self._check_package_exists(package_ref, refused)
            raise
        machine = Machine(self, data=data)
        if credentials:
            machine.refresh(credentials=True)
        return machine

    def _check_package_exists(self, package: str, refused: CloudAPIError) -> None:
        """Raise a "no such package" error naming close ones if ``package`` does not exist."""
        try:
            self.package(package)
        except ResourceNotFoundError as missing:
            raise missing from refused


def _known_name(location: str, *tables: Mapping[str, str] | None) -> str | None:
    """``location`` if it is a datacenter name some table knows, else ``None``."""
    known = any(table and location in table for table in (*tables, KNOWN_LOCATIONS))
    return location if known else None


def _header_options(headers: Mapping[str, str]) -> dict[str, str]:
    """CloudAPI options for the ``headers`` py-smartdc accepted.

    Only the headers that choose the API version or name the client can be set; the others
    are managed by the client (signing, content type) and are refused.
    """
    options: dict[str, str] = {}
    for name, value in headers.items():
        lowered = name.lower()
        if lowered in ("accept-version", "x-api-version"):
            options["accept_version"] = value
        elif lowered == "user-agent":
            options["user_agent"] = value
        else:
            raise ConfigError(
                f"header {name!r} cannot be set; supported: Accept-Version (or X-Api-Version), "
                "User-Agent"
            )
    return options


def _key_file(secret: str | Path | None, allow_agent: bool) -> str | None:
    """The private key path to load, or ``None`` to leave signing to ssh-agent.

    With ``allow_agent`` a missing file (py-smartdc's ``~/.ssh/id_rsa`` default on a machine
    without one) falls back to the agent rather than failing.

    Raises:
        KeyFileError: ``secret`` was left at its default and that file does not exist.
    """
    if secret is None:
        return None
    path = Path(secret).expanduser()
    if not path.exists():
        if allow_agent:
            return None
        if secret == DEFAULT_SECRET:
            raise KeyFileError(
                f"no private key at {path} (the default secret); pass "
                "secret='<path of your private key>', or allow_agent=True to sign with ssh-agent",
                str(path),
            )
    return str(path)
