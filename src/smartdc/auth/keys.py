"""SSH keys: loading private keys, parsing public keys, fingerprints, raw signatures.

Only the key types CloudAPI can verify are accepted: RSA, ECDSA on P-256/P-384/P-521 and
Ed25519. Everything that goes wrong while loading a key is reported as one of the
:mod:`smartdc.errors` signing errors, never as a raw ``cryptography`` exception.

Unencrypted OpenSSH-format keys (what ``ssh-keygen`` writes) and fingerprints are read with
this module's own SSH wire-format code; ``cryptography.hazmat.primitives.serialization``
(with its cipher and bcrypt machinery, about a third of cryptography's import time) is
loaded only for PEM, DER, encrypted and public-key text, so a CLI command signing with a
plain key file starts faster.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import TypeAlias

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, padding, rsa

from smartdc.auth import _ed25519
from smartdc.auth._sshwire import SSHReader, ssh_mpint, ssh_string
from smartdc.errors import (
    KeyFileError,
    KeyFormatError,
    PassphraseRequiredError,
    SigningError,
    UnsupportedKeyTypeError,
    WrongPassphraseError,
)

PrivateKey: TypeAlias = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
PublicKey: TypeAlias = rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey
AnyKey: TypeAlias = PrivateKey | PublicKey

#: A passphrase (``str`` or ``bytes``), or a callback. The callback is called with one
#: argument, the prompt text (``"Enter passphrase for /home/me/.ssh/id_rsa: "``), only when
#: the key is encrypted, and returns the passphrase (``str`` or ``bytes``), or ``None`` to
#: give up. Anything else (a number read from YAML, say) is a ``TypeError``.
Passphrase: TypeAlias = str | bytes | Callable[[str], str | bytes | None] | None

#: How often a passphrase callback is asked before the key is declared undecryptable.
PASSPHRASE_ATTEMPTS = 3

_CURVES = frozenset({"secp256r1", "secp384r1", "secp521r1"})

# CloudAPI's verifier only knows sha1, sha256 and sha512 (no sha384; see DESIGN.md).
_HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha256": hashes.SHA256,
    "sha512": hashes.SHA512,
}

_OPENSSH_BEGIN = b"-----BEGIN OPENSSH PRIVATE KEY-----"
_OPENSSH_MAGIC = b"openssh-key-v1\x00"
_MAX_KEY_FILE = 64 * 1024
_MD5_RE = re.compile(r"^(?:MD5:)?(?:[0-9a-fA-F]{2}:){15}[0-9a-fA-F]{2}$")
_SHA256_RE = re.compile(r"^SHA256:[A-Za-z0-9+/]{43}=?$")
_PUBLIC_KEY_PREFIXES = (
    b"ssh-",
    b"ecdsa-sha2-",
    b"sk-",
    b"-----BEGIN PUBLIC KEY-----",
    b"-----BEGIN RSA PUBLIC KEY-----",
    b"---- BEGIN SSH2 PUBLIC KEY ----",
)


_Loader: TypeAlias = Callable[[bytes, bytes | None], object]

_SUPPORTED_SSH_TYPES = frozenset(
    {"ssh-rsa", "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521"}
)
_SUPPORTED_TEXT = "CloudAPI accepts only RSA, ECDSA (P-256, P-384, P-521) and Ed25519 keys"


# --- loading private keys --------------------------------------------------------------------


def load_private_key(path: str | os.PathLike[str], passphrase: Passphrase = None) -> PrivateKey:
    """Load a private key file (PEM or OpenSSH format); ``~`` is expanded.

    Raises:
        TypeError: ``passphrase`` is not ``str``, ``bytes``, a callable or ``None``.
        KeyFileError: the file is missing, a directory or unreadable.
        KeyFormatError: the file holds no private key (a ``.pub`` file is called out).
        PassphraseRequiredError: the key is encrypted and no passphrase was given.
        WrongPassphraseError: the passphrase does not decrypt the key.
        UnsupportedKeyTypeError: the key is DSA, Ed448, an unsupported curve, ...
    """
    check_passphrase(passphrase)
    resolved = Path(os.fspath(path)).expanduser()
    try:
        data = resolved.read_bytes()
    except IsADirectoryError:
        raise KeyFileError(
            f"cannot read private key {resolved}: it is a directory", str(resolved)
        ) from None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise KeyFileError(f"cannot read private key {resolved}: {reason}", str(resolved)) from None
    return load_private_key_data(data, passphrase, source=str(resolved))


def check_passphrase(passphrase: object) -> None:
    """Refuse a passphrase that is not ``str``, ``bytes``, a callable or ``None``.

    The value itself is never shown: it may be the secret with the wrong type.

    Raises:
        TypeError: e.g. ``1234`` read unquoted from a YAML or JSON file.
    """
    if passphrase is None or isinstance(passphrase, str | bytes) or callable(passphrase):
        return
    raise TypeError(
        f"passphrase must be a str, bytes or a callable that receives the prompt text and "
        f"returns one, not {type(passphrase).__name__} (a passphrase read from a config "
        "file may need quotes to stay a string)"
    )


def _checked_answer(answer: object) -> str | bytes | None:
    if answer is None or isinstance(answer, str | bytes):
        return answer
    raise TypeError(
        "the passphrase callback must return a str, bytes or None (to give up), not "
        f"{type(answer).__name__}"
    )


def load_private_key_data(
    data: bytes, passphrase: Passphrase = None, source: str = "<key data>"
) -> PrivateKey:
    """Parse private key bytes; ``source`` names the key in errors and passphrase prompts.

    Raises:
        TypeError: ``passphrase`` is not ``str``, ``bytes``, a callable or ``None``.
    """
    check_passphrase(passphrase)
    text = data.removeprefix(b"\xef\xbb\xbf").replace(b"\r\n", b"\n").strip()
    if not text:
        raise KeyFormatError(f"{source} is empty, not a private key")
    if text.startswith(_PUBLIC_KEY_PREFIXES):
        hint = "pass the private key file (usually the same name without .pub)"
        raise KeyFormatError(f"{source} is a public key, not a private key; {hint}")
    if text.startswith(b"PuTTY-User-Key-File-"):
        raise KeyFormatError(
            f"{source} is a PuTTY key; convert it with `puttygen {source} -O private-openssh`"
        )
    loader: _Loader
    if _OPENSSH_BEGIN in text:
        key_type, encrypted = _inspect_openssh(text, source)
        if key_type not in _SUPPORTED_SSH_TYPES:
            raise UnsupportedKeyTypeError(f"{source} is a {key_type} key; {_SUPPORTED_TEXT}")
        if not encrypted:
            fast = _unencrypted_openssh_key(text)
            if fast is not None:
                return _check_private_key(fast, source)
        loader = _load_ssh

    elif b"-----BEGIN " in text:
        if b"-----BEGIN DSA PRIVATE KEY-----" in text:
            raise UnsupportedKeyTypeError(f"{source} is a DSA key; {_SUPPORTED_TEXT}")
        encrypted = b"Proc-Type: 4,ENCRYPTED" in text or b"BEGIN ENCRYPTED PRIVATE KEY" in text
        loader = _load_pem_trusted
    elif data.startswith(b"\x30"):  # an ASN.1 SEQUENCE: maybe a DER key
        text = data
        loader = _load_der_trusted
        encrypted = _der_needs_password(data)
    else:
        raise KeyFormatError(
            f"{source} is not a private key (expected a PEM or OpenSSH private key file)"
        )
    key = _decrypt(loader, text, encrypted, passphrase, source)
    return _check_private_key(key, source)


# The user's own RSA key is trusted as it is: cryptography's full RSA key check (primality
# and consistency) costs about 45 ms on a small machine, most of a CLI command's run. A
# damaged key is still caught, by the server rejecting its signature.


def _load_pem_trusted(data: bytes, password: bytes | None) -> object:
    from cryptography.hazmat.primitives import serialization

    return serialization.load_pem_private_key(data, password, unsafe_skip_rsa_key_validation=True)


def _load_der_trusted(data: bytes, password: bytes | None) -> object:
    from cryptography.hazmat.primitives import serialization

    return serialization.load_der_private_key(data, password, unsafe_skip_rsa_key_validation=True)


def _load_ssh(data: bytes, password: bytes | None) -> object:
    from cryptography.hazmat.primitives import serialization

    return serialization.load_ssh_private_key(data, password)


#: OpenSSH's ECDSA key types and their curves.
_SSH_CURVES: dict[bytes, tuple[bytes, type[ec.EllipticCurve]]] = {
    b"ecdsa-sha2-nistp256": (b"nistp256", ec.SECP256R1),
    b"ecdsa-sha2-nistp384": (b"nistp384", ec.SECP384R1),
    b"ecdsa-sha2-nistp521": (b"nistp521", ec.SECP521R1),
}


def _unencrypted_openssh_key(text: bytes) -> object | None:
    """An unencrypted OpenSSH-format key read from its wire format (RSA without
    cryptography's slow key check), or ``None`` to leave an unexpected layout to
    cryptography's own loader. The layout is OpenSSH's PROTOCOL.key."""
    body = text.split(_OPENSSH_BEGIN, 1)[1].split(b"-----END", 1)[0]
    try:
        reader = SSHReader(base64.b64decode(b"".join(body.split()))[len(_OPENSSH_MAGIC) :])
        if reader.string() != b"none" or reader.string() != b"none":  # cipher, kdf
            return None
        reader.string()  # kdf options
        if reader.uint32() != 1:
            return None
        reader.string()  # public key blob
        private = SSHReader(reader.string())
        if private.uint32() != private.uint32():  # check integers differ: damaged
            return None
        key_type = private.string()
        if key_type == b"ssh-rsa":
            n, e, d, iqmp, p, q = (private.mpint() for _ in range(6))
            numbers = rsa.RSAPrivateNumbers(
                p=p,
                q=q,
                d=d,
                dmp1=d % (p - 1),
                dmq1=d % (q - 1),
                iqmp=iqmp,
                public_numbers=rsa.RSAPublicNumbers(e, n),
            )
            return numbers.private_key(unsafe_skip_rsa_key_validation=True)
        if key_type == b"ssh-ed25519":
            private.string()  # public key
            secret = private.string()  # seed followed by the public key
            return ed25519.Ed25519PrivateKey.from_private_bytes(secret[:32])
        if key_type in _SSH_CURVES:
            curve_name, curve = _SSH_CURVES[key_type]
            if private.string() != curve_name:
                return None
            private.string()  # public point
            return ec.derive_private_key(private.mpint(), curve())
        return None
    except (ValueError, binascii.Error, ZeroDivisionError, UnsupportedAlgorithm):
        return None


class _BadPassword(Exception):
    """The loader rejected the password (internal signal)."""


def _decrypt(
    loader: _Loader, data: bytes, encrypted: bool, passphrase: Passphrase, source: str
) -> object:
    if not encrypted:
        return _run_loader(loader, data, None, source)
    if passphrase is None:
        raise PassphraseRequiredError(f"{source} is encrypted; a passphrase is needed to use it")
    if not callable(passphrase):
        try:
            return _run_loader(loader, data, _as_bytes(passphrase), source)
        except _BadPassword:
            raise WrongPassphraseError(f"wrong passphrase for {source}") from None
    prompt = f"Enter passphrase for {source}: "
    for _ in range(PASSPHRASE_ATTEMPTS):
        answer = _checked_answer(passphrase(prompt))
        if answer is None:
            raise PassphraseRequiredError(f"{source} is encrypted and no passphrase was entered")
        try:
            return _run_loader(loader, data, _as_bytes(answer), source)
        except _BadPassword:
            continue
    raise WrongPassphraseError(f"wrong passphrase for {source} ({PASSPHRASE_ATTEMPTS} attempts)")


def _run_loader(loader: _Loader, data: bytes, password: bytes | None, source: str) -> object:
    try:
        return loader(data, password)
    except UnsupportedAlgorithm as exc:
        raise UnsupportedKeyTypeError(f"{source}: unsupported key type ({exc})") from None
    except (ValueError, TypeError) as exc:
        if password is not None:
            raise _BadPassword() from exc
        if isinstance(exc, TypeError):  # cryptography: "encrypted, but no password given"
            raise PassphraseRequiredError(
                f"{source} is encrypted; a passphrase is needed"
            ) from None
        raise KeyFormatError(f"{source} is not a private key we can read: {exc}") from None


def _der_needs_password(data: bytes) -> bool:
    from cryptography.hazmat.primitives import serialization

    try:
        serialization.load_der_private_key(data, None)
    except TypeError:  # cryptography's signal for "encrypted, but no password given"
        return True
    except (ValueError, UnsupportedAlgorithm):
        return False
    return False


def _as_bytes(secret: str | bytes) -> bytes:
    return secret.encode("utf-8") if isinstance(secret, str) else secret


def _inspect_openssh(text: bytes, source: str) -> tuple[str, bool]:
    """Read the key type and whether it is encrypted from an OpenSSH private key's header."""
    header = _openssh_header(text)
    if header is None:
        raise KeyFormatError(f"{source} is a damaged OpenSSH private key")
    cipher, public_blob = header
    try:
        key_type = SSHReader(public_blob).string().decode("ascii")
    except (ValueError, UnicodeDecodeError):
        raise KeyFormatError(f"{source} is a damaged OpenSSH private key") from None
    return key_type, cipher != "none"


def _openssh_header(text: bytes) -> tuple[str, bytes] | None:
    """The cipher name and public key blob of an OpenSSH private key (both stored in the
    clear, even in encrypted keys), or ``None`` when ``text`` is not one."""
    if _OPENSSH_BEGIN not in text:
        return None
    body = text.split(_OPENSSH_BEGIN, 1)[1].split(b"-----END", 1)[0]
    try:
        blob = base64.b64decode(b"".join(body.split()), validate=True)
        if not blob.startswith(_OPENSSH_MAGIC):
            return None
        reader = SSHReader(blob[len(_OPENSSH_MAGIC) :])
        cipher = reader.string().decode("ascii")
        reader.string()  # kdf name
        reader.string()  # kdf options
        if reader.uint32() < 1:
            return None
        return cipher, reader.string()
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None


def _openssh_line_blob(text: bytes) -> bytes | None:
    """The blob of a one-line OpenSSH public key of a type CloudAPI takes, read directly
    (no key object is built), or ``None`` when ``text`` is anything else."""
    fields = text.split()
    if len(fields) < 2 or fields[0].decode("ascii", "replace") not in _SUPPORTED_SSH_TYPES:
        return None
    try:
        blob = base64.b64decode(fields[1], validate=True)
        return blob if SSHReader(blob).string() == fields[0] else None
    except (ValueError, binascii.Error):
        return None


def key_file_public_blob(path: str | os.PathLike[str]) -> bytes | None:
    """The public key blob of a private key file without decrypting it, or ``None``.

    Uses ``<path>.pub`` when it exists, else the clear-text header of an OpenSSH-format
    private key. Never raises: unreadable or foreign files give ``None``.
    """
    private = Path(os.fspath(path)).expanduser()
    try:
        pub = private.with_name(private.name + ".pub")
        if pub.is_file():
            text = pub.read_bytes()
            return _openssh_line_blob(text) or public_key_blob(parse_public_key(text))
        if private.stat().st_size > _MAX_KEY_FILE:
            return None
        header = _openssh_header(private.read_bytes().replace(b"\r\n", b"\n"))
    except (OSError, SigningError):
        return None
    return header[1] if header else None


def _check_private_key(key: object, source: str) -> PrivateKey:
    if isinstance(key, rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey):
        return key
    if isinstance(key, ec.EllipticCurvePrivateKey):
        _check_curve(key.curve, source)
        return key
    raise UnsupportedKeyTypeError(f"{source} is a {_type_name(key)} key; {_SUPPORTED_TEXT}")


def _check_curve(curve: ec.EllipticCurve, source: str) -> None:
    if curve.name not in _CURVES:
        raise UnsupportedKeyTypeError(
            f"{source} is an ECDSA key on curve {curve.name}; {_SUPPORTED_TEXT}"
        )


def _type_name(key: object) -> str:
    if isinstance(key, dsa.DSAPrivateKey | dsa.DSAPublicKey):
        return "DSA"
    name = type(key).__name__
    for suffix in ("PrivateKey", "PublicKey"):
        name = name.removesuffix(suffix)
    return name or "unknown"


# --- public keys -----------------------------------------------------------------------------


def parse_public_key(text: str | bytes) -> PublicKey:
    """Parse an OpenSSH one-line public key (``ssh-ed25519 AAAA... comment``), an RFC 4716
    (``---- BEGIN SSH2 PUBLIC KEY ----``) block or a PEM public key.

    Raises:
        KeyFormatError: the text is not a public key.
        UnsupportedKeyTypeError: a well-formed key of a type CloudAPI cannot use (DSA ...).
    """
    from cryptography.hazmat.primitives import serialization

    data = (text.encode("utf-8") if isinstance(text, str) else text).strip()
    data = data.replace(b"\r\n", b"\n")
    source = "public key"
    try:
        if data.startswith(b"-----BEGIN"):
            key: object = serialization.load_pem_public_key(data)
        elif data.startswith(b"---- BEGIN SSH2 PUBLIC KEY ----"):
            key = public_key_from_blob(_rfc4716_blob(data))
        else:
            fields = data.split()
            if len(fields) < 2:
                raise ValueError("expected '<type> <base64> [comment]'")
            _refuse_dsa(fields[0].decode("ascii", "replace"))
            key = serialization.load_ssh_public_key(fields[0] + b" " + fields[1])
    except UnsupportedAlgorithm:
        raise UnsupportedKeyTypeError(f"unsupported public key type: {_first_word(data)}") from None
    except (ValueError, binascii.Error) as exc:
        raise KeyFormatError(f"not a public key ({exc}): {_excerpt(data)}") from None
    return _check_public_key(key, source)


def public_key_from_blob(blob: bytes) -> PublicKey:
    """Parse an SSH wire-format public key blob (as ssh-agent and ``.pub`` files carry)."""
    from cryptography.hazmat.primitives import serialization

    try:
        key_type = SSHReader(blob).string().decode("ascii")
        _refuse_dsa(key_type)
        line = key_type.encode("ascii") + b" " + base64.b64encode(blob)
        key: object = serialization.load_ssh_public_key(line)
    except UnsupportedAlgorithm:
        raise UnsupportedKeyTypeError("unsupported public key type") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise KeyFormatError(f"not an SSH public key blob ({exc})") from None
    return _check_public_key(key, "public key")


def _refuse_dsa(key_type: str) -> None:
    # Checked before cryptography sees the key: it warns about SSH DSA keys.
    if key_type == "ssh-dss":
        raise UnsupportedKeyTypeError(f"ssh-dss (DSA) public key; {_SUPPORTED_TEXT}")


def _check_public_key(key: object, source: str) -> PublicKey:
    if isinstance(key, rsa.RSAPublicKey | ed25519.Ed25519PublicKey):
        return key
    if isinstance(key, ec.EllipticCurvePublicKey):
        _check_curve(key.curve, source)
        return key
    raise UnsupportedKeyTypeError(f"{source} is a {_type_name(key)} key; {_SUPPORTED_TEXT}")


def _rfc4716_blob(data: bytes) -> bytes:
    lines = data.split(b"\n")[1:]
    body: list[bytes] = []
    continued = False
    for raw in lines:
        line = raw.strip()
        if line.startswith(b"---- END SSH2 PUBLIC KEY ----"):
            return base64.b64decode(b"".join(body), validate=True)
        if continued or b":" in line:
            continued = line.endswith(b"\\")
            continue
        body.append(line)
    raise ValueError("no END line")


def _first_word(data: bytes) -> str:
    return data.split(maxsplit=1)[0].decode("ascii", "replace") if data else ""


def _excerpt(data: bytes) -> str:
    text = data.decode("utf-8", "replace")
    return repr(text if len(text) <= 40 else text[:37] + "...")


def public_key_of(key: AnyKey) -> PublicKey:
    """The public half of ``key`` (``key`` itself when it is already public)."""
    if isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey):
        return key.public_key()
    return key


