"""The datacenter catalog: images, packages and networks, as IMGAPI, PAPI and NAPI hold them.

Every database starts with the same default catalog, shaped like a public Triton datacenter:
SmartOS, LX and HVM images in several versions, the familiar package families, and one public
and one private network. Identifiers are ``uuid5`` names, so they are the same across restarts
and across datacenters. The seed statements are registered with the schema and use
``INSERT OR REPLACE``, which makes them idempotent and keeps an old data directory in step
with the current catalog.

HTTP-free: functions take a :class:`Database` and return CloudAPI-shaped dicts.
"""

from __future__ import annotations

import fnmatch
import hashlib
import ipaddress
import sqlite3
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import semantic_version

from smartdc.emulator.db import Database, dumps, loads, register_schema

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


# --- images --------------------------------------------------------------------------------


def _visible(owner: str, public: bool, account_uuid: str, acl: Iterable[str]) -> bool:
    return public or owner == account_uuid or account_uuid in acl


#: Images with no ``image_locations`` row (the default catalog) are in every datacenter;
#: images made through the API are only in the datacenters their rows name.
_IN_DATACENTER = (
    "(NOT EXISTS (SELECT 1 FROM image_locations l WHERE l.image = images.id)"
    " OR EXISTS (SELECT 1 FROM image_locations l WHERE l.image = images.id"
    " AND l.datacenter = ?))"
)


def _located(datacenter: str | None) -> tuple[str, tuple[Any, ...]]:
    if datacenter is None:
        return "1 = 1", ()
    return _IN_DATACENTER, (datacenter,)


def list_images(
    db: Database, account_uuid: str, datacenter: str | None = None
) -> list[dict[str, Any]]:
    """Every image the account may see (in ``datacenter`` when given), in any state but
    ``destroyed``, oldest ``published_at`` first."""
    where, args = _located(datacenter)
    rows = db.query(
        f"SELECT doc FROM images WHERE {where} ORDER BY published_at, name, version", args
    )
    images = [loads(r["doc"]) for r in rows]
    return [
        i
        for i in images
        if _visible(i["owner"], i["public"], account_uuid, i.get("acl", ()))
        and i["state"] != "destroyed"
    ]


def find_image(db: Database, image_id: str, datacenter: str | None = None) -> dict[str, Any] | None:
    """The image (in ``datacenter`` when given) whoever may see it, or ``None``."""
    where, args = _located(datacenter)
    row = db.one(f"SELECT doc FROM images WHERE id = ? AND {where}", (image_id, *args))
    if row is None:
        return None
    image: dict[str, Any] = loads(row["doc"])
    return image


def image_visible(image: Mapping[str, Any], account_uuid: str) -> bool:
    """Whether the account may see the image: public, its own, or shared with it (acl)."""
    return image["state"] != "destroyed" and _visible(
        image["owner"], image["public"], account_uuid, image.get("acl", ())
    )


def get_image(
    db: Database, account_uuid: str, image_id: str, datacenter: str | None = None
) -> dict[str, Any] | None:
    """The image if it exists (in ``datacenter`` when given), is not destroyed and the account
    may see it."""
    image = find_image(db, image_id, datacenter)
    if image is None or not image_visible(image, account_uuid):
        return None
    return image


# --- packages ------------------------------------------------------------------------------


def _semver_key(version: str) -> tuple[int, Any]:
    try:
        return (1, semantic_version.Version.coerce(version))
    except ValueError:
        return (0, version)


def _package_from_row(row: Any) -> dict[str, Any]:
    package: dict[str, Any] = loads(row["doc"])
    return package


def list_packages(db: Database, account_uuid: str) -> list[dict[str, Any]]:
    """Active packages that are public or owned by the account, in catalog order."""
    rows = db.query(
        "SELECT doc FROM packages WHERE active = 1 AND (owner IS NULL OR owner = ?) ORDER BY rowid",
        (account_uuid,),
    )
    return [_package_from_row(r) for r in rows]


@dataclass(frozen=True)
class PackageLookup:
    """A package found by id or name, and whether it may still be used."""

    package: dict[str, Any]
    active: bool


def find_package_by_id(db: Database, account_uuid: str, package_id: str) -> PackageLookup | None:
    """The package with this UUID (active or not) if the account may use it."""
    row = db.one(
        "SELECT doc, active FROM packages WHERE id = ? AND (owner IS NULL OR owner = ?)",
        (package_id, account_uuid),
    )
    if row is None:
        return None
    return PackageLookup(_package_from_row(row), bool(row["active"]))


