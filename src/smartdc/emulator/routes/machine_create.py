"""CreateMachine: CloudAPI's input checks, in its order, then the store.

1. ``image`` and ``dataset`` together; 2. the image (active; a shared one needs
``allow_shared_images`` from version 9); 3. the package; 4. the image's password; 5. SSH keys;
7. brand, ``bootrom``, ``disks``, the shape of ``networks`` (objects from version 7.3), the
default networks, ``affinity`` with ``locality``; 8. the package's RAM against the image's
requirements; 10. the name's type; 11. ``volumes``; 12. access to the networks and the
public-network limit; 14. ``affinity`` turned into a locality; 15. managed addresses. VMAPI's
own checks (tags, the name's pattern and uniqueness) come last. As sdc-cloudapi
lib/machines.js, ``tags`` and ``metadata`` objects are ignored: only flat ``tag.<key>`` and
``metadata.<key>`` parameters count.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from smartdc.emulator import versions
from smartdc.emulator.context import (
    Call,
    EmulatorError,
    Reply,
    invalid_argument,
    missing_parameter,
    not_found,
    validation_failed,
)
from smartdc.emulator.faults import FAIL_PROVISION
from smartdc.emulator.params import is_uuid, parse_bool, parse_ipv4
from smartdc.emulator.routes.images import image_not_found
from smartdc.emulator.routes.machine_common import (
    RESERVED_PARAMS,
    owner,
    present,
    scalar_values,
)
from smartdc.emulator.routes.machine_tags import triton_tag_error
from smartdc.emulator.store import (
    accounts,
    affinity,
    catalog,
    features,
    images,
    machines,
    network_ips,
    placement,
    volumes,
)
from smartdc.emulator.store.nics import NicRequest

_METADATA_KEY = re.compile(r"^metadata\.\w")
_TAG_KEY = re.compile(r"^tag\..+")
#: Metadata keys CloudAPI keeps out of customer metadata.
_PROTECTED_METADATA = ("credentials", "root_authorized_keys")
#: The first API version that takes network objects (``ipv4_uuid`` ...).
_NETWORK_OBJECTS_SINCE = "7.3.0"
#: The first API version that refuses shared images without ``allow_shared_images``.
_SHARED_IMAGES_SINCE = "9.0.0"
MAX_DISKS = 8
_REMAINING = "remaining"
_VOLUME_MODES = ("ro", "rw")
_VOLUME_NAME = re.compile(r"^[a-z0-9][\w.-]+$", re.IGNORECASE | re.ASCII)


def resolve_image(call: Call) -> dict[str, Any]:
    """Steps 1-2: the active image named by ``image`` (or its alias ``dataset``)."""
    image_id = call.params.get("image")
    dataset = call.params.get("dataset")
    if image_id not in (None, "") and dataset not in (None, ""):
        raise invalid_argument("image and dataset are mutually exclusive parameters.")
    if image_id in (None, ""):
        image_id = dataset
    if image_id in (None, ""):
        raise missing_parameter("image must be specified")
    text = str(image_id)
    if not lowercase_uuid(text):
        raise invalid_argument(f"{text} is not a valid image")
    image = images.get_visible(
        call.db, images.Viewer(call.account_uuid, call.datacenter, call.now), text
    )
    if image is None:
        raise image_not_found(text)
    if image["state"] != "active":
        raise invalid_argument(f"image {text} is not active")
    _check_shared(call, image)
    return image


def _check_shared(call: Call, image: dict[str, Any]) -> None:
    """An image shared with the caller through its ACL needs ``allow_shared_images: true``
    (from version 9; as sdc-cloudapi lib/machines.js)."""
    if not versions.satisfies(call.version_range, _SHARED_IMAGES_SINCE):
        return
    shared = image.get("owner") not in (call.account_uuid, catalog.ADMIN_UUID) and (
        call.account_uuid in (image.get("acl") or [])
    )
    if shared and call.params.get("allow_shared_images") is not True:
        raise invalid_argument(
            f"{image['id']} is a shared image - to provision a shared image you can either"
            ' clone the image or set "allow_shared_images" to true.'
        )


def lowercase_uuid(text: str) -> bool:
    """A lower-case UUID: CloudAPI rejects upper-case image ids."""
    return text == text.lower() and is_uuid(text)


def resolve_package(call: Call, wanted: Any) -> dict[str, Any]:
    """A package by UUID (404 if unknown, 409 if inactive) or by name (newest active)."""
    if wanted in (None, ""):
        raise missing_parameter("package must be specified")
    text = str(wanted)
    if is_uuid(text):
        found = catalog.find_package_by_id(call.db, call.account_uuid, text.lower())
        if found is None:
            raise not_found(f"Package {text} does not exist")
        if not found.active:
            raise invalid_argument(f"{text} is inactive. Must use an active package")
        return found.package
    package = catalog.find_package_by_name(call.db, call.account_uuid, text)
    if package is None:
        raise invalid_argument(f"{text} is not a valid package")
    return package


def check_ram(image: dict[str, Any], package: dict[str, Any]) -> None:
    """The package's RAM must lie within the image's ``min_ram``/``max_ram``."""
    requirements = image.get("requirements") or {}
    memory = int(package["memory"])
    minimum = requirements.get("min_ram")
    maximum = requirements.get("max_ram")
    if minimum is not None and memory < int(minimum):
        raise invalid_argument(
            f"You must use a package with at least {minimum} MiB of RAM for image {image['id']}"
        )
    if maximum is not None and memory > int(maximum):
        raise invalid_argument(
            f"You must use a package with at most {maximum} MiB of RAM for image {image['id']}"
        )


def resolve_brand(requested: Any, image: dict[str, Any], package: dict[str, Any]) -> str:
    """The brand: parameter, then the image's requirement, then the package, then default."""
    if requested not in (None, "") and requested not in machines.HVM_BRANDS:
        raise invalid_argument(f'Unknown brand "{requested}", must be one of: bhyve, kvm')
    image_brand = (image.get("requirements") or {}).get("brand")
    package_brand = package.get("brand")
    sources = [("brand", requested), ("image", image_brand), ("package", package_brand)]
    given = [(source, b) for source, b in sources if b not in (None, "")]
    for index, (source, brand) in enumerate(given):
        for other_source, other in given[index + 1 :]:
            if other != brand:
                raise invalid_argument(
                    f'{source} brand "{brand}" conflicts with {other_source} brand "{other}"'
                )
    if given:
        brand = str(given[0][1])
    elif image["type"] == "zvol":
        brand = "kvm"
    elif image["type"] == "lx-dataset":
        brand = "lx"
    else:
        brand = "joyent"
    if (brand in machines.HVM_BRANDS) != (image["type"] == "zvol"):
        raise invalid_argument(
            f'brand "{brand}" cannot be used with image {image["id"]} of type {image["type"]}'
        )
    return brand