def public_key_blob(key: AnyKey) -> bytes:
    """The SSH wire-format blob of ``key``'s public half (what fingerprints are hashed from),
    as RFC 4253 and RFC 5656 lay it out."""
    public = public_key_of(key)
    if isinstance(public, rsa.RSAPublicKey):
        numbers = public.public_numbers()
        return ssh_string(b"ssh-rsa") + ssh_mpint(numbers.e) + ssh_mpint(numbers.n)
    if isinstance(public, ed25519.Ed25519PublicKey):
        return ssh_string(b"ssh-ed25519") + ssh_string(public.public_bytes_raw())
    point = public.public_numbers()
    size = (public.curve.key_size + 7) // 8
    name = b"nistp" + str(public.curve.key_size).encode("ascii")
    encoded = b"\x04" + point.x.to_bytes(size, "big") + point.y.to_bytes(size, "big")
    return ssh_string(b"ecdsa-sha2-" + name) + ssh_string(name) + ssh_string(encoded)


def public_key_to_openssh(key: AnyKey, comment: str | None = None) -> str:
    """The OpenSSH one-line form, ``<type> <base64>[ <comment>]``."""
    blob = public_key_blob(key)
    key_type = SSHReader(blob).string().decode("ascii")
    line = f"{key_type} {base64.b64encode(blob).decode('ascii')}"
    return f"{line} {comment}" if comment else line


