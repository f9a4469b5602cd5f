"""Ed25519 checks give the same answers through libsodium (PyNaCl) and through cryptography."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from smartdc.auth import _ed25519
from smartdc.auth.keys import verify_bytes

DATA = b"(request-target): get /alice/machines\ndate: Wed, 02 Dec 2026 04:00:00 GMT"


@pytest.fixture(params=["libsodium", "cryptography"])
def path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "cryptography":
        monkeypatch.setattr(_ed25519, "_open", None)
    else:
        assert _ed25519._open is not None, "PyNaCl is installed with the emulator extra"
    return str(request.param)


def test_a_good_signature_passes(path: str) -> None:
    key = Ed25519PrivateKey.generate()
    assert verify_bytes(key.public_key(), "ed25519-sha512", DATA, key.sign(DATA))


@pytest.mark.parametrize(
    "tamper",
    [
        lambda data, sig: (data + b"x", sig),
        lambda data, sig: (data, sig[:-1] + bytes([sig[-1] ^ 1])),
        lambda data, sig: (data, sig[:63]),
        lambda data, sig: (data, sig + b"\x00"),
        lambda data, sig: (data, b""),
        lambda data, sig: (data, b"\xff" * 64),
    ],
    ids=["other data", "flipped bit", "short", "long", "empty", "garbage"],
)
def test_a_bad_signature_fails(
    path: str, tamper: Callable[[bytes, bytes], tuple[bytes, bytes]]
) -> None:
    key = Ed25519PrivateKey.generate()
    data, signature = tamper(DATA, key.sign(DATA))
    assert not verify_bytes(key.public_key(), "ed25519-sha512", data, signature)


def test_another_keys_signature_fails(path: str) -> None:
    signer, other = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    assert not verify_bytes(other.public_key(), "ed25519-sha512", DATA, signer.sign(DATA))