def resolve_bootrom(call: Call, brand: str, image: dict[str, Any]) -> str | None:
    """``bootrom`` (bhyve only), else the image's required one."""
    wanted = call.params.get("bootrom")
    if wanted not in (None, "") and brand != "bhyve":
        raise invalid_argument('Only bhyve VMs support "bootrom" option')
    if wanted not in (None, ""):
        return str(wanted)
    required = (image.get("requirements") or {}).get("bootrom")
    return str(required) if brand == "bhyve" and required else None


# --- disks ---------------------------------------------------------------------------------


def _valid_block_size(value: Any) -> bool:
    """A power of two from 512 to 131072, as vmadm accepts (sdc-cloudapi lib/validation/disk.js)."""
    return (
        isinstance(value, int)
        and not isinstance(value, bool)
        and 512 <= value <= 131072
        and value & (value - 1) == 0
    )


def _disk_size(index: int, value: Any) -> int | str:
    if value == _REMAINING:
        return _REMAINING
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise invalid_argument(f'disks[{index}].size must be a positive number or "remaining"')
    return value


def requested_disks(
    call: Call, brand: str, image: dict[str, Any], package: dict[str, Any]
) -> list[machines.DiskRequest] | None:
    """Step 7: the ``disks`` layout of a bhyve machine with a flexible disk package (``None``
    when absent); the first disk is the boot disk and holds the image."""
    raw = call.params.get("disks")
    if raw is None:
        return None
    if brand not in machines.HVM_BRANDS or not package.get("flexible_disk"):
        raise invalid_argument("disks can only be specified with a flexible_disk package")
    if not isinstance(raw, list) or not raw or not all(isinstance(d, dict) for d in raw):
        raise invalid_argument("disks must be an array of disk objects")
    if len(raw) > MAX_DISKS:
        raise invalid_argument(f"A maximum of {MAX_DISKS} disks per VM are supported")
    sizes: list[int | str] = []
    for index, disk in enumerate(raw):
        if index == 0:
            given_image = disk.get("image")
            if given_image not in (None, image["id"]):
                raise invalid_argument("disks[0].image must be the image being provisioned")
            if "block_size" in disk:
                raise invalid_argument("block_size cannot be set on the image disk")
            size: int | str = disk.get("size", int(image.get("image_size") or 10240))
        else:
            if disk.get("image") is not None:
                raise invalid_argument(f"disks[{index}].image is only allowed on the boot disk")
            if "size" not in disk:
                raise missing_parameter(f"disks[{index}].size must be specified")
            size = disk["size"]
            if "block_size" in disk and not _valid_block_size(disk["block_size"]):
                raise invalid_argument(
                    f"disks[{index}].block_size must be a power of 2 from 512 to 131072"
                )
        sizes.append(_disk_size(index, size))
    if sizes.count(_REMAINING) > 1:
        raise invalid_argument('only one disk can have size "remaining"')
    quota = int(package["disk"])
    fixed = sum(s for s in sizes if isinstance(s, int))
    if fixed > quota:
        raise invalid_argument(
            f"the disks' total size ({fixed} MiB) exceeds the package's {quota} MiB"
        )
    image_size = int(image.get("image_size") or 0)
    resolved = [quota - fixed if s == _REMAINING else int(s) for s in sizes]
    if resolved[0] < image_size:
        raise invalid_argument(
            f"the boot disk ({resolved[0]} MiB) is smaller than the image ({image_size} MiB)"
        )
    return [
        machines.DiskRequest(
            size,
            boot=index == 0,
            image=str(image["id"]) if index == 0 else None,
            block_size=raw[index].get("block_size") if index else None,
        )
        for index, size in enumerate(resolved)
    ]