def find_package_by_name(db: Database, account_uuid: str, name: str) -> dict[str, Any] | None:
    """The active package with this name and the highest version, or ``None``."""
    rows = db.query(
        "SELECT doc FROM packages WHERE name = ? AND active = 1 AND (owner IS NULL OR owner = ?)",
        (name, account_uuid),
    )
    if not rows:
        return None
    packages = [_package_from_row(r) for r in rows]
    return max(packages, key=lambda p: _semver_key(str(p.get("version", ""))))


def matches_wildcard(pattern: str, value: Any) -> bool:
    """PAPI-style filter match: ``*`` matches any run of characters, nothing else is special."""
    text = "" if value is None else filter_text(value)
    if "*" not in pattern:
        return text == pattern
    translated = "".join("*" if ch == "*" else f"[{ch}]" if ch in "?[]" else ch for ch in pattern)
    return fnmatch.fnmatchcase(text, translated)


def filter_text(value: Any) -> str:
    """A JSON value as it compares with a query-string filter (``true``, ``42``, ``web``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# --- networks ------------------------------------------------------------------------------


@dataclass(frozen=True)
class NetworkRecord:
    """A network as CloudAPI shows it, plus the addressing NAPI uses to hand out IPs."""

    network: dict[str, Any]
    subnet: str
    gateway: str
    provision_start_ip: str
    provision_end_ip: str

    @property
    def id(self) -> str:
        return str(self.network["id"])

    @property
    def public(self) -> bool:
        return bool(self.network["public"])

    @property
    def netmask(self) -> str:
        return str(ipaddress.ip_network(self.subnet).netmask)


def _network_from_row(row: Any) -> NetworkRecord:
    return NetworkRecord(
        network=loads(row["doc"]),
        subnet=row["subnet"],
        gateway=row["gateway"],
        provision_start_ip=row["provision_start_ip"],
        provision_end_ip=row["provision_end_ip"],
    )


def network_row(record: NetworkRecord, owner: str | None) -> dict[str, Any]:
    """The ``networks`` row holding ``record`` (``owner`` ``None``: shared by every account)."""
    return {
        "id": record.id,
        "name": record.network["name"],
        "public": record.public,
        "owner": owner,
        "subnet": record.subnet,
        "gateway": record.gateway,
        "provision_start_ip": record.provision_start_ip,
        "provision_end_ip": record.provision_end_ip,
        "doc": dumps(record.network),
    }


def save_network(conn: sqlite3.Connection, record: NetworkRecord, owner: str | None) -> None:
    """Insert or replace the network (in the caller's transaction)."""
    row = network_row(record, owner)
    marks = ", ".join("?" for _ in row)
    conn.execute(
        f"INSERT OR REPLACE INTO networks ({', '.join(row)}) VALUES ({marks})",
        tuple(row.values()),
    )


def list_networks(db: Database, account_uuid: str) -> list[NetworkRecord]:
    """Networks the account may provision on: shared ones first, then its own."""
    rows = db.query(
        "SELECT * FROM networks WHERE owner IS NULL OR owner = ? ORDER BY owner IS NOT NULL, rowid",
        (account_uuid,),
    )
    return [_network_from_row(r) for r in rows]


def get_network(db: Database, account_uuid: str, network_id: str) -> NetworkRecord | None:
    """The network if the account may provision on it, else ``None``."""
    row = db.one(
        "SELECT * FROM networks WHERE id = ? AND (owner IS NULL OR owner = ?)",
        (network_id, account_uuid),
    )
    return None if row is None else _network_from_row(row)


def configured_default_network(db: Database, account_uuid: str) -> str | None:
    """The default network the account set with UpdateConfig, if any."""
    row = db.one("SELECT default_network FROM account_config WHERE account = ?", (account_uuid,))
    return None if row is None else str(row["default_network"])


def default_network_id(db: Database, account_uuid: str) -> str | None:
    """The account's default network: as set with UpdateConfig, else the first public one."""
    row = db.one("SELECT default_network FROM account_config WHERE account = ?", (account_uuid,))
    if row is not None and get_network(db, account_uuid, row["default_network"]) is not None:
        return str(row["default_network"])
    for record in list_networks(db, account_uuid):
        if record.public:
            return record.id
    return None


def set_default_network(db: Database, account_uuid: str, network_id: str) -> None:
    """Record the account's default network (the caller checks it is one of its networks)."""
    db.execute(
        "INSERT OR REPLACE INTO account_config (account, default_network) VALUES (?, ?)",
        (account_uuid, network_id),
    )
