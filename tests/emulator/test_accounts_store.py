"""The account and key store, without HTTP."""

from __future__ import annotations

import re

import pytest

from smartdc.emulator.context import EmulatorError
from smartdc.emulator.db import Database
from smartdc.emulator.store import accounts
from tests.conftest import TestKey

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def _line(key: TestKey) -> str:
    return key.pub_path.read_text().strip()


def test_account_shape(db: Database) -> None:
    created = accounts.create_account(db, "alice", email="a@example.org")
    assert list(created) == ["id", "login", "email", "triton_cns_enabled", "updated", "created"]
    assert created["login"] == "alice"
    assert created["triton_cns_enabled"] is False
    assert ISO.match(created["created"])
    assert accounts.get_account(db, "alice") == created
    assert accounts.get_account_by_uuid(db, created["id"]) == created
    assert accounts.get_account(db, "bob") is None


def test_duplicate_login_is_refused(db: Database) -> None:
    accounts.create_account(db, "alice")
    with pytest.raises(EmulatorError) as caught:
        accounts.create_account(db, "alice")
    assert caught.value.status == 409


def test_update_ignores_empty_values_and_parses_cns(db: Database) -> None:
    accounts.create_account(db, "alice")
    updated = accounts.update_account(
        db, "alice", {"companyName": "Acme", "phone": "", "triton_cns_enabled": "true"}
    )
    assert updated["companyName"] == "Acme"
    assert "phone" not in updated
    assert updated["triton_cns_enabled"] is True
    assert (
        accounts.update_account(db, "alice", {"triton_cns_enabled": False})["triton_cns_enabled"]
        is False
    )
    with pytest.raises(EmulatorError) as caught:
        accounts.update_account(db, "alice", {"triton_cns_enabled": "maybe"})
    assert (caught.value.status, caught.value.code) == (409, "InvalidArgument")


def test_key_defaults_to_its_comment_as_name(db: Database, keys: dict[str, TestKey]) -> None:
    account = accounts.create_account(db, "alice")
    key = accounts.add_key(db, account["id"], _line(keys["ed25519"]))
    assert key["name"] == "ed25519@smartdc-tests"
    assert key["fingerprint"] == keys["ed25519"].md5
    assert key["key"] == _line(keys["ed25519"])


def test_key_without_comment_is_named_by_fingerprint(
    db: Database, keys: dict[str, TestKey]
) -> None:
    account = accounts.create_account(db, "alice")
    bare = " ".join(_line(keys["rsa"]).split()[:2])
    key = accounts.add_key(db, account["id"], bare)
    assert key["name"] == keys["rsa"].md5


def test_keys_are_found_by_name_or_fingerprint(db: Database, keys: dict[str, TestKey]) -> None:
    account = accounts.create_account(db, "alice")
    accounts.add_key(db, account["id"], _line(keys["rsa"]), "laptop")
    accounts.add_key(db, account["id"], _line(keys["ecdsa256"]), "desktop")
    assert [k["name"] for k in accounts.list_keys(db, account["id"])] == ["laptop", "desktop"]
    assert accounts.get_key(db, account["id"], "laptop") == accounts.get_key(
        db, account["id"], keys["rsa"].md5
    )
    assert accounts.get_key(db, account["id"], "nope") is None


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("garbage", "key is invalid"),
        ("ssh-rsa AAAAnotakey", "key already exists or is invalid"),
    ],
)
def test_bad_keys_are_refused(db: Database, line: str, message: str) -> None:
    account = accounts.create_account(db, "alice")
    with pytest.raises(EmulatorError) as caught:
        accounts.add_key(db, account["id"], line)
    assert (caught.value.status, caught.value.code, caught.value.message) == (
        409,
        "InvalidArgument",
        message,
    )


def test_duplicate_name_or_fingerprint_is_refused(db: Database, keys: dict[str, TestKey]) -> None:
    account = accounts.create_account(db, "alice")
    accounts.add_key(db, account["id"], _line(keys["rsa"]), "laptop")
    for line, name in ((_line(keys["rsa"]), "other"), (_line(keys["ecdsa256"]), "laptop")):
        with pytest.raises(EmulatorError) as caught:
            accounts.add_key(db, account["id"], line, name)
        assert caught.value.message == "key already exists or is invalid"


def test_delete_key(db: Database, keys: dict[str, TestKey]) -> None:
    account = accounts.create_account(db, "alice")
    accounts.add_key(db, account["id"], _line(keys["rsa"]), "laptop")
    assert accounts.delete_key(db, account["id"], keys["rsa"].md5) is not None
    assert accounts.list_keys(db, account["id"]) == []
    assert accounts.delete_key(db, account["id"], "laptop") is None


def test_registration_is_idempotent_and_survives_forgetting(
    db: Database, keys: dict[str, TestKey]
) -> None:
    account = accounts.register_account(db, "alice")
    assert accounts.register_account(db, "alice")["id"] == account["id"]
    accounts.register_key(db, account["id"], _line(keys["rsa"]), "rsa")
    accounts.register_key(db, account["id"], _line(keys["rsa"]), "rsa")
    accounts.add_key(db, account["id"], _line(keys["ed25519"]), "api-added")
    stranger = accounts.create_account(db, "bob")

    accounts.forget_unregistered(db)

    assert [k["name"] for k in accounts.list_keys(db, account["id"])] == ["rsa"]
    assert accounts.get_account_by_uuid(db, stranger["id"]) is None


def test_registering_a_new_key_under_an_old_name_replaces_it(
    db: Database, keys: dict[str, TestKey]
) -> None:
    account = accounts.register_account(db, "alice")
    accounts.register_key(db, account["id"], _line(keys["rsa"]), "main")
    accounts.register_key(db, account["id"], _line(keys["ed25519"]), "main")
    listed = accounts.list_keys(db, account["id"])
    assert [(k["name"], k["fingerprint"]) for k in listed] == [("main", keys["ed25519"].md5)]
