"""The default datacenter catalog every database starts with: images, packages, networks.

It is shaped like a public Triton datacenter: SmartOS, LX and HVM images in several versions,
the familiar package families, and one public and one private network. Identifiers are
``uuid5`` names, so they are the same across restarts and across datacenters. The tables and
the seed statements are registered with the schema; the statements use ``INSERT OR REPLACE``,
which makes them idempotent and keeps an old data directory in step with the current catalog.
"""

from __future__ import annotations

import hashlib
import ipaddress
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from smartdc.emulator.db import dumps, register_schema

#: Namespace of every catalog identifier.
CATALOG_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://smartdc-emulator.invalid/catalog")


def catalog_uuid(kind: str, name: str) -> str:
    """The stable identifier of a catalog object (``kind`` is image, package, network ...)."""
    return str(uuid.uuid5(CATALOG_NAMESPACE, f"{kind}:{name}"))


#: Owner of the public images: the datacenter's ``admin`` account.
ADMIN_UUID = catalog_uuid("account", "admin")

register_schema(
    """
    CREATE TABLE IF NOT EXISTS images (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        version TEXT NOT NULL,
        owner TEXT NOT NULL,
        state TEXT NOT NULL,
        public INTEGER NOT NULL,
        published_at TEXT NOT NULL,
        doc TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS packages (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        version TEXT NOT NULL,
        active INTEGER NOT NULL,
        owner TEXT,
        doc TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS networks (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        public INTEGER NOT NULL,
        owner TEXT,
        subnet TEXT NOT NULL,
        gateway TEXT NOT NULL,
        provision_start_ip TEXT NOT NULL,
        provision_end_ip TEXT NOT NULL,
        doc TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS image_locations (
        image TEXT NOT NULL,
        datacenter TEXT NOT NULL,
        PRIMARY KEY (image, datacenter)
    );
    CREATE TABLE IF NOT EXISTS account_config (
        account TEXT PRIMARY KEY,
        default_network TEXT NOT NULL
    );
    """
)


# --- the default catalog -------------------------------------------------------------------


@dataclass(frozen=True)
class _ImageSeed:
    name: str
    versions: tuple[tuple[str, str], ...]  # (version, published_at)
    os: str
    type: str
    description: str
    #: IMGAPI's requirement keys only (networks, brand, ssh_key, min_ram, max_ram,
    #: min_platform, max_platform, bootrom: sdc-imgapi docs/index.md).
    requirements: Mapping[str, Any] | None = None
    image_size: int | None = None
    state: str = "active"
    homepage: str = "https://docs.tritondatacenter.com/public-cloud/instances/images"


_SMARTOS = "https://docs.tritondatacenter.com/public-cloud/instances/infrastructure/images"

_IMAGE_SEEDS: tuple[_ImageSeed, ...] = (
    _ImageSeed(
        "smartos64",
        (
            ("1.6.1", "2012-03-12T19:20:37Z"),
            ("1.6.2", "2012-04-09T17:26:41Z"),
            ("1.6.3", "2012-06-11T16:02:33Z"),
        ),
        "smartos",
        "zone-dataset",
        "Generic multi-purpose 64-bit SmartOS zone.",
        homepage=_SMARTOS,
    ),
    _ImageSeed(
        "base-64",
        (
            ("18.4.0", "2019-01-21T16:33:10Z"),
            ("22.3.0", "2022-10-05T12:43:37Z"),
            ("23.3.0", "2023-10-03T14:02:13Z"),
        ),
        "smartos",
        "zone-dataset",
        "A 64-bit SmartOS image with just essential packages installed.",
        homepage=_SMARTOS,
    ),
    _ImageSeed(
        "base-64-lts",
        (
            ("21.4.0", "2022-01-06T10:12:24Z"),
            ("22.4.0", "2023-01-10T09:51:48Z"),
            ("23.4.0", "2024-01-10T08:34:19Z"),
        ),
        "smartos",
        "zone-dataset",
        "A 64-bit SmartOS image with just essential packages installed. Ideal for users who "
        "are comfortable with setting up their own environment and tools.",
        homepage=_SMARTOS,
    ),
    _ImageSeed(
        "minimal-64-lts",
        (
            ("21.4.0", "2022-01-06T10:19:55Z"),
            ("22.4.0", "2023-01-10T10:02:36Z"),
            ("23.4.0", "2024-01-10T08:41:02Z"),
        ),
        "smartos",
        "zone-dataset",
        "A 64-bit SmartOS image with just bootstrap packages installed. Ideal for users who "
        "want the smallest possible image upon which to build.",
        homepage=_SMARTOS,
    ),
    _ImageSeed(
        "ubuntu-20.04",
        (("20210413", "2021-04-13T21:05:08Z"),),
        "linux",
        "lx-dataset",
        "Container-native Ubuntu 20.04 64-bit image. Built to run on containers with "
        "bare metal speed, while offering all the services of a typical unix host.",
        requirements={"brand": "lx", "min_platform": {"7.0": "20210318T001051Z"}},
    ),
    _ImageSeed(
        "ubuntu-22.04",
        (
            ("20220405", "2022-04-05T14:30:47Z"),
            ("20230207", "2023-02-07T17:52:19Z"),
        ),
        "linux",
        "lx-dataset",
        "Container-native Ubuntu 22.04 64-bit image. Built to run on containers with "
        "bare metal speed, while offering all the services of a typical unix host.",
        requirements={"brand": "lx", "min_platform": {"7.0": "20220322T002435Z"}},
    ),
    _ImageSeed(
        "ubuntu-certified-22.04",
        (
            ("20230302", "2023-03-02T18:21:08Z"),
            ("20240110", "2024-01-10T21:43:55Z"),
        ),
        "linux",
        "zvol",
        "Ubuntu 22.04 (Jammy Jellyfish) Cloud Image, certified by Canonical, for bhyve.",
        requirements={"brand": "bhyve", "min_ram": 1024},
        image_size=10240,
    ),
    _ImageSeed(
        "centos-7",
        (("20200603", "2020-06-03T22:53:51Z"),),
        "linux",
        "zvol",
        "CentOS 7.8 64-bit HVM image, with the Triton guest tools installed.",
        requirements={"min_ram": 1024},
        image_size=10240,
    ),
    _ImageSeed(
        "debian-11",
        (("20220926", "2022-09-26T12:02:41Z"),),
        "linux",
        "zvol",
        "Debian 11 (bullseye) 64-bit HVM image, with the Triton guest tools installed.",
        requirements={"brand": "bhyve", "min_ram": 512},
        image_size=10240,
    ),
)

