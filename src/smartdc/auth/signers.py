"""Signers (a key file, an ssh-agent key) and the request signer built on them.

:func:`make_signer` picks a signer the way users expect from the ``triton`` CLI: an explicit
key file first; otherwise the key whose fingerprint the key id names, looked up in ssh-agent
and then among the private keys in ``~/.ssh``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

from cryptography.hazmat.primitives.asymmetric import ec, rsa

from smartdc.auth.agent import SSH_AGENT_RSA_SHA2_256, AgentClient, AgentIdentity
from smartdc.auth.httpsig import (
    DEFAULT_SIGNED_HEADERS,
    SignatureParseError,
    build_authorization,
    format_http_date,
    signing_string,
)
from smartdc.auth.keyid import parse_key_id
from smartdc.auth.keys import (
    Passphrase,
    PrivateKey,
    PublicKey,
    blob_matches_fingerprint,
    check_passphrase,
    fingerprint_matches,
    is_fingerprint,
    key_file_public_blob,
    load_private_key,
    md5_fingerprint,
    md5_fingerprint_of_blob,
    sha256_fingerprint,
    sign_bytes,
    signature_algorithm,
)
from smartdc.errors import (
    AgentError,
    AgentKeyNotFoundError,
    AgentUnavailableError,
    ConfigError,
    FingerprintMismatchError,
    SigningError,
    UnsupportedKeyTypeError,
)

#: Where :func:`make_signer` looks for a key file matching the key id's fingerprint.
DEFAULT_KEY_DIRS: tuple[str, ...] = ("~/.ssh",)

# SSH signature format (what ssh-agent reports) -> HTTP Signature algorithm.
_AGENT_FORMATS = {
    "rsa-sha2-256": "rsa-sha256",
    "rsa-sha2-512": "rsa-sha512",
    "ssh-rsa": "rsa-sha1",
    "ecdsa-sha2-nistp256": "ecdsa-sha256",
    "ecdsa-sha2-nistp521": "ecdsa-sha512",
    "ssh-ed25519": "ed25519-sha512",
}


@runtime_checkable
class Signer(Protocol):
    """Something that signs bytes with one key.

    ``algorithm`` is the HTTP Signature algorithm of the last signature made (an agent may
    answer an RSA request with SHA-1), so read it after :meth:`sign`.
    """

    @property
    def public_key(self) -> PublicKey: ...

    @property
    def algorithm(self) -> str: ...

    @property
    def md5_fingerprint(self) -> str: ...

    def sign(self, data: bytes) -> bytes: ...


class PrivateKeySigner:
    """Signs with a private key held in memory."""

    def __init__(self, key: PrivateKey) -> None:
        self._key = key
        self._public_key: PublicKey = key.public_key()
        self._algorithm = signature_algorithm(key)
        self._md5 = md5_fingerprint(key)

    @property
    def public_key(self) -> PublicKey:
        return self._public_key

    @property
    def algorithm(self) -> str:
        return self._algorithm

    @property
    def md5_fingerprint(self) -> str:
        return self._md5

    @property
    def sha256_fingerprint(self) -> str:
        return sha256_fingerprint(self._public_key)

    def sign(self, data: bytes) -> bytes:
        return sign_bytes(self._key, self._algorithm, data)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._md5})"


class KeyFileSigner(PrivateKeySigner):
    """Signs with a private key file, loaded (and decrypted) when constructed."""

    def __init__(self, path: str | os.PathLike[str], passphrase: Passphrase = None) -> None:
        self.path = Path(os.fspath(path)).expanduser()
        super().__init__(load_private_key(self.path, passphrase))

    def __repr__(self) -> str:
        return f"KeyFileSigner({str(self.path)!r}, {self.md5_fingerprint})"


class AgentSigner:
    """Signs with the ssh-agent key whose fingerprint is ``fingerprint`` (MD5 colon-hex with
    or without ``MD5:``, or ``SHA256:...``).

    Raises:
        ConfigError: ``fingerprint`` is not a fingerprint.
        AgentUnavailableError: no agent is reachable.
        AgentKeyNotFoundError: the agent has no such key (the message lists what it has).
        UnsupportedKeyTypeError: the key cannot sign for CloudAPI through the agent
            (DSA; P-384, which the agent signs with SHA-384, a hash CloudAPI rejects).
    """

    def __init__(self, fingerprint: str, socket_path: str | None = None) -> None:
        if not is_fingerprint(fingerprint):
            raise ConfigError(f"{fingerprint!r} is not an SSH key fingerprint")
        self._client = AgentClient(socket_path)
        identities = self._client.identities()
        identity = next(
            (i for i in identities if blob_matches_fingerprint(i.blob, fingerprint)), None
        )
        if identity is None:
            raise AgentKeyNotFoundError(
                _not_found_message(fingerprint, self._client.socket_path, identities),
                tried=[i.md5_fingerprint for i in identities],
            )
        self._identity = identity
        self._public_key = _usable_public_key(identity)
        self._algorithm = signature_algorithm(self._public_key)

    @property
    def public_key(self) -> PublicKey:
        return self._public_key

    @property
    def algorithm(self) -> str:
        return self._algorithm

    @property
    def md5_fingerprint(self) -> str:
        return self._identity.md5_fingerprint

    @property
    def comment(self) -> str:
        """The comment the agent holds for the key (often its file name)."""
        return self._identity.comment

    def sign(self, data: bytes) -> bytes:
        flags = SSH_AGENT_RSA_SHA2_256 if isinstance(self._public_key, rsa.RSAPublicKey) else 0
        sig_format, signature = self._client.sign(self._identity.blob, data, flags)
        algorithm = _AGENT_FORMATS.get(sig_format)
        if algorithm is None:
            raise AgentError(f"ssh-agent signed with {sig_format}, which CloudAPI cannot verify")
        self._algorithm = algorithm
        return signature

    def __repr__(self) -> str:
        return f"AgentSigner({self.md5_fingerprint}, {self._client.socket_path!r})"


def _usable_public_key(identity: AgentIdentity) -> PublicKey:
    key = identity.public_key
    if key is None:
        raise UnsupportedKeyTypeError(
            f"the ssh-agent key {identity.md5_fingerprint} is of type {identity.key_type}, "
            "which CloudAPI cannot verify"
        )
    if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp384r1":
        raise UnsupportedKeyTypeError(
            f"the ssh-agent key {identity.md5_fingerprint} is ECDSA P-384: ssh-agent signs it "
            "with SHA-384, which CloudAPI rejects; sign with the key file instead"
        )
    return key


def _not_found_message(wanted: str, socket_path: str, identities: list[AgentIdentity]) -> str:
    if not identities:
        return f"ssh-agent at {socket_path} holds no keys (wanted {wanted}); add one with ssh-add"
    offered = "\n".join(
        f"  {i.md5_fingerprint} {i.key_type} {i.comment}".rstrip() for i in identities
    )
    return f"ssh-agent at {socket_path} has no key with fingerprint {wanted}; it offers:\n{offered}"


def make_signer(
    key_id: str | None,
    *,
    key_file: str | os.PathLike[str] | None = None,
    passphrase: Passphrase = None,
    allow_agent: bool = True,
    socket_path: str | None = None,
    key_dirs: Sequence[str | os.PathLike[str]] = DEFAULT_KEY_DIRS,
) -> Signer:
    """The signer for ``key_id`` (a keyId path ``/<account>/keys/<name or fingerprint>`` or a
    bare fingerprint).

    With ``key_file`` that file signs, and a fingerprint in ``key_id`` must match it. Without
    one, the fingerprint selects the key: from ssh-agent (unless ``allow_agent`` is false),
    then from the private keys in ``key_dirs`` (matched through their ``.pub`` files or
    OpenSSH headers, so only the chosen key is decrypted).

    Raises:
        FingerprintMismatchError: ``key_file`` is not the key ``key_id`` names.
        ConfigError: ``key_id`` is malformed, or names a key only by name with no key file.
        SigningError: no source had the key; the message lists everything tried.
        KeyFileError, PassphraseRequiredError, ...: the key file cannot be loaded.
        TypeError: ``passphrase`` is not ``str``, ``bytes``, a callable or ``None``.
    """
    check_passphrase(passphrase)
    key_part = _key_part(key_id)
    if key_file is not None:
        signer = KeyFileSigner(key_file, passphrase)
        if key_part and is_fingerprint(key_part):
            _check_fingerprint(signer, key_part, f"key file {signer.path}")
        return signer
    if key_part is None:
        raise ConfigError(
            "nothing to sign with: give a key id with the key's fingerprint, or a key file"
        )
    if not is_fingerprint(key_part):
        raise ConfigError(
            f"the key id names the key {key_part!r} by name, and a name cannot pick a key from "
            "ssh-agent or ~/.ssh: put the key's MD5 fingerprint in the key id "
            "(ssh-keygen -l -E md5 -f <key>.pub) or give the key file"
        )
    tried = []
    agent_failure: SigningError | None = None
    if allow_agent:
        try:
            return AgentSigner(key_part, socket_path)
        except (AgentUnavailableError, AgentKeyNotFoundError, UnsupportedKeyTypeError) as exc:
            tried.append(f"ssh-agent: {exc}")
            agent_failure = exc
    else:
        tried.append("ssh-agent: not used (allow_agent=False; pass allow_agent=True to use it)")
    for directory in key_dirs:
        found, seen = _find_key_file(Path(os.fspath(directory)).expanduser(), key_part)
        if found is not None:
            return KeyFileSigner(found, passphrase)
        if seen:
            listing = "; ".join(f"{path.name} ({fp})" for path, fp in seen)
            tried.append(f"{directory}: no private key with that fingerprint among {listing}")
        else:
            tried.append(f"{directory}: no private keys found there")
    message = f"no key with fingerprint {key_part} to sign with; tried:\n" + "\n".join(
        "  " + line.replace("\n", "\n  ") for line in tried
    )
    # The agent's error class, so that `except AgentKeyNotFoundError` and the like still match.
    if isinstance(agent_failure, AgentKeyNotFoundError):
        raise AgentKeyNotFoundError(message, agent_failure.tried)
    if agent_failure is not None:
        raise type(agent_failure)(message)
    raise SigningError(message)


def _key_part(key_id: str | None) -> str | None:
    if key_id is None or key_id == "":
        return None
    if key_id.startswith("/"):
        try:
            return parse_key_id(key_id).key
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    return key_id


def _check_fingerprint(signer: Signer, fingerprint: str, what: str) -> None:
    if not fingerprint_matches(signer.public_key, fingerprint):
        raise FingerprintMismatchError(
            f"{what} has fingerprint {signer.md5_fingerprint} "
            f"({sha256_fingerprint(signer.public_key)}), but the key id names {fingerprint}"
        )


def _find_key_file(directory: Path, fingerprint: str) -> tuple[Path | None, list[tuple[Path, str]]]:
    """The private key file in ``directory`` whose public key has ``fingerprint``, and the
    key files looked at with their MD5 fingerprints (for the message when none matches)."""
    try:
        entries = sorted(directory.iterdir())
    except OSError:
        return None, []
    seen: list[tuple[Path, str]] = []
    for entry in entries:
        if entry.name.endswith(".pub") or not entry.is_file():
            continue
        blob = key_file_public_blob(entry)
        if blob is None:
            continue
        if blob_matches_fingerprint(blob, fingerprint):
            return entry, seen
        seen.append((entry, md5_fingerprint_of_blob(blob)))
    return None, seen


#: How many signatures of one Date a :class:`RequestSigner` keeps for reuse.
_SIGNED_PER_DATE = 256


class RequestSigner:
    """Makes the ``Date`` and ``Authorization`` headers for requests.

    ``key_id`` is ``/<account>/keys/<key>`` or ``/<account>/users/<user>/keys/<key>``. When
    ``<key>`` is a fingerprint in any form it must be the signer's key, and the keyId sent
    carries its MD5 colon-hex form (the only fingerprint CloudAPI looks up); key names are
    sent unchanged.

    Raises:
        ConfigError: ``key_id`` is malformed, or ``headers`` leaves out ``date``.
        FingerprintMismatchError: the key id's fingerprint is not the signer's key.
    """

    def __init__(
        self, signer: Signer, key_id: str, headers: Sequence[str] = DEFAULT_SIGNED_HEADERS
    ) -> None:
        try:
            parsed = parse_key_id(key_id)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        if is_fingerprint(parsed.key):
            _check_fingerprint(signer, parsed.key, "the signing key")
            parsed = parsed.with_key(signer.md5_fingerprint)
        names = tuple(name.lower() for name in headers)
        if "date" not in names:
            raise ConfigError(
                f"signed headers {list(headers)} must include 'date' (CloudAPI requires it)"
            )
        self.signer = signer
        self.headers = names
        self._key_id = str(parsed)
        #: The Authorization header of each signing string signed with the Date of
        #: ``_signed_date``: a request repeated within a second signs the same string, and
        #: its signature may be sent again.
        self._signed: dict[str, str] = {}
        self._signed_date = ""

    @property
    def key_id(self) -> str:
        """The keyId as sent."""
        return self._key_id

    def headers_for(
        self,
        method: str,
        target: str,
        *,
        date: str | None = None,
        extra: Mapping[str, str] | None = None,
    ) -> dict[str, str]:
        """``{"Date": ..., "Authorization": ...}`` for a request to ``target`` (path and
        query exactly as sent). ``date`` defaults to now; ``extra`` supplies the values of any
        other signed headers.

        Raises:
            SigningError: a signed header has no value, or the signer failed.
        """
        date_value = date if date is not None else format_http_date()
        values = {name.lower(): value for name, value in (extra or {}).items()}
        values["date"] = date_value
        try:
            text = signing_string(self.headers, method, target, values)
        except SignatureParseError as exc:
            raise SigningError(f"cannot sign the request: {exc}") from None
        signed = self._signed
        if date_value != self._signed_date or len(signed) >= _SIGNED_PER_DATE:
            signed = self._signed = {}
            self._signed_date = date_value
        authorization = signed.get(text)
        if authorization is None:
            signature = self.signer.sign(text.encode("utf-8"))
            authorization = build_authorization(
                self._key_id, self.signer.algorithm, signature, self.headers
            )
            signed[text] = authorization
        return {"Date": date_value, "Authorization": authorization}

    def __repr__(self) -> str:
        return f"RequestSigner({self.signer!r}, {self._key_id!r})"
