"""RBAC through the object layer against a real emulator: listing users, roles and policies,
role tags on machines and collections, and a sub-user acting with a role it asks for.

The emulator and its ``test`` account are shared by the session, so every name made here is
unique and everything made is deleted again.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from smartdc.emulator.server import EmulatorServer
from smartdc.errors import InvalidArgumentError, NotAuthorizedError
from smartdc.objects import DataCenter, Machine
from tests.conftest import ACCOUNT, TestKey, make_key

FAST: dict[str, Any] = {"interval": 0.05, "timeout": 30}


def unique(prefix: str) -> str:
    # letters and digits only: UFDS is strict about logins and role names
    return f"{prefix}{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class Rbac:
    """A sub-user, with its own key, that is a non-default member of a role granting
    ``listmachines`` and ``getmachine``."""

    login: str
    key: TestKey
    role: str
    policy: str

    @property
    def key_id(self) -> str:
        return f"/{ACCOUNT}/users/{self.login}/keys/{self.key.md5}"


@pytest.fixture(scope="module")
def sdc(emulator: EmulatorServer, keys: dict[str, TestKey]) -> Iterator[DataCenter]:
    key = keys["ed25519"]
    with DataCenter(
        location=emulator.url, key_id=f"/{ACCOUNT}/keys/{key.md5}", secret=key.path
    ) as dc:
        yield dc


@pytest.fixture(scope="module")
def rbac(sdc: DataCenter, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rbac]:
    api = sdc.api
    login, role, policy = unique("bob"), unique("ops"), unique("readmachines")
    key = make_key(tmp_path_factory.mktemp("subuser"), "bob", "ed25519", "256", "RFC4716", None)
    user = api.create_user(login=login, email=f"{login}@example.com", password="Secr3t-Pass-42")
    try:
        api.create_user_key(login, key.pub_path.read_text().strip(), name="laptop")
        made_policy = api.create_policy(name=policy, rules=["CAN listmachines and getmachine"])
        made_role = api.create_role(
            name=role, policies=[policy], members=[{"login": login, "default": False}]
        )
        try:
            yield Rbac(login, key, role, policy)
        finally:
            api.delete_role(made_role)
            api.delete_policy(made_policy)
    finally:
        api.delete_user(user)


def sub_user(emulator: EmulatorServer, rbac: Rbac, **options: Any) -> DataCenter:
    return DataCenter(
        location=emulator.url,
        key_id=rbac.key_id,
        secret=rbac.key.path,
        known_locations=emulator.urls,
        **options,
    )


@pytest.fixture(scope="module")
def tagged(sdc: DataCenter, rbac: Rbac) -> Iterator[Machine]:
    """A running machine tagged with the role, the machines collection tagged too (so that
    the role may list); the collection gets its earlier tags back afterwards."""
    earlier = sdc.role_tags("machines")
    machine = sdc.create_machine(name=unique("rbac"), dataset="base-64-lts", package="Small 1GB")
    try:
        machine.poll_while("provisioning", **FAST)
        machine.set_role_tags([rbac.role])
        sdc.set_role_tags("machines", [*earlier, rbac.role])
        yield machine
    finally:
        sdc.set_role_tags("machines", earlier)
        machine.delete()


# --- listing -----------------------------------------------------------------------------------


def test_users_roles_and_policies_are_listed_as_dicts(sdc: DataCenter, rbac: Rbac) -> None:
    users = {u["login"]: u for u in sdc.users()}
    assert rbac.login in users
    assert users[rbac.login]["email"] == f"{rbac.login}@example.com"

    roles = {r["name"]: r for r in sdc.roles()}
    assert [p["name"] for p in roles[rbac.role]["policies"]] == [rbac.policy]
    assert [m["login"] for m in roles[rbac.role]["members"]] == [rbac.login]

    policies = {p["name"]: p for p in sdc.policies()}
    assert policies[rbac.policy]["rules"] == ["CAN listmachines and getmachine"]


# --- role tags ---------------------------------------------------------------------------------


def test_machine_role_tags_are_set_read_and_cleared(sdc: DataCenter, rbac: Rbac) -> None:
    machine = sdc.create_machine(name=unique("tags"), dataset="base-64-lts", package="Small 1GB")
    try:
        assert machine.role_tags() == []
        assert machine.set_role_tags([rbac.role]) == [rbac.role]
        assert machine.role_tags() == [rbac.role]
        assert sdc.role_tags(f"machines/{machine.id}") == [rbac.role]
        assert machine.set_role_tags([]) == []
        assert machine.role_tags() == []
    finally:
        machine.delete()


def test_users_and_collections_take_role_tags(sdc: DataCenter, rbac: Rbac) -> None:
    earlier = sdc.role_tags("policies")
    try:
        assert sdc.set_role_tags(f"/my/users/{rbac.login}", [rbac.role]) == [rbac.role]
        assert sdc.role_tags(f"users/{rbac.login}") == [rbac.role]
        assert sdc.set_role_tags("policies", [rbac.role]) == [rbac.role]
        assert sdc.role_tags(f"/{ACCOUNT}/policies") == [rbac.role]
    finally:
        sdc.set_role_tags(f"users/{rbac.login}", [])
        sdc.set_role_tags("policies", earlier)
    assert sdc.role_tags("policies") == earlier
    assert sdc.role_tags(f"users/{rbac.login}") == []


def test_an_unknown_role_cannot_be_a_tag(sdc: DataCenter, rbac: Rbac) -> None:
    with pytest.raises(InvalidArgumentError, match="not found"):
        sdc.set_role_tags("machines", [unique("nosuchrole")])


# --- a sub-user with roles ---------------------------------------------------------------------


def test_a_sub_user_acts_with_the_roles_it_asks_for(
    emulator: EmulatorServer, rbac: Rbac, tagged: Machine
) -> None:
    with sub_user(emulator, rbac, roles=[rbac.role]) as bob:
        assert bob.login == ACCOUNT
        assert tagged.id in [m.id for m in bob.machines()]
        assert bob.machine(tagged.id).name == tagged.name


def test_without_the_role_the_refusal_names_action_and_resource(
    emulator: EmulatorServer, rbac: Rbac, tagged: Machine
) -> None:
    # the membership is not a default one, so without as-role bob has no active role
    with sub_user(emulator, rbac) as bob, pytest.raises(NotAuthorizedError) as caught:
        bob.api.get_machine(tagged.id)
    error = caught.value
    assert (error.action, error.resource) == ("getmachine", f"/{ACCOUNT}/machines/{tagged.id}")
    assert "not allowed to getmachine" in str(error)


def test_an_untagged_machine_is_refused_even_with_the_role(
    sdc: DataCenter, emulator: EmulatorServer, rbac: Rbac, tagged: Machine
) -> None:
    other = sdc.create_machine(name=unique("untagged"), dataset="base-64-lts", package="Small 1GB")
    try:
        bob = sub_user(emulator, rbac, roles=[rbac.role])
        with bob, pytest.raises(NotAuthorizedError) as caught:
            bob.api.get_machine(other.id)
        assert caught.value.action == "getmachine"
        assert caught.value.resource == f"/{ACCOUNT}/machines/{other.id}"
    finally:
        other.delete()


def test_asking_for_a_role_the_user_lacks_names_the_account(
    emulator: EmulatorServer, rbac: Rbac, tagged: Machine
) -> None:
    bob = sub_user(emulator, rbac, roles=[unique("notmine")])
    with bob, pytest.raises(NotAuthorizedError) as caught:
        bob.machines()
    assert (caught.value.resource, caught.value.action) == (ACCOUNT, None)


def test_another_datacenter_keeps_the_sub_user_and_its_roles(
    emulator: EmulatorServer, rbac: Rbac, tagged: Machine
) -> None:
    with sub_user(emulator, rbac, roles=[rbac.role]) as bob, bob.datacenter("us-test-2") as east:
        assert east.base_url == emulator.urls["us-test-2"]
        assert (east.api.user, east.api.roles) == (rbac.login, (rbac.role,))
        east.machines()  # allowed only through the role: the collection tag is account-wide
    bob = sub_user(emulator, rbac)
    with bob, bob.datacenter("us-test-2") as east, pytest.raises(NotAuthorizedError):
        east.machines()


# --- access keys -------------------------------------------------------------------------------


def test_access_key_status_and_description_round_trip(sdc: DataCenter, rbac: Rbac) -> None:
    api = sdc.api
    created = api.create_access_key(description="ci robot")
    accesskeyid = created["accesskeyid"]
    try:
        assert created["accesskeysecret"]
        assert created["description"] == "ci robot"
        updated = api.update_access_key(accesskeyid, status="Inactive")
        assert (updated["status"], updated["description"]) == ("Inactive", "ci robot")
        assert "accesskeysecret" not in updated
        assert api.get_access_key(accesskeyid)["status"] == "Inactive"
    finally:
        api.delete_access_key(accesskeyid)

    mine = api.create_user_access_key(rbac.login, status="Inactive", description="bob's")
    try:
        assert (mine["status"], mine["description"]) == ("Inactive", "bob's")
        changed = api.update_user_access_key(rbac.login, mine, description="bob's laptop")
        assert changed["description"] == "bob's laptop"
        listed = api.list_user_access_keys(rbac.login)
        assert [k["accesskeyid"] for k in listed] == [mine["accesskeyid"]]
    finally:
        api.delete_user_access_key(rbac.login, mine)