#: Images that exist in the catalog but are retired (ListImages hides them unless state=all).
_DISABLED_IMAGES = {("base-64", "18.4.0")}


def _image_doc(seed: _ImageSeed, version: str, published_at: str) -> dict[str, Any]:
    image_id = catalog_uuid("image", f"{seed.name}@{version}")
    digest = hashlib.sha1(image_id.encode(), usedforsecurity=False).hexdigest()
    size = 1_073_741_824 if seed.type == "zvol" else 186_924_351
    doc: dict[str, Any] = {
        "id": image_id,
        "name": seed.name,
        "version": version,
        "os": seed.os,
        "type": seed.type,
        "requirements": dict(seed.requirements or {}),
        "description": seed.description,
        "homepage": seed.homepage,
        "files": [{"compression": "gzip", "sha1": digest, "size": size}],
        "tags": {"role": "os", "group": seed.name},
        "published_at": published_at,
        "owner": ADMIN_UUID,
        "public": True,
        "state": "disabled" if (seed.name, version) in _DISABLED_IMAGES else seed.state,
    }
    if seed.image_size is not None:
        doc["image_size"] = seed.image_size
    return doc


def default_images() -> list[dict[str, Any]]:
    """The Image objects every datacenter starts with."""
    return [
        _image_doc(seed, version, published)
        for seed in _IMAGE_SEEDS
        for version, published in seed.versions
    ]


def _package(
    name: str,
    memory: int,
    disk: int,
    *,
    vcpus: int,
    lwps: int = 4000,
    version: str = "1.0.0",
    group: str,
    description: str,
    brand: str | None = None,
    flexible: bool = False,
    active: bool = True,
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": catalog_uuid("package", f"{name}@{version}"),
        "name": name,
        "memory": memory,
        "disk": disk,
        "swap": memory * 2 if brand is None else memory,
        "vcpus": vcpus,
        "lwps": lwps,
        "version": version,
        "group": group,
        "description": description,
        "default": False,
    }
    if brand is not None:
        doc["brand"] = brand
    if flexible:
        doc["flexible_disk"] = True
        doc["disks"] = [{}, {"size": "remaining"}]
    doc["active"] = active
    return doc


def _size(mib: int) -> str:
    return f"{mib // 1024}G" if mib >= 1024 and mib % 1024 == 0 else f"{mib}M"