# --- fingerprints ----------------------------------------------------------------------------


def md5_fingerprint(key: AnyKey) -> str:
    """MD5 fingerprint as lowercase colon-hex, ``aa:bb:...`` (CloudAPI's key id form)."""
    return md5_fingerprint_of_blob(public_key_blob(key))


def sha256_fingerprint(key: AnyKey) -> str:
    """SHA256 fingerprint exactly as ``ssh-keygen -l`` prints it: ``SHA256:<base64>``."""
    return sha256_fingerprint_of_blob(public_key_blob(key))


def md5_fingerprint_of_blob(blob: bytes) -> str:
    """MD5 colon-hex fingerprint of an SSH public key blob."""
    return ":".join(f"{byte:02x}" for byte in _digest(hashes.MD5(), blob))


def sha256_fingerprint_of_blob(blob: bytes) -> str:
    """``SHA256:<unpadded base64>`` fingerprint of an SSH public key blob."""
    return "SHA256:" + base64.b64encode(_digest(hashes.SHA256(), blob)).decode().rstrip("=")


def _digest(algorithm: hashes.HashAlgorithm, data: bytes) -> bytes:
    # cryptography's hashes, not hashlib's: hashlib would load a second OpenSSL binding
    # (about 3 ms of every CLI command's start-up).
    digest = hashes.Hash(algorithm)
    digest.update(data)
    return digest.finalize()


