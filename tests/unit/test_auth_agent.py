"""The ssh-agent client and AgentSigner against a real ``ssh-agent`` process."""

from __future__ import annotations

import socket
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from smartdc.auth import (
    AgentClient,
    AgentSigner,
    RequestSigner,
    load_private_key,
    make_signer,
    parse_authorization,
    parse_http_date,
    verify_bytes,
    verify_request,
)
from smartdc.auth.keys import public_key_blob
from smartdc.errors import (
    AgentError,
    AgentKeyNotFoundError,
    AgentUnavailableError,
    ConfigError,
    UnsupportedKeyTypeError,
)
from tests.conftest import TestKey
from tests.unit.conftest import AGENT_KEYS, SSHAgent

DATE = "Sat, 28 Nov 2026 22:11:00 GMT"
SIGNABLE = ["rsa", "ecdsa256", "ecdsa521", "ed25519"]
EXPECTED_ALGORITHM = {
    "rsa": "rsa-sha256",
    "ecdsa256": "ecdsa-sha256",
    "ecdsa521": "ecdsa-sha512",
    "ed25519": "ed25519-sha512",
}


def accepted(signer: AgentSigner, key_id: str, headers: tuple[str, ...]) -> bool:
    """Sign a request through the agent and check it as the server would."""
    made = RequestSigner(signer, key_id, headers).headers_for("GET", "/a/machines?x=1", date=DATE)
    values = {"date": made["Date"]}
    parsed = parse_authorization(made["Authorization"], values, now=parse_http_date(DATE))
    return verify_request(parsed, signer.public_key, "GET", "/a/machines?x=1", values)


def test_identities_lists_the_added_keys(ssh_agent: SSHAgent, keys: dict[str, TestKey]) -> None:
    identities = AgentClient(ssh_agent.socket_path).identities()
    assert [i.md5_fingerprint for i in identities] == [keys[n].md5 for n in AGENT_KEYS]
    assert [i.sha256_fingerprint for i in identities] == [keys[n].sha256 for n in AGENT_KEYS]
    assert identities[0].comment == "rsa@smartdc-tests"
    assert identities[0].key_type == "ssh-rsa"
    assert all(i.public_key is not None for i in identities)


@pytest.mark.parametrize("headers", [("(request-target)", "date"), ("date",)])
@pytest.mark.parametrize("name", SIGNABLE)
def test_agent_signer_signs_verifiable_requests(
    ssh_agent: SSHAgent, keys: dict[str, TestKey], name: str, headers: tuple[str, ...]
) -> None:
    key = keys[name]
    signer = AgentSigner(key.sha256, ssh_agent.socket_path)
    assert signer.md5_fingerprint == key.md5
    assert signer.comment == f"{name}@smartdc-tests"
    assert accepted(signer, f"/a/keys/{key.sha256}", headers)
    assert signer.algorithm == EXPECTED_ALGORITHM[name]


def test_agent_signatures_match_key_file_verification(
    ssh_agent: SSHAgent, keys: dict[str, TestKey]
) -> None:
    for name in SIGNABLE:
        signer = AgentSigner(f"MD5:{keys[name].md5}", ssh_agent.socket_path)
        signature = signer.sign(b"payload")
        public = load_private_key(keys[name].path).public_key()
        assert verify_bytes(public, signer.algorithm, b"payload", signature), name