# --- networks ------------------------------------------------------------------------------


@dataclass(frozen=True)
class WantedNetwork:
    """A requested network and the one IPv4 address asked for on it, if any."""

    id: str
    ip: str | None = None


def _network_object(call: Call, item: dict[str, Any]) -> WantedNetwork:
    """One network object, checked as sdc-cloudapi lib/validation/networks.js checks it."""
    network_id = item.get("ipv4_uuid")
    ips = item.get("ipv4_ips")
    count = item.get("ipv4_count")
    if not network_id:
        raise missing_parameter("network objects must contain ipv4_uuid")
    if not isinstance(network_id, str):
        raise invalid_argument("ipv4_uuid must be a string")
    if not is_uuid(network_id):
        raise invalid_argument(f"ipv4_uuid: {network_id} is not a uuid")
    if count is not None and ips is not None:
        raise invalid_argument("ipv4_count and ipv4_ips cannot be specified together")
    if count is not None:
        if isinstance(count, bool) or not isinstance(count, int | float):
            raise invalid_argument("ipv4_count must be a number")
        if count != 1:
            raise invalid_argument("ipv4_count can only be set to 1")
    if ips is None:
        return WantedNetwork(network_id)
    if not isinstance(ips, list):
        raise invalid_argument("ipv4_ips must be an array with a single IP")
    if len(ips) != 1:
        raise invalid_argument(
            f"ipv4_ips: network with ipv4_uuid {network_id} should contain a single IP array"
        )
    if not isinstance(ips[0], str):
        raise invalid_argument("ipv4_ips[0]: string expected")
    record = catalog.get_network(call.db, call.account_uuid, network_id)
    if record is None:
        raise not_found(f"ipv4_uuid: network {network_id} not found")
    if not record.network.get("fabric"):  # shared networks have no owner_uuids
        raise invalid_argument(f"ipv4_uuid: {network_id} cannot specify IP on a public network")
    return WantedNetwork(network_id, ips[0])


