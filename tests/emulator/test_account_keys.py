"""Account, key and datacenter operations over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import pytest

from smartdc.emulator.server import EmulatorServer
from smartdc.emulator.store import accounts
from tests.conftest import ACCOUNT, TestKey
from tests.emulator.checks import error_of
from tests.emulator.signing import SignedClient, Signer


@pytest.fixture
def spare_key(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh public key line not registered anywhere."""
    from tests.conftest import make_key

    key = make_key(tmp_path_factory.mktemp("spare"), "spare", "ed25519", "256", "RFC4716", None)
    yield key.pub_path.read_text().strip()


# --- account -------------------------------------------------------------------------------


def test_get_account_by_my_and_by_login(client: SignedClient) -> None:
    mine = client.get("/my").json()
    assert mine == client.get(f"/{ACCOUNT}").json()
    assert mine["login"] == ACCOUNT
    assert {"id", "email", "triton_cns_enabled", "created", "updated"} <= set(mine)


def test_head_account(client: SignedClient) -> None:
    response = client.head("/my")
    assert response.status_code == 200
    assert response.content == b""


def test_update_account(client: SignedClient) -> None:
    response = client.post(
        "/my", json={"firstName": "Ada", "lastName": "Lovelace", "triton_cns_enabled": True}
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["firstName"], body["lastName"], body["triton_cns_enabled"]) == (
        "Ada",
        "Lovelace",
        True,
    )
    assert client.get("/my").json()["triton_cns_enabled"] is True
    assert (
        client.post("/my", json={"triton_cns_enabled": "false"}).json()["triton_cns_enabled"]
        is False
    )
    assert error_of(client.post("/my", json={"triton_cns_enabled": "yes"}))[:2] == (
        409,
        "InvalidArgument",
    )


def test_account_limits(client: SignedClient) -> None:
    assert client.get("/my/limits").json() == []


def test_another_existing_account_is_forbidden(
    client: SignedClient, emulator: EmulatorServer
) -> None:
    if accounts.get_account(emulator.db, "neighbour") is None:
        accounts.create_account(emulator.db, "neighbour")
    response = client.get("/neighbour/keys")
    status, code, message = error_of(response)
    assert (status, code) == (403, "NotAuthorized")
    assert message.startswith("You do not have permission to access /neighbour/keys")


def test_unknown_account_in_path(client: SignedClient) -> None:
    assert error_of(client.get("/nobody/keys")) == (
        404,
        "ResourceNotFound",
        "nobody does not exist",
    )


# --- keys ----------------------------------------------------------------------------------


def test_list_keys_has_every_registered_key(client: SignedClient, keys: dict[str, TestKey]) -> None:
    listed = {key["name"]: key for key in client.get("/my/keys").json()}
    for name, key in keys.items():
        assert listed[name]["fingerprint"] == key.md5
        assert listed[name]["key"] == key.pub_path.read_text().strip()
        assert set(listed[name]) == {"name", "fingerprint", "key"}


def test_get_key_by_name_and_fingerprint(client: SignedClient, keys: dict[str, TestKey]) -> None:
    by_name = client.get("/my/keys/ecdsa521").json()
    by_fingerprint = client.get(f"/my/keys/{keys['ecdsa521'].md5}").json()
    assert by_name == by_fingerprint
    assert client.head("/my/keys/ecdsa521").status_code == 200


def test_key_lifecycle(client: SignedClient, spare_key: str) -> None:
    created = client.post("/my/keys", json={"key": spare_key, "name": "spare"})
    assert created.status_code == 201
    key = created.json()
    assert key["name"] == "spare"
    assert created.headers["location"] == f"/{ACCOUNT}/keys/{quote(key['fingerprint'], safe='')}"
    assert client.get("/my/keys/spare").json() == key

    duplicate = client.post("/my/keys", json={"key": spare_key, "name": "other-name"})
    assert error_of(duplicate) == (409, "InvalidArgument", "key already exists or is invalid")

    assert client.delete(f"/my/keys/{key['fingerprint']}").status_code == 204
    assert error_of(client.get("/my/keys/spare")) == (
        404,
        "ResourceNotFound",
        "spare does not exist",
    )
    assert client.delete("/my/keys/spare").status_code == 404


def test_key_name_defaults_to_the_comment(client: SignedClient, spare_key: str) -> None:
    created = client.post("/my/keys", json={"key": spare_key}).json()
    assert created["name"] == "spare@smartdc-tests"
    client.delete(f"/my/keys/{created['fingerprint']}")


def test_key_in_the_query_string_without_content_type(client: SignedClient, spare_key: str) -> None:
    response = client.post("/my/keys", params={"key": spare_key, "name": "from-query"})
    assert response.status_code == 201, response.text
    client.delete("/my/keys/from-query")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, (409, "MissingParameter", "key is a required argument")),
        ({"key": 42}, (409, "InvalidArgument", "key must be a String")),
        ({"key": "nonsense"}, (409, "InvalidArgument", "key is invalid")),
        (
            {"key": "ssh-rsa AAAAbroken"},
            (409, "InvalidArgument", "key already exists or is invalid"),
        ),
    ],
)
def test_create_key_errors(
    client: SignedClient, body: dict[str, object], expected: tuple[int, str, str]
) -> None:
    assert error_of(client.post("/my/keys", json=body)) == expected


def test_new_key_authenticates_in_every_datacenter(
    emulator: EmulatorServer, client: SignedClient, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from tests.conftest import make_key

    fresh = make_key(tmp_path_factory.mktemp("fresh"), "fresh", "ecdsa", "256", "RFC4716", None)
    client.post("/my/keys", json={"key": fresh.pub_path.read_text(), "name": "fresh"})
    try:
        for url in emulator.urls.values():
            signed = SignedClient(url, Signer(fresh))
            assert signed.get("/my").status_code == 200
            signed.close()
    finally:
        client.delete("/my/keys/fresh")
    signed = SignedClient(emulator.url, Signer(fresh))
    assert signed.get("/my").status_code == 401
    signed.close()


# --- datacenters ---------------------------------------------------------------------------


def test_list_datacenters(client: SignedClient, emulator: EmulatorServer) -> None:
    response = client.get("/my/datacenters")
    assert response.json() == emulator.urls
    assert list(response.json()) == ["us-test-1", "us-test-2"]
    assert response.headers["triton-datacenter-name"] == "us-test-1"


def test_second_datacenter_names_itself(emulator: EmulatorServer, signer: Signer) -> None:
    signed = SignedClient(emulator.urls["us-test-2"], signer)
    response = signed.get("/my/datacenters")
    signed.close()
    assert response.headers["triton-datacenter-name"] == "us-test-2"
    assert response.json() == emulator.urls


def test_get_datacenter_redirects(client: SignedClient, emulator: EmulatorServer) -> None:
    response = client.get("/my/datacenters/us-test-2")
    assert response.status_code == 302
    assert response.headers["location"] == emulator.urls["us-test-2"]
    assert response.json()["code"] == "ResourceMoved"


def test_unknown_datacenter(client: SignedClient) -> None:
    assert error_of(client.get("/my/datacenters/nowhere")) == (
        404,
        "ResourceNotFound",
        "nowhere is not an available datacenter",
    )


def test_services(client: SignedClient, emulator: EmulatorServer) -> None:
    assert client.get("/my/services").json() == {"cloudapi": emulator.url}