def is_fingerprint(text: str) -> bool:
    """True for ``aa:bb:...``, ``MD5:aa:bb:...`` and ``SHA256:<base64>`` fingerprints."""
    return bool(_MD5_RE.match(text) or _SHA256_RE.match(text))


def fingerprint_matches(key: AnyKey, fingerprint: str) -> bool:
    """Whether ``fingerprint`` (any form :func:`is_fingerprint` accepts) names ``key``."""
    return blob_matches_fingerprint(public_key_blob(key), fingerprint)


def blob_matches_fingerprint(blob: bytes, fingerprint: str) -> bool:
    """Whether ``fingerprint`` names the SSH public key ``blob``."""
    wanted = fingerprint.strip()
    if _SHA256_RE.match(wanted):
        return wanted.rstrip("=") == sha256_fingerprint_of_blob(blob)
    if _MD5_RE.match(wanted):
        return wanted.lower().removeprefix("md5:") == md5_fingerprint_of_blob(blob)
    return False


# --- signatures ------------------------------------------------------------------------------


def signature_algorithm(key: AnyKey) -> str:
    """The HTTP Signature algorithm CloudAPI accepts for ``key``.

    P-384 signs with SHA-512: CloudAPI's verifier rejects ``ecdsa-sha384``.
    """
    public = public_key_of(key)
    if isinstance(public, rsa.RSAPublicKey):
        return "rsa-sha256"
    if isinstance(public, ed25519.Ed25519PublicKey):
        return "ed25519-sha512"
    return "ecdsa-sha256" if public.curve.name == "secp256r1" else "ecdsa-sha512"


