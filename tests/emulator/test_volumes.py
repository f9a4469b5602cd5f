"""ListVolumes, CreateVolume, GetVolume, UpdateVolume, DeleteVolume and ListVolumeSizes over
HTTP, and the ``smartdc.CloudAPI`` volume methods against them.

A private emulator with a provision delay of 0: a volume is ready, and a deleted one gone,
within milliseconds, so a short sleep shows the outcome.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from smartdc import CloudAPI
from smartdc.emulator.store import catalog
from smartdc.errors import VolumeNotFoundError
from tests.conftest import ACCOUNT, TestKey
from tests.emulator.checks import error_of
from tests.emulator.own_emulator import account_uuid, private_emulator, settle
from tests.emulator.signing import SignedClient


@pytest.fixture(scope="module")
def clients(
    keys: dict[str, TestKey], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[SignedClient, SignedClient]]:
    with private_emulator(keys, tmp_path_factory.mktemp("volumes-data")) as pair:
        yield pair


@pytest.fixture(scope="module")
def mine(clients: tuple[SignedClient, SignedClient]) -> SignedClient:
    return clients[0]


@pytest.fixture(scope="module")
def theirs(clients: tuple[SignedClient, SignedClient]) -> SignedClient:
    return clients[1]


@pytest.fixture(scope="module")
def fabric_network(mine: SignedClient) -> dict[str, Any]:
    networks = mine.get("/my/networks", params={"fabric": "true"}).json()
    return dict(networks[0])


def create(client: SignedClient, **body: Any) -> dict[str, Any]:
    response = client.post("/my/volumes", json={"type": "tritonnfs", **body})
    assert response.status_code == 201, response.text
    volume: dict[str, Any] = response.json()
    return volume


def names(client: SignedClient, **params: Any) -> list[str]:
    response = client.get("/my/volumes", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["x-resource-count"] == str(len(response.json()))
    return [v["name"] for v in response.json()]


def test_volume_sizes(mine: SignedClient) -> None:
    response = mine.get("/my/volumesizes")
    assert response.status_code == 200
    sizes = response.json()
    assert sizes[:3] == [
        {"size": 10240, "type": "tritonnfs"},
        {"size": 20480, "type": "tritonnfs"},
        {"size": 30720, "type": "tritonnfs"},
    ]
    assert sizes[-1] == {"size": 1024000, "type": "tritonnfs"}
    assert [s["size"] for s in sizes] == sorted(s["size"] for s in sizes)
    assert all(s["size"] % 10240 == 0 for s in sizes)
    assert response.headers["x-resource-count"] == str(len(sizes))
    assert mine.get("/my/volumesizes", params={"type": "tritonnfs"}).json() == sizes
    assert error_of(mine.get("/my/volumesizes", params={"type": "zfs"})) == (
        409,
        "InvalidArgument",
        "invalid value for type: zfs",
    )


def test_create_then_ready(mine: SignedClient, fabric_network: dict[str, Any]) -> None:
    volume = create(mine, name="data", tags={"role": "db"})
    assert volume["state"] == "creating"
    assert volume["name"] == "data"
    assert volume["type"] == "tritonnfs"
    assert volume["size"] == 10240
    assert volume["owner_uuid"] == account_uuid(mine)
    assert volume["networks"] == [fabric_network["id"]]
    assert volume["refs"] == []
    assert volume["tags"] == {"role": "db"}
    host, path = volume["filesystem_path"].split(":")
    assert path == "/exports/data"
    assert host.startswith("192.168.12")  # on the default fabric network
    settle()
    got = mine.get(f"/my/volumes/{volume['id']}")
    assert got.status_code == 200
    assert got.json() == {**volume, "state": "ready"}


def test_volumes_get_addresses_of_their_own(mine: SignedClient) -> None:
    first = create(mine, name="addr-a")
    second = create(mine, name="addr-b")
    assert first["filesystem_path"] != second["filesystem_path"]


def test_create_with_size_network_and_generated_name(
    mine: SignedClient, fabric_network: dict[str, Any]
) -> None:
    volume = create(mine, size=20480, networks=[fabric_network["id"]])
    assert volume["size"] == 20480
    assert volume["name"] == f"volume-{volume['id'][:8]}"
    assert volume["networks"] == [fabric_network["id"]]


def test_create_refusals(
    mine: SignedClient, theirs: SignedClient, fabric_network: dict[str, Any]
) -> None:
    def refusal(**body: Any) -> tuple[int, str, str]:
        return error_of(mine.post("/my/volumes", json=body))

    assert refusal(name="x1") == (409, "MissingParameter", "type is required")
    status, code, message = refusal(type="zfs", name="-bad", size=-1)
    assert (status, code) == (409, "InvalidArgument")
    assert message.startswith("type: zfs is not a supported volume type")
    assert "name: must match" in message
    assert "size: -1 is not a positive whole number of MiB" in message
    status, code, message = refusal(type="tritonnfs", size=15000)
    assert (status, code) == (409, "VolumeSizeNotAvailable")
    assert message.startswith("Volume size 15000 is not available. Available sizes are: 10240,")
    assert refusal(type="tritonnfs", networks=[catalog.PUBLIC_NETWORK_ID]) == (
        409,
        "InvalidNetworks",
        f"Invalid networks: {catalog.PUBLIC_NETWORK_ID}",
    )
    other_fabric = theirs.get("/my/networks", params={"fabric": "true"}).json()[0]["id"]
    assert other_fabric != fabric_network["id"]
    assert refusal(type="tritonnfs", networks=[other_fabric])[1] == "InvalidNetworks"
    assert refusal(type="tritonnfs", tags={"n": 1}) == (
        409,
        "InvalidArgument",
        "tags: must be an object whose values are strings",
    )
    create(mine, name="taken")
    assert refusal(type="tritonnfs", name="taken") == (
        409,
        "VolumeAlreadyExists",
        "Volume with name taken already exists",
    )


def test_get_refusals(mine: SignedClient, theirs: SignedClient) -> None:
    not_found = (404, "VolumeNotFound", "Volume not found")
    assert error_of(mine.get("/my/volumes/5e2a9d1c-0000-4000-8000-000000000000")) == not_found
    assert error_of(mine.get("/my/volumes/not-a-uuid")) == not_found
    other = create(theirs, name="private")
    assert error_of(mine.get(f"/my/volumes/{other['id']}")) == not_found
    assert error_of(mine.delete(f"/my/volumes/{other['id']}")) == not_found
    assert mine.head("/my/volumes").status_code == 405


def test_list_filters(theirs: SignedClient) -> None:
    for name, size, tags in (
        ("web-logs", 10240, {"tier": "web"}),
        ("web-cache", 20480, {"tier": "web"}),
        ("db-logs", 10240, {"tier": "db"}),
    ):
        create(theirs, name=name, size=size, tags=tags)
    settle()
    assert names(theirs, name="web-logs") == ["web-logs"]
    assert names(theirs, name="web-*") == ["web-logs", "web-cache"]
    assert names(theirs, name="*-logs") == ["web-logs", "db-logs"]
    assert names(theirs, name="*b-*") == ["web-logs", "web-cache", "db-logs"]
    assert names(theirs, size="20480") == ["web-cache"]
    assert names(theirs, state="ready", type="tritonnfs") == [
        "private",
        "web-logs",
        "web-cache",
        "db-logs",
    ]
    assert names(theirs, state="creating") == []
    web_or_db = {"or": [{"eq": ["name", "web-cache"]}, {"eq": ["tags.tier", "db"]}]}
    assert names(theirs, predicate=json.dumps(web_or_db)) == ["web-cache", "db-logs"]
    not_web = {"and": [{"ne": ["tags.tier", "web"]}, {"eq": ["state", "ready"]}]}
    assert names(theirs, predicate=json.dumps(not_web)) == ["private", "db-logs"]


def test_list_refusals(mine: SignedClient) -> None:
    def refusal(**params: str) -> tuple[int, str, str]:
        return error_of(mine.get("/my/volumes", params=params))

    assert refusal(owner="x") == (409, "InvalidArgument", "invalid parameter: owner")
    assert refusal(state="gone") == (409, "InvalidArgument", "invalid value for state: gone")
    assert refusal(type="zfs") == (409, "InvalidArgument", "invalid value for type: zfs")
    assert refusal(size="10G") == (409, "InvalidArgument", "invalid value for size: 10G")
    assert refusal(name="a*b")[1] == "InvalidArgument"
    assert refusal(predicate="{") == (409, "InvalidArgument", "predicate must be valid JSON")
    assert refusal(predicate='{"gt": ["size", 1]}')[2] == "predicate operator gt is not supported"
    assert refusal(predicate='{"eq": ["size", 1]}')[2] == "predicate field size is not supported"
    assert refusal(name="x", predicate='{"eq": ["name", "y"]}') == (
        409,
        "InvalidArgument",
        "name cannot be both a parameter and in the predicate",
    )


def test_failed_volumes_only_when_asked(mine: SignedClient) -> None:
    assert mine.post("/__emulator/faults", json={"fail_provision": 1}).status_code == 200
    failed = create(mine, name="doomed")
    settle()
    assert mine.get(f"/my/volumes/{failed['id']}").json()["state"] == "failed"
    assert "doomed" not in names(mine)
    assert names(mine, state="failed") == ["doomed"]
    assert "doomed" in names(mine, predicate='{"ne": ["name", "nothing"]}')
    # The name of a failed volume is free again.
    assert create(mine, name="doomed")["state"] == "creating"


def test_rename(mine: SignedClient) -> None:
    volume = create(mine, name="before")
    create(mine, name="occupied")
    response = mine.post(f"/my/volumes/{volume['id']}", json={"name": "after"})
    assert response.status_code == 200
    assert response.json()["name"] == "after"
    assert mine.get(f"/my/volumes/{volume['id']}").json()["name"] == "after"
    url = f"/my/volumes/{volume['id']}"
    assert error_of(mine.post(url, json={"name": "after", "size": 20480})) == (
        409,
        "InvalidArgument",
        "invalid parameter: size",
    )
    assert error_of(mine.post(url, json={"name": "occupied"}))[1] == "VolumeAlreadyExists"
    assert error_of(mine.post(url, json={})) == (409, "MissingParameter", "name is required")


def test_delete_frees_the_name_and_address(mine: SignedClient) -> None:
    volume = create(mine, name="short-lived")
    settle()
    response = mine.delete(f"/my/volumes/{volume['id']}")
    assert response.status_code == 204
    assert response.content == b""
    settle()
    assert error_of(mine.get(f"/my/volumes/{volume['id']}"))[:2] == (404, "VolumeNotFound")
    assert "short-lived" not in names(mine, predicate='{"ne": ["name", ""]}')
    again = create(mine, name="short-lived")
    assert again["filesystem_path"] == volume["filesystem_path"]


def test_client_methods(
    clients: tuple[SignedClient, SignedClient], keys: dict[str, TestKey]
) -> None:
    url = str(clients[0].http.base_url)
    key = keys["rsa"]
    with CloudAPI(url, ACCOUNT, key_id=key.md5, key_file=key.path, allow_agent=False) as api:
        assert api.list_volume_sizes()[0] == {"size": 10240, "type": "tritonnfs"}
        volume = api.create_volume(name="from-client", size=30720, tags={"app": "x"})
        assert volume["state"] == "creating"
        settle()
        assert api.get_volume(volume["id"])["state"] == "ready"
        assert [v["id"] for v in api.list_volumes(name="from-*")] == [volume["id"]]
        listed = api.list_volumes(predicate={"eq": ["tags.app", "x"]})
        assert [v["id"] for v in listed] == [volume["id"]]
        assert api.update_volume(volume, name="renamed")["name"] == "renamed"
        api.delete_volume(volume)
        settle()
        with pytest.raises(VolumeNotFoundError):
            api.get_volume(volume["id"])
