"""Ed25519 signature checks, through libsodium when PyNaCl is installed.

Servers check a signature on every request. libsodium's ``crypto_sign_open`` does it in
about half the time of the OpenSSL path that cryptography's wheels take (92 to 99 µs against
180 to 245 µs on the 2-core benchmark machine, bench/README.md), so the emulator, which
installs PyNaCl, uses it; without PyNaCl, cryptography checks the signature.
"""

from __future__ import annotations

from collections.abc import Callable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519

_open: Callable[[bytes, bytes], bytes] | None
_refused: tuple[type[Exception], ...] = (ValueError, TypeError)
try:
    from nacl.bindings import crypto_sign_open as _open
    from nacl.exceptions import CryptoError

    _refused = (CryptoError, ValueError, TypeError)
except ImportError:  # PyNaCl is optional: the emulator's extra installs it
    _open = None

#: The length of every Ed25519 signature.
SIGNATURE_BYTES = 64


def verify(key: ed25519.Ed25519PublicKey, signature: bytes, data: bytes) -> bool:
    """Whether ``signature`` is ``key``'s Ed25519 signature of ``data``."""
    if _open is not None:
        if len(signature) != SIGNATURE_BYTES:
            return False
        try:
            _open(signature + data, key.public_bytes_raw())
        except _refused:
            return False
        return True
    try:
        key.verify(signature, data)
    except InvalidSignature:
        return False
    return True
