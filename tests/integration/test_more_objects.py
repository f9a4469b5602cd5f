"""Images, volumes, firewall rules, fabric VLANs, NICs, disks and migrations as objects,
against the session's emulator (instant life cycle).

Each test names what it creates uniquely, because the emulator and its ``test`` account are
shared by the whole session.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

import smartdc
from smartdc.emulator.server import EmulatorServer
from smartdc.errors import CloudAPIError, ResourceNotFoundError, WaitError
from smartdc.objects import DataCenter, Machine
from smartdc.objects.disk import Disk
from smartdc.objects.fabric import FabricVlan
from smartdc.objects.firewall import FirewallRule
from smartdc.objects.image import Image
from smartdc.objects.migration import Migration
from smartdc.objects.nic import Nic
from smartdc.objects.volume import Volume
from tests.conftest import ACCOUNT, TestKey

FAST: dict[str, Any] = {"interval": 0.05, "timeout": 30}


@pytest.fixture(scope="module")
def sdc(emulator: EmulatorServer, keys: dict[str, TestKey]) -> Iterator[DataCenter]:
    key = keys["ed25519"]
    with DataCenter(
        location=emulator.url, key_id=f"/{ACCOUNT}/keys/{key.md5}", secret=key.path
    ) as dc:
        yield dc


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def running(dc: DataCenter, **extra: Any) -> Machine:
    extra.setdefault("dataset", "base-64-lts")
    extra.setdefault("package", "Small 1GB")
    machine = dc.create_machine(name=unique("m"), **extra)
    return machine.poll_until("running", **FAST)


def test_the_new_classes_are_public() -> None:
    assert smartdc.Image is Image
    assert smartdc.Volume is Volume
    assert smartdc.FirewallRule is FirewallRule
    assert smartdc.Migration is Migration
    assert {smartdc.Nic, smartdc.Disk, smartdc.FabricVlan} == {Nic, Disk, FabricVlan}


def test_images_stay_dicts_and_image_objects_wrap_the_same_images(sdc: DataCenter) -> None:
    dicts = sdc.images()
    assert all(type(i) is dict for i in dicts)
    json.dumps(dicts)  # callers that serialized the dicts keep working
    objects = sdc.image_objects()
    assert [i.id for i in objects] == [i["id"] for i in dicts]
    lts = sdc.image_object("base-64-lts@22.4.0")
    assert (lts.name, lts.version, lts.state) == ("base-64-lts", "22.4.0", "active")
    assert lts == Image(sdc, lts.id)
    assert all(type(n) is dict for n in sdc.networks())


def test_image_from_machine_lifecycle(sdc: DataCenter) -> None:
    machine = running(sdc)
    machine.stop().poll_until("stopped", **FAST)
    name = unique("img")
    image = machine.create_image(name, "1.0.0", description="first")
    assert isinstance(image, Image)
    assert image.state in ("creating", "active")
    assert image.poll_until("active", **FAST).state == "active"
    assert image.owner == sdc.me()["id"]
    assert image in sdc.image_objects(name=name)

    image.update(description="second", version="1.0.1")
    assert (image.description, image.version) == ("second", "1.0.1")
    assert Image(sdc, image.id).description == "second"

    other = str(uuid.uuid4())
    assert image.share(other).acl == [other]
    assert image.share(other).acl == [other]  # sharing twice adds nothing
    assert image.unshare(other).acl == []

    # An Image object is accepted wherever an image is expected.
    child = sdc.create_machine(name=unique("child"), image=image, package="Small 1GB")
    assert child.image == image.id
    child.poll_until("running", **FAST).delete().poll_until("deleted", **FAST)

    image.delete().poll_until("deleted", **FAST)
    assert image.state == "deleted"
    with pytest.raises(ValueError, match="not a state"):
        image.poll_until("ready")
    machine.delete()


def test_volume_lifecycle(sdc: DataCenter) -> None:
    name = unique("vol")
    volume = sdc.create_volume(name, 10240)
    assert isinstance(volume, Volume)
    volume.poll_until("ready", **FAST)
    assert (volume.name, volume.size, volume.type) == (name, 10240, "tritonnfs")
    assert volume.filesystem_path
    assert sdc.volume(name) == volume
    assert sdc.volume(volume.id).name == name
    assert volume in sdc.volumes(state="ready")

    renamed = unique("vol")
    assert volume.rename(renamed).name == renamed
    assert sdc.volume(volume.id).name == renamed
    with pytest.raises(ResourceNotFoundError):
        sdc.volume(name)

    volume.delete().poll_until("deleted", **FAST)
    assert volume.state == "deleted"
    assert volume not in sdc.volumes()
    with pytest.raises(WaitError, match="deleted"):
        volume.poll_until("ready", **FAST)


def test_firewall_rule_actions_and_machines(sdc: DataCenter) -> None:
    role = unique("web")
    machine = running(sdc, tags={"role": role}, firewall_enabled=True)
    text = f'FROM any TO tag "role" = "{role}" ALLOW tcp PORT 443'  # the canonical form
    rule = sdc.create_firewall_rule(text, description="https")
    assert isinstance(rule, FirewallRule)
    assert (rule.rule, rule.enabled, rule.description) == (text, False, "https")
    assert rule in sdc.firewall_rules()

    assert rule.enable().enabled is True
    assert sdc.firewall_rule(rule.id).enabled is True
    assert [m.id for m in rule.machines()] == [machine.id]
    assert all(isinstance(m, Machine) for m in rule.machines())
    assert rule in machine.firewall_rules()

    assert rule.update(description="tls only").description == "tls only"
    assert rule.disable().enabled is False
    rule.delete()
    with pytest.raises(ResourceNotFoundError):
        rule.refresh()
    assert rule not in machine.firewall_rules()
    machine.delete()


def test_machine_firewall_and_deletion_protection_flags(sdc: DataCenter) -> None:
    machine = running(sdc)
    assert machine.enable_firewall().firewall_enabled is True
    assert machine.disable_firewall().firewall_enabled is False
    assert machine.enable_deletion_protection().deletion_protection is True
    with pytest.raises(CloudAPIError):
        machine.delete()
    assert machine.refresh().state == "running"
    assert machine.disable_deletion_protection().deletion_protection is False
    machine.delete().poll_until("deleted", **FAST)


def test_nics(sdc: DataCenter) -> None:
    machine = running(sdc)
    nics = machine.list_nics()
    assert nics and all(isinstance(n, Nic) for n in nics)
    assert sum(n.primary for n in nics) == 1
    assert [n["mac"] for n in machine.nics] == [n.mac for n in nics]  # the dict view stays
    assert machine.get_nic(nics[0].mac) == nics[0]

    used = {n.network for n in nics}
    spare = next(net for net in sdc.networks() if net["id"] not in used)
    added = machine.add_nic(spare).poll_while("provisioning", **FAST)
    assert (added.network, added.state) == (spare["id"], "running")
    assert added.ip and added.primary is False
    assert added in machine.list_nics()

    added.remove().poll_until("deleted", **FAST)
    assert added not in machine.list_nics()
    machine.delete()


def test_disks_of_a_flexible_bhyve_machine(sdc: DataCenter) -> None:
    # A boot disk and one more of 2 GiB leave most of the package's 25 GiB free.
    machine = running(
        sdc,
        dataset="ubuntu-certified-22.04",
        package="b1-flex-1G",
        disks=[{}, {"size": 2048}],
    )
    machine.stop().poll_until("stopped", **FAST)
    disks = machine.disks()
    assert disks and all(isinstance(d, Disk) for d in disks)
    assert sum(d.boot for d in disks) == 1
    assert len(disks) == 2

    disk = machine.add_disk(1024)
    assert disk not in disks
    disk.poll_while("creating", **FAST)
    assert disk.size == 1024
    assert machine.get_disk(disk.id) == disk

    disk.resize(2048).poll_while("resizing", **FAST)
    assert disk.refresh().size == 2048
    disk.delete().poll_until("deleted", **FAST)
    assert disk not in machine.disks()
    machine.delete()


def test_migration_phase_by_phase(sdc: DataCenter) -> None:
    machine = running(sdc)
    source = machine.compute_node
    migration = machine.migrate()
    assert isinstance(migration, Migration)
    assert migration.id == machine.id
    migration.wait(**FAST)
    assert (migration.phase, migration.state) == ("begin", "paused")
    assert migration in sdc.migrations()
    assert machine.migration() == migration

    assert migration.sync().wait(**FAST).state == "paused"
    assert migration.phase == "sync"
    assert migration.switch().wait(**FAST).state == "successful"
    assert machine.refresh().compute_node != source

    assert migration.finalize().state == "deleted"
    assert migration not in sdc.migrations()
    with pytest.raises(ResourceNotFoundError):
        machine.migration()
    machine.delete()


def test_migration_abort_leaves_the_machine_in_place(sdc: DataCenter) -> None:
    machine = running(sdc)
    source = machine.compute_node
    migration = machine.migrate().wait(**FAST)
    migration.abort().wait(**FAST)
    assert migration.state in ("aborted", "deleted")
    assert machine.refresh().compute_node == source
    machine.delete()


def test_automatic_migration(sdc: DataCenter) -> None:
    machine = running(sdc)
    migration = machine.migrate("automatic").wait(**FAST)
    assert migration.automatic is True
    assert (migration.phase, migration.state) == ("switch", "successful")
    assert migration.progress_history
    machine.delete()


def test_fabric_vlan_and_its_networks(sdc: DataCenter) -> None:
    taken = {v.vlan_id for v in sdc.fabric_vlans()}
    number = next(n for n in range(100, 4000) if n not in taken)
    vlan = sdc.create_fabric_vlan(number, unique("vlan"))
    assert isinstance(vlan, FabricVlan)
    assert vlan in sdc.fabric_vlans()
    assert vlan.update(description="backend").description == "backend"
    assert sdc.fabric_vlan(number).description == "backend"

    network = vlan.create_network(
        name=unique("net"),
        subnet="10.77.0.0/24",
        provision_start_ip="10.77.0.10",
        provision_end_ip="10.77.0.200",
    )
    assert [n["id"] for n in vlan.networks()] == [network["id"]]
    assert network["id"] in {n["id"] for n in sdc.networks()}
    with pytest.raises(CloudAPIError):
        vlan.delete()  # networks remain on it
    vlan.delete_network(network)
    vlan.delete()
    assert vlan not in sdc.fabric_vlans()


def test_image_copied_to_another_datacenter(sdc: DataCenter) -> None:
    machine = running(sdc)
    machine.stop().poll_until("stopped", **FAST)
    image = machine.create_image(unique("img"), "1.0.0").poll_until("active", **FAST)
    with sdc.datacenter("us-test-2") as east:
        with pytest.raises(ResourceNotFoundError):
            east.image_object(image.id)
        copy = image.copy_to(east)
        assert copy == image and copy.datacenter is east
        assert copy.state == "active"
        assert east.image_object(image.id).name == image.name
        copy.delete()
    image.delete()
    machine.delete()
