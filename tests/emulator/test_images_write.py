"""Image writes over HTTP: create from a machine, update, share, clone, export, import, delete.

A private emulator with two accounts (``test`` and ``other``) and two datacenters, so that
images made here stay out of the shared emulator's catalog.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from smartdc.emulator.context import EmulatorError
from smartdc.emulator.db import Database
from smartdc.emulator.server import EmulatorServer
from smartdc.emulator.store import catalog, images, machines
from tests.conftest import ACCOUNT, TestKey
from tests.emulator.checks import error_of
from tests.emulator.own_emulator import two_account_server
from tests.emulator.signing import SignedClient, Signer
from tests.emulator.test_machines_store import _spec

OTHER = "other"
DC1, DC2 = "img-dc-1", "img-dc-2"


@pytest.fixture(scope="module")
def server(
    keys: dict[str, TestKey], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[EmulatorServer]:
    data_dir = tmp_path_factory.mktemp("images-data")
    with two_account_server(keys, data_dir, other=OTHER, datacenters=[DC1, DC2]) as running:
        yield running


@pytest.fixture(scope="module")
def me(server: EmulatorServer, keys: dict[str, TestKey]) -> Iterator[SignedClient]:
    client = SignedClient(server.urls[DC1], Signer(keys["rsa"]))
    yield client
    client.close()


@pytest.fixture(scope="module")
def me_dc2(server: EmulatorServer, keys: dict[str, TestKey]) -> Iterator[SignedClient]:
    client = SignedClient(server.urls[DC2], Signer(keys["rsa"]))
    yield client
    client.close()


@pytest.fixture(scope="module")
def other(server: EmulatorServer, keys: dict[str, TestKey]) -> Iterator[SignedClient]:
    client = SignedClient(server.urls[DC1], Signer(keys["ed25519"], login=OTHER))
    yield client
    client.close()


def account_id(client: SignedClient, login: str) -> str:
    return str(client.get(f"/{login}").json()["id"])


def wait_for(client: SignedClient, path: str, state: str) -> dict[str, Any]:
    for _ in range(200):
        body: dict[str, Any] = client.get(path).json()
        if body.get("state") == state:
            return body
        time.sleep(0.01)
    raise AssertionError(f"{path} never reached {state}")


@pytest.fixture(scope="module")
def stopped(me: SignedClient) -> dict[str, Any]:
    """A stopped machine of ``test`` in the first datacenter, made from an LX image."""
    source = [i for i in me.get("/my/images", params={"name": "ubuntu-22.04"}).json()][-1]
    made = me.post("/my/machines", json={"image": source["id"], "package": "g4-highcpu-1G"})
    assert made.status_code == 201, made.text
    machine_id = made.json()["id"]
    wait_for(me, f"/my/machines/{machine_id}", "running")
    assert me.post(f"/my/machines/{machine_id}", params={"action": "stop"}).status_code == 202
    machine = wait_for(me, f"/my/machines/{machine_id}", "stopped")
    machine["source"] = source
    return machine


def make_image(me: SignedClient, machine: dict[str, Any], **extra: Any) -> httpx.Response:
    body = {"machine": machine["id"], "name": "my-app", "version": "1.0.0", **extra}
    return me.post("/my/images", json=body)


@pytest.fixture(scope="module")
def made(me: SignedClient, stopped: dict[str, Any]) -> dict[str, Any]:
    """An active image of ``test``, made from the stopped machine."""
    response = make_image(me, stopped, description="my app", tags={"role": "app"})
    assert response.status_code == 201, response.text
    return wait_for(me, f"/my/images/{response.json()['id']}", "active")


# --- creating ------------------------------------------------------------------------------


def test_create_answers_201_creating_with_location_and_job(
    me: SignedClient, stopped: dict[str, Any]
) -> None:
    response = make_image(me, stopped, homepage="https://example.com", acl=[])
    assert response.status_code == 201
    body = response.json()
    assert body["state"] == "creating"
    assert (body["name"], body["version"], body["homepage"]) == (
        "my-app",
        "1.0.0",
        "https://example.com",
    )
    assert response.headers["location"] == f"/{ACCOUNT}/images/{body['id']}"
    assert len(response.headers["x-joyent-jobid"]) == 36
    active = wait_for(me, f"/my/images/{body['id']}", "active")
    source = stopped["source"]
    assert active["owner"] == account_id(me, ACCOUNT)
    assert active["public"] is False
    assert (active["os"], active["type"]) == (source["os"], source["type"])
    assert active["requirements"] == source["requirements"]
    assert active["origin"] == source["id"]
    assert active["files"][0]["compression"] == "gzip"
    assert "published_at" in active
    assert me.delete(f"/my/images/{body['id']}").status_code == 204


def test_made_image_is_listed_and_can_be_provisioned(
    me: SignedClient, made: dict[str, Any]
) -> None:
    listed = me.get("/my/images", params={"name": "my-app"}).json()
    assert [i["id"] for i in listed] == [made["id"]]
    machine = me.post("/my/machines", json={"image": made["id"], "package": "g4-highcpu-1G"})
    assert machine.status_code == 201, machine.text
    assert machine.json()["image"] == made["id"]


def test_create_needs_machine_name_and_version(me: SignedClient, stopped: dict[str, Any]) -> None:
    cases = [
        ({"name": "a", "version": "1"}, "machine is a required argument"),
        ({"machine": stopped["id"], "version": "1"}, "Image name is a required argument"),
        ({"machine": stopped["id"], "name": "a"}, "Image version is a required argument"),
    ]
    for body, message in cases:
        assert error_of(me.post("/my/images", json=body)) == (409, "MissingParameter", message)


def test_create_from_unknown_machine_or_from_a_running_one(me: SignedClient) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    response = me.post("/my/images", json={"machine": missing, "name": "a", "version": "1"})
    assert error_of(response) == (
        422,
        "InvalidParameter",
        f'could not get VM "{missing}" details',
    )
    assert response.json()["errors"][0]["field"] == "vm_uuid"
    source = me.get("/my/images", params={"name": "base-64-lts"}).json()[-1]
    made = me.post("/my/machines", json={"image": source["id"], "package": "g4-highcpu-128M"})
    running = wait_for(me, f"/my/machines/{made.json()['id']}", "running")
    accepted = make_image(me, running)  # the machine is shut down, imaged and booted again
    assert accepted.status_code == 201, accepted.text
    wait_for(me, f"/my/images/{accepted.json()['id']}", "active")
    assert wait_for(me, f"/my/machines/{running['id']}", "running")["state"] == "running"
    assert me.delete(f"/my/images/{accepted.json()['id']}").status_code == 204


def test_create_checks_acl_and_tags(me: SignedClient, stopped: dict[str, Any]) -> None:
    status, code, message = error_of(make_image(me, stopped, acl=["not-a-uuid"]))
    assert (status, code) == (422, "InvalidParameter")
    assert '"acl"' in message
    status, code, _ = error_of(make_image(me, stopped, tags="role=app"))
    assert (status, code) == (422, "InvalidParameter")


# --- updating, sharing, cloning ------------------------------------------------------------


def test_update_changes_fields_and_needs_an_action(me: SignedClient, made: dict[str, Any]) -> None:
    path = f"/my/images/{made['id']}"
    updated = me.post(path, params={"action": "update"}, json={"description": "new words"})
    assert updated.status_code == 200
    assert updated.json()["description"] == "new words"
    assert me.get(path).json()["description"] == "new words"
    assert error_of(me.post(path, json={"description": "x"})) == (
        409,
        "MissingParameter",
        "action is a required argument",
    )
    assert error_of(me.post(path, params={"action": "paint"})) == (
        409,
        "InvalidArgument",
        "action paint is not a valid argument",
    )


def test_acl_shares_an_image_and_a_share_can_be_cloned(
    me: SignedClient, other: SignedClient, made: dict[str, Any]
) -> None:
    path = f"/{OTHER}/images/{made['id']}"
    assert other.get(path).status_code == 404
    other_id = account_id(other, OTHER)
    shared = me.post(
        f"/my/images/{made['id']}", params={"action": "update"}, json={"acl": [other_id]}
    )
    assert shared.json()["acl"] == [other_id]
    seen = other.get(path)
    assert seen.status_code == 200
    assert made["id"] in [i["id"] for i in other.get(f"/{OTHER}/images").json()]
    # Visible but not theirs: IMGAPI refuses changes by anyone but the owner.
    assert error_of(other.delete(path))[:2] == (422, "NotImageOwner")
    cloned = other.post(path, params={"action": "clone"})
    assert cloned.status_code == 200, cloned.text
    clone = cloned.json()
    assert clone["id"] != made["id"]
    assert clone["owner"] == other_id
    assert clone["public"] is False
    assert "acl" not in clone
    assert clone["name"] == made["name"]
    # Only shared images can be cloned: not one's own, nor a public one.
    assert error_of(other.post(f"/{OTHER}/images/{clone['id']}", params={"action": "clone"}))[
        :2
    ] == (422, "ImageNotShared")
    public = me.get("/my/images").json()[0]
    assert error_of(me.post(f"/my/images/{public['id']}", params={"action": "clone"}))[:2] == (
        422,
        "ImageNotShared",
    )
    assert other.delete(f"/{OTHER}/images/{clone['id']}").status_code == 204


def test_public_images_cannot_be_changed_or_deleted(me: SignedClient) -> None:
    public = me.get("/my/images").json()[0]
    assert error_of(me.delete(f"/my/images/{public['id']}"))[:2] == (422, "NotImageOwner")
    update = me.post(f"/my/images/{public['id']}", params={"action": "update"}, json={"name": "x"})
    assert error_of(update)[:2] == (422, "NotImageOwner")


# --- export and import ---------------------------------------------------------------------


def test_export_names_the_manta_paths(me: SignedClient, made: dict[str, Any]) -> None:
    path = f"/my/images/{made['id']}"
    response = me.post(path, params={"action": "export", "manta_path": "~~/stor/images/"})
    assert response.status_code == 200
    body = response.json()
    assert body["image_path"] == f"/{ACCOUNT}/stor/images/my-app-1.0.0.zfs.gz"
    assert body["manifest_path"] == f"/{ACCOUNT}/stor/images/my-app-1.0.0.imgmanifest"
    assert body["manta_url"].startswith("https://")
    assert error_of(me.post(path, params={"action": "export"})) == (
        409,
        "MissingParameter",
        "Image destination manta_path is a required argument",
    )
    foreign = me.post(path, params={"action": "export", "manta_path": "/someone/stor/x"})
    assert error_of(foreign)[:2] == (422, "NotMantaPathOwner")


def test_import_copies_an_image_into_another_datacenter(
    me: SignedClient, me_dc2: SignedClient, made: dict[str, Any]
) -> None:
    assert me_dc2.get(f"/my/images/{made['id']}").status_code == 404
    query = {"action": "import-from-datacenter", "datacenter": DC1, "id": made["id"]}
    imported = me_dc2.post("/my/images", params=query)
    assert imported.status_code == 200, imported.text
    assert imported.json()["id"] == made["id"]
    assert me_dc2.get(f"/my/images/{made['id']}").json()["name"] == "my-app"
    assert error_of(me_dc2.post("/my/images", params=query))[:2] == (
        409,
        "ImageUuidAlreadyExists",
    )
    # Deleting the copy in one datacenter leaves the other's.
    assert me_dc2.delete(f"/my/images/{made['id']}").status_code == 204
    assert me_dc2.get(f"/my/images/{made['id']}").status_code == 404
    assert me.get(f"/my/images/{made['id']}").status_code == 200


def test_import_errors(me_dc2: SignedClient, made: dict[str, Any]) -> None:
    base = {"action": "import-from-datacenter"}
    assert error_of(me_dc2.post("/my/images", params={**base, "id": made["id"]})) == (
        409,
        "MissingParameter",
        "datacenter is a required argument",
    )
    assert error_of(me_dc2.post("/my/images", params={**base, "datacenter": DC1, "id": "x"})) == (
        409,
        "InvalidArgument",
        "id x must be a UUID",
    )
    unknown = me_dc2.post("/my/images", params={**base, "datacenter": "nowhere", "id": made["id"]})
    assert error_of(unknown)[:2] == (422, "InvalidParameter")


# --- deleting ------------------------------------------------------------------------------


def test_delete_is_for_the_owner(
    me: SignedClient, other: SignedClient, stopped: dict[str, Any]
) -> None:
    image_id = make_image(me, stopped, name="doomed").json()["id"]
    wait_for(me, f"/my/images/{image_id}", "active")
    assert error_of(other.delete(f"/{OTHER}/images/{image_id}")) == (
        404,
        "ResourceNotFound",
        f"image {image_id} not found",
    )
    assert me.delete(f"/my/images/{image_id}").status_code == 204
    assert me.get(f"/my/images/{image_id}").status_code == 404
    assert me.delete(f"/my/images/{image_id}").status_code == 404


# --- the store's clock ---------------------------------------------------------------------


def test_creation_finishes_when_its_job_is_due() -> None:
    db = Database(None)
    account = "5e1d7c3b-7f0a-4a5e-9b1c-2d3e4f5a6b7c"
    t0 = 1_700_000_000.0
    owner = machines.Owner(account, "dc-1")
    caller = {"type": "signature"}
    machine = machines.create_machine(
        db, owner, _spec(db), caller=caller, now=t0, provision_delay=1
    )
    machines.queue_job(
        db, owner, machine["id"], "stop", {}, caller=caller, now=t0 + 5, provision_delay=1
    )
    viewer = images.Viewer(account, "dc-1", t0 + 10)
    with pytest.raises(EmulatorError) as refused:
        images.create_from_machine(
            db, images.Viewer(account, "dc-1", t0 + 5), machine["id"], {}, provision_delay=1
        )
    assert refused.value.code == "VmNotStopped"
    created = images.create_from_machine(
        db, viewer, machine["id"], {"name": "n", "version": "1"}, provision_delay=30
    )
    image_id = created.image["id"]
    early = images.Viewer(account, "dc-1", t0 + 69)
    assert images.get_visible(db, early, image_id)["state"] == "creating"  # type: ignore[index]
    listed = {i["id"]: i["state"] for i in images.list_visible(db, early)}
    assert listed[image_id] == "creating"
    late = images.Viewer(account, "dc-1", t0 + 70)
    assert images.get_visible(db, late, image_id)["state"] == "active"  # type: ignore[index]
    assert catalog.get_image(db, account, image_id, "dc-2") is None
