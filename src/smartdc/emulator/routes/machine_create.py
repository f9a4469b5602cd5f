"""CreateMachine: CloudAPI's input checks, in its order, then the store.

1. ``image`` and ``dataset`` together; 2. the image; 3. the package; 5. SSH keys;
7. brand and the shape of ``networks``; 8. the package's RAM against the image's
requirements; 10. the name's type; 12. access to the networks and the public-network limit.
VMAPI's own checks (the name's pattern and uniqueness) come last, from the store.
"""

from __future__ import annotations

import json
from typing import Any

from smartdc.emulator.context import (
    Call,
    EmulatorError,
    Reply,
    invalid_argument,
    missing_parameter,
    not_found,
)
from smartdc.emulator.faults import FAIL_PROVISION
from smartdc.emulator.routes.images import image_not_found
from smartdc.emulator.routes.machine_common import (
    RESERVED_PARAMS,
    owner,
    present,
    scalar_values,
)
from smartdc.emulator.store import accounts, catalog, images, machines
from smartdc.emulator.store.nics import NicRequest
from smartdc.objects.refs import is_uuid

#: Metadata keys CloudAPI keeps out of customer metadata.
_PROTECTED_METADATA = ("credentials", "root_authorized_keys")


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
    return image


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


def _network_items(raw: Any) -> list[Any]:
    if isinstance(raw, str):
        return [part.strip() for part in raw.split(",") if part.strip()]
    if isinstance(raw, list):
        return raw
    raise invalid_argument('property "networks": must be an array')


#: A requested network: its id, and the one IPv4 address asked for on it, if any.
WantedNetwork = tuple[str, str | None]


def requested_networks(call: Call) -> list[WantedNetwork] | None:
    """Step 7: the shape of ``networks`` (UUIDs or objects, not both); ``None`` when absent,
    for the account's defaults."""
    raw = call.params.get("networks")
    if raw in (None, "", []):
        return None
    items = _network_items(raw)
    kinds = {type(item) for item in items}
    if len(kinds) > 1:
        raise invalid_argument('property "networks": cannot mix objects and strings')
    wanted: list[WantedNetwork] = []
    for item in items:
        if isinstance(item, dict):
            network_id = item.get("ipv4_uuid")
            ips = item.get("ipv4_ips")
            if ips is not None and (not isinstance(ips, list) or len(ips) != 1):
                raise invalid_argument('property "ipv4_ips": must contain exactly one IP')
            wanted.append((str(network_id), str(ips[0]) if ips else None))
        else:
            wanted.append((str(item), None))
    return wanted


def resolve_networks(call: Call, wanted: list[WantedNetwork] | None) -> list[NicRequest]:
    """Step 12: the NICs to create. Requested networks must be the caller's (duplicates
    dropped, one public network at most); none requested: the account's default network
    plus the first private one, unless the default is private."""
    if wanted is None:
        records = catalog.list_networks(call.db, call.account_uuid)
        default = catalog.default_network_id(call.db, call.account_uuid)
        chosen = [r for r in records if r.id == default]
        if all(r.public for r in chosen):  # a private default already is the private NIC
            chosen += [r for r in records if not r.public][:1]
        return [NicRequest(r) for r in chosen]
    requests: list[NicRequest] = []
    seen: set[str] = set()
    for network_id, ip in wanted:
        if network_id in seen:
            continue
        seen.add(network_id)
        record = catalog.get_network(call.db, call.account_uuid, network_id)
        if record is None:
            raise invalid_argument("Invalid Networks")
        if ip is not None and record.public:
            raise invalid_argument(f"ipv4_ips cannot be used on public network {network_id}")
        requests.append(NicRequest(record, ip))
    if sum(1 for r in requests if r.network.public) > 1:
        raise invalid_argument("Can specify a maximum of 1 public networks")
    return requests


def _prefixed(params: dict[str, Any], prefix: str, whole: str) -> dict[str, Any]:
    """Values given as an object under ``whole`` and as flat ``<prefix><key>`` parameters."""
    values: dict[str, Any] = {}
    obj = params.get(whole)
    if isinstance(obj, dict):
        values.update(obj)
    elif isinstance(obj, str) and obj.startswith("{"):
        try:
            decoded = json.loads(obj)
        except ValueError:
            raise invalid_argument(f"{whole} must be an object") from None
        if isinstance(decoded, dict):
            values.update(decoded)
    for key, value in params.items():
        if key.startswith(prefix) and len(key) > len(prefix):
            values[key[len(prefix) :]] = value
    return values


def _credentials(value: Any) -> dict[str, str]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise invalid_argument("metadata.credentials must be a JSON object") from None
    if not isinstance(value, dict):
        raise invalid_argument("metadata.credentials must be a JSON object")
    return {f"{user}_pw": str(password) for user, password in value.items()}


def split_metadata(call: Call) -> tuple[dict[str, Any], dict[str, Any]]:
    """Customer metadata and internal metadata (``<user>_pw`` secrets) from the request."""
    given = _prefixed(call.params, "metadata.", "metadata")
    internal: dict[str, Any] = {}
    if "credentials" in given:
        internal.update(_credentials(given["credentials"]))
    for name in ("password", "administrator_pw"):
        if isinstance(call.params.get(name), str):
            internal["administrator_pw"] = call.params[name]
    customer = {
        k: v for k, v in given.items() if k not in _PROTECTED_METADATA and not k.endswith("_pw")
    }
    scalar_values("metadata", customer)
    keys = accounts.list_keys(call.db, call.account_uuid)
    customer["root_authorized_keys"] = "\n".join(k["key"] for k in keys)
    return customer, internal


def create_machine(call: Call) -> Reply:
    """CreateMachine: 201 with the new machine (``provisioning``) and its ``Location``."""
    image = resolve_image(call)
    package = resolve_package(call, call.params.get("package"))
    if not accounts.list_keys(call.db, call.account_uuid):
        raise EmulatorError(409, "KeyRequired", "At least one SSH key is required to provision")
    brand = resolve_brand(call.params.get("brand"), image, package)
    wanted_networks = requested_networks(call)
    check_ram(image, package)
    name = call.params.get("name")
    if name is not None and not isinstance(name, str):
        raise invalid_argument("name must be a string")
    nic_requests = resolve_networks(call, wanted_networks)
    metadata, internal = split_metadata(call)
    tags = scalar_values("tag", _prefixed(call.params, "tag.", "tags"))
    tags = {k: v for k, v in tags.items() if k not in RESERVED_PARAMS}
    spec = machines.MachineSpec(
        image=image,
        package=package,
        brand=brand,
        nics=nic_requests,
        name=name or None,
        metadata=metadata,
        internal_metadata=internal,
        tags=tags,
        firewall_enabled=call.params.get("firewall_enabled") in (True, "true"),
        deletion_protection=call.params.get("deletion_protection") is True,
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
