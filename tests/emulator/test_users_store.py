"""Users in the store: logins unique whatever their case, order kept, at any number."""

from __future__ import annotations

import pytest

from smartdc.emulator.context import EmulatorError
from smartdc.emulator.db import Database
from smartdc.emulator.store import accounts, users
from tests.emulator.sqlite_work import sqlite_steps


def _user(db: Database, account: str, login: str) -> dict[str, object]:
    params = {"login": login, "email": f"{login}@example.com", "password": "Pw-123456!"}
    return users.create_user(db, account, params)


def test_logins_are_unique_whatever_their_case_among_many_users(db: Database) -> None:
    account = str(accounts.create_account(db, "owner")["id"])
    other = str(accounts.create_account(db, "neighbour")["id"])
    made = [_user(db, account, f"user{n}x")["login"] for n in range(60)]
    with pytest.raises(EmulatorError) as caught:
        _user(db, account, "USER17X")
    assert (caught.value.status, caught.value.message) == (409, "Login is already taken")
    assert _user(db, other, "USER17X")["login"] == "USER17X"  # another account's logins
    assert [u["login"] for u in users.list_users(db, account)] == made


def test_a_create_user_does_the_same_work_with_50_or_650_users(db: Database) -> None:
    account = str(accounts.create_account(db, "owner")["id"])
    for n in range(50):
        _user(db, account, f"early{n}x")
    early = sqlite_steps(db, lambda: _user(db, account, "earlyprobe"))
    for n in range(600):
        _user(db, account, f"late{n}x")
    late = sqlite_steps(db, lambda: _user(db, account, "lateprobe"))
    # The login check and the next place in order read every user of the account.
    assert late < early * 2, (early, late)
