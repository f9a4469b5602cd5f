"""The default catalog: stable identifiers, shapes, lookups and network addressing."""

from __future__ import annotations

from smartdc.emulator.db import Database
from smartdc.emulator.store import catalog

ACCOUNT = "4b1f8c1e-1a2b-4c3d-8e9f-0a1b2c3d4e5f"


def test_catalog_is_seeded_with_stable_ids_across_databases() -> None:
    first, second = Database(None), Database(None)
    ids = [i["id"] for i in catalog.list_images(first, ACCOUNT)]
    assert ids == [i["id"] for i in catalog.list_images(second, ACCOUNT)]
    assert len(ids) == len(set(ids)) >= 15
    packages = [p["id"] for p in catalog.list_packages(first, ACCOUNT)]
    assert packages == [p["id"] for p in catalog.list_packages(second, ACCOUNT)]


def test_seeding_is_idempotent_and_survives_a_reset() -> None:
    db = Database(None)
    before = catalog.list_images(db, ACCOUNT)
    db.clear()
    assert catalog.list_images(db, ACCOUNT) == before
    row = db.one("SELECT COUNT(*) AS n FROM images")
    assert row is not None
    assert row["n"] == len(catalog.default_images())


def test_tutorial_names_exist() -> None:
    db = Database(None)
    versions = sorted(
        i["version"] for i in catalog.list_images(db, ACCOUNT) if i["name"] == "smartos64"
    )
    assert versions == ["1.6.1", "1.6.2", "1.6.3"]
    small = catalog.find_package_by_name(db, ACCOUNT, "Small 1GB")
    assert small is not None and small["memory"] == 1024


def test_image_shape() -> None:
    db = Database(None)
    images = {(i["name"], i["version"]): i for i in catalog.list_images(db, ACCOUNT)}
    base = images[("base-64-lts", "23.4.0")]
    assert base["type"] == "zone-dataset" and base["os"] == "smartos"
    assert base["public"] is True and base["state"] == "active"
    assert base["owner"] == catalog.ADMIN_UUID
    assert base["files"][0]["compression"] == "gzip" and len(base["files"][0]["sha1"]) == 40
    assert base["published_at"] == "2024-01-10T08:34:19Z"
    assert "image_size" not in base
    hvm = images[("ubuntu-certified-22.04", "20240110")]
    assert hvm["type"] == "zvol" and hvm["image_size"] == 10240
    assert hvm["requirements"]["brand"] == "bhyve"
    assert images[("ubuntu-22.04", "20230207")]["type"] == "lx-dataset"
    assert images[("base-64", "18.4.0")]["state"] == "disabled"


def test_get_image_hides_unknown_and_reports_visible() -> None:
    db = Database(None)
    image = catalog.list_images(db, ACCOUNT)[0]
    assert catalog.get_image(db, ACCOUNT, image["id"]) == image
    assert catalog.get_image(db, ACCOUNT, "00000000-0000-0000-0000-000000000000") is None


def test_package_shapes_per_family() -> None:
    db = Database(None)
    packages = {p["name"]: p for p in catalog.list_packages(db, ACCOUNT)}
    g4 = packages["g4-highcpu-1G"]
    assert set(g4) == {
        "id", "name", "memory", "disk", "swap", "vcpus", "lwps", "version", "group",
        "description", "default",
    }  # fmt: skip
    assert g4["default"] is False and "active" not in g4
    assert packages["k4-highcpu-kvm-1.75G"]["brand"] == "kvm"
    flex = packages["b1-flex-1G"]
    assert flex["brand"] == "bhyve" and flex["flexible_disk"] is True
    assert isinstance(flex["disks"], list)


def test_package_by_name_takes_the_newest_active_version() -> None:
    db = Database(None)
    newest = catalog.find_package_by_name(db, ACCOUNT, "g4-general-4G")
    assert newest is not None and newest["version"] == "1.0.0"
    retired = catalog.catalog_uuid("package", "g4-general-4G@0.9.0")
    lookup = catalog.find_package_by_id(db, ACCOUNT, retired)
    assert lookup is not None and lookup.active is False
    listed = [p for p in catalog.list_packages(db, ACCOUNT) if p["name"] == "g4-general-4G"]
    assert [p["version"] for p in listed] == ["1.0.0"]
    assert catalog.find_package_by_name(db, ACCOUNT, "no-such-package") is None


def test_wildcard_filter() -> None:
    assert catalog.matches_wildcard("g4-*", "g4-highcpu-1G")
    assert catalog.matches_wildcard("*-1G", "g4-highcpu-1G")
    assert not catalog.matches_wildcard("g4-*", "k4-highcpu-kvm-1.75G")
    assert catalog.matches_wildcard("1024", 1024)
    assert catalog.matches_wildcard("true", True)
    assert not catalog.matches_wildcard("g4-highcpu-1[G]", "g4-highcpu-1G")


def test_networks_and_default_network() -> None:
    db = Database(None)
    records = catalog.list_networks(db, ACCOUNT)
    assert [(r.network["name"], r.public) for r in records] == [
        ("Joyent-SDC-Public", True),
        ("Joyent-SDC-Private", False),
    ]
    assert set(records[0].network) == {"id", "name", "public", "description"}
    assert records[0].gateway == "198.18.0.1" and records[0].netmask == "255.254.0.0"
    assert catalog.default_network_id(db, ACCOUNT) == catalog.PUBLIC_NETWORK_ID
    catalog.set_default_network(db, ACCOUNT, catalog.PRIVATE_NETWORK_ID)
    assert catalog.default_network_id(db, ACCOUNT) == catalog.PRIVATE_NETWORK_ID
    assert catalog.default_network_id(db, "someone-else") == catalog.PUBLIC_NETWORK_ID