def test_agent_answering_rsa_with_sha1(
    ssh_agent: SSHAgent, keys: dict[str, TestKey], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("smartdc.auth.signers.SSH_AGENT_RSA_SHA2_256", 0)
    signer = AgentSigner(keys["rsa"].md5, ssh_agent.socket_path)
    assert accepted(signer, "/a/keys/k", ("(request-target)", "date"))
    assert signer.algorithm == "rsa-sha1"


def test_p384_in_the_agent_is_refused(ssh_agent: SSHAgent, keys: dict[str, TestKey]) -> None:
    with pytest.raises(UnsupportedKeyTypeError, match="SHA-384"):
        AgentSigner(keys["ecdsa384"].md5, ssh_agent.socket_path)


def test_missing_key_lists_what_the_agent_offers(
    ssh_agent: SSHAgent, keys: dict[str, TestKey]
) -> None:
    wanted = keys["rsa_pem"].md5
    with pytest.raises(AgentKeyNotFoundError) as caught:
        AgentSigner(wanted, ssh_agent.socket_path)
    assert caught.value.tried == [keys[n].md5 for n in AGENT_KEYS]
    message = str(caught.value)
    assert wanted in message
    for identity in AgentClient(ssh_agent.socket_path).identities():
        assert f"{identity.md5_fingerprint} {identity.key_type} {identity.comment}" in message


def test_empty_agent(empty_agent: SSHAgent, keys: dict[str, TestKey]) -> None:
    with pytest.raises(AgentKeyNotFoundError, match="holds no keys") as caught:
        AgentSigner(keys["rsa"].md5, empty_agent.socket_path)
    assert caught.value.tried == []


def test_agent_refuses_to_sign_with_a_key_it_lacks(
    empty_agent: SSHAgent, keys: dict[str, TestKey]
) -> None:
    blob = public_key_blob(load_private_key(keys["ed25519"].path))
    with pytest.raises(AgentError, match="refused to sign"):
        AgentClient(empty_agent.socket_path).sign(blob, b"data")


def test_not_a_fingerprint(ssh_agent: SSHAgent) -> None:
    with pytest.raises(ConfigError, match="not an SSH key fingerprint"):
        AgentSigner("laptop", ssh_agent.socket_path)


@pytest.mark.parametrize(("value", "message"), [(None, "not set"), ("", "set but empty")])
def test_ssh_auth_sock_unset_or_empty(
    monkeypatch: pytest.MonkeyPatch, value: str | None, message: str
) -> None:
    if value is None:
        monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    else:
        monkeypatch.setenv("SSH_AUTH_SOCK", value)
    with pytest.raises(AgentUnavailableError, match=message):
        AgentClient()
    with pytest.raises(AgentUnavailableError, match=message):
        AgentSigner("SHA256:" + "A" * 43)


def test_ssh_auth_sock_is_the_default(
    ssh_agent: SSHAgent, keys: dict[str, TestKey], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSH_AUTH_SOCK", ssh_agent.socket_path)
    assert AgentSigner(keys["ed25519"].md5).md5_fingerprint == keys["ed25519"].md5


def test_connect_failure_names_the_socket(tmp_path: Path) -> None:
    missing = str(tmp_path / "gone.sock")
    with pytest.raises(AgentUnavailableError, match=f"{missing}.*No such file"):
        AgentClient(missing).identities()


def test_make_signer_uses_the_agent_then_key_dirs(
    ssh_agent: SSHAgent, keys: dict[str, TestKey], tmp_path: Path
) -> None:
    signer = make_signer(
        f"/a/keys/{keys['ed25519'].sha256}", socket_path=ssh_agent.socket_path, key_dirs=()
    )
    assert isinstance(signer, AgentSigner)
    # The agent cannot use its P-384 key; the key file next in line can.
    (tmp_path / "id_ecdsa").write_bytes(keys["ecdsa384"].path.read_bytes())
    (tmp_path / "id_ecdsa.pub").write_bytes(keys["ecdsa384"].pub_path.read_bytes())
    signer = make_signer(
        keys["ecdsa384"].md5, socket_path=ssh_agent.socket_path, key_dirs=[tmp_path]
    )
    assert not isinstance(signer, AgentSigner)
    assert signer.algorithm == "ecdsa-sha512"


def test_make_signer_keeps_the_agent_error_class_when_nothing_has_the_key(
    ssh_agent: SSHAgent, keys: dict[str, TestKey], tmp_path: Path
) -> None:
    wanted = keys["rsa_pem"].md5
    with pytest.raises(AgentKeyNotFoundError) as caught:
        make_signer(wanted, socket_path=ssh_agent.socket_path, key_dirs=[tmp_path])
    assert caught.value.tried == [keys[n].md5 for n in AGENT_KEYS]
    assert f"{tmp_path}: no private keys found there" in str(caught.value)


@pytest.fixture
def garbage_agent() -> Iterator[str]:
    """A socket that answers every request with an unknown message type."""
    directory = tempfile.mkdtemp(prefix="sdc-fake-")
    path = str(Path(directory) / "agent.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)

    def serve() -> None:
        conn, _ = server.accept()
        with conn:
            conn.recv(1024)
            conn.sendall(b"\x00\x00\x00\x01\x63")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield path
    server.close()
    thread.join(timeout=5)
    Path(path).unlink(missing_ok=True)
    Path(directory).rmdir()


def test_malformed_agent_reply(garbage_agent: str) -> None:
    with pytest.raises(AgentError, match="malformed reply"):
        AgentClient(garbage_agent).identities()