def requested_networks(call: Call) -> list[WantedNetwork] | None:
    """Step 7: the requested networks, duplicates dropped; ``None`` when ``networks`` is not
    an array (the defaults apply). Objects need version 7.3 or later."""
    raw = call.params.get("networks")
    if not isinstance(raw, list):
        return None
    objects = versions.reaches(call.version_range, _NETWORK_OBJECTS_SINCE)
    wanted: list[WantedNetwork] = []
    seen: set[str] = set()
    for index, item in enumerate(raw):
        if isinstance(item, str):
            entry = WantedNetwork(item)
        elif not objects:
            raise invalid_argument("Invalid Networks")
        elif isinstance(item, dict):
            entry = _network_object(call, item)
        else:
            raise invalid_argument(
                f'property "networks[{index}]": array of strings or objects expected'
            )
        if entry.id not in seen:
            seen.add(entry.id)
            wanted.append(entry)
    return wanted


def default_networks(call: Call, package: dict[str, Any]) -> list[WantedNetwork]:
    """The package's networks, else the first public network and the first private one
    (``default_networks`` picks among ``external`` and ``internal``)."""
    listed = package.get("networks")
    if isinstance(listed, list) and listed:
        return [WantedNetwork(str(n)) for n in listed]
    kinds = call.params.get("default_networks")
    if not isinstance(kinds, list):
        kinds = ["external", "internal"]
    records = catalog.list_networks(call.db, call.account_uuid)
    chosen: list[WantedNetwork] = []
    external = [r for r in records if r.public]
    internal = [r for r in records if not r.public]
    if external and "external" in kinds:
        chosen.append(WantedNetwork(external[0].id))
    if internal and "internal" in kinds:
        chosen.append(WantedNetwork(internal[0].id))
    return chosen


def resolve_networks(call: Call, wanted: list[WantedNetwork]) -> list[NicRequest]:
    """Step 12: every network must be the caller's; one public network at most."""
    requests: list[NicRequest] = []
    for entry in wanted:
        record = catalog.get_network(call.db, call.account_uuid, entry.id)
        if record is None:
            raise invalid_argument("Invalid Networks")
        requests.append(NicRequest(record, entry.ip))
    if sum(1 for r in requests if r.network.public) > 1:
        raise invalid_argument("Can specify a maximum of 1 public networks")
    return requests


def check_managed_addresses(requests: list[NicRequest]) -> None:
    """Step 15: an address asked for may not be one the network keeps for itself."""
    for request in requests:
        if request.ip is None:
            continue
        address = parse_ipv4(request.ip)
        if address is None:
            continue  # NAPI's own check refuses it
        number = int(address)
        if number in network_ips.managed_addresses(request.network):
            raise invalid_argument(f"cannot use {request.ip} because it is a managed IP")


# --- volumes -------------------------------------------------------------------------------


def _valid_mountpoint(value: Any) -> bool:
    return (
        isinstance(value, str)
        and value.startswith("/")
        and "\0" not in value
        and value.strip("/") != ""
    )


def requested_volumes(call: Call, brand: str) -> list[dict[str, Any]]:
    """Step 11: the ``volumes`` to mount, when the datacenter mounts them automatically."""
    raw = call.params.get("volumes")
    if not raw:
        return []
    if brand in machines.HVM_BRANDS:
        raise invalid_argument(f'volumes not yet supported with brand "{brand}"')
    if not features.enabled(call.db, features.AUTOMOUNT_VOLUMES):
        raise invalid_argument("Support for automounting volumes is not enabled")
    if not isinstance(raw, list) or not all(isinstance(v, dict) for v in raw):
        raise invalid_argument("volumes must be an array of objects")
    for volume in raw:
        shown = json.dumps(volume)
        if volume.get("type") not in (None, volumes.TRITONNFS):
            raise invalid_argument(f'unknown volume type "{volume.get("type")}"')
        if volume.get("mode") not in (None, *_VOLUME_MODES):
            raise invalid_argument(
                f"volume mode for volume {shown} must be one of {', '.join(_VOLUME_MODES)}"
            )
        name = volume.get("name")
        if not isinstance(name, str) or not _VOLUME_NAME.fullmatch(name) or len(name) > 256:
            raise invalid_argument(f"invalid volume name: {json.dumps(name)}")
        if not _valid_mountpoint(volume.get("mountpoint")):
            raise invalid_argument(f"invalid mount point for volume {shown}")
    return list(raw)