def _split_algorithm(algorithm: str) -> tuple[str, str]:
    family, _, hash_name = algorithm.lower().partition("-")
    return family, hash_name


def sign_bytes(key: PrivateKey, algorithm: str, data: bytes) -> bytes:
    """Sign ``data`` as http-signature expects: RSA PKCS#1 v1.5, ECDSA DER-encoded,
    Ed25519 the raw 64 bytes.

    Raises:
        ValueError: ``algorithm`` is unknown or does not fit the key type.
    """
    family, hash_name = _split_algorithm(algorithm)
    if isinstance(key, ed25519.Ed25519PrivateKey):
        if (family, hash_name) != ("ed25519", "sha512"):
            raise ValueError(f"an Ed25519 key cannot sign with {algorithm}")
        return key.sign(data)
    if hash_name not in _HASHES:
        raise ValueError(f"unsupported signature algorithm {algorithm}")
    digest = _HASHES[hash_name]()
    if isinstance(key, rsa.RSAPrivateKey) and family == "rsa":
        return key.sign(data, padding.PKCS1v15(), digest)
    if isinstance(key, ec.EllipticCurvePrivateKey) and family == "ecdsa":
        return key.sign(data, ec.ECDSA(digest))
    raise ValueError(f"a {_type_name(key)} key cannot sign with {algorithm}")


def verify_bytes(key: PublicKey, algorithm: str, data: bytes, signature: bytes) -> bool:
    """Check a signature made by :func:`sign_bytes`. Never raises on bad input: a wrong key
    family, an unknown algorithm or a garbage signature all give ``False``."""
    family, hash_name = _split_algorithm(algorithm)
    try:
        if isinstance(key, ed25519.Ed25519PublicKey):
            if (family, hash_name) != ("ed25519", "sha512"):
                return False
            return _ed25519.verify(key, signature, data)
        if hash_name not in _HASHES:
            return False
        digest = _HASHES[hash_name]()
        if isinstance(key, rsa.RSAPublicKey) and family == "rsa":
            key.verify(signature, data, padding.PKCS1v15(), digest)
            return True
        if isinstance(key, ec.EllipticCurvePublicKey) and family == "ecdsa":
            key.verify(signature, data, ec.ECDSA(digest))
            return True
    except (InvalidSignature, ValueError, TypeError):
        return False
    return False