def default_packages() -> list[dict[str, Any]]:
    """The packages every datacenter starts with (``active`` is internal, never sent)."""
    packages = [
        _package(
            "Small 1GB",
            1024,
            30720,
            vcpus=0,
            group="Legacy",
            description="Legacy small instance, 1 GiB RAM",
        )
    ]
    for memory, disk, vcpus in (
        (128, 3072, 0),
        (256, 6144, 0),
        (512, 12800, 0),
        (1024, 25600, 1),
        (2048, 51200, 1),
        (4096, 102400, 2),
        (8192, 204800, 4),
    ):
        packages.append(
            _package(
                f"g4-highcpu-{_size(memory)}",
                memory,
                disk,
                vcpus=vcpus,
                group="Compute Optimized",
                description=f"Compute Optimized {_size(memory)} RAM",
            )
        )
    for memory, disk, vcpus in ((4096, 102400, 1), (8192, 204800, 2), (16384, 409600, 4)):
        packages.append(
            _package(
                f"g4-general-{_size(memory)}",
                memory,
                disk,
                vcpus=vcpus,
                group="General Purpose",
                description=f"General Purpose {_size(memory)} RAM - {vcpus} vCPU",
            )
        )
    # An older revision of one package, retired: names resolve to the newest active one.
    packages.append(
        _package(
            "g4-general-4G",
            4096,
            81920,
            vcpus=1,
            version="0.9.0",
            group="General Purpose",
            description="General Purpose 4G RAM - 1 vCPU (previous revision)",
            active=False,
        )
    )
    for label, memory, disk, vcpus in (
        ("250M", 256, 16384, 1),
        ("750M", 768, 25600, 1),
        ("1.75G", 1792, 51200, 1),
        ("3.75G", 3840, 102400, 2),
        ("7.75G", 7936, 204800, 4),
    ):
        packages.append(
            _package(
                f"k4-highcpu-kvm-{label}",
                memory,
                disk,
                vcpus=vcpus,
                group="Compute Optimized KVM",
                description=f"Compute Optimized KVM {label} RAM - {vcpus} vCPU",
                brand="kvm",
            )
        )
    for memory, disk, vcpus in ((1024, 25600, 1), (2048, 51200, 1), (4096, 102400, 2)):
        packages.append(
            _package(
                f"b1-flex-{_size(memory)}",
                memory,
                disk,
                vcpus=vcpus,
                group="bhyve Flexible Disk",
                description=f"bhyve {_size(memory)} RAM - {vcpus} vCPU, flexible disk",
                brand="bhyve",
                flexible=True,
            )
        )
    return packages


@dataclass(frozen=True)
class NetworkSeed:
    """A network and the addresses NAPI hands out on it."""

    name: str
    public: bool
    description: str
    subnet: str
    provision_start_ip: str
    provision_end_ip: str

    @property
    def id(self) -> str:
        return catalog_uuid("network", self.name)

    @property
    def gateway(self) -> str:
        return str(ipaddress.ip_network(self.subnet).network_address + 1)


#: Public addresses come from 198.18.0.0/15 (RFC 2544: reserved, never routed on the internet).
DEFAULT_NETWORKS: tuple[NetworkSeed, ...] = (
    NetworkSeed(
        "Joyent-SDC-Public",
        True,
        "Public internet network",
        "198.18.0.0/15",
        "198.18.0.10",
        "198.19.255.250",
    ),
    NetworkSeed(
        "Joyent-SDC-Private",
        False,
        "Private network between instances in this datacenter",
        "10.64.0.0/14",
        "10.64.0.10",
        "10.67.255.250",
    ),
)

PUBLIC_NETWORK_ID = DEFAULT_NETWORKS[0].id
PRIVATE_NETWORK_ID = DEFAULT_NETWORKS[1].id


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool | int):
        return str(int(value))
    return "'" + str(value).replace("'", "''") + "'"


def _insert(table: str, row: Mapping[str, Any]) -> str:
    columns = ", ".join(row)
    values = ", ".join(_literal(v) for v in row.values())
    return f"INSERT OR REPLACE INTO {table} ({columns}) VALUES ({values});"


def _seed_sql() -> str:
    statements: list[str] = []
    for image in default_images():
        statements.append(
            _insert(
                "images",
                {
                    "id": image["id"],
                    "name": image["name"],
                    "version": image["version"],
                    "owner": image["owner"],
                    "state": image["state"],
                    "public": image["public"],
                    "published_at": image["published_at"],
                    "doc": dumps(image),
                },
            )
        )
    for package in default_packages():
        doc = {k: v for k, v in package.items() if k != "active"}
        statements.append(
            _insert(
                "packages",
                {
                    "id": package["id"],
                    "name": package["name"],
                    "version": package["version"],
                    "active": package["active"],
                    "owner": None,
                    "doc": dumps(doc),
                },
            )
        )
    for net in DEFAULT_NETWORKS:
        doc = {"id": net.id, "name": net.name, "public": net.public, "description": net.description}
        statements.append(
            _insert(
                "networks",
                {
                    "id": net.id,
                    "name": net.name,
                    "public": net.public,
                    "owner": None,
                    "subnet": net.subnet,
                    "gateway": net.gateway,
                    "provision_start_ip": net.provision_start_ip,
                    "provision_end_ip": net.provision_end_ip,
                    "doc": dumps(doc),
                },
            )
        )
    return "\n".join(statements)


register_schema(_seed_sql())
