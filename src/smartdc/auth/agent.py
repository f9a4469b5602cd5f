"""A small ssh-agent client: list identities and sign data over the agent's UNIX socket.

Implements the two requests we need from the agent protocol (draft-miller-ssh-agent):
``REQUEST_IDENTITIES`` and ``SIGN_REQUEST``. Each call opens its own connection, so one
client can be shared between threads.
"""

from __future__ import annotations

import os
import socket

from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from smartdc._record import Record
from smartdc.auth._sshwire import SSHReader, ssh_string, ssh_uint32
from smartdc.auth.keys import (
    PublicKey,
    md5_fingerprint_of_blob,
    public_key_from_blob,
    sha256_fingerprint_of_blob,
)
from smartdc.errors import AgentError, AgentUnavailableError, SigningError

SSH_AGENT_FAILURE = 5
SSH_AGENTC_REQUEST_IDENTITIES = 11
SSH_AGENT_IDENTITIES_ANSWER = 12
SSH_AGENTC_SIGN_REQUEST = 13
SSH_AGENT_SIGN_RESPONSE = 14
#: Sign-request flags asking for an RSA signature with SHA-256 / SHA-512 instead of SHA-1.
SSH_AGENT_RSA_SHA2_256 = 2
SSH_AGENT_RSA_SHA2_512 = 4

_MAX_REPLY = 256 * 1024


class AgentIdentity(Record):
    """A key the agent holds. ``public_key`` is ``None`` for types we cannot use (DSA,
    security keys, certificates); their fingerprints are still known."""

    __slots__ = ("blob", "comment", "public_key")
    blob: bytes
    comment: str
    public_key: PublicKey | None

    def __init__(self, blob: bytes, comment: str, public_key: PublicKey | None) -> None:
        self.blob = blob
        self.comment = comment
        self.public_key = public_key

    @property
    def key_type(self) -> str:
        """The SSH key type name, e.g. ``ssh-ed25519``."""
        try:
            return SSHReader(self.blob).string().decode("ascii", "replace")
        except ValueError:
            return "unknown"

    @property
    def md5_fingerprint(self) -> str:
        return md5_fingerprint_of_blob(self.blob)

    @property
    def sha256_fingerprint(self) -> str:
        return sha256_fingerprint_of_blob(self.blob)


class AgentClient:
    """Talks to the ssh-agent at ``socket_path`` (default: ``$SSH_AUTH_SOCK``).

    Raises:
        AgentUnavailableError: no socket is configured (``SSH_AUTH_SOCK`` unset or empty);
            later, from the calls, when the socket refuses the connection.
    """

    def __init__(self, socket_path: str | None = None, *, timeout: float | None = 60.0) -> None:
        if socket_path is None:
            socket_path = os.environ.get("SSH_AUTH_SOCK")
            if socket_path is None:
                raise AgentUnavailableError("no ssh-agent: SSH_AUTH_SOCK is not set")
            if not socket_path:
                raise AgentUnavailableError("no ssh-agent: SSH_AUTH_SOCK is set but empty")
        elif not socket_path:
            raise AgentUnavailableError("no ssh-agent: the socket path is empty")
        self.socket_path = socket_path
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"AgentClient({self.socket_path!r})"

    def identities(self) -> list[AgentIdentity]:
        """Every key the agent offers, in the agent's order."""
        reply = self._request(bytes([SSH_AGENTC_REQUEST_IDENTITIES]))
        try:
            reader = SSHReader(reply)
            if reader.byte() != SSH_AGENT_IDENTITIES_ANSWER:
                raise ValueError("not an identities answer")
            found = []
            for _ in range(reader.uint32()):
                blob = reader.string()
                comment = reader.string().decode("utf-8", "replace")
                found.append(AgentIdentity(blob, comment, _public_key_or_none(blob)))
        except ValueError as exc:
            raise AgentError(
                f"malformed reply from ssh-agent at {self.socket_path}: {exc}"
            ) from None
        return found

    def sign(self, blob: bytes, data: bytes, flags: int = 0) -> tuple[str, bytes]:
        """Sign ``data`` with the agent key ``blob``.

        Returns the SSH signature format name (``rsa-sha2-256``, ``ssh-rsa``,
        ``ecdsa-sha2-nistp256``, ``ssh-ed25519`` ...) and the signature bytes as
        http-signature wants them: RSA and Ed25519 raw, ECDSA converted to DER.
        """
        request = (
            bytes([SSH_AGENTC_SIGN_REQUEST])
            + ssh_string(blob)
            + ssh_string(data)
            + ssh_uint32(flags)
        )
        reply = self._request(request)
        if reply[:1] == bytes([SSH_AGENT_FAILURE]):
            raise AgentError(
                f"ssh-agent at {self.socket_path} refused to sign with key "
                f"{md5_fingerprint_of_blob(blob)} (removed from the agent, or confirmation denied?)"
            )
        try:
            reader = SSHReader(reply)
            if reader.byte() != SSH_AGENT_SIGN_RESPONSE:
                raise ValueError("not a sign response")
            signature = SSHReader(reader.string())
            sig_format = signature.string().decode("ascii")
            raw = signature.string()
            if sig_format.startswith("ecdsa-sha2-"):
                point = SSHReader(raw)
                raw = encode_dss_signature(point.mpint(), point.mpint())
        except (ValueError, UnicodeDecodeError) as exc:
            raise AgentError(
                f"malformed reply from ssh-agent at {self.socket_path}: {exc}"
            ) from None
        return sig_format, raw

    def _request(self, message: bytes) -> bytes:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            try:
                sock.connect(self.socket_path)
            except OSError as exc:
                reason = exc.strerror or str(exc)
                raise AgentUnavailableError(
                    f"cannot connect to ssh-agent at {self.socket_path}: {reason}"
                ) from None
            try:
                sock.sendall(ssh_string(message))
                length = int.from_bytes(_read_exactly(sock, 4), "big")
                if length > _MAX_REPLY:
                    raise AgentError(f"ssh-agent at {self.socket_path} sent a {length}-byte reply")
                return _read_exactly(sock, length)
            except OSError as exc:
                raise AgentError(f"ssh-agent at {self.socket_path} failed: {exc}") from None
        finally:
            sock.close()


def _read_exactly(sock: socket.socket, count: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < count:
        chunk = sock.recv(count - len(chunks))
        if not chunk:
            raise ConnectionResetError("connection closed mid-reply")
        chunks += chunk
    return bytes(chunks)


def _public_key_or_none(blob: bytes) -> PublicKey | None:
    try:
        return public_key_from_blob(blob)
    except SigningError:
        return None
