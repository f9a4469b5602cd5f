"""Reliability of the library against the emulator over loopback HTTP: unlisted datacenters,
deleted machines, long Retry-After values, asynchronous metadata and tag writes, duplicate
snapshots, and no secret in any repr, exception or debug line."""

from __future__ import annotations

import io
import re
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from smartdc import CloudAPI
from smartdc._httpx_sender import HttpxSender
from smartdc._socket_sender import SocketSender
from smartdc.auth import HTTPSignatureAuth, RequestSigner, parse_authorization, parse_key_id
from smartdc.auth.agent import AgentClient
from smartdc.emulator.server import EmulatorServer
from smartdc.errors import (
    ConfigError,
    MachineGoneError,
    NotFoundError,
    ServiceUnavailableError,
    SmartDCError,
    SnapshotExistsError,
)
from smartdc.objects import DataCenter, Machine
from smartdc.transport import RawResponse
from smartdc.wait import wait_for
from tests.conftest import ACCOUNT, PASSPHRASE, TestKey

FAST: dict[str, Any] = {"interval": 0.05, "timeout": 30}


def key_id(key: TestKey) -> str:
    return f"/{ACCOUNT}/keys/{key.md5}"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def sdc(emulator: EmulatorServer, keys: dict[str, TestKey]) -> Iterator[DataCenter]:
    key = keys["ed25519"]
    with DataCenter(location=emulator.url, key_id=key_id(key), secret=key.path) as dc:
        yield dc


@pytest.fixture
def run_tag() -> dict[str, str]:
    return {"test-run": uuid.uuid4().hex[:12]}


def running(dc: DataCenter, tags: Mapping[str, str], **extra: Any) -> Machine:
    machine = dc.create_machine(
        name=unique("rel"), dataset="base-64-lts", package="Small 1GB", tags=tags, **extra
    )
    return machine.poll_while("provisioning", **FAST)


# --- datacenters ---------------------------------------------------------------------------------


def test_only_datacenters_the_cloud_lists_are_reached(sdc: DataCenter) -> None:
    with pytest.raises(ConfigError) as caught:
        sdc.datacenter("us-east-1")  # a name of the built-in table, not of this cloud
    assert "us-test-1" in str(caught.value) and "us-test-2" in str(caught.value)
    with sdc.datacenter("us-test-2") as east:
        assert east.name == "us-test-2"
        assert east.me()["login"] == ACCOUNT


# --- a deleted machine ---------------------------------------------------------------------------


def test_a_deleted_machine_is_named_and_caught_as_not_found(
    sdc: DataCenter, run_tag: dict[str, str]
) -> None:
    m = running(sdc, run_tag)
    m.delete().poll_until("deleted", **FAST)
    with pytest.raises(NotFoundError) as caught:
        sdc.machine(m.id)
    assert isinstance(caught.value, MachineGoneError)
    assert caught.value.machine_id == m.id and caught.value.machine_name == m.name
    assert f"machine {m.name} ({m.id}) has been deleted" in str(caught.value)


# --- Retry-After beyond the cap ------------------------------------------------------------------


def test_a_long_retry_after_fails_at_once_and_says_so(
    emulator: EmulatorServer, keys: dict[str, TestKey]
) -> None:
    key = keys["ed25519"]
    echo = io.StringIO()
    config = {"verbose": echo, "retry_max_delay": 2}
    with DataCenter(
        location=emulator.url, key_id=key_id(key), secret=key.path, config=config
    ) as dc:
        emulator.inject(unavailable=1, retry_after=120)
        try:
            started = time.monotonic()
            with pytest.raises(ServiceUnavailableError) as caught:
                dc.me()
            assert time.monotonic() - started < 2
        finally:
            emulator.clear_faults()
        assert dc.me()["login"] == ACCOUNT
    assert "120 s" in (caught.value.hint or "")
    assert "Retry-After 120 s is longer than the retry cap (max_delay 2 s)" in echo.getvalue()


# --- asynchronous writes -------------------------------------------------------------------------


def test_metadata_and_tags_never_flip_back_and_can_be_awaited(
    sdc: DataCenter, run_tag: dict[str, str]
) -> None:
    m = running(sdc, run_tag, metadata={"role": "web"})
    m.update_metadata(role="db")
    assert m.refresh().metadata["role"] == "db"  # GetMachine still says "web" for a moment
    m.update_metadata(color="blue")
    m.add_tags(tier="front")
    m.wait_for_writes()
    assert m.get_metadata()["color"] == "blue"
    assert m.get_tags() == {**run_tag, "tier": "front"}
    m.delete_tag("tier")
    assert m.refresh().tags == run_tag
    assert m.wait_for_writes().tags == run_tag
    assert m.get_tags() == run_tag
    m.delete()


# --- snapshots -----------------------------------------------------------------------------------


def test_a_duplicate_snapshot_name_is_an_error(sdc: DataCenter, run_tag: dict[str, str]) -> None:
    m = running(sdc, run_tag)
    first = m.create_snapshot("before").poll_until("created", **FAST)
    with pytest.raises(SnapshotExistsError, match="'before'"):
        m.create_snapshot("before")
    assert m.snapshots() == [first]
    first.delete()
    m.delete()


# --- no secret anywhere --------------------------------------------------------------------------


def _signature(authorization: str) -> str:
    found = re.search(r'signature="([^"]+)"', authorization)
    assert found is not None
    return found[1]


