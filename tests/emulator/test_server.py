"""The ``smartdc-emulator`` command and :class:`EmulatorServer`: options, restarts, reset."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from smartdc.emulator.server import EmulatorServer, accounts_from_arguments, main
from smartdc.emulator.store import accounts
from tests.conftest import TestKey
from tests.emulator.signing import SignedClient, Signer


def test_keys_follow_the_account_before_them() -> None:
    ordered = [
        ("key", "a.pub"),
        ("account", "alice"),
        ("key", "b.pub"),
        ("account", "bob"),
        ("key", "c.pub"),
    ]
    assert accounts_from_arguments(ordered) == {"alice": ["a.pub", "b.pub"], "bob": ["c.pub"]}


def test_keys_without_account_go_to_demo() -> None:
    assert accounts_from_arguments([("key", "a.pub")]) == {"demo": ["a.pub"]}
    assert accounts_from_arguments([("account", "solo")]) == {"solo": []}


def test_missing_key_file_names_the_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope.pub"
    assert main(["--port", "0", "--key", str(missing)]) == 2
    assert str(missing) in capsys.readouterr().err


def test_unparseable_key_file_names_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.pub"
    bad.write_text("ssh-rsa this-is-not-base64 comment\n")
    assert main(["--port", "0", "--account", "alice", "--key", str(bad)]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err
    assert "not an OpenSSH public key" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["--port", "70000"],
        ["--port", "eighty"],
        ["--provision-delay", "-1"],
        ["--datacenter", "a", "--datacenter", "a"],
        ["--bogus"],
    ],
)
def test_bad_options_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 2
    assert "smartdc-emulator" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["--account", "bad login!"], "invalid account login 'bad login!'"),
        (["--account", ""], "invalid account login ''"),
        (["--datacenter", "us east"], "invalid datacenter name 'us east'"),
        (["--datacenter", ""], "invalid datacenter name ''"),
        (["--datacenter", "a", "--datacenter", "b", "--datacenter", "a"], "more than once: a"),
        (["--host", ""], "the host to listen on is empty"),
    ],
)
def test_bad_names_are_refused_by_name(
    argv: list[str], named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["--port", "0", *argv])
    assert caught.value.code == 2
    assert named in capsys.readouterr().err


@pytest.mark.parametrize("damage", ["not a database", "a directory"])
def test_unusable_database_file_is_a_setup_error(
    tmp_path: Path, damage: str, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "emulator.sqlite3"
    if damage == "a directory":
        database.mkdir()
    else:
        database.write_text("this is not SQLite\n")
    assert main(["--port", "0", "--data-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"cannot open the emulator database {database}" in err
    assert "Traceback" not in err


def test_two_keys_named_alike_are_refused(
    tmp_path: Path, keys: dict[str, TestKey], capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = tmp_path / "a" / "id.pub", tmp_path / "b" / "id.pub"
    for path, key in ((first, keys["rsa"]), (second, keys["ed25519"])):
        path.parent.mkdir()
        path.write_text(key.pub_path.read_text())
    argv = ["--port", "0", "--account", "alice", "--key", str(first), "--key", str(second)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"account alice: {first} and {second} would both be key 'id'" in err


def test_data_dir_that_is_a_file_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "state"
    file.write_text("")
    assert main(["--port", "0", "--data-dir", str(file)]) == 2
    assert f"cannot use data directory {file}: it is a file" in capsys.readouterr().err


def test_command_serves_until_sigterm(keys: dict[str, TestKey]) -> None:
    command = [
        sys.executable,
        "-m",
        "smartdc.emulator.server",
        "--port",
        "0",
        "--account",
        "alice",
        "--key",
        str(keys["ed25519"].pub_path),
        "--datacenter",
        "eu-1",
        "--datacenter",
        "eu-2",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline().strip() for _ in range(2)]
        assert lines[0].startswith(
            "smartdc-emulator: datacenter eu-1 listening on http://127.0.0.1:"
        )
        assert lines[1].startswith(
            "smartdc-emulator: datacenter eu-2 listening on http://127.0.0.1:"
        )
        key_line = process.stdout.readline().strip()
        assert key_line == f"smartdc-emulator: account alice key /alice/keys/{keys['ed25519'].md5}"
        url = lines[1].rsplit(" ", 1)[1]
        ping = httpx.get(f"{url}/--ping", timeout=5)
        assert ping.headers["triton-datacenter-name"] == "eu-2"
        signed = SignedClient(url, Signer(keys["ed25519"], login="alice"))
        assert signed.get("/my").json()["login"] == "alice"
        signed.close()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_state_survives_a_restart(tmp_path: Path, keys: dict[str, TestKey]) -> None:
    registry: dict[str, list[str | os.PathLike[str]]] = {"alice": [keys["rsa"].pub_path]}
    signer = Signer(keys["rsa"], login="alice")
    with EmulatorServer(registry, data_dir=tmp_path, provision_delay=0) as first:
        client = SignedClient(first.url, signer)
        account_id = client.get("/my").json()["id"]
        line = keys["ed25519"].pub_path.read_text()
        assert client.post("/my/keys", json={"key": line, "name": "added"}).status_code == 201
        client.close()
    # The same key registered again on restart is not an error.
    with EmulatorServer(registry, data_dir=tmp_path, provision_delay=0) as second:
        client = SignedClient(second.url, signer)
        assert client.get("/my").json()["id"] == account_id
        assert {k["name"] for k in client.get("/my/keys").json()} == {"rsa", "added"}
        client.close()


def test_in_memory_state_is_gone_after_restart(keys: dict[str, TestKey]) -> None:
    registry: dict[str, list[str | os.PathLike[str]]] = {"alice": [keys["rsa"].pub_path]}
    ids = []
    for _ in range(2):
        with EmulatorServer(registry, provision_delay=0) as server:
            client = SignedClient(server.url, Signer(keys["rsa"], login="alice"))
            ids.append(client.get("/my").json()["id"])
            client.close()
    assert ids[0] != ids[1]


def test_reset_keeps_only_what_was_registered(keys: dict[str, TestKey]) -> None:
    registry: dict[str, list[str | os.PathLike[str]]] = {"alice": [keys["rsa"].pub_path]}
    with EmulatorServer(registry, provision_delay=0) as server:
        client = SignedClient(server.url, Signer(keys["rsa"], login="alice"))
        account_id = client.get("/my").json()["id"]
        line = keys["ed25519"].pub_path.read_text()
        client.post("/my/keys", json={"key": line, "name": "added"})
        accounts.create_account(server.db, "bob")

        response = httpx.post(f"{server.url}/__emulator/reset")
        assert response.status_code == 204

        assert [k["name"] for k in client.get("/my/keys").json()] == ["rsa"]
        assert client.get("/my").json()["id"] == account_id
        assert accounts.get_account(server.db, "bob") is None
        # The default catalog comes back after a reset.
        state = httpx.get(f"{server.url}/__emulator/state").json()
        assert state["tables"]["images"]
        client.close()

        server.reset()
        assert [k["name"] for k in accounts.list_keys(server.db, account_id)] == ["rsa"]


def test_server_attributes(keys: dict[str, TestKey]) -> None:
    server = EmulatorServer({"alice": [keys["rsa"].pub_path]}, ["x-1", "x-2"], provision_delay=0)
    with pytest.raises(RuntimeError):
        _ = server.url
    with server:
        assert list(server.urls) == ["x-1", "x-2"]
        assert server.url == server.urls["x-1"]
        assert server.config.datacenters == server.urls
        assert server.config.provision_delay == 0
        assert accounts.get_account(server.db, "alice") is not None
    with pytest.raises(RuntimeError):
        _ = server.db


def test_reserved_login_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--port", "0", "--account", "my"]) == 2
    assert "account my" in capsys.readouterr().err
