"""RBAC over HTTP: users, roles, policies, role tags, access keys, sub-user authentication and
authorization, against a private emulator (two accounts, ``test`` and ``other``)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from smartdc.emulator.server import EmulatorServer
from tests.conftest import ACCOUNT, TestKey
from tests.emulator.own_emulator import OTHER, PACKAGE, two_account_server
from tests.emulator.signing import SignedClient, Signer

PASSWORD = "secret123"


@pytest.fixture(scope="module")
def server(
    keys: dict[str, TestKey], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[EmulatorServer]:
    with two_account_server(keys, tmp_path_factory.mktemp("rbac")) as running:
        yield running


@pytest.fixture
def owner(server: EmulatorServer, keys: dict[str, TestKey]) -> Iterator[SignedClient]:
    client = SignedClient(server.url, Signer(keys["rsa"]))
    yield client
    client.close()


@pytest.fixture
def other(server: EmulatorServer, keys: dict[str, TestKey]) -> Iterator[SignedClient]:
    client = SignedClient(server.url, Signer(keys["ed25519"], login=OTHER))
    yield client
    client.close()


def _unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def _pub(key: TestKey) -> str:
    return Path(key.pub_path).read_text().strip()


class SubUser:
    """A sub-user of ``test`` with the ecdsa256 key, and a client signing as it."""

    def __init__(self, server: EmulatorServer, owner: SignedClient, key: TestKey) -> None:
        self.login = _unique("u")
        created = owner.post(
            f"/{ACCOUNT}/users",
            json={"login": self.login, "email": f"{self.login}@example.com", "password": PASSWORD},
        )
        assert created.status_code == 201, created.text
        self.id = created.json()["id"]
        added = owner.post(f"/{ACCOUNT}/users/{self.login}/keys", json={"key": _pub(key)})
        assert added.status_code == 201, added.text
        self.fingerprint = added.json()["fingerprint"]
        signer = Signer(key, key_id=f"/{ACCOUNT}/users/{self.login}/keys/{self.fingerprint}")
        self.client = SignedClient(server.url, signer)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(path, **kwargs)


@pytest.fixture
def bob(server: EmulatorServer, owner: SignedClient, keys: dict[str, TestKey]) -> Iterator[SubUser]:
    user = SubUser(server, owner, keys["ecdsa256"])
    yield user
    user.client.close()


def _policy(owner: SignedClient, *rules: str) -> dict[str, Any]:
    response = owner.post(f"/{ACCOUNT}/policies", json={"name": _unique("p"), "rules": list(rules)})
    assert response.status_code == 201, response.text
    return dict(response.json())


def _role(
    owner: SignedClient, user: SubUser, policy: dict[str, Any], *, default: bool = True
) -> dict[str, Any]:
    member = {"type": "subuser", "login": user.login, "default": default}
    response = owner.post(
        f"/{ACCOUNT}/roles",
        json={"name": _unique("r"), "members": [member], "policies": [{"id": policy["id"]}]},
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def _image(client: SignedClient) -> str:
    images = client.get("/my/images", params={"name": "base-64-lts"}).json()
    return str(max(images, key=lambda i: i["published_at"])["id"])


def _tag(owner: SignedClient, path: str, *role_names: str) -> httpx.Response:
    response = owner.request("PUT", path, json={"role-tag": list(role_names)})
    assert response.status_code == 200, response.text
    return response


# --- users ---------------------------------------------------------------------------------


def test_user_life_cycle(owner: SignedClient) -> None:
    login = _unique("alice")
    created = owner.post(
        f"/{ACCOUNT}/users",
        json={
            "login": login,
            "email": f"{login}@example.com",
            "password": PASSWORD,
            "firstName": "Alice",
        },
    )
    assert created.status_code == 201
    assert created.headers["location"] == f"/{ACCOUNT}/users/{login}"
    user = created.json()
    assert list(user)[:3] == ["id", "login", "email"]
    assert user["firstName"] == "Alice"
    assert "password" not in user
    assert owner.get(f"/{ACCOUNT}/users/{login}").json()["id"] == user["id"]
    assert owner.get(f"/my/users/{user['id']}").json()["login"] == login
    assert login in {u["login"] for u in owner.get("/my/users").json()}

    updated = owner.post(f"/my/users/{user['id']}", json={"firstName": "", "lastName": "Smith"})
    assert updated.status_code == 200
    assert "firstName" not in updated.json()
    assert updated.json()["lastName"] == "Smith"

    assert owner.delete(f"/my/users/{login}").status_code == 204
    assert owner.get(f"/my/users/{login}").status_code == 404


def test_create_user_names_every_missing_field(owner: SignedClient) -> None:
    response = owner.post("/my/users", json={"login": _unique("x")})
    assert response.status_code == 409
    assert response.json()["code"] == "MissingParameter"
    assert "email" in response.json()["message"] and "password" in response.json()["message"]


def test_duplicate_login_and_bad_inputs_are_refused(owner: SignedClient) -> None:
    login = _unique("dup")
    body = {"login": login, "email": f"{login}@example.com", "password": PASSWORD}
    assert owner.post("/my/users", json=body).status_code == 201
    again = owner.post("/my/users", json=body)
    assert again.status_code == 409
    assert again.json()["message"] == "Login is already taken"
    for bad in (
        {**body, "login": "9starts-with-digit"},
        {**body, "login": _unique("e"), "email": "not-an-email"},
        {**body, "login": _unique("p"), "password": "short"},
    ):
        response = owner.post("/my/users", json=bad)
        assert response.status_code == 409, bad
        assert response.json()["code"] == "InvalidArgument"


def test_change_password_needs_a_matching_confirmation(owner: SignedClient, bob: SubUser) -> None:
    path = f"/my/users/{bob.login}/change_password"
    mismatch = owner.post(path, json={"password": "newpass123", "password_confirmation": "x"})
    assert mismatch.status_code == 409
    ok = owner.post(path, json={"password": "newpass123", "password_confirmation": "newpass123"})
    assert ok.status_code == 200
    assert ok.json()["login"] == bob.login


def test_user_form_encoded_create_is_unsupported(owner: SignedClient) -> None:
    response = owner.post(
        "/my/users",
        content=b"login=x&email=x%40example.com&password=secret123",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 415


# --- roles and policies --------------------------------------------------------------------


def test_role_shapes_by_version(owner: SignedClient, bob: SubUser) -> None:
    policy = _policy(owner, "CAN listmachines")
    role = _role(owner, bob, policy)
    assert role["members"] == [
        {"type": "subuser", "id": bob.id, "login": bob.login, "default": True}
    ]
    assert role["policies"] == [{"id": policy["id"], "name": policy["name"]}]
    legacy = owner.get(f"/my/roles/{role['id']}", headers={"Accept-Version": "~8"}).json()
    assert legacy["members"] == [bob.login]
    assert legacy["default_members"] == [bob.login]
    assert legacy["policies"] == [policy["name"]]
    by_name = owner.get(f"/my/roles/{role['name']}").json()
    assert by_name["id"] == role["id"]


def test_empty_role_has_every_list(owner: SignedClient) -> None:
    response = owner.post("/my/roles", json={"name": _unique("empty")})
    assert response.status_code == 201
    assert response.headers["location"] == f"/{ACCOUNT}/roles/{response.json()['id']}"
    assert response.json()["members"] == []
    assert response.json()["default_members"] == []
    assert response.json()["policies"] == []


def test_role_with_unknown_members_and_policies(owner: SignedClient) -> None:
    response = owner.post(
        "/my/roles",
        json={
            "name": _unique("r"),
            "members": [{"type": "subuser", "login": "nobody"}],
            "policies": [{"name": "nopolicy"}],
        },
    )
    assert response.status_code == 409
    assert response.json()["message"] == "Invalid subuser: nobody, Invalid policy: nopolicy"
    missing = owner.post("/my/roles", json={"members": []})
    assert missing.status_code == 409
    assert missing.json()["code"] == "MissingParameter"


def test_legacy_role_inputs(owner: SignedClient, bob: SubUser) -> None:
    policy = _policy(owner, "CAN getmachine")
    response = owner.post(
        "/my/roles",
        json={
            "name": _unique("l"),
            "members": bob.login,
            "default_members": [bob.login],
            "policies": f'["{policy["name"]}"]',
        },
        headers={"Accept-Version": "~8"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["default_members"] == [bob.login]
    assert response.json()["policies"] == [policy["name"]]


def test_policy_rules_are_validated_and_updated(owner: SignedClient) -> None:
    bad = owner.post("/my/policies", json={"name": _unique("p"), "rules": ["CAN"]})
    assert bad.status_code == 409
    assert bad.json()["code"] == "InvalidArgument"
    policy = _policy(owner, "CAN listmachines")
    response = owner.post(
        f"/my/policies/{policy['id']}",
        json={"rules": ["CAN getmachine", "CAN listmachines"], "description": "readers"},
    )
    assert response.json()["rules"] == ["CAN getmachine", "CAN listmachines"]
    assert response.json()["description"] == "readers"
    cleared = owner.post(f"/my/policies/{policy['id']}", json={"description": ""}).json()
    assert "description" not in cleared
    assert owner.delete(f"/my/policies/{policy['id']}").status_code == 204
    assert owner.get(f"/my/policies/{policy['id']}").status_code == 404


def test_membership_lists_roles(owner: SignedClient, bob: SubUser) -> None:
    default_role = _role(owner, bob, _policy(owner, "CAN listmachines"))
    other_role = _role(owner, bob, _policy(owner, "CAN getmachine"), default=False)
    user = owner.get(f"/my/users/{bob.login}", params={"membership": "true"}).json()
    assert set(user["roles"]) == {default_role["name"], other_role["name"]}
    assert user["default_roles"] == [default_role["name"]]


# --- role tags -----------------------------------------------------------------------------


def test_set_role_tags_on_collections_and_resources(owner: SignedClient, bob: SubUser) -> None:
    role = _role(owner, bob, _policy(owner, "CAN listmachines"))
    response = _tag(owner, "/my/machines", role["name"])
    assert response.json() == {"name": f"/{ACCOUNT}/machines", "role-tag": [role["name"]]}
    header = owner.request("PUT", "/my/users", headers={"role-tag": role["name"]})
    assert header.json()["role-tag"] == [role["name"]]
    assert owner.get("/my/users").headers["role-tag"] == role["name"]
    cleared = owner.request("PUT", "/my/users", json={"role-tag": []})
    assert cleared.json()["role-tag"] == []
    assert "role-tag" not in owner.get("/my/users").headers
    unknown = owner.request("PUT", "/my/machines", json={"role-tag": ["ghost"]})
    assert unknown.status_code == 409
    assert unknown.json()["message"] == "Role(s) ghost not found"
    invalid = owner.request("PUT", "/my/volumes", json={"role-tag": [role["name"]]})
    assert invalid.status_code == 404
    assert invalid.json()["message"] == "volumes is not a valid resource"


def test_deleting_a_role_removes_its_tags(owner: SignedClient, bob: SubUser) -> None:
    role = _role(owner, bob, _policy(owner, "CAN listkeys"))
    _tag(owner, "/my/keys", role["name"])
    assert owner.delete(f"/my/roles/{role['id']}").status_code == 204
    assert role["name"] not in owner.get("/my/keys").headers.get("role-tag", "")


# --- sub-user authentication and authorization ---------------------------------------------


def test_sub_user_denied_without_role_tag(owner: SignedClient, bob: SubUser) -> None:
    _role(owner, bob, _policy(owner, "CAN listpackages"))
    response = bob.get("/my/packages")
    assert response.status_code == 403
    assert response.json() == {
        "code": "NotAuthorized",
        "message": "You do not have permission to access /my/packages (listpackages)",
    }


def test_sub_user_allowed_by_tag_and_policy(owner: SignedClient, bob: SubUser) -> None:
    role = _role(owner, bob, _policy(owner, "CAN listpackages and getpackage"))
    _tag(owner, "/my/packages", role["name"])
    listed = bob.get("/my/packages")
    assert listed.status_code == 200
    assert PACKAGE in {p["name"] for p in listed.json()}
    # The policy does not grant keys, and the key collection is not tagged.
    assert bob.get("/my/keys").status_code == 403


def test_policy_without_the_action_is_denied(owner: SignedClient, bob: SubUser) -> None:
    role = _role(owner, bob, _policy(owner, "CAN getpackage"))
    _tag(owner, f"/{ACCOUNT}/datacenters", role["name"])
    response = bob.get("/my/datacenters")
    assert response.status_code == 403
    assert response.json()["message"].endswith("(listdatacenters)")


def test_as_role_picks_non_default_roles(owner: SignedClient, bob: SubUser) -> None:
    role = _role(owner, bob, _policy(owner, "CAN listimages"), default=False)
    _tag(owner, "/my/images", role["name"])
    assert bob.get("/my/images").status_code == 403
    assert bob.get("/my/images", params={"as-role": role["name"]}).status_code == 200


def test_as_role_naming_a_role_not_held(owner: SignedClient, bob: SubUser) -> None:
    response = owner.post("/my/roles", json={"name": _unique("notmine")})
    response = bob.get("/my/images", params={"as-role": response.json()["name"]})
    assert response.status_code == 403
    assert response.json()["message"] == f"You do not have permission to access {ACCOUNT}"


def test_administrator_role_allows_everything(owner: SignedClient, bob: SubUser) -> None:
    admin = owner.get("/my/roles/administrator")
    if admin.status_code == 404:
        admin = owner.post("/my/roles", json={"name": "administrator"})
    members = [m for m in admin.json().get("members", []) if isinstance(m, dict)]
    members.append({"type": "subuser", "login": bob.login, "default": True})
    updated = owner.post(f"/my/roles/{admin.json()['id']}", json={"members": members})
    assert updated.status_code == 200, updated.text
    assert bob.get("/my/keys").status_code == 200
    refused = owner.post(
        f"/my/roles/{admin.json()['id']}", json={"policies": [{"name": "anything"}]}
    )
    assert refused.status_code == 409


def test_machine_rules_with_tag_conditions(owner: SignedClient, bob: SubUser) -> None:
    role = _role(
        owner, bob, _policy(owner, "CAN getmachine IF tag_team::string = web", "CAN listmachines")
    )
    _tag(owner, "/my/machines", role["name"])
    image = _image(owner)
    web = owner.post("/my/machines", json={"package": PACKAGE, "image": image, "tag.team": "web"})
    db = owner.post("/my/machines", json={"package": PACKAGE, "image": image, "tag.team": "db"})
    assert web.status_code == 201 and db.status_code == 201, (web.text, db.text)
    for machine in (web.json(), db.json()):
        _tag(owner, f"/my/machines/{machine['id']}", role["name"])
    assert bob.get(f"/my/machines/{web.json()['id']}").status_code == 200
    denied = bob.get(f"/my/machines/{db.json()['id']}")
    assert denied.status_code == 403
    assert denied.json()["message"].endswith("(getmachine)")
    # A machine's sub-resources share its tags.
    assert bob.get(f"/my/machines/{web.json()['id']}/tags").status_code == 403  # no such rule
    assert bob.get("/my/machines").status_code == 200
    tagged = owner.get(f"/my/machines/{web.json()['id']}")
    assert tagged.headers["role-tag"] == role["name"]


def test_sub_user_creations_carry_active_roles(owner: SignedClient, bob: SubUser) -> None:
    role = _role(owner, bob, _policy(owner, "CAN createmachine and getmachine"))
    _tag(owner, "/my/machines", role["name"])
    created = bob.client.post("/my/machines", json={"package": PACKAGE, "image": _image(owner)})
    assert created.status_code == 201, created.text
    machine_id = created.json()["id"]
    assert owner.get(f"/my/machines/{machine_id}").headers["role-tag"] == role["name"]
    assert bob.get(f"/my/machines/{machine_id}").status_code == 200


def test_role_tag_header_tags_what_the_owner_creates(owner: SignedClient, bob: SubUser) -> None:
    role = _role(owner, bob, _policy(owner, "CAN getpolicy"))
    created = owner.post(
        "/my/policies",
        json={"name": _unique("p"), "rules": ["CAN getpolicy"]},
        headers={"role-tag": role["name"]},
    )
    assert created.status_code == 201
    policy_id = created.json()["id"]
    assert owner.get(f"/my/policies/{policy_id}").headers["role-tag"] == role["name"]
    assert bob.get(f"/my/policies/{policy_id}").status_code == 200
    # An unknown role in the header is ignored, as CloudAPI ignores it: created, untagged.
    untagged = owner.post(
        "/my/policies",
        json={"name": _unique("p"), "rules": ["CAN getpolicy"]},
        headers={"role-tag": "no-such-role"},
    )
    assert untagged.status_code == 201
    assert "role-tag" not in owner.get(f"/my/policies/{untagged.json()['id']}").headers


def test_deleted_key_and_user_are_rejected_at_once(owner: SignedClient, bob: SubUser) -> None:
    role = _role(owner, bob, _policy(owner, "CAN listpackages"))
    _tag(owner, "/my/packages", role["name"])
    assert bob.get("/my/packages").status_code == 200
    assert owner.delete(f"/my/users/{bob.login}/keys/{bob.fingerprint}").status_code == 204
    assert bob.get("/my/packages").status_code == 401
    owner.post(f"/my/users/{bob.login}/keys", json={"key": _pub_of(bob)})
    assert bob.get("/my/packages").status_code == 200
    assert owner.delete(f"/my/users/{bob.login}").status_code == 204
    assert bob.get("/my/packages").status_code == 401


def _pub_of(user: SubUser) -> str:
    return _pub(user.client.signer.key)


def test_sub_user_cannot_reach_another_account(
    owner: SignedClient, other: SignedClient, bob: SubUser
) -> None:
    role = _role(owner, bob, _policy(owner, "CAN listmachines"))
    _tag(owner, "/my/machines", role["name"])
    response = bob.get(f"/{OTHER}/machines")
    assert response.status_code == 403
    # The other account's users are not this account's users.
    assert other.get(f"/{OTHER}/users/{bob.login}").status_code == 404
    assert other.get(f"/{ACCOUNT}/users").status_code == 403


def test_sub_user_key_with_wrong_account_is_rejected(
    server: EmulatorServer, owner: SignedClient, bob: SubUser, keys: dict[str, TestKey]
) -> None:
    signer = Signer(keys["ecdsa256"], key_id=f"/{OTHER}/users/{bob.login}/keys/{bob.fingerprint}")
    client = SignedClient(server.url, signer)
    try:
        assert client.get(f"/{OTHER}/packages").status_code == 401
    finally:
        client.close()


# --- access keys ---------------------------------------------------------------------------


def test_access_key_life_cycle(owner: SignedClient, bob: SubUser) -> None:
    for base in ("/my/accesskeys", f"/my/users/{bob.login}/accesskeys"):
        created = owner.post(base, json={"description": "ci"})
        assert created.status_code == 201
        key = created.json()
        assert key["accesskeysecret"].startswith("tdc_")
        assert len(key["accesskeyid"]) == 32
        assert key["status"] == "Active"
        assert created.headers["location"].endswith(f"/accesskeys/{key['accesskeyid']}")
        fetched = owner.get(f"{base}/{key['accesskeyid']}").json()
        assert "accesskeysecret" not in fetched
        assert fetched["description"] == "ci"
        updated = owner.post(f"{base}/{key['accesskeyid']}", json={"status": "Inactive"})
        assert updated.status_code == 200
        assert updated.json()["status"] == "Inactive"
        bad = owner.post(f"{base}/{key['accesskeyid']}", json={"status": "Sleeping"})
        assert bad.status_code == 409
        assert key["accesskeyid"] in {k["accesskeyid"] for k in owner.get(base).json()}
        assert owner.delete(f"{base}/{key['accesskeyid']}").status_code == 204
        assert owner.get(f"{base}/{key['accesskeyid']}").status_code == 404


def test_reset_forgets_rbac_state(server: EmulatorServer, owner: SignedClient) -> None:
    login = _unique("gone")
    owner.post("/my/users", json={"login": login, "email": f"{login}@x.com", "password": PASSWORD})
    assert httpx.post(f"{server.url}/__emulator/reset").status_code == 204
    assert owner.get(f"/my/users/{login}").status_code == 404
    assert owner.get("/my/users").json() == []


def test_conditions_on_source_ip_and_request_time(owner: SignedClient, bob: SubUser) -> None:
    role = _role(
        owner,
        bob,
        _policy(
            owner,
            "CAN listpackages IF sourceip = 10.0.0.0/8",
            "CAN listimages WHEN date::date < 2001-01-01",
            "CAN listnetworks WHEN date::date > 2001-01-01 AND method = get",
        ),
    )
    for collection in ("packages", "images", "networks"):
        _tag(owner, f"/my/{collection}", role["name"])
    inside = bob.get("/my/packages", headers={"X-Forwarded-For": "192.168.0.9, 10.1.2.3"})
    assert inside.status_code == 200
    outside = bob.get("/my/packages", headers={"X-Forwarded-For": "192.168.0.9"})
    assert outside.status_code == 403
    assert bob.get("/my/images").status_code == 403  # the request is later than 2001
    assert bob.get("/my/networks").status_code == 200


def test_state_dump_never_shows_passwords_or_access_key_secrets(
    server: EmulatorServer, owner: SignedClient
) -> None:
    login = _unique("dump")
    secret_password = "dumpme12345"
    created = owner.post(
        "/my/users",
        json={"login": login, "email": f"{login}@x.com", "password": secret_password},
    )
    assert created.status_code == 201
    key = owner.post("/my/accesskeys").json()
    dump = httpx.get(f"{server.url}/__emulator/state").text
    assert login in dump and key["accesskeyid"] in dump
    assert key["accesskeysecret"] not in dump
    assert secret_password not in dump
    assert "[redacted]" in dump


def test_an_account_acts_on_another_through_its_roles(
    owner: SignedClient, other: SignedClient, bob: SubUser
) -> None:
    """Cross-account RBAC: ``other`` lists ``test`` as a member of one of its roles."""
    assert owner.get(f"/{OTHER}/packages").status_code == 403
    policy = other.post(
        f"/{OTHER}/policies", json={"name": _unique("p"), "rules": ["CAN listpackages"]}
    ).json()
    role = other.post(
        f"/{OTHER}/roles",
        json={
            "name": _unique("partners"),
            "members": [{"type": "account", "login": ACCOUNT, "default": True}],
            "policies": [{"id": policy["id"]}],
        },
    )
    assert role.status_code == 201, role.text
    assert role.json()["members"][0]["type"] == "account"
    assert owner.get(f"/{OTHER}/packages").status_code == 403  # not tagged yet
    _tag(other, f"/{OTHER}/packages", role.json()["name"])
    allowed = owner.get(f"/{OTHER}/packages")
    assert allowed.status_code == 200
    assert PACKAGE in {p["name"] for p in allowed.json()}
    denied = owner.get(f"/{OTHER}/keys")
    assert denied.status_code == 403
    assert (
        denied.json()["message"] == f"You do not have permission to access /{OTHER}/keys (listkeys)"
    )
    # The role is test's, not its sub-users': bob still cannot reach the other account.
    assert bob.get(f"/{OTHER}/packages").status_code == 403
