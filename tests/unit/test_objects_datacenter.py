"""Building a DataCenter: no request is made until a method asks for one."""

from __future__ import annotations

import getpass
import io
import sys
from pathlib import Path

import pytest

from smartdc.api import prompt_passphrase
from smartdc.errors import (
    ConfigError,
    KeyFileError,
    PassphraseRequiredError,
    WrongPassphraseError,
)
from smartdc.objects import KNOWN_LOCATIONS, DataCenter
from tests.conftest import TestKey

# Nothing listens here: any request would fail with a connection error.
NOWHERE = "http://127.0.0.1:9"


@pytest.fixture
def key(keys: dict[str, TestKey]) -> TestKey:
    return keys["ed25519"]


def make(key: TestKey, **options: object) -> DataCenter:
    options.setdefault("location", NOWHERE)
    options.setdefault("secret", key.path)
    return DataCenter(key_id=f"/acme/keys/{key.md5}", **options)  # type: ignore[arg-type]


def test_known_location_and_repr_without_requests(key: TestKey) -> None:
    dc = make(key, location="us-sw-1")
    assert dc.base_url == KNOWN_LOCATIONS["us-sw-1"]
    assert dc.api.url == KNOWN_LOCATIONS["us-sw-1"]
    assert dc.name == "us-sw-1"
    assert repr(dc) == f"<DataCenter us-sw-1 at {KNOWN_LOCATIONS['us-sw-1']} as acme>"
    assert dc.url == f"{KNOWN_LOCATIONS['us-sw-1']}/acme/"
    assert dc.api.last_response is None


def test_account_and_key_id_come_from_key_id(key: TestKey) -> None:
    dc = make(key)
    assert dc.login == "acme"
    assert dc.api.account == "acme"
    assert dc.api.key_id == f"/acme/keys/{key.md5}"
    assert dc.base_url == NOWHERE
    assert dc.name is None


def test_login_overrides_the_path_account(key: TestKey) -> None:
    dc = make(key, login="other")
    assert dc.login == "other"
    assert dc.api.account == "other"
    assert dc.api.key_id == f"/acme/keys/{key.md5}"


def test_an_account_is_required(key: TestKey) -> None:
    with pytest.raises(ConfigError, match="key_id="):
        DataCenter(location=NOWHERE, secret=key.path)
    with pytest.raises(ConfigError, match="/<account>/keys/"):
        DataCenter(location=NOWHERE, key_id=key.md5, secret=key.path)
    dc = DataCenter(location=NOWHERE, key_id=key.md5, login="acme", secret=key.path)
    assert dc.api.key_id == f"/acme/keys/{key.md5}"


def test_missing_key_file_is_named(tmp_path: Path, key: TestKey) -> None:
    with pytest.raises(KeyFileError):
        make(key, secret=tmp_path / "nope")


def test_only_version_and_agent_headers_can_be_set(key: TestKey) -> None:
    make(key, headers={"X-Api-Version": "~8", "User-Agent": "tests/1"})
    with pytest.raises(ConfigError, match="'Authorization' cannot be set"):
        make(key, headers={"Authorization": "nope"})


def test_bad_config_is_refused(key: TestKey) -> None:
    with pytest.raises(ConfigError, match="verbos"):
        make(key, config={"verbos": True})


def test_switching_to_a_named_or_addressed_datacenter_needs_no_request(key: TestKey) -> None:
    dc = make(key, known_locations={"lab-2": "http://127.0.0.1:10"})
    lab = dc.datacenter("lab-2")
    assert lab.base_url == "http://127.0.0.1:10"
    assert lab.name == "lab-2"
    assert lab.api.key_id == dc.api.key_id
    assert lab.api.signer is dc.api.signer
    other = dc.datacenter("https://cloudapi.example.com")
    assert other.base_url == "https://cloudapi.example.com"
    assert other.login == dc.login
    assert dc.base_url == NOWHERE  # the original is untouched
    assert dc != lab and dc == make(key)


def test_datacenters_compare_by_endpoint_and_account(key: TestKey) -> None:
    assert make(key) == make(key)
    assert len({make(key), make(key), make(key, login="other")}) == 2


def test_missing_default_key_file_says_how_to_choose_one(
    key: TestKey, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(KeyFileError) as caught:
        DataCenter(location=NOWHERE, key_id=f"/acme/keys/{key.md5}")
    message = str(caught.value)
    assert str(tmp_path / ".ssh" / "id_rsa") in message
    assert "secret=" in message and "allow_agent=True" in message


def test_encrypted_key_without_a_passphrase_says_how_to_give_one(
    keys: dict[str, TestKey],
) -> None:
    locked = keys["rsa_encrypted"]
    with pytest.raises(PassphraseRequiredError) as caught:
        make(locked, secret=locked.path)
    message = str(caught.value)
    assert str(locked.path) in message
    assert "passphrase=smartdc.api.prompt_passphrase" in message


def test_passphrase_may_be_a_callback(keys: dict[str, TestKey]) -> None:
    locked = keys["rsa_encrypted"]
    prompts: list[str] = []

    def ask(prompt: str) -> str | None:
        prompts.append(prompt)
        return locked.passphrase

    dc = make(locked, secret=locked.path, passphrase=ask)
    assert dc.api.key_id.endswith(locked.md5)
    assert len(prompts) == 1 and str(locked.path) in prompts[0]


def test_a_wrong_passphrase_names_the_key(keys: dict[str, TestKey]) -> None:
    locked = keys["ecdsa_encrypted_pem"]
    with pytest.raises(WrongPassphraseError, match=str(locked.path)):
        make(locked, secret=locked.path, passphrase="not it")


class _Terminal(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


def test_prompt_passphrase_asks_only_on_a_terminal(
    keys: dict[str, TestKey], monkeypatch: pytest.MonkeyPatch
) -> None:
    locked = keys["rsa_encrypted"]
    asked: list[str] = []

    def fake_getpass(prompt: str = "") -> str:
        asked.append(prompt)
        return locked.passphrase or ""

    monkeypatch.setattr(getpass, "getpass", fake_getpass)
    monkeypatch.setattr(sys, "stdin", _Terminal(tty=True))
    dc = make(locked, secret=locked.path, passphrase=prompt_passphrase)
    assert dc.api.key_id.endswith(locked.md5)
    assert asked == [f"Enter passphrase for {locked.path}: "]

    monkeypatch.setattr(sys, "stdin", _Terminal(tty=False))
    with pytest.raises(PassphraseRequiredError, match="not a terminal"):
        make(locked, secret=locked.path, passphrase=prompt_passphrase)
    assert len(asked) == 1


def test_prompt_passphrase_gives_up_on_end_of_input(
    keys: dict[str, TestKey], monkeypatch: pytest.MonkeyPatch
) -> None:
    def end_of_input(prompt: str = "") -> str:
        raise EOFError

    monkeypatch.setattr(getpass, "getpass", end_of_input)
    monkeypatch.setattr(sys, "stdin", _Terminal(tty=True))
    locked = keys["rsa_encrypted"]
    with pytest.raises(PassphraseRequiredError, match="no passphrase was entered"):
        make(locked, secret=locked.path, passphrase=prompt_passphrase)
