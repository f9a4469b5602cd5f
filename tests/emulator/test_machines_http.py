"""Compute routes over HTTP: images, packages, networks, machines and their sub-resources.

The shared emulator runs with a provision delay of 0: jobs finish 1 ms after they are
queued (metadata jobs 0.5 s), so a short sleep lets them land.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import pytest

from smartdc.emulator.context import Call, EmulatorConfig, EmulatorError
from smartdc.emulator.routes.machine_create import create_machine
from smartdc.emulator.server import EmulatorServer
from smartdc.emulator.store import accounts, catalog, machines
from tests.conftest import ACCOUNT
from tests.emulator.signing import SignedClient, Signer

BASE = "base-64-lts"
PACKAGE = "g4-highcpu-128M"


def settle(seconds: float = 0.01) -> None:
    """Let zero-delay jobs finish (they take 1 ms; metadata jobs 0.5 s)."""
    time.sleep(seconds)


@pytest.fixture
def dc2(emulator: EmulatorServer, signer: Signer) -> Iterator[SignedClient]:
    """A client of the second datacenter, whose machines no other test module creates."""
    client = SignedClient(emulator.urls["us-test-2"], signer)
    yield client
    client.close()


def image_id(client: SignedClient, name: str = BASE) -> str:
    images = client.get(f"/{ACCOUNT}/images", params={"name": name}).json()
    return str(max(images, key=lambda i: i["published_at"])["id"])


def create(client: SignedClient, **body: Any) -> httpx.Response:
    payload: dict[str, Any] = {"image": image_id(client), "package": PACKAGE}
    payload.update(body)
    return client.post(f"/{ACCOUNT}/machines", json=payload)


def running(client: SignedClient, **body: Any) -> dict[str, Any]:
    response = create(client, **body)
    assert response.status_code == 201, response.text
    settle()
    machine: dict[str, Any] = client.get(f"/my/machines/{response.json()['id']}").json()
    assert machine["state"] == "running"
    return machine


def error(response: httpx.Response) -> tuple[int, str | None, str]:
    body = response.json()
    return response.status_code, body.get("code"), body["message"]


def action(client: SignedClient, machine_id: str, verb: str, **body: Any) -> httpx.Response:
    return client.post(f"/my/machines/{machine_id}", params={"action": verb}, json=body or None)


# --- catalog -------------------------------------------------------------------------------


def test_list_images_filters(client: SignedClient) -> None:
    active = client.get(f"/{ACCOUNT}/images").json()
    assert all(i["state"] == "active" for i in active)
    everything = client.get(f"/{ACCOUNT}/images", params={"state": "all"}).json()
    assert len(everything) == len(active) + 1
    smartos64 = client.get(f"/{ACCOUNT}/images", params={"name": "smartos64"}).json()
    assert [i["version"] for i in smartos64] == ["1.6.1", "1.6.2", "1.6.3"]
    zvols = client.get(f"/{ACCOUNT}/images", params={"type": "zvol"}).json()
    assert zvols and all(i["type"] == "zvol" for i in zvols)
    linux = client.get(f"/{ACCOUNT}/images", params={"os": "linux", "name": "~ubuntu"}).json()
    assert {i["name"] for i in linux} == {"ubuntu-20.04", "ubuntu-22.04", "ubuntu-certified-22.04"}
    one = client.get(f"/{ACCOUNT}/images", params={"name": BASE, "version": "22.4.0"}).json()
    assert [i["version"] for i in one] == ["22.4.0"]
    assert client.get(f"/{ACCOUNT}/images", params={"public": "false"}).json() == []
    mine = client.get(f"/{ACCOUNT}/images", params={"owner": catalog.ADMIN_UUID}).json()
    assert len(mine) == len(active)


def test_image_get_and_legacy_versions(client: SignedClient, signer: Signer) -> None:
    found = client.get(f"/{ACCOUNT}/images/{image_id(client, 'centos-7')}")
    assert found.status_code == 200 and found.json()["type"] == "zvol"
    missing = client.get(f"/{ACCOUNT}/images/{uuid.uuid4()}")
    assert missing.status_code == 404 and missing.json()["code"] == "ResourceNotFound"
    legacy = SignedClient(str(client.http.base_url), signer, version="~7.0")
    try:
        image = legacy.get(f"/{ACCOUNT}/images/{image_id(client, 'centos-7')}").json()
        assert image["type"] == "virtualmachine" and "owner" not in image
        refused = legacy.get(f"/{ACCOUNT}/images", params={"type": "zvol"})
        assert error(refused) == (409, "InvalidArgument", "image type zvol is not a valid type")
    finally:
        legacy.close()


def test_packages(client: SignedClient) -> None:
    every = client.get(f"/{ACCOUNT}/packages").json()
    assert {"Small 1GB", "g4-highcpu-1G", "k4-highcpu-kvm-1.75G", "b1-flex-1G"} <= {
        p["name"] for p in every
    }
    g4 = client.get(f"/{ACCOUNT}/packages", params={"name": "g4-*"}).json()
    assert g4 and all(p["name"].startswith("g4-") for p in g4)
    by_memory = client.get(f"/{ACCOUNT}/packages", params={"memory": "1024"}).json()
    assert {p["memory"] for p in by_memory} == {1024}
    flex = client.get(f"/{ACCOUNT}/packages", params={"flexible_disk": "true"}).json()
    assert {p["brand"] for p in flex} == {"bhyve"}
    by_name = client.get(f"/{ACCOUNT}/packages/g4-general-4G").json()
    assert by_name["version"] == "1.0.0"
    assert client.get(f"/{ACCOUNT}/packages/{by_name['id']}").json() == by_name
    assert error(client.get(f"/{ACCOUNT}/packages/nope")) == (
        404,
        "ResourceNotFound",
        "nope not found",
    )


def test_networks_and_config(client: SignedClient) -> None:
    networks = client.get(f"/{ACCOUNT}/networks").json()
    assert [n["name"] for n in networks] == [
        "Joyent-SDC-Public",
        "Joyent-SDC-Private",
        "My-Fabric-Network",  # the account's default fabric network
    ]
    assert client.get(f"/{ACCOUNT}/networks/{networks[1]['id']}").json() == networks[1]
    assert client.get(f"/{ACCOUNT}/networks/{uuid.uuid4()}").status_code == 404
    assert client.get(f"/{ACCOUNT}/config").json() == {"default_network": networks[0]["id"]}
    bad = client.request("PUT", f"/{ACCOUNT}/config", json={"default_network": "x"})
    assert error(bad) == (409, "InvalidArgument", 'property "default_network": must be a UUID')
    unknown = client.request(
        "PUT", f"/{ACCOUNT}/config", json={"default_network": str(uuid.uuid4())}
    )
    assert error(unknown) == (409, "InvalidArgument", "unknown network")
    same = client.request("PUT", f"/{ACCOUNT}/config", json={"default_network": networks[0]["id"]})
    assert same.json() == {"default_network": networks[0]["id"]}


# --- create --------------------------------------------------------------------------------


def test_create_answers_201_provisioning(client: SignedClient) -> None:
    response = create(
        client,
        name="http-create",
        **{"tag.role": "web", "tag.count": 2, "metadata.user-data": "hello", "metadata.x_pw": "s"},
        tags={"flag": True},  # an object: CloudAPI takes only tag.<key> parameters
        metadata={"ignored": "yes"},
        firewall_enabled=True,
    )
    assert response.status_code == 201
    machine = response.json()
    assert response.headers["location"] == f"/{ACCOUNT}/machines/{machine['id']}"
    assert machine["state"] == "provisioning"
    assert machine["ips"] == [] and machine["networks"] == []
    assert machine["package"] == PACKAGE and machine["firewall_enabled"] is True
    assert machine["tags"] == {"role": "web", "count": 2}
    assert machine["metadata"]["user-data"] == "hello" and "x_pw" not in machine["metadata"]
    assert "ignored" not in machine["metadata"]
    keys = machine["metadata"]["root_authorized_keys"]
    assert keys.startswith(("ssh-", "ecdsa-")) and keys.endswith("\n")
    assert all(line for line in keys.split("\n")[:-1])
    settle()
    shown = client.get(f"/my/machines/{machine['id']}").json()
    assert shown["state"] == "running" and len(shown["ips"]) == 2
    assert shown["primaryIp"] == shown["ips"][0]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"image": None, "dataset": None}, (409, "MissingParameter", "image must be specified")),
        (
            {"dataset": "x"},
            (409, "InvalidArgument", "image and dataset are mutually exclusive parameters."),
        ),
        ({"image": "not-a-uuid"}, (409, "InvalidArgument", "not-a-uuid is not a valid image")),
        ({"package": None}, (409, "MissingParameter", "package must be specified")),
        ({"package": "huge"}, (409, "InvalidArgument", "huge is not a valid package")),
        (
            {"package": catalog.catalog_uuid("package", "g4-general-4G@0.9.0")},
            (
                409,
                "InvalidArgument",
                f"{catalog.catalog_uuid('package', 'g4-general-4G@0.9.0')} is inactive."
                " Must use an active package",
            ),
        ),
        ({"networks": [str(uuid.uuid4())]}, (409, "InvalidArgument", "Invalid Networks")),
        (
            {
                "networks": [
                    catalog.PUBLIC_NETWORK_ID,
                    {"ipv4_uuid": catalog.PRIVATE_NETWORK_ID, "ipv4_count": 2},
                ]
            },
            (409, "InvalidArgument", "ipv4_count can only be set to 1"),
        ),
        (
            {"brand": "lx"},
            (409, "InvalidArgument", 'Unknown brand "lx", must be one of: bhyve, kvm'),
        ),
        (
            {"name": "bad name!"},
            (409, "ValidationFailed", "Invalid VM parameters: Invalid machine name"),
        ),
    ],
)
def test_create_validation(
    client: SignedClient, body: dict[str, Any], expected: tuple[int, str, str]
) -> None:
    payload = {"image": image_id(client), "package": PACKAGE, **body}
    payload = {k: v for k, v in payload.items() if v is not None}
    assert error(client.post(f"/{ACCOUNT}/machines", json=payload)) == expected


def test_create_unknown_image_and_package_uuid_are_404(client: SignedClient) -> None:
    assert create(client, image=str(uuid.uuid4())).status_code == 404
    assert create(client, package=str(uuid.uuid4())).status_code == 404


def test_create_resolves_brands(client: SignedClient) -> None:
    kvm = running(client, image=image_id(client, "centos-7"), package="k4-highcpu-kvm-1.75G")
    assert (kvm["brand"], kvm["type"]) == ("kvm", "virtualmachine")
    lx = running(client, image=image_id(client, "ubuntu-22.04"))
    assert lx["brand"] == "lx"
    conflict = create(client, image=image_id(client, "ubuntu-certified-22.04"), brand="kvm",
                      package="b1-flex-1G")  # fmt: skip
    assert conflict.status_code == 409
    small = create(client, image=image_id(client, "centos-7"), package="k4-highcpu-kvm-250M")
    assert small.status_code == 409 and "at least 1024 MiB" in small.json()["message"]


def test_public_network_limit(client: SignedClient) -> None:
    response = create(
        client,
        networks=[
            {"ipv4_uuid": catalog.PUBLIC_NETWORK_ID},
            {"ipv4_uuid": catalog.PUBLIC_NETWORK_ID},
        ],
    )
    assert response.status_code == 201  # duplicates are dropped
    private_only = running(client, networks=[catalog.PRIVATE_NETWORK_ID])
    assert private_only["networks"] == [catalog.PRIVATE_NETWORK_ID]
    assert private_only["nics"][0]["primary"] is True


def test_default_network_setting_is_for_docker_only(client: SignedClient) -> None:
    config = f"/{ACCOUNT}/config"
    client.request("PUT", config, json={"default_network": catalog.PRIVATE_NETWORK_ID})
    try:
        machine = running(client)
    finally:
        client.request("PUT", config, json={"default_network": catalog.PUBLIC_NETWORK_ID})
    # CreateMachine's defaults: the first public network (primary) and the first private one
    assert machine["networks"] == [catalog.PUBLIC_NETWORK_ID, catalog.PRIVATE_NETWORK_ID]
    assert [nic["primary"] for nic in machine["nics"]] == [True, False]


def test_key_required(emulator: EmulatorServer) -> None:
    db = emulator.db
    owner = accounts.get_account(db, ACCOUNT)
    assert owner is not None
    saved = db.query("SELECT * FROM account_keys WHERE account_uuid = ?", (owner["id"],))
    db.execute("DELETE FROM account_keys WHERE account_uuid = ?", (owner["id"],))
    try:
        call = Call(
            method="POST",
            path=f"/{ACCOUNT}/machines",
            path_params={"login": ACCOUNT},
            query={},
            body=None,
            params={"image": catalog.default_images()[0]["id"], "package": PACKAGE},
            headers={},
            version_range="*",
            datacenter="us-test-1",
            account={**owner, "uuid": owner["id"]},
            caller={"type": "signature"},
            db=db,
            config=EmulatorConfig(provision_delay=0),
            now=time.time(),
        )
        with pytest.raises(EmulatorError) as caught:
            create_machine(call)
        assert (caught.value.code, caught.value.message) == (
            "KeyRequired",
            "At least one SSH key is required to provision",
        )
    finally:
        with db.transaction() as conn:
            for row in saved:
                conn.execute(
                    f"INSERT INTO account_keys ({', '.join(row.keys())}) VALUES"
                    f" ({', '.join('?' for _ in row)})",
                    tuple(row),
                )


# --- get, lifecycle, delete ----------------------------------------------------------------


def test_get_machine_errors(client: SignedClient) -> None:
    assert error(client.get(f"/my/machines/{uuid.uuid4()}")) == (
        404,
        "ResourceNotFound",
        "VM not found",
    )
    invalid = client.get("/my/machines/not-a-uuid")
    assert error(invalid) == (409, "ValidationFailed", "Invalid Parameters")
    assert invalid.json()["errors"][0]["field"] == "uuid"


def test_full_lifecycle(client: SignedClient) -> None:
    machine = running(client)
    machine_id = machine["id"]
    assert action(client, machine_id, "stop").status_code == 202
    settle()
    assert client.get(f"/my/machines/{machine_id}").json()["state"] == "stopped"
    assert action(client, machine_id, "stop").status_code == 202  # wrong state: fails later
    settle()
    audit = client.get(f"/my/machines/{machine_id}/audit").json()
    assert (audit[0]["action"], audit[0]["success"]) == ("stop", "no")
    assert audit[0]["caller"]["type"] == "signature"
    assert action(client, machine_id, "start").status_code == 202
    settle()
    rebooted = action(client, machine_id, "reboot")
    assert rebooted.status_code == 202
    settle()
    audit = client.get(f"/my/machines/{machine_id}/audit").json()
    assert audit[0]["action"] == "reboot" and audit[0]["success"] == "yes"
    response_date = parsedate_to_datetime(rebooted.headers["date"])
    finished = audit[0]["time"].replace("Z", "+00:00")
    assert datetime.fromisoformat(finished) > response_date
    assert [e["action"] for e in audit][-1] == "provision"
    assert client.delete(f"/my/machines/{machine_id}").status_code == 204
    settle()
    gone = client.get(f"/my/machines/{machine_id}")
    assert gone.status_code == 410 and gone.json()["state"] == "deleted"
    assert gone.json()["id"] == machine_id
    assert client.head(f"/my/machines/{machine_id}").status_code == 410
    assert client.delete(f"/my/machines/{machine_id}").status_code == 410
    assert action(client, machine_id, "start").status_code == 410
    assert client.get(f"/my/machines/{machine_id}/audit").json()[0]["action"] == "destroy"


def test_unallocated_vm(emulator: EmulatorServer, client: SignedClient) -> None:
    # A machine whose provision job is still running, made through the store.
    owner = machines.Owner(_account_uuid(emulator), "us-test-1")
    spec = machines.MachineSpec(
        image=_active_image(emulator),
        package=catalog.find_package_by_name(emulator.db, owner.account, PACKAGE) or {},
        brand="joyent",
        nics=[],
    )
    created = machines.create_machine(
        emulator.db, owner, spec, caller={}, now=time.time(), provision_delay=600
    )
    response = action(client, created["id"], "reboot")
    assert error(response) == (
        409,
        "UnallocatedVM",
        "Cannot call reboot for a VM that has not been provisioned yet",
    )
    assert client.delete(f"/my/machines/{created['id']}").status_code == 409


def _account_uuid(emulator: EmulatorServer) -> str:
    account = accounts.get_account(emulator.db, ACCOUNT)
    assert account is not None
    return str(account["id"])


def _active_image(emulator: EmulatorServer) -> dict[str, Any]:
    return next(i for i in catalog.default_images() if i["state"] == "active")


def test_action_errors(client: SignedClient) -> None:
    machine_id = running(client)["id"]
    assert error(client.post(f"/my/machines/{machine_id}")) == (
        409,
        "MissingParameter",
        "action is required",
    )
    assert error(action(client, machine_id, "levitate")) == (
        409,
        "InvalidArgument",
        "levitate is not a valid action",
    )
    assert error(action(client, machine_id, "resize")) == (
        409,
        "MissingParameter",
        "package must be specified",
    )
    assert error(action(client, machine_id, "resize", package="nope")) == (
        409,
        "InvalidArgument",
        "nope is not a valid package",
    )
    assert error(action(client, machine_id, "rename")) == (
        409,
        "MissingParameter",
        "New name must be specified",
    )


def test_resize_rename_firewall_and_deletion_protection(client: SignedClient) -> None:
    machine_id = running(client)["id"]
    assert action(client, machine_id, "resize", package="g4-highcpu-256M").status_code == 202
    new_name = f"renamed-{machine_id[:8]}"
    assert action(client, machine_id, "rename", name=new_name).status_code == 202
    assert action(client, machine_id, "enable_firewall").status_code == 202
    assert action(client, machine_id, "enable_deletion_protection").status_code == 202
    settle()
    machine = client.get(f"/my/machines/{machine_id}").json()
    assert (machine["package"], machine["memory"], machine["name"]) == (
        "g4-highcpu-256M",
        256,
        new_name,
    )
    assert machine["firewall_enabled"] is True and machine["deletion_protection"] is True
    refused = client.delete(f"/my/machines/{machine_id}")
    assert error(refused) == (
        409,
        "CannotDestroyMachineError",
        'Instance has "deletion_protection" enabled, preventing deletion',
    )
    actions = [e["action"] for e in client.get(f"/my/machines/{machine_id}/audit").json()]
    assert actions[:4] == ["enable_deletion_protection", "unknown", "rename", "resize"]
    kvm = running(client, image=image_id(client, "centos-7"), package="k4-highcpu-kvm-1.75G")
    assert error(action(client, kvm["id"], "resize", package="k4-highcpu-kvm-3.75G")) == (
        409,
        "InvalidArgument",
        "resize is not supported for KVM virtualmachines",
    )


# --- listing -------------------------------------------------------------------------------


def test_list_filters(dc2: SignedClient) -> None:
    tag = uuid.uuid4().hex[:8]
    web = running(dc2, name=f"web-{tag}", **{"tag.group": tag, "tag.role": "web"})
    other = running(dc2, name=f"db-{tag}", **{"tag.group": tag, "tag.role": "db"})
    vm = running(
        dc2, name=f"vm-{tag}", image=image_id(dc2, "centos-7"), package="k4-highcpu-kvm-1.75G"
    )
    action(dc2, other["id"], "stop")
    settle()

    def names(**params: str) -> list[str]:
        response = dc2.get("/my/machines", params=params)
        assert response.status_code == 200, response.text
        return sorted(m["name"] for m in response.json() if tag in m["name"])

    assert names(**{"tag.group": tag}) == [f"db-{tag}", f"web-{tag}"]
    assert names(**{"tag.group": tag, "tag.role": "web"}) == [f"web-{tag}"]
    assert names(name=f"web-{tag}") == [f"web-{tag}"]
    assert names(state="stopped") == [f"db-{tag}"]
    assert names(state="running") == [f"vm-{tag}", f"web-{tag}"]
    assert names(state="provisioning") == [f"db-{tag}", f"vm-{tag}", f"web-{tag}"]
    assert names(type="virtualmachine") == [f"vm-{tag}"]
    assert names(brand="kvm") == [f"vm-{tag}"]
    assert names(image=vm["image"]) == [f"vm-{tag}"]
    assert names(memory="1792") == [f"vm-{tag}"]
    assert names(docker="true") == []
    assert names(tags="*", state="stopped") == [f"db-{tag}", f"web-{tag}"]
    assert web["id"] in {m["id"] for m in dc2.get("/my/machines").json()}
    dc2.delete(f"/my/machines/{web['id']}")
    settle()
    assert names(name=f"web-{tag}") == []
    assert names(name=f"web-{tag}", tombstone="false") == [f"web-{tag}"]
    assert names(name=f"web-{tag}", state="destroyed") == [f"web-{tag}"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"state": "deleted"}, (409, "InvalidArgument", "deleted is not a valid state")),
        ({"state": "unknown"}, (409, "ValidationFailed", "Invalid Parameters")),
        ({"type": "container"}, (409, "InvalidArgument", "container is not a valid type")),
        ({"brand": "zone"}, (409, "ValidationFailed", "Invalid Parameters")),
        ({"memory": "lots"}, (409, "ValidationFailed", "Invalid Parameters")),
        ({"limit": "1001"}, (409, "ValidationFailed", "Invalid Parameters")),
        ({"limit": "0"}, (409, "ValidationFailed", "Invalid Parameters")),
    ],
)
def test_list_validation(
    dc2: SignedClient, params: dict[str, str], expected: tuple[int, str, str]
) -> None:
    assert error(dc2.get("/my/machines", params=params)) == expected


def test_list_unknown_image_is_404(dc2: SignedClient) -> None:
    assert dc2.get("/my/machines", params={"image": str(uuid.uuid4())}).status_code == 404


def test_paging_over_a_thousand_machines(emulator: EmulatorServer, signer: Signer) -> None:
    login = "pager"

    account = accounts.create_account(emulator.db, login)
    accounts.add_key(emulator.db, account["id"], signer.key.pub_path.read_text().strip())
    owner = machines.Owner(str(account["id"]), "us-test-1")
    spec = machines.MachineSpec(
        image=_active_image(emulator),
        package=catalog.find_package_by_name(emulator.db, owner.account, PACKAGE) or {},
        brand="joyent",
        nics=[],
    )
    for _ in range(1005):
        machines.create_machine(emulator.db, owner, spec, caller={}, now=time.time(),
                                provision_delay=0)  # fmt: skip
    client = SignedClient(emulator.url, Signer(signer.key, login=login))
    try:
        first = client.get(f"/{login}/machines", params={"limit": "1000", "offset": "0"})
        assert first.headers["x-query-limit"] == "1000"
        assert first.headers["x-resource-count"] == "1000"
        second = client.get(f"/{login}/machines", params={"limit": "1000", "offset": "1000"})
        assert second.headers["x-resource-count"] == "5"
        ids = [m["id"] for m in first.json() + second.json()]
        assert ids == sorted(ids, reverse=True) and len(set(ids)) == 1005
        counted = client.head(f"/{login}/machines", params={"limit": "10"})
        assert counted.headers["x-resource-count"] == "10" and counted.content == b""
    finally:
        client.close()


def test_filtered_pages_list_each_machine_once_in_order(
    emulator: EmulatorServer, signer: Signer
) -> None:
    login = "pages"
    account = accounts.create_account(emulator.db, login)
    accounts.add_key(emulator.db, account["id"], signer.key.pub_path.read_text().strip())
    owner = machines.Owner(str(account["id"]), "us-test-1")
    package = catalog.find_package_by_name(emulator.db, owner.account, PACKAGE) or {}
    made: dict[str, tuple[str, str]] = {}
    for index in range(40):
        name = f"{'web' if index % 4 else 'db'}-{index:02d}"
        spec = machines.MachineSpec(
            image=_active_image(emulator), package=package, brand="joyent", nics=[], name=name,
            tags={"role": "front" if index % 3 else "back"},
        )  # fmt: skip
        created = machines.create_machine(
            emulator.db, owner, spec, caller={}, now=time.time(), provision_delay=0
        )
        made[str(created["id"])] = (name, "front" if index % 3 else "back")
    destroyed = sorted(made)[::7]
    for machine_id in destroyed:
        machines.delete_machine(
            emulator.db, owner, machine_id, caller={}, now=time.time(), provision_delay=0
        )
    client = SignedClient(emulator.url, Signer(signer.key, login=login))

    def pages(params: dict[str, str], limit: int) -> list[str]:
        seen: list[str] = []
        while True:
            paging = {"limit": str(limit), "offset": str(len(seen))}
            page = client.get(f"/{login}/machines", params={**params, **paging})
            assert page.status_code == 200
            assert page.headers["x-query-limit"] == str(limit)
            assert page.headers["x-resource-count"] == str(len(page.json()))
            seen += [m["id"] for m in page.json()]
            if len(page.json()) < limit:
                return seen

    try:
        live = [m for m in made if m not in destroyed]
        wanted = {
            "all": (sorted(live, reverse=True), {}),
            "web front": (
                sorted(
                    (m for m in live if made[m][0].startswith("web") and made[m][1] == "front"),
                    reverse=True,
                ),
                {"name": "web", "tag.role": "front"},
            ),
            "with destroyed": (sorted(made, reverse=True), {"tombstone": "1"}),
        }
        for label, (expected, params) in wanted.items():
            for limit in (1, 6, 1000):
                listed = pages(params, limit)
                assert listed == expected, (label, limit)
    finally:
        client.close()


# --- tags, metadata, snapshots -------------------------------------------------------------


def test_tags(client: SignedClient) -> None:
    machine_id = running(client, **{"tag.a": "1"})["id"]
    base = f"/my/machines/{machine_id}/tags"
    added = client.post(base, json={"b": 2, "c": True})
    assert added.status_code == 200 and added.json() == {"a": "1", "b": 2, "c": True}
    assert added.headers["x-job-uuid"]
    settle()
    assert client.get(base).json() == {"a": "1", "b": 2, "c": True}
    assert client.get(f"{base}/a").json() == "1"
    assert client.get(f"{base}/b").json() == ""
    assert error(client.get(f"{base}/zz")) == (404, "ResourceNotFound", 'tag "zz" not found')
    replaced = client.request("PUT", base, json={"only": "this"})
    assert replaced.json() == {"only": "this"}
    settle()
    assert client.get(base).json() == {"only": "this"}
    assert client.delete(f"{base}/only").status_code == 204
    settle()
    assert client.get(base).json() == {}
    assert client.delete(f"{base}/missing").status_code == 404
    client.post(base, json={"x": "1", "y": "2"})
    settle()
    assert client.delete(base).status_code == 204
    settle()
    assert client.get(base).json() == {}


def test_metadata(client: SignedClient) -> None:
    machine_id = running(client, **{"metadata.credentials": {"root": "secret"}})["id"]
    base = f"/my/machines/{machine_id}/metadata"
    updated = client.post(base, json={"foo": "bar", "n": 1, "root_pw": "no", "image": "no"})
    assert updated.status_code == 200 and updated.headers["x-job-uuid"]
    body = updated.json()
    assert body["foo"] == "bar" and "root_pw" not in body and "image" not in body
    settle(0.6)
    assert client.get(f"{base}/foo").json() == "bar"
    assert error(client.get(f"{base}/n")) == (404, "ResourceNotFound", "n is not metadata")
    assert client.get(f"{base}/credentials").json() == {"root": "secret"}
    assert client.get(base, params={"credentials": "true"}).json()["credentials"] == {
        "root": "secret"
    }
    audit = client.get(f"/my/machines/{machine_id}/audit").json()
    assert (audit[0]["action"], audit[0]["success"]) == ("set_metadata", "yes")
    assert error(client.delete(f"{base}/root_authorized_keys")) == (
        409,
        "InvalidArgument",
        "Metadata key root_authorized_keys can not be deleted",
    )
    assert client.delete(f"{base}/foo").status_code == 204
    settle(0.6)
    assert "foo" not in client.get(base).json()
    assert client.delete(base).status_code == 204
    settle(0.6)
    assert list(client.get(base).json()) == ["root_authorized_keys"]
    shown = client.get(f"/my/machines/{machine_id}", params={"credentials": "false"}).json()
    assert shown["metadata"]["credentials"] == {"root": "secret"}
    assert shown["credentials"] == "false"


def test_snapshots(client: SignedClient) -> None:
    machine_id = running(client)["id"]
    base = f"/my/machines/{machine_id}/snapshots"
    created = client.post(base, json={"name": "snap1"})
    assert created.status_code == 201 and created.json() == {"name": "snap1", "state": "queued"}
    assert "location" not in created.headers
    settle()
    assert client.get(f"{base}/snap1").json()["state"] == "created"
    assert [s["name"] for s in client.get(base).json()] == ["snap1"]
    unnamed = client.post(base)
    assert unnamed.status_code == 201
    assert len(unnamed.json()["name"]) == len("20240101T000000Z")
    assert error(client.get(f"{base}/nope")) == (
        404,
        "ResourceNotFound",
        "Snapshot does not exist",
    )
    action(client, machine_id, "stop")
    settle()
    assert client.post(f"{base}/snap1").status_code == 202
    settle()
    assert client.get(f"/my/machines/{machine_id}").json()["state"] == "running"
    audit = client.get(f"/my/machines/{machine_id}/audit").json()
    assert audit[0]["action"] == "rollback_snapshot"
    assert client.delete(f"{base}/snap1").status_code == 204
    settle()
    assert client.get(f"{base}/snap1").json()["state"] == "deleted"
    assert error(client.delete(f"{base}/snap1")) == (404, "ResourceNotFound", "snap1 not found")
    kvm = running(client, image=image_id(client, "centos-7"), package="k4-highcpu-kvm-1.75G")
    refused = client.post(f"/my/machines/{kvm['id']}/snapshots", json={"name": "s"})
    assert refused.status_code == 409 and refused.json()["code"] == "BrandNotSupported"


def test_metadata_stores_context_which_tags_ignore(client: SignedClient) -> None:
    machine_id = running(client)["id"]
    metadata = client.post(
        f"/my/machines/{machine_id}/metadata", json={"context": "prod", "owner_uuid": "x"}
    )
    body = metadata.json()
    assert body["context"] == "prod" and "owner_uuid" not in body
    tags = client.post(f"/my/machines/{machine_id}/tags", json={"context": "prod", "env": "a"})
    assert tags.json() == {"env": "a"}


def test_create_checks_ram_before_network_access(client: SignedClient) -> None:
    small_kvm = {"image": image_id(client, "centos-7"), "package": "k4-highcpu-kvm-250M"}
    # CloudAPI checks the package's RAM (step 8) before access to the networks (step 12) ...
    unknown_network = create(client, networks=[str(uuid.uuid4())], **small_kvm)
    status, code, message = error(unknown_network)
    assert (status, code) == (409, "InvalidArgument")
    assert "at least 1024 MiB" in message
    # ... and after the shape of the networks parameter (step 7).
    malformed = [catalog.PUBLIC_NETWORK_ID, {"ipv4_uuid": "nope"}]
    assert error(create(client, networks=malformed, **small_kvm)) == (
        409,
        "InvalidArgument",
        "ipv4_uuid: nope is not a uuid",
    )