def mount_volumes(
    call: Call, wanted: list[dict[str, Any]], requests: list[NicRequest]
) -> list[machines.VolumeMount]:
    """The volumes as the machine mounts them: each must exist, be ready, and be on one of
    the machine's networks (else VMAPI's ``VolumesNotReachable``)."""
    if not wanted:
        return []
    names = [str(v["name"]) for v in wanted]
    owned = volumes.mountable(
        call.db, volumes.Owner(call.account_uuid, call.datacenter), names, call.now
    )
    missing = [name for name in names if name not in owned]
    if missing:
        raise validation_failed(
            [{"field": "volumes", "code": "Invalid", "message": f"Volume not found: {missing[0]}"}],
            "Invalid VM parameters: Invalid volumes",
        )
    machine_networks = {r.network.id for r in requests}
    unreachable = [n for n in names if not machine_networks & set(owned[n]["networks"])]
    if unreachable:
        raise EmulatorError(
            409,
            "VolumesNotReachableError",
            f"Volumes not reachable from the instance's networks: {', '.join(unreachable)}",
        )
    return [
        machines.VolumeMount(
            volume=str(owned[str(v["name"])]["id"]),
            name=str(v["name"]),
            mountpoint=str(v["mountpoint"]),
            mode=str(v.get("mode") or "rw"),
        )
        for v in wanted
    ]


# --- affinity and locality -----------------------------------------------------------------


def _uuid_list(value: Any) -> tuple[str, ...] | None:
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(v, str) and is_uuid(v) for v in items):
        return None
    return tuple(str(v).lower() for v in items)


def requested_locality(call: Call) -> placement.Locality | None:
    """The deprecated ``locality``, checked as VMAPI checks it."""
    raw = call.params.get("locality")
    if raw in (None, ""):
        return None
    problem = None
    near: tuple[str, ...] | None = ()
    far: tuple[str, ...] | None = ()
    if not isinstance(raw, dict):
        problem = "locality must be an object"
    else:
        if "strict" in raw and not isinstance(raw["strict"], bool):
            problem = "locality.strict must be true or false"
        near = _uuid_list(raw["near"]) if "near" in raw else ()
        far = _uuid_list(raw["far"]) if "far" in raw else ()
        if near is None or far is None:
            problem = "locality.near and locality.far must be UUIDs or arrays of UUIDs"
    if problem is not None or near is None or far is None or not isinstance(raw, dict):
        raise validation_failed(
            [{"field": "locality", "code": "Invalid", "message": problem or "Invalid locality"}],
            "Invalid VM parameters",
        )
    return placement.Locality(bool(raw.get("strict", False)), near, far)


def affinity_rules(call: Call) -> list[affinity.Rule]:
    """Step 7 and 14's syntax: ``affinity`` (not with ``locality``) parsed into rules."""
    raw = call.params.get("affinity")
    if raw in (None, "", []):
        return []
    if call.params.get("locality") not in (None, ""):
        raise invalid_argument('cannot specify both "locality" (deprecated) and "affinity"')
    try:
        return affinity.parse_rules(raw)
    except affinity.AffinityError as exc:
        raise invalid_argument(str(exc)) from None


def locality_from_affinity(call: Call, rules: list[affinity.Rule]) -> placement.Locality | None:
    """Step 14: the rules as a locality, given the caller's machines where they are now."""
    if not rules:
        return None
    live = machines.list_machines(call.db, owner(call), machines.MachineQuery(), call.now)
    facts = [affinity.VmFacts(m["id"], m["name"], m.get("compute_node"), m["tags"]) for m in live]
    try:
        return affinity.locality_from_rules(rules, facts)
    except affinity.AffinityError as exc:
        raise invalid_argument(str(exc)) from None


# --- metadata and tags ---------------------------------------------------------------------


def _flat(params: dict[str, Any], pattern: re.Pattern[str], prefix: str) -> dict[str, Any]:
    return {k[len(prefix) :]: v for k, v in params.items() if pattern.match(k)}


def _credentials(value: Any) -> dict[str, str]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}  # CloudAPI drops credentials it cannot read
    if not isinstance(value, dict):
        return {}
    return {
        user if user.endswith("_pw") else f"{user}_pw": str(password)
        for user, password in value.items()
    }