def _key_lines(path: Path) -> list[str]:
    """The lines of a private key file that carry key material."""
    return [line for line in path.read_text().splitlines() if len(line) >= 40]


def test_no_secret_appears_in_reprs_errors_or_the_debug_echo(
    emulator: EmulatorServer,
    keys: dict[str, TestKey],
    run_tag: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    locked, plain = keys["rsa_encrypted"], keys["ed25519"]
    echo = io.StringIO()
    shown: list[str] = []
    sent: list[str] = []

    def show(*things: object) -> None:
        for thing in things:
            shown.extend((repr(thing), str(thing)))

    def recording(sender: type[Any]) -> Any:
        original_send = sender.send

        def recording_send(
            self: Any, method: str, target: str, headers: Mapping[str, str], body: bytes | None
        ) -> RawResponse:
            sent.append(headers["Authorization"])
            result: RawResponse = original_send(self, method, target, headers, body)
            return result

        return recording_send

    for sender in (HttpxSender, SocketSender):
        monkeypatch.setattr(sender, "send", recording(sender))
    password = f"Pw-{uuid.uuid4().hex}"
    access_secret = ""

    dc = DataCenter(
        location=emulator.url,
        key_id=key_id(locked),
        secret=locked.path,
        passphrase=PASSPHRASE,
        config={"verbose": echo, "retries": 1, "retry_delay": 0.01},
    )
    with dc:
        api = dc.api
        show(dc, api, api.signer, api.retry_policy, dc.datacenters())
        m = running(dc, run_tag)
        m.update_metadata(note="hello")
        m.wait_for_writes()
        snapshot = m.create_snapshot("secrets").poll_until("created", **FAST)
        machine_passwords = [str(value) for value in m.credentials().values()]
        show(m, snapshot, api.last_response)
        for request in (api.connect_machine_vnc(m.id), api.get_changefeed()):
            sent.append(request.headers["Authorization"])
            show(request, [request], {"request": request})
        created = api.create_access_key()
        access_secret = str(created["accesskeysecret"])
        show(api.last_response)
        login = f"sub{uuid.uuid4().hex[:8]}"
        user = api.create_user(login=login, email=f"{login}@example.com", password=password)
        show(api.last_response)
        signer = RequestSigner(api.signer, api.key_id)
        signed = signer.headers_for("GET", f"/{ACCOUNT}")
        sent.append(signed["Authorization"])
        parsed = parse_authorization(
            signed["Authorization"], {"date": signed["Date"]}, clock_skew=None
        )
        show(signer, HTTPSignatureAuth(signer), parsed, parse_key_id(api.key_id))
        show(AgentClient(str(tmp_path / "agent.sock")))

        failures: list[BaseException] = []

        def expect(call: Any) -> None:
            try:
                call()
            except (SmartDCError, TypeError) as exc:
                failures.append(exc)
            else:
                pytest.fail(f"{call} did not fail")

        expect(lambda: dc.machine(str(uuid.uuid4())))
        expect(lambda: api.change_user_password(user, password, f"{password}-other"))
        expect(lambda: m.create_snapshot("secrets"))
        m.delete().poll_until("deleted", **FAST)
        expect(lambda: dc.machine(m.id))
        expect(lambda: wait_for(m.status, lambda s: s == "running", interval=0.01, timeout=0.05))
        where: dict[str, Any] = {
            "location": emulator.url,
            "key_id": key_id(locked),
            "secret": locked.path,
        }
        expect(lambda: DataCenter(**where, passphrase=f"wrong {PASSPHRASE}"))
        expect(lambda: DataCenter(**where))
        numeric: Any = 1234  # read unquoted from a config file
        expect(lambda: CloudAPI(emulator.url, ACCOUNT, key_file=plain.path, passphrase=numeric))
        stranger = tmp_path / "stranger"
        keygen = ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(stranger)]
        subprocess.run(keygen, check=True)
        with CloudAPI(emulator.url, ACCOUNT, key_file=stranger, debug=echo) as refused:
            expect(refused.get_account)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            closed = probe.getsockname()[1]
        nowhere = CloudAPI(
            f"http://127.0.0.1:{closed}", ACCOUNT, key_file=plain.path, retries=0, debug=echo
        )
        with nowhere:
            expect(nowhere.get_account)
        show(*failures)
        shown.extend(str(exc.__cause__) for exc in failures if exc.__cause__)
        kinds = {type(exc).__name__ for exc in failures}
        assert {"ResourceNotFoundError", "MachineGoneError", "SnapshotExistsError"} <= kinds
        assert {"WrongPassphraseError", "PassphraseRequiredError", "TypeError"} <= kinds
        assert {"InvalidCredentialsError", "ConnectError", "WaitTimeoutError"} <= kinds
        api.delete_user(user)

    captured = capsys.readouterr()
    output = "\n".join([echo.getvalue(), *shown, captured.out, captured.err])
    assert len(echo.getvalue().splitlines()) > 20  # the echo saw the whole run
    assert "-> 404" in echo.getvalue() and "-> 410" in echo.getvalue()
    secrets = {
        "passphrase": [PASSPHRASE],
        "password": [password, *machine_passwords],
        "access key secret": [access_secret],
        "private key": _key_lines(locked.path) + _key_lines(plain.path),
        "signature": [_signature(value) for value in sent],
    }
    assert all(secrets.values()) and len(secrets["signature"]) > 10
    for what, values in secrets.items():
        for value in values:
            assert value not in output, f"a {what} was shown"
            assert value[:24] not in output, f"the start of a {what} was shown"
