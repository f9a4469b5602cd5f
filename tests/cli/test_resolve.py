"""Resolving what a user types (UUID, short id, name, name@version, prefix) against a real
emulator over HTTP, with the wording and exit statuses ``triton`` gives.

The module runs its own emulator, so the instances, volumes, VLANs and rules it creates are
the only ones there and prefix collisions can be worked out from them.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

import pytest

from smartdc import CloudAPI
from smartdc.cli import resolve
from smartdc.emulator.server import EmulatorServer
from smartdc.errors import MachineGoneError
from smartdc.wait import wait_for
from tests.conftest import ACCOUNT, TestKey

T = TypeVar("T")

PACKAGE = "g4-highcpu-128M"
MACHINE_COUNT = 20  # more than 16, so two ids surely share their first hex digit
VOLUME_COUNT = 17
_REQUEST_RE = re.compile(r"\b(GET|HEAD|POST|PUT|DELETE) (\S+)")


@dataclass
class World:
    api: CloudAPI
    machines: list[dict[str, Any]]
    volumes: list[dict[str, Any]]
    image: dict[str, Any]


def _poll(fetch: Callable[[], T], done: Callable[[T], bool], what: str) -> T:
    return wait_for(fetch, done, interval=0.02, timeout=15, describe=what)


@pytest.fixture(scope="module")
def world(keys: dict[str, TestKey], tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    server = EmulatorServer(
        accounts={ACCOUNT: [keys["rsa"].pub_path, keys["ed25519"].pub_path]},
        data_dir=tmp_path_factory.mktemp("resolve-data"),
        provision_delay=0.0,
    )
    with server:
        key = keys["rsa"]
        api = CloudAPI(server.url, ACCOUNT, key_id=key.md5, key_file=key.path, allow_agent=False)
        with api:
            image = next(i for i in api.list_images(name="base-64-lts"))
            for n in range(MACHINE_COUNT):
                api.create_machine(image=image["id"], package=PACKAGE, name=f"rs-{n}")
            machines = _poll(
                api.list_machines,
                lambda ms: len(ms) == MACHINE_COUNT and all(m["state"] == "running" for m in ms),
                "machines running",
            )
            for n in range(VOLUME_COUNT):
                api.create_volume(name=f"vol-{n}")
            volumes = _poll(
                api.list_volumes,
                lambda vs: len(vs) == VOLUME_COUNT and all(v["state"] == "ready" for v in vs),
                "volumes ready",
            )
            yield World(api, machines, volumes, image)


def requests(api: CloudAPI, action: Callable[[], T]) -> tuple[T, list[str]]:
    """What ``action`` returns and the requests it sent (``"GET /test/machines..."``)."""
    log = io.StringIO()
    api.debug = log
    try:
        result = action()
    finally:
        api.debug = False
    return result, [
        " ".join(m.groups()) for m in map(_REQUEST_RE.search, log.getvalue().splitlines()) if m
    ]


def unique_prefix(uuid: str, others: list[str]) -> str:
    """The shortest prefix of ``uuid`` that no other id starts with."""
    for length in range(1, len(uuid) + 1):
        prefix = uuid[:length]
        if prefix[-1] != "-" and not any(o.startswith(prefix) for o in others if o != uuid):
            return prefix
    raise AssertionError(f"{uuid} has no unique prefix")


def shared_first_digit(ids: list[str]) -> tuple[str, set[str]]:
    """A first hex digit several ids share, and those ids."""
    for digit in "0123456789abcdef":
        sharing = {i for i in ids if i.startswith(digit)}
        if len(sharing) > 1:
            return digit, sharing
    raise AssertionError("no two ids share a first digit")


# --- identifiers -------------------------------------------------------------------------


def test_is_uuid_and_short_id() -> None:
    uuid = "5b876e9d-461a-404d-bcb0-7a87210b4208"
    assert resolve.is_uuid(uuid)
    assert resolve.is_uuid(uuid.upper())
    assert not resolve.is_uuid(uuid[:-1])
    assert not resolve.is_uuid(uuid.replace("-", ""))
    assert not resolve.is_uuid(f" {uuid}")
    assert resolve.short_id(uuid) == "5b876e9d"


# --- instances ---------------------------------------------------------------------------


def test_instance_by_uuid_name_and_short_id(world: World) -> None:
    target = world.machines[3]
    for text in (
        target["id"],
        target["name"],
        resolve.short_id(target["id"]),
        target["id"].replace("-", ""),  # dashless, as docker prints ids
        target["id"].replace("-", "") + "0" * 32,  # a 64-digit docker id
        target["id"][:13],  # a dashed prefix
    ):
        found = resolve.instance(world.api, text)
        assert found["id"] == target["id"], text
        assert found["name"] == target["name"]


def test_instance_by_shortest_unique_prefix(world: World) -> None:
    ids = [m["id"] for m in world.machines]
    for machine in world.machines[:5]:
        prefix = unique_prefix(machine["id"], ids)
        assert resolve.instance(world.api, prefix)["id"] == machine["id"]
        assert resolve.instance_id(world.api, prefix) == machine["id"]


def test_exact_name_only(world: World) -> None:
    # rs-1 must not pick rs-10 .. rs-19, and rs- (a prefix of every name) names nothing
    assert resolve.instance(world.api, "rs-1")["name"] == "rs-1"
    with pytest.raises(resolve.NotFoundError) as caught:
        resolve.instance(world.api, "rs-")
    assert caught.value.message == 'no instance with name or short id "rs-" was found'


def test_ambiguous_prefix_lists_the_candidates(world: World) -> None:
    digit, sharing = shared_first_digit([m["id"] for m in world.machines])
    with pytest.raises(resolve.AmbiguousError) as caught:
        resolve.instance(world.api, digit)
    err = caught.value
    assert not isinstance(err, resolve.NotFoundError)
    assert err.exit_status == 1
    assert {c["id"] for c in err.candidates} == sharing
    assert err.message.startswith(f'instance short id "{digit}" is ambiguous')
    names = {m["id"]: m["name"] for m in world.machines}
    for uuid in sharing:
        assert re.search(rf"^\s+{uuid}\s+{names[uuid]}$", err.message, re.MULTILINE)
    with pytest.raises(resolve.AmbiguousError):
        resolve.instance_id(world.api, digit)


def test_instance_not_found(world: World) -> None:
    for text in ("nosuch", "0000000", "ffffffff-ffff"):
        with pytest.raises(resolve.NotFoundError) as caught:
            resolve.instance(world.api, text)
        assert caught.value.message == f'no instance with name or short id "{text}" was found'
        assert caught.value.exit_status == 3
        assert caught.value.code == "ResourceNotFound"
    missing = "00000000-0000-4000-8000-000000000000"
    with pytest.raises(resolve.NotFoundError) as caught:
        resolve.instance(world.api, missing)
    assert caught.value.message == f"instance with id {missing} was not found"


def test_name_wins_over_short_id(world: World) -> None:
    other = world.machines[0]
    namesake = world.api.create_machine(
        image=world.image["id"], package=PACKAGE, name=resolve.short_id(other["id"])
    )
    try:
        _poll(
            lambda: world.api.get_machine(namesake["id"]), lambda m: m["state"] == "running", "up"
        )
        found = resolve.instance(world.api, resolve.short_id(other["id"]))
        assert found["id"] == namesake["id"]
    finally:
        world.api.delete_machine(namesake["id"])
        _poll(world.api.list_machines, lambda ms: len(ms) == MACHINE_COUNT, "namesake gone")


def test_deleted_instance(world: World) -> None:
    doomed = world.api.create_machine(image=world.image["id"], package=PACKAGE, name="doomed")
    _poll(lambda: world.api.get_machine(doomed["id"]), lambda m: m["state"] == "running", "up")
    world.api.delete_machine(doomed["id"])
    _poll(world.api.list_machines, lambda ms: len(ms) == MACHINE_COUNT, "doomed gone")
    with pytest.raises(MachineGoneError):
        resolve.instance(world.api, doomed["id"])
    with pytest.raises(resolve.NotFoundError):
        resolve.instance(world.api, "doomed")


def test_instance_requests(world: World) -> None:
    target = world.machines[7]
    uuid = target["id"]
    found, sent = requests(world.api, lambda: resolve.instance_id(world.api, uuid))
    assert (found, sent) == (uuid, [])
    _, sent = requests(world.api, lambda: resolve.instance(world.api, uuid))
    assert [s.split("?")[0] for s in sent] == [f"GET /{ACCOUNT}/machines/{uuid}"]
    _, sent = requests(world.api, lambda: resolve.instance(world.api, target["name"]))
    assert len(sent) == 2
    assert sent[0].startswith(f"GET /{ACCOUNT}/machines?")
    assert re.search(rf"[?&]name={target['name']}(&|$)", sent[0])
    assert sent[1] == f"GET /{ACCOUNT}/machines/{uuid}"
    # a short id needs every instance, but one listing serves the name check too
    found, sent = requests(world.api, lambda: resolve.instance_id(world.api, uuid[:8]))
    assert found == uuid
    assert len(sent) == 1 and "name=" not in sent[0]


# --- images --------------------------------------------------------------------------------


def test_image_by_name_takes_the_newest_active(world: World) -> None:
    every = [i for i in world.api.list_images(state="all") if i["name"] == "base-64"]
    active = [i for i in every if i["state"] == "active"]
    assert len(active) >= 2 and len(every) > len(active)  # the catalog has a disabled one
    newest = max(active, key=lambda i: i["published_at"])
    assert resolve.image(world.api, "base-64")["id"] == newest["id"]
    older = min(active, key=lambda i: i["published_at"])
    found = resolve.image(world.api, f"base-64@{older['version']}")
    assert (found["id"], found["version"]) == (older["id"], older["version"])
    assert resolve.image(world.api, resolve.short_id(older["id"]))["id"] == older["id"]


def test_inactive_images(world: World) -> None:
    disabled = next(
        i
        for i in world.api.list_images(state="all")
        if i["name"] == "base-64" and i["state"] != "active"
    )
    selector = f"base-64@{disabled['version']}"
    with pytest.raises(resolve.NotFoundError) as caught:
        resolve.image(world.api, selector)
    assert caught.value.message == f'no image with {selector} or short id "base-64" was found'
    assert resolve.image(world.api, selector, include_inactive=True)["id"] == disabled["id"]
    short = resolve.short_id(disabled["id"])
    with pytest.raises(resolve.NotFoundError):
        resolve.image(world.api, short)
    assert resolve.image(world.api, short, include_inactive=True)["id"] == disabled["id"]
    # a UUID is fetched whatever the state
    assert resolve.image(world.api, disabled["id"])["state"] == disabled["state"]


def test_image_not_found(world: World) -> None:
    with pytest.raises(resolve.NotFoundError) as caught:
        resolve.image(world.api, "nosuch")
    assert caught.value.message == 'no image with nosuch or short id "nosuch" was found'
    with pytest.raises(resolve.NotFoundError) as caught:
        resolve.image(world.api, "base-64@0.0.1")
    assert caught.value.message == 'no image with base-64@0.0.1 or short id "base-64" was found'
    missing = "00000000-0000-4000-8000-000000000000"
    with pytest.raises(resolve.NotFoundError) as caught:
        resolve.image(world.api, missing)
    assert caught.value.message == f"image with id {missing} was not found"
    assert caught.value.exit_status == 3
    # the short id must be exact: 7 characters name no image
    with pytest.raises(resolve.NotFoundError):
        resolve.image(world.api, world.image["id"][:7])


def test_image_requests(world: World) -> None:
    _, sent = requests(world.api, lambda: resolve.image(world.api, "base-64"))
    assert len(sent) == 1 and "name=base-64" in sent[0] and "state=active" in sent[0]
    _, sent = requests(world.api, lambda: resolve.image(world.api, world.image["id"]))
    assert sent == [f"GET /{ACCOUNT}/images/{world.image['id']}"]


# --- packages and networks -----------------------------------------------------------------


def test_package(world: World) -> None:
    wanted = next(p for p in world.api.list_packages() if p["name"] == PACKAGE)
    for text in (wanted["id"], PACKAGE, resolve.short_id(wanted["id"])):
        assert resolve.package(world.api, text)["id"] == wanted["id"], text
    assert resolve.package(world.api, "Small 1GB")["name"] == "Small 1GB"
    with pytest.raises(resolve.NotFoundError) as caught:
        resolve.package(world.api, "g4-highcpu")  # a prefix of several names is no name
    assert caught.value.message == 'no package with name or short id "g4-highcpu" was found'
    missing = "00000000-0000-4000-8000-000000000000"
    with pytest.raises(resolve.NotFoundError) as caught:
        resolve.package(world.api, missing)
    assert caught.value.message == f"package with id {missing} was not found"


def test_network(world: World) -> None:
    public = next(n for n in world.api.list_networks() if n["name"] == "Joyent-SDC-Public")
    for text in (public["id"], public["name"], resolve.short_id(public["id"])):
        assert resolve.network(world.api, text)["id"] == public["id"], text
    with pytest.raises(resolve.NotFoundError) as caught:
        resolve.network(world.api, "nosuch")
    assert caught.value.message == 'no network with name or short id "nosuch" was found'
    missing = "00000000-0000-4000-8000-000000000000"
    with pytest.raises(resolve.NotFoundError) as caught:
        resolve.network(world.api, missing)
    assert caught.value.message == f"network with id {missing} was not found"


def test_fabric_network_by_name_and_short_id(world: World) -> None:
    world.api.create_fabric_vlan(vlan_id=10, name="vlan-ten")
    made = world.api.create_fabric_network(
        10,
        name="tenth",
        subnet="10.10.0.0/24",
        provision_start_ip="10.10.0.5",
        provision_end_ip="10.10.0.250",
    )
    assert resolve.network(world.api, "tenth")["id"] == made["id"]
    assert resolve.network(world.api, resolve.short_id(made["id"]))["vlan_id"] == 10


# --- firewall rules, VLANs -----------------------------------------------------------------


def test_fwrule(world: World) -> None:
    rule = world.api.create_firewall_rule("FROM any TO all vms ALLOW tcp PORT 22")
    assert resolve.fwrule(world.api, rule["id"])["rule"] == rule["rule"]
    assert resolve.fwrule(world.api, resolve.short_id(rule["id"]))["id"] == rule["id"]
    for text in ("nosuch", rule["id"][:7]):
        with pytest.raises(resolve.NotFoundError) as caught:
            resolve.fwrule(world.api, text)
        assert caught.value.message == f'no firewall rule with short id "{text}" was found'

    # no rule's short id can be "abc", so nothing is asked
    def lookup() -> None:
        with pytest.raises(resolve.NotFoundError):
            resolve.fwrule(world.api, "abc")

    _, sent = requests(world.api, lookup)
    assert sent == []
    missing = "00000000-0000-4000-8000-000000000000"
    with pytest.raises(resolve.NotFoundError) as caught:
        resolve.fwrule(world.api, missing)
    assert caught.value.message == f"firewall rule with id {missing} was not found"


def test_vlan(world: World) -> None:
    assert resolve.vlan(world.api, "2")["name"] == "My-Fabric-VLAN"
    assert resolve.vlan(world.api, "My-Fabric-VLAN")["vlan_id"] == 2
    world.api.create_fabric_vlan(vlan_id=20, name="same")
    world.api.create_fabric_vlan(vlan_id=21, name="same")
    with pytest.raises(resolve.AmbiguousError) as caught:
        resolve.vlan(world.api, "same")
    assert {c["vlan_id"] for c in caught.value.candidates} == {20, 21}
    assert caught.value.message.startswith('vlan name "same" is ambiguous: matches 2 vlans')
    assert re.search(r"^\s+21\s+same$", caught.value.message, re.MULTILINE)
    with pytest.raises(resolve.NotFoundError) as missing:
        resolve.vlan(world.api, "99")
    assert missing.value.message == "vlan with id 99 was not found"
    with pytest.raises(resolve.NotFoundError) as missing:
        resolve.vlan(world.api, "nosuch")
    assert missing.value.message == 'no vlan with name "nosuch" was found'


# --- volumes ---------------------------------------------------------------------------------


def test_volume_by_uuid_name_and_prefix(world: World) -> None:
    ids = [v["id"] for v in world.volumes]
    target = world.volumes[5]
    for text in (
        target["id"],
        target["name"],
        resolve.short_id(target["id"]),
        unique_prefix(target["id"], ids),
        target["id"].replace("-", ""),
    ):
        assert resolve.volume(world.api, text)["id"] == target["id"], text


def test_volume_ambiguous_and_missing(world: World) -> None:
    digit, sharing = shared_first_digit([v["id"] for v in world.volumes])
    with pytest.raises(resolve.AmbiguousError) as caught:
        resolve.volume(world.api, digit)
    assert {c["id"] for c in caught.value.candidates} == sharing
    assert caught.value.exit_status == 1
    with pytest.raises(resolve.NotFoundError) as missing:
        resolve.volume(world.api, "vol-")
    assert missing.value.message == 'no volume with id, name or short id "vol-" was found'
    uuid = "00000000-0000-4000-8000-000000000000"
    with pytest.raises(resolve.NotFoundError) as missing:
        resolve.volume(world.api, uuid)
    assert missing.value.message == f"volume with id {uuid} was not found"


# --- keys ------------------------------------------------------------------------------------


def test_key_by_name_and_fingerprints(world: World, keys: dict[str, TestKey]) -> None:
    key = keys["ed25519"]
    for text in ("ed25519", key.md5, f"MD5:{key.md5}", key.sha256):
        found = resolve.key(world.api, text)
        assert found["fingerprint"] == key.md5, text
        assert found["key"].split()[1] == Path(key.pub_path).read_text().split()[1]


def test_key_not_found(world: World, keys: dict[str, TestKey]) -> None:
    for text in ("nosuch", "SHA256:" + "A" * 43, keys["ecdsa256"].sha256):
        with pytest.raises(resolve.KeyNotFoundError) as caught:
            resolve.key(world.api, text)
        assert text in caught.value.message
        assert caught.value.exit_status == 1  # triton passes CloudAPI's 404 through


# --- collisions the emulator cannot produce (random UUIDs, unique network names) --------


class ListOnly:
    """Stands in for CloudAPI where 8-character short ids collide."""

    def __init__(self, items: list[dict[str, Any]]) -> None:
        self.items = items

    def list_packages(self, **filters: Any) -> list[dict[str, Any]]:
        return self.items

    def list_images(self, **filters: Any) -> list[dict[str, Any]]:
        return self.items

    def list_firewall_rules(self) -> list[dict[str, Any]]:
        return self.items

    def list_networks(self, **filters: Any) -> list[dict[str, Any]]:
        return self.items


def test_ambiguous_short_ids_are_not_found() -> None:
    items = [
        {"id": "abcdef01-0000-4000-8000-000000000001", "name": "one", "published_at": "1"},
        {"id": "abcdef01-0000-4000-8000-000000000002", "name": "two", "published_at": "2"},
    ]
    api = cast(CloudAPI, ListOnly(items))
    for find in (resolve.package, resolve.image, resolve.fwrule):
        with pytest.raises(resolve.AmbiguousShortIdError) as caught:
            find(api, "abcdef01")
        err = caught.value
        assert isinstance(err, resolve.NotFoundError) and isinstance(err, resolve.AmbiguousError)
        assert err.exit_status == 3
        assert "ambiguous short id" in err.message
        assert {c["id"] for c in err.candidates} == {i["id"] for i in items}
    # a name wins over a short id; of two same-named images the newer one
    assert (
        resolve.image(
            cast(CloudAPI, ListOnly([*items, {**items[0], "name": "abcdef01"}])), "abcdef01"
        )["name"]
        == "abcdef01"
    )
    twins = [{**items[0], "name": "x"}, {**items[1], "name": "x"}]
    assert resolve.image(cast(CloudAPI, ListOnly(twins)), "x")["published_at"] == "2"
    for kind, find in (("package", resolve.package), ("network", resolve.network)):
        with pytest.raises(resolve.AmbiguousError) as named:
            find(cast(CloudAPI, ListOnly(twins)), "x")
        assert not isinstance(named.value, resolve.NotFoundError)
        assert named.value.message.startswith(f'{kind} name "x" is ambiguous: matches 2 {kind}s')
        assert items[1]["id"] in named.value.message
