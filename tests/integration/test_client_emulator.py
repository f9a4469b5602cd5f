"""Every in-scope CloudAPI method against the emulator over real loopback HTTP.

The emulator and its ``test`` account are shared by the session, so machines created here
carry a per-run tag and names that no other test uses.
"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from smartdc import CloudAPI
from smartdc.emulator.server import EmulatorServer
from smartdc.errors import (
    CannotDestroyMachineError,
    CloudAPIError,
    InvalidCredentialsError,
    MachineGoneError,
    ResourceNotFoundError,
)
from smartdc.wait import wait_for
from tests.conftest import ACCOUNT, TestKey

T = TypeVar("T")


def poll(fetch: Callable[[], T], done: Callable[[T], bool], what: str) -> T:
    return wait_for(fetch, done, interval=0.02, timeout=15, describe=what)


@pytest.fixture(scope="module")
def api(emulator: EmulatorServer, keys: dict[str, TestKey]) -> Iterator[CloudAPI]:
    key = keys["ed25519"]
    client = CloudAPI(
        emulator.url, ACCOUNT, key_id=key.sha256, key_file=key.path, allow_agent=False
    )
    with client:
        yield client


@pytest.fixture(scope="module")
def image_and_packages(api: CloudAPI) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """A zone image and two packages of different sizes it can run with."""
    image = next(i for i in api.list_images(os="smartos") if i["type"] == "zone-dataset")
    packages = sorted(
        (p for p in api.list_packages() if not p.get("brand") and not p.get("flexible_disk")),
        key=lambda p: p["memory"],
    )
    return image, packages[0], packages[1]


# --- account, keys, datacenters, catalog -----------------------------------------------------


def test_account_operations(api: CloudAPI) -> None:
    assert api.ping()["ping"] == "pong"
    account = api.get_account()
    assert account["login"] == ACCOUNT
    updated = api.update_account(companyName="Acme Widgets", phone="555-0100")
    assert updated["companyName"] == "Acme Widgets"
    assert api.get_account()["phone"] == "555-0100"
    assert isinstance(api.get_account_limits(), list)


def test_key_operations(api: CloudAPI, keys: dict[str, TestKey], tmp_path: Path) -> None:
    listed = {k["fingerprint"] for k in api.list_keys()}
    assert {key.md5 for key in keys.values()} <= listed
    own = keys["ed25519"]
    assert api.get_key(own.md5)["fingerprint"] == own.md5

    path = tmp_path / "extra"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    public = path.with_name("extra.pub").read_text()
    created = api.create_key(public, name=f"extra-{uuid.uuid4().hex[:8]}")
    assert api.get_key(created["name"])["fingerprint"] == created["fingerprint"]
    api.delete_key(created)
    with pytest.raises(ResourceNotFoundError):
        api.get_key(created["fingerprint"])


def test_datacenter_operations(api: CloudAPI, emulator: EmulatorServer) -> None:
    assert api.list_datacenters() == emulator.urls
    assert api.get_datacenter("us-test-2") == {
        "name": "us-test-2",
        "url": emulator.urls["us-test-2"],
    }
    with pytest.raises(ResourceNotFoundError):
        api.get_datacenter("nowhere-1")


def test_image_package_network_and_config_operations(api: CloudAPI) -> None:
    images = api.list_images(os="smartos")
    assert images
    assert all(i["os"] == "smartos" for i in images)
    assert api.get_image(images[0]) == images[0]

    packages = api.list_packages()
    named = api.get_package(packages[0]["name"])
    assert named["name"] == packages[0]["name"]
    assert api.get_package({"id": named["id"]})["id"] == named["id"]
    assert [p["id"] for p in api.list_packages(name=named["name"])] == [named["id"]]

    networks = api.list_networks()
    assert api.get_network(networks[-1]) == networks[-1]
    original = api.get_config()
    try:
        assert api.update_config(default_network=networks[-1]) == {
            "default_network": networks[-1]["id"]
        }
        assert api.get_config()["default_network"] == networks[-1]["id"]
    finally:
        if "default_network" in original:
            api.update_config(default_network=original["default_network"])


def test_a_wrong_key_is_refused(emulator: EmulatorServer, tmp_path: Path) -> None:
    path = tmp_path / "stranger"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    with (
        CloudAPI(emulator.url, ACCOUNT, key_file=path, allow_agent=False) as stranger,
        pytest.raises(InvalidCredentialsError) as caught,
    ):
        stranger.get_account()
    assert caught.value.status == 401
    hint = caught.value.hint or ""
    assert "clock" not in hint
    assert f"did not accept key {stranger.key_id} for account 'test'" in hint


# --- one machine through its whole life ------------------------------------------------------


def test_machine_lifecycle(
    api: CloudAPI, image_and_packages: tuple[dict[str, Any], dict[str, Any], dict[str, Any]]
) -> None:
    image, small, large = image_and_packages
    run = uuid.uuid4().hex[:10]
    name = f"client-it-{run}"

    machine = api.create_machine(
        image=image,
        package=small,
        name=name,
        tags={"run": run, "role": "web"},
        metadata={"purpose": "integration", "settings": {"level": 3}},
        firewall_enabled=False,
    )
    mid = machine["id"]
    assert machine["name"] == name
    assert machine["state"] in ("provisioning", "running")

    def fetch() -> dict[str, Any]:
        return api.get_machine(mid)

    def state_is(state: str) -> Callable[[dict[str, Any]], bool]:
        return lambda m: m["state"] == state

    machine = poll(fetch, state_is("running"), "provisioned")
    assert machine["tags"] == {"run": run, "role": "web"}
    assert machine["metadata"]["settings"] == '{"level": 3}'

    # listing and counting by filters
    assert [m["id"] for m in api.list_machines(name=name)] == [mid]
    assert [m["id"] for m in api.list_machines(tags={"run": run})] == [mid]
    assert [m["id"] for m in api.iter_machines(**{"tag.run": run}, state="running")] == [mid]
    assert api.count_machines(tags={"run": run}) == 1
    assert mid in {m["id"] for m in api.list_machines()}

    # power
    api.stop_machine(mid)
    poll(fetch, state_is("stopped"), "stopped")
    api.start_machine(machine)
    poll(fetch, state_is("running"), "started")
    api.reboot_machine(mid)
    poll(lambda: api.machine_audit(mid), lambda a: a[0]["action"] == "reboot", "rebooted")
    poll(fetch, state_is("running"), "running after reboot")

    # resize and rename
    api.resize_machine(mid, large)
    poll(fetch, lambda m: m["package"] == large["name"], "resized")
    api.rename_machine(mid, name + "-b")
    poll(fetch, lambda m: m["name"] == name + "-b", "renamed")

    # firewall and deletion protection flags
    api.enable_machine_firewall(mid)
    poll(fetch, lambda m: m.get("firewall_enabled") is True, "firewall on")
    api.disable_machine_firewall(mid)
    poll(fetch, lambda m: m.get("firewall_enabled") is False, "firewall off")

    # tags
    assert api.add_machine_tags(mid, {"tier": "front", "weight": 5})["tier"] == "front"
    poll(lambda: api.list_machine_tags(mid), lambda t: t.get("weight") == 5, "tags added")
    assert api.get_machine_tag(mid, "tier") == "front"
    api.delete_machine_tag(mid, "tier")
    poll(lambda: api.list_machine_tags(mid), lambda t: "tier" not in t, "tag deleted")
    with pytest.raises(ResourceNotFoundError):
        api.get_machine_tag(mid, "tier")
    assert api.replace_machine_tags(mid, {"run": run, "only": "this"}) == {
        "run": run,
        "only": "this",
    }
    poll(lambda: api.list_machine_tags(mid), lambda t: t == {"run": run, "only": "this"}, "set")
    api.delete_machine_tags(mid)
    poll(lambda: api.list_machine_tags(mid), lambda t: t == {}, "tags cleared")

    # metadata
    merged = api.update_machine_metadata(mid, {"color": "blue", "extra": {"a": 1}})
    assert merged["color"] == "blue"
    assert merged["purpose"] == "integration"
    poll(lambda: api.list_machine_metadata(mid), lambda m: m.get("color") == "blue", "metadata")
    assert api.get_machine_metadata(mid, "extra") == '{"a": 1}'
    assert "credentials" in api.list_machine_metadata(mid, credentials=True)
    api.delete_machine_metadata(mid, "color")
    poll(lambda: api.list_machine_metadata(mid), lambda m: "color" not in m, "key removed")
    api.delete_all_machine_metadata(mid)
    poll(
        lambda: api.list_machine_metadata(mid),
        lambda m: "purpose" not in m and "extra" not in m,
        "metadata cleared",
    )

    # snapshots
    snapshot = api.create_machine_snapshot(mid, "before")
    assert snapshot["name"] == "before"
    poll(
        lambda: api.get_machine_snapshot(mid, "before"),
        lambda s: s.get("state") == "created",
        "snapshot",
    )
    assert "before" in {s["name"] for s in api.list_machine_snapshots(mid)}
    api.stop_machine(mid)
    poll(fetch, state_is("stopped"), "stopped for rollback")
    api.start_machine_from_snapshot(mid, snapshot)
    poll(fetch, state_is("running"), "booted from snapshot")
    api.delete_machine_snapshot(mid, "before")
    poll(
        lambda: {s["name"] for s in api.list_machine_snapshots(mid)},
        lambda names: "before" not in names,
        "snapshot deleted",
    )

    # audit
    actions = [entry["action"] for entry in api.machine_audit(mid)]
    assert {"provision", "stop", "start", "reboot"} <= set(actions)

    # deletion protection, then delete
    api.enable_machine_deletion_protection(mid)
    poll(fetch, lambda m: m["deletion_protection"] is True, "protected")
    with pytest.raises(CannotDestroyMachineError):
        api.delete_machine(mid)
    api.disable_machine_deletion_protection(mid)
    poll(fetch, lambda m: m["deletion_protection"] is False, "unprotected")
    api.delete_machine(mid)

    def gone() -> MachineGoneError | None:
        try:
            api.get_machine(mid)
        except MachineGoneError as exc:
            return exc
        return None

    error = poll(gone, lambda e: e is not None, "deleted")
    assert error is not None
    assert error.status == 410
    assert error.machine is not None
    assert error.machine["state"] == "deleted"
    assert mid not in {m["id"] for m in api.list_machines(tags={"run": run})}
    assert mid in {m["id"] for m in api.list_machines(tombstone=True, name=name + "-b")}


def test_errors_from_a_real_server(api: CloudAPI) -> None:
    with pytest.raises(ResourceNotFoundError) as caught:
        api.get_machine(str(uuid.uuid4()))
    assert caught.value.request_id
    with pytest.raises(CloudAPIError) as invalid:
        api.list_machines(state="exploded")
    assert invalid.value.status == 409
    assert api.last_response is not None
    assert api.last_response.status == 409