def split_metadata(call: Call) -> tuple[dict[str, Any], dict[str, Any]]:
    """Customer metadata and internal metadata (``<user>_pw`` secrets) from the request."""
    given = {
        k: v
        for k, v in _flat(call.params, _METADATA_KEY, "metadata.").items()
        if not k.endswith("_pw")
    }
    internal: dict[str, Any] = {}
    if "credentials" in given:
        internal.update(_credentials(given["credentials"]))
    for name in ("password", "administrator_pw"):
        if isinstance(call.params.get(name), str):
            internal["administrator_pw"] = call.params[name]
    customer = {k: v for k, v in given.items() if k not in _PROTECTED_METADATA}
    scalar_values("metadata", customer)
    keys = accounts.list_keys(call.db, call.account_uuid)
    customer["root_authorized_keys"] = "".join(f"{k['key']}\n" for k in keys)
    return customer, internal


def requested_tags(call: Call) -> dict[str, Any]:
    """``tag.<key>`` parameters, with VMAPI's checks of ``triton.*`` tags."""
    tags = scalar_values("tag", _flat(call.params, _TAG_KEY, "tag."))
    tags = {k: v for k, v in tags.items() if k not in RESERVED_PARAMS}
    problem = triton_tag_error(tags, creating=True)
    if problem is not None:
        raise validation_failed(
            [{"field": "tags", "code": "Invalid", "message": problem}],
            "Invalid VM parameters: Invalid tags",
        )
    return tags


def _flag(call: Call, name: str) -> bool:
    return parse_bool(call.params.get(name)) is True


def create_machine(call: Call) -> Reply:
    """CreateMachine: 201 with the new machine (``provisioning``) and its ``Location``."""
    image = resolve_image(call)
    package = resolve_package(call, call.params.get("package"))
    requirements = image.get("requirements") or {}
    if requirements.get("password") and not (
        call.params.get("password") or call.params.get("administrator_pw")
    ):
        raise missing_parameter(f"{image['id']} requires a password")
    if not requirements.get("password") and not accounts.list_keys(call.db, call.account_uuid):
        raise EmulatorError(409, "KeyRequired", "At least one SSH key is required to provision")
    brand = resolve_brand(call.params.get("brand"), image, package)
    disks = requested_disks(call, brand, image, package)
    bootrom = resolve_bootrom(call, brand, image)
    wanted_networks = requested_networks(call)
    if wanted_networks is None:
        wanted_networks = default_networks(call, package)
    rules = affinity_rules(call)
    locality = requested_locality(call)
    check_ram(image, package)
    name = call.params.get("name")
    if name is not None and not isinstance(name, str):
        raise invalid_argument("name must be a string")
    wanted_volumes = requested_volumes(call, brand)
    nic_requests = resolve_networks(call, wanted_networks)
    mounts = mount_volumes(call, wanted_volumes, nic_requests)
    delegate = _flag(call, "delegate_dataset")
    if delegate and not features.enabled(call.db, features.DELEGATE_DATASET):
        raise invalid_argument("Support for delegated datasets is not enabled")
    locality = locality_from_affinity(call, rules) or locality
    check_managed_addresses(nic_requests)
    metadata, internal = split_metadata(call)
    spec = machines.MachineSpec(
        image=image,
        package=package,
        brand=brand,
        nics=nic_requests,
        name=name or None,
        metadata=metadata,
        internal_metadata=internal,
        tags=requested_tags(call),
        firewall_enabled=_flag(call, "firewall_enabled"),
        deletion_protection=call.params.get("deletion_protection") is True,
        disks=disks,
        locality=locality,
        encrypted=_flag(call, "encrypted"),
        delegate_dataset=delegate,
        bootrom=bootrom,
        volumes=mounts,
    )
    faults = call.config.faults
    spec.fail_provision = faults.take(FAIL_PROVISION)
    try:
        machine = machines.create_machine(
            call.db,
            owner(call),
            spec,
            caller=call.caller,
            now=call.now,
            provision_delay=call.config.provision_delay,
        )
    except BaseException:
        if spec.fail_provision:  # a refused create does not use the fault up
            faults.give_back(FAIL_PROVISION)
        raise
    location = f"/{call.login}/machines/{machine['id']}"
    return Reply(201, present(call, machine), {"Location": location})
