"""RBAC requests: sub-users, their keys, roles, policies, role tags and access keys."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import TestKey
from tests.unit.cloudapi_mock import Recorder, make_api, reply
from tests.unit.test_api_operations import FP, MID, NO_CONTENT, Case, check_case

UID = "4fc13ac6-1e7d-cd79-f3d2-96276af0d638"
RID = "e53b8fec-e661-4ded-a21e-959c9ba08cb2"
PID = "95ca7b25-5c8f-4c1b-92da-4276f23807f3"
AKID = "e4ab3c4e1e4fb12f8b34f9f3eb8d5d63"
PUBKEY = "ssh-ed25519 AAAAC3Nz bob@laptop"
USER = {"id": UID, "login": "bob", "email": "bob@example.com"}
ROLE = {"id": RID, "name": "ops", "members": [], "policies": []}
ACCESS_KEY = {"accesskeyid": AKID, "accesskeysecret": "tdc_x", "status": "Active"}

CASES: dict[str, Case] = {
    # users
    "list_users": Case(
        lambda a: a.list_users(), "GET", "/test/users", answer=reply(200, [USER]), returns=[USER]
    ),
    "get_user by login": Case(lambda a: a.get_user("bob"), "GET", "/test/users/bob"),
    "get_user with membership": Case(
        lambda a: a.get_user(USER, membership=True),
        "GET",
        f"/test/users/{UID}",
        query=[("membership", "true")],
    ),
    "create_user": Case(
        lambda a: a.create_user(
            login="bob", email="bob@example.com", password="s3cret!", firstName="Bob", phone=None
        ),
        "POST",
        "/test/users",
        body={
            "login": "bob",
            "email": "bob@example.com",
            "password": "s3cret!",
            "firstName": "Bob",
        },
        answer=reply(201, USER),
        returns=USER,
    ),
    "update_user clears a field with an empty string": Case(
        lambda a: a.update_user(USER, email="b@example.com", companyName=""),
        "POST",
        f"/test/users/{UID}",
        body={"email": "b@example.com", "companyName": ""},
        answer=reply(200, USER),
        returns=USER,
    ),
    "change_user_password": Case(
        lambda a: a.change_user_password("bob", "n3w-pass"),
        "POST",
        "/test/users/bob/change_password",
        body={"password": "n3w-pass", "password_confirmation": "n3w-pass"},
    ),
    "change_user_password with a confirmation": Case(
        lambda a: a.change_user_password(UID, "a", "b"),
        "POST",
        f"/test/users/{UID}/change_password",
        body={"password": "a", "password_confirmation": "b"},
    ),
    "delete_user": Case(
        lambda a: a.delete_user(USER),
        "DELETE",
        f"/test/users/{UID}",
        answer=NO_CONTENT,
        returns=None,
    ),
    # user keys
    "list_user_keys": Case(
        lambda a: a.list_user_keys("bob"),
        "GET",
        "/test/users/bob/keys",
        answer=reply(200, []),
        returns=[],
    ),
    "get_user_key by fingerprint": Case(
        lambda a: a.get_user_key("bob", FP),
        "GET",
        "/test/users/bob/keys/" + FP.replace(":", "%3A"),
    ),
    "create_user_key": Case(
        lambda a: a.create_user_key({"login": "bob"}, PUBKEY + "\n", name="laptop"),
        "POST",
        "/test/users/bob/keys",
        body={"key": PUBKEY, "name": "laptop"},
        answer=reply(201, {"name": "laptop", "fingerprint": FP}),
        returns={"name": "laptop", "fingerprint": FP},
    ),
    "delete_user_key": Case(
        lambda a: a.delete_user_key("bob", {"name": "laptop"}),
        "DELETE",
        "/test/users/bob/keys/laptop",
        answer=NO_CONTENT,
        returns=None,
    ),
    # roles
    "list_roles": Case(
        lambda a: a.list_roles(), "GET", "/test/roles", answer=reply(200, [ROLE]), returns=[ROLE]
    ),
    "get_role by name": Case(lambda a: a.get_role("ops"), "GET", "/test/roles/ops"),
    "create_role": Case(
        lambda a: a.create_role(
            name="ops",
            policies=["read-only", {"id": PID, "name": "reboot", "rules": []}],
            members=["bob", {"type": "account", "login": "test", "default": True}],
        ),
        "POST",
        "/test/roles",
        body={
            "name": "ops",
            "policies": [{"name": "read-only"}, {"id": PID}],
            "members": [
                {"type": "subuser", "login": "bob"},
                {"type": "account", "login": "test", "default": True},
            ],
        },
        answer=reply(201, ROLE),
        returns=ROLE,
    ),
    "update_role empties the members": Case(
        lambda a: a.update_role(ROLE, members=[]),
        "POST",
        f"/test/roles/{RID}",
        body={"members": []},
    ),
    "delete_role": Case(
        lambda a: a.delete_role(ROLE),
        "DELETE",
        f"/test/roles/{RID}",
        answer=NO_CONTENT,
        returns=None,
    ),
    # policies
    "list_policies": Case(
        lambda a: a.list_policies(), "GET", "/test/policies", answer=reply(200, []), returns=[]
    ),
    "get_policy": Case(lambda a: a.get_policy({"id": PID}), "GET", f"/test/policies/{PID}"),
    "create_policy": Case(
        lambda a: a.create_policy(name="reboot", rules="CAN rebootmachine"),
        "POST",
        "/test/policies",
        body={"name": "reboot", "rules": ["CAN rebootmachine"]},
        answer=reply(201, {"id": PID, "name": "reboot", "rules": ["CAN rebootmachine"]}),
        returns={"id": PID, "name": "reboot", "rules": ["CAN rebootmachine"]},
    ),
    "update_policy removes the description": Case(
        lambda a: a.update_policy(
            PID, rules=["CAN getmachine", "CAN listmachines"], description=""
        ),
        "POST",
        f"/test/policies/{PID}",
        body={"rules": ["CAN getmachine", "CAN listmachines"], "description": ""},
    ),
    "delete_policy": Case(
        lambda a: a.delete_policy(PID),
        "DELETE",
        f"/test/policies/{PID}",
        answer=NO_CONTENT,
        returns=None,
    ),
    # role tags
    "set_role_tags on a machine": Case(
        lambda a: a.set_role_tags(f"machines/{MID}", ["ops", "dev"]),
        "PUT",
        f"/test/machines/{MID}",
        body={"role-tag": ["ops", "dev"]},
        answer=reply(200, {"name": f"/test/machines/{MID}", "role-tag": ["ops", "dev"]}),
        returns={"name": f"/test/machines/{MID}", "role-tag": ["ops", "dev"]},
    ),
    "set_role_tags on the account clears them": Case(
        lambda a: a.set_role_tags("", []), "PUT", "/test", body={"role-tag": []}
    ),
    "set_role_tags on a user key under /my": Case(
        lambda a: a.set_role_tags(f"/my/users/bob/keys/{FP}", ["ops"]),
        "PUT",
        "/test/users/bob/keys/" + FP.replace(":", "%3A"),
        body={"role-tag": ["ops"]},
    ),
    # access keys
    "list_access_keys": Case(
        lambda a: a.list_access_keys(), "GET", "/test/accesskeys", answer=reply(200, []), returns=[]
    ),
    "get_access_key": Case(lambda a: a.get_access_key(AKID), "GET", f"/test/accesskeys/{AKID}"),
    "create_access_key": Case(
        lambda a: a.create_access_key(),
        "POST",
        "/test/accesskeys",
        answer=reply(201, ACCESS_KEY),
        returns=ACCESS_KEY,
    ),
    "delete_access_key": Case(
        lambda a: a.delete_access_key(ACCESS_KEY),
        "DELETE",
        f"/test/accesskeys/{AKID}",
        answer=NO_CONTENT,
        returns=None,
    ),
    "list_user_access_keys": Case(
        lambda a: a.list_user_access_keys(USER),
        "GET",
        f"/test/users/{UID}/accesskeys",
        answer=reply(200, []),
        returns=[],
    ),
    "get_user_access_key": Case(
        lambda a: a.get_user_access_key("bob", AKID), "GET", f"/test/users/bob/accesskeys/{AKID}"
    ),
    "create_user_access_key": Case(
        lambda a: a.create_user_access_key("bob"),
        "POST",
        "/test/users/bob/accesskeys",
        answer=reply(201, ACCESS_KEY),
        returns=ACCESS_KEY,
    ),
    "delete_user_access_key": Case(
        lambda a: a.delete_user_access_key("bob", ACCESS_KEY),
        "DELETE",
        f"/test/users/bob/accesskeys/{AKID}",
        answer=NO_CONTENT,
        returns=None,
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_rbac_operation_sends_the_documented_request(keys: dict[str, TestKey], case: Case) -> None:
    check_case(keys["rsa"], case)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda a: a.create_user(login="b", email="e", password="p", nickname="x"),
            TypeError,
            "nickname",
        ),
        (lambda a: a.update_user(UID), ValueError, "at least one field"),
        (lambda a: a.update_user("bob", phone=None), ValueError, "at least one field"),
        (lambda a: a.change_user_password("bob", ""), ValueError, "password"),
        (lambda a: a.create_user_key("bob", "not-a-key"), ValueError, "OpenSSH"),
        (lambda a: a.create_role(name=""), ValueError, "name"),
        (lambda a: a.create_role(name="r", policies=[{"rules": []}]), TypeError, "'id' or 'name'"),
        (lambda a: a.create_role(name="r", members=[{"type": "subuser"}]), TypeError, "member"),
        (lambda a: a.update_role("ops"), ValueError, "name, policies or members"),
        (lambda a: a.update_policy(PID), ValueError, "name, rules or description"),
        (lambda a: a.set_role_tags("widgets/1", ["ops"]), ValueError, "widgets"),
        (lambda a: a.set_role_tags(f"machines/{MID}/tags", ["ops"]), ValueError, "role tags"),
        (lambda a: a.set_role_tags("machines", "ops"), TypeError, "list of role names"),
        (lambda a: a.get_access_key({"id": AKID}), TypeError, "accesskeyid"),
        (lambda a: a.get_user({"email": "x"}), TypeError, "'login'"),
    ],
)
def test_bad_rbac_arguments_are_refused_before_sending(
    keys: dict[str, TestKey], call: Any, error: type[Exception], message: str
) -> None:
    recorder = Recorder()
    with make_api(keys["rsa"], recorder) as api, pytest.raises(error, match=message):
        call(api)
    assert recorder.requests == []
