"""Key loading, public key parsing, fingerprints and raw signatures."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from smartdc.auth import (
    fingerprint_matches,
    is_fingerprint,
    load_private_key,
    load_private_key_data,
    md5_fingerprint,
    parse_public_key,
    public_key_to_openssh,
    sha256_fingerprint,
    sign_bytes,
    signature_algorithm,
    verify_bytes,
)
from smartdc.auth.keys import key_file_public_blob, public_key_blob
from smartdc.errors import (
    KeyFileError,
    KeyFormatError,
    PassphraseRequiredError,
    SigningError,
    UnsupportedKeyTypeError,
    WrongPassphraseError,
)
from tests.conftest import PASSPHRASE, TestKey

EXPECTED_ALGORITHM = {
    "rsa": "rsa-sha256",
    "rsa_pem": "rsa-sha256",
    "rsa_pkcs8": "rsa-sha256",
    "ecdsa256": "ecdsa-sha256",
    "ecdsa384": "ecdsa-sha512",
    "ecdsa521": "ecdsa-sha512",
    "ed25519": "ed25519-sha512",
    "rsa_encrypted": "rsa-sha256",
    "ecdsa_encrypted_pem": "ecdsa-sha256",
}


def _pub_line(key: TestKey) -> str:
    return " ".join(key.pub_path.read_text().split()[:2])


# --- loading ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(EXPECTED_ALGORITHM))
def test_every_format_loads_to_the_key_in_its_pub_file(keys: dict[str, TestKey], name: str) -> None:
    key = keys[name]
    private = load_private_key(key.path, key.passphrase)
    assert public_key_to_openssh(private) == _pub_line(key)
    assert signature_algorithm(private) == EXPECTED_ALGORITHM[name]


@pytest.mark.parametrize("name", sorted(EXPECTED_ALGORITHM))
def test_fingerprints_equal_ssh_keygen(keys: dict[str, TestKey], name: str) -> None:
    key = keys[name]
    private = load_private_key(key.path, key.passphrase)
    assert md5_fingerprint(private) == key.md5
    assert sha256_fingerprint(private) == key.sha256
    assert md5_fingerprint(private.public_key()) == key.md5


@pytest.mark.parametrize("name", ["rsa", "ecdsa256", "ecdsa521", "ed25519"])
def test_openssh_keys_read_from_their_wire_format_equal_cryptographys_reading(
    keys: dict[str, TestKey], name: str
) -> None:
    ours = load_private_key(keys[name].path)
    theirs = serialization.load_ssh_private_key(keys[name].path.read_bytes(), None)
    raw = serialization.Encoding.DER, serialization.PrivateFormat.PKCS8
    none = serialization.NoEncryption()
    assert ours.private_bytes(*raw, none) == theirs.private_bytes(*raw, none)


def test_a_plain_openssh_key_loads_without_cryptographys_serialization_module(
    keys: dict[str, TestKey],
) -> None:
    # What the CLI pays at start-up: the serialization machinery is left unloaded.
    code = (
        "import sys; from smartdc.auth.keys import load_private_key, md5_fingerprint; "
        f"print(md5_fingerprint(load_private_key({str(keys['ed25519'].path)!r}))); "
        "print('cryptography.hazmat.primitives.serialization' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout.split()
    assert out == [keys["ed25519"].md5, "False"]


def test_tilde_is_expanded(keys: dict[str, TestKey], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(keys["ed25519"].path.parent))
    private = load_private_key("~/ed25519")
    assert md5_fingerprint(private) == keys["ed25519"].md5


def test_crlf_line_endings_are_accepted(keys: dict[str, TestKey]) -> None:
    data = keys["rsa"].path.read_bytes().replace(b"\n", b"\r\n")
    assert md5_fingerprint(load_private_key_data(data)) == keys["rsa"].md5


def test_der_private_key_loads(keys: dict[str, TestKey]) -> None:
    private = load_private_key(keys["ecdsa256"].path)
    der = private.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret!"),
    )
    with pytest.raises(PassphraseRequiredError):
        load_private_key_data(der)
    assert md5_fingerprint(load_private_key_data(der, "secret!")) == keys["ecdsa256"].md5


# --- passphrases -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["rsa_encrypted", "ecdsa_encrypted_pem"])
def test_encrypted_key_without_passphrase(keys: dict[str, TestKey], name: str) -> None:
    with pytest.raises(PassphraseRequiredError, match=name):
        load_private_key(keys[name].path)


@pytest.mark.parametrize("name", ["rsa_encrypted", "ecdsa_encrypted_pem"])
def test_wrong_passphrase_names_the_file(keys: dict[str, TestKey], name: str) -> None:
    with pytest.raises(WrongPassphraseError, match=str(keys[name].path)):
        load_private_key(keys[name].path, "not it")


def test_bytes_passphrase(keys: dict[str, TestKey]) -> None:
    key = keys["rsa_encrypted"]
    assert md5_fingerprint(load_private_key(key.path, PASSPHRASE.encode())) == key.md5


def test_passphrase_callback_is_retried_with_a_prompt(keys: dict[str, TestKey]) -> None:
    key = keys["ecdsa_encrypted_pem"]
    answers: list[str | bytes] = ["first wrong", b"second wrong", PASSPHRASE]
    prompts: list[str] = []

    def ask(prompt: str) -> str | bytes | None:
        prompts.append(prompt)
        return answers[len(prompts) - 1]

    assert md5_fingerprint(load_private_key(key.path, ask)) == key.md5
    assert prompts == [f"Enter passphrase for {key.path}: "] * 3


def test_passphrase_callback_gives_up_after_three_tries(keys: dict[str, TestKey]) -> None:
    calls: list[str] = []

    def ask(prompt: str) -> str:
        calls.append(prompt)
        return "wrong"

    with pytest.raises(WrongPassphraseError, match="3 attempts"):
        load_private_key(keys["rsa_encrypted"].path, ask)
    assert len(calls) == 3


def test_passphrase_callback_returning_none_cancels(keys: dict[str, TestKey]) -> None:
    with pytest.raises(PassphraseRequiredError, match="no passphrase was entered"):
        load_private_key(keys["rsa_encrypted"].path, lambda prompt: None)


def test_passphrase_for_an_unencrypted_key_is_ignored(keys: dict[str, TestKey]) -> None:
    calls: list[str] = []

    def ask(prompt: str) -> str:
        calls.append(prompt)
        return "x"

    private = load_private_key(keys["rsa_pem"].path, ask)
    assert md5_fingerprint(private) == keys["rsa_pem"].md5
    assert calls == []


# --- bad key files ---------------------------------------------------------------------------


def test_missing_file_names_path_and_reason(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(KeyFileError, match=rf"{missing}.*No such file or directory"):
        load_private_key(missing)


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match=rf"{tmp_path}.*directory"):
        load_private_key(tmp_path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "locked"
    path.write_text("x")
    path.chmod(0)
    with pytest.raises(KeyFileError, match="Permission denied"):
        load_private_key(path)


def test_pub_file_passed_as_private_key(keys: dict[str, TestKey]) -> None:
    with pytest.raises(KeyFormatError, match=r"is a public key.*without \.pub"):
        load_private_key(keys["ed25519"].pub_path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"hello world\n", "not a private key"),
        (b"-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n", "not a"),
        (
            b"-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
            "damaged",
        ),
        (b"PuTTY-User-Key-File-3: ssh-rsa\n", "puttygen"),
    ],
)
def test_garbage_is_a_format_error(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad"
    path.write_bytes(content)
    with pytest.raises(KeyFormatError, match=message):
        load_private_key(path)


@pytest.mark.parametrize("fmt", ["RFC4716", "PEM"])
def test_dsa_key_is_unsupported(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"dsa_{fmt}"
    made = subprocess.run(
        ["ssh-keygen", "-q", "-t", "dsa", "-m", fmt, "-N", "", "-f", str(path)],
        capture_output=True,
        check=False,
    )
    if made.returncode != 0:
        pytest.skip("this ssh-keygen cannot make DSA keys")
    with pytest.raises(UnsupportedKeyTypeError, match="DSA"):
        load_private_key(path)
    with pytest.raises(UnsupportedKeyTypeError):
        parse_public_key(path.with_name(path.name + ".pub").read_text())


@pytest.mark.parametrize(
    ("key", "label"),
    [
        (ed448.Ed448PrivateKey.generate(), "Ed448"),
        (ec.generate_private_key(ec.SECP256K1()), "secp256k1"),
        (dsa.generate_private_key(1024), "DSA"),
    ],
)
def test_other_pkcs8_key_types_are_unsupported(key: PrivateKeyTypes, label: str) -> None:
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(UnsupportedKeyTypeError, match=label):
        load_private_key_data(pem, source="other")


def test_errors_are_signing_errors_never_raw_crypto_errors(tmp_path: Path) -> None:
    path = tmp_path / "k"
    path.write_bytes(b"-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n")
    with pytest.raises(SigningError):
        load_private_key(path)


# --- public keys -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["rsa", "ecdsa256", "ecdsa384", "ecdsa521", "ed25519"])
def test_parse_openssh_public_key_line(keys: dict[str, TestKey], name: str) -> None:
    key = keys[name]
    public = parse_public_key(key.pub_path.read_text())
    assert md5_fingerprint(public) == key.md5
    assert public_key_to_openssh(public, "me@host") == f"{_pub_line(key)} me@host"


@pytest.mark.parametrize("name", ["rsa", "ecdsa384", "ed25519"])
def test_parse_pem_and_rfc4716_public_keys(keys: dict[str, TestKey], name: str) -> None:
    key = keys[name]
    pem = (
        load_private_key(key.path)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    assert md5_fingerprint(parse_public_key(pem)) == key.md5
    rfc4716 = subprocess.run(
        ["ssh-keygen", "-e", "-m", "RFC4716", "-f", str(key.pub_path)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert "Comment:" in rfc4716
    assert md5_fingerprint(parse_public_key(rfc4716)) == key.md5


@pytest.mark.parametrize(
    "text", ["", "ssh-rsa", "ssh-rsa not-base64!", "ssh-ed25519 AAAAC3NzaC1yc2E=", "-----BEGIN"]
)
def test_bad_public_keys(text: str) -> None:
    with pytest.raises(KeyFormatError):
        parse_public_key(text)


def test_key_file_public_blob_reads_encrypted_openssh_header(
    keys: dict[str, TestKey], tmp_path: Path
) -> None:
    key = keys["rsa_encrypted"]
    lone = tmp_path / "lone"
    lone.write_bytes(key.path.read_bytes())  # no .pub beside it, still encrypted
    blob = key_file_public_blob(lone)
    assert blob == public_key_blob(parse_public_key(key.pub_path.read_text()))
    assert key_file_public_blob(tmp_path / "missing") is None


# --- fingerprints ----------------------------------------------------------------------------


def test_fingerprint_forms(keys: dict[str, TestKey]) -> None:
    key = keys["ecdsa256"]
    public = parse_public_key(key.pub_path.read_text())
    for form in (key.md5, key.md5.upper(), f"MD5:{key.md5}", key.sha256, f"{key.sha256}="):
        assert is_fingerprint(form), form
        assert fingerprint_matches(public, form), form
    other = keys["rsa"]
    assert not fingerprint_matches(public, other.md5)
    assert not fingerprint_matches(public, other.sha256)
    assert not fingerprint_matches(public, key.sha256.lower())  # base64 is case-sensitive
    for not_fp in ("id_rsa", "", "aa:bb", "SHA256:short", f"SHA1:{key.md5}"):
        assert not is_fingerprint(not_fp)
        assert not fingerprint_matches(public, not_fp)


# --- signatures ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["rsa", "ecdsa256", "ecdsa384", "ecdsa521", "ed25519"])
def test_sign_and_verify(keys: dict[str, TestKey], name: str) -> None:
    private = load_private_key(keys[name].path)
    algorithm = signature_algorithm(private)
    signature = sign_bytes(private, algorithm, b"date: now")
    assert verify_bytes(private.public_key(), algorithm, b"date: now", signature)
    assert not verify_bytes(private.public_key(), algorithm, b"date: later", signature)
    tampered = signature[:-1] + bytes([signature[-1] ^ 1])  # always differs from the original
    assert not verify_bytes(private.public_key(), algorithm, b"date: now", tampered)
    assert not verify_bytes(private.public_key(), algorithm, b"date: now", b"")


def test_signature_encodings_match_http_signature(keys: dict[str, TestKey]) -> None:
    ed = load_private_key(keys["ed25519"].path)
    assert len(sign_bytes(ed, "ed25519-sha512", b"x")) == 64  # raw, not SSH-wrapped
    ecdsa = load_private_key(keys["ecdsa256"].path)
    assert sign_bytes(ecdsa, "ecdsa-sha256", b"x")[0] == 0x30  # a DER SEQUENCE
    rsa_key = load_private_key(keys["rsa"].path)
    assert isinstance(rsa_key, rsa.RSAPrivateKey)
    assert len(sign_bytes(rsa_key, "rsa-sha256", b"x")) == rsa_key.key_size // 8


def test_rsa_and_ecdsa_other_hashes(keys: dict[str, TestKey]) -> None:
    for name, family in (("rsa", "rsa"), ("ecdsa256", "ecdsa")):
        private = load_private_key(keys[name].path)
        for hash_name in ("sha1", "sha256", "sha512"):
            algorithm = f"{family}-{hash_name}"
            signature = sign_bytes(private, algorithm, b"data")
            assert verify_bytes(private.public_key(), algorithm, b"data", signature)
            other = "sha1" if hash_name != "sha1" else "sha256"
            assert not verify_bytes(private.public_key(), f"{family}-{other}", b"data", signature)


def test_wrong_family_or_unknown_algorithm_does_not_verify(keys: dict[str, TestKey]) -> None:
    rsa_key = load_private_key(keys["rsa"].path)
    signature = sign_bytes(rsa_key, "rsa-sha256", b"data")
    public = rsa_key.public_key()
    for algorithm in ("ecdsa-sha256", "ed25519-sha512", "rsa-sha384", "rsa-md5", "hmac-sha256", ""):
        assert not verify_bytes(public, algorithm, b"data", signature)
    ed = load_private_key(keys["ed25519"].path)
    assert isinstance(ed, ed25519.Ed25519PrivateKey)
    ed_sig = sign_bytes(ed, "ed25519-sha512", b"data")
    assert not verify_bytes(ed.public_key(), "ed25519-sha256", b"data", ed_sig)
    assert not verify_bytes(ed.public_key(), "ed25519-sha512", b"data", b"garbage")


def test_sign_rejects_mismatched_algorithm(keys: dict[str, TestKey]) -> None:
    rsa_key = load_private_key(keys["rsa"].path)
    with pytest.raises(ValueError, match="cannot sign with ecdsa-sha256"):
        sign_bytes(rsa_key, "ecdsa-sha256", b"x")
    with pytest.raises(ValueError, match="unsupported"):
        sign_bytes(rsa_key, "rsa-sha384", b"x")
    ed = load_private_key(keys["ed25519"].path)
    with pytest.raises(ValueError):
        sign_bytes(ed, "ed25519-sha256", b"x")
