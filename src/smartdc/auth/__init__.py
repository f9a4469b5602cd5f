"""HTTP Signature authentication for CloudAPI, shared by the client and the emulator.

Sans-IO pieces (key loading, fingerprints, key ids, signing strings, Authorization
build/parse/verify) plus signers for key files and ssh-agent, and an ``httpx.Auth`` adapter.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from smartdc.auth.agent import AgentClient, AgentIdentity
from smartdc.auth.httpsig import (
    ACCEPTED_ALGORITHMS,
    DEFAULT_SIGNED_HEADERS,
    MAX_CLOCK_SKEW,
    AuthorizationFormatError,
    AuthorizationSchemeError,
    ClockSkewError,
    ParsedSignature,
    SignatureMemo,
    SignatureParseError,
    build_authorization,
    format_http_date,
    parse_authorization,
    parse_http_date,
    signing_string,
    signing_string_for,
    verify_request,
)
from smartdc.auth.keyid import KeyId, parse_key_id
from smartdc.auth.keys import (
    Passphrase,
    PrivateKey,
    PublicKey,
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
from smartdc.auth.signers import (
    AgentSigner,
    KeyFileSigner,
    PrivateKeySigner,
    RequestSigner,
    Signer,
    make_signer,
)

__all__ = [
    "ACCEPTED_ALGORITHMS",
    "DEFAULT_SIGNED_HEADERS",
    "MAX_CLOCK_SKEW",
    "AgentClient",
    "AgentIdentity",
    "AgentSigner",
    "AuthorizationFormatError",
    "AuthorizationSchemeError",
    "ClockSkewError",
    "HTTPSignatureAuth",
    "KeyFileSigner",
    "KeyId",
    "ParsedSignature",
    "Passphrase",
    "PrivateKey",
    "PrivateKeySigner",
    "PublicKey",
    "RequestSigner",
    "SignatureMemo",
    "SignatureParseError",
    "Signer",
    "build_authorization",
    "fingerprint_matches",
    "format_http_date",
    "is_fingerprint",
    "load_private_key",
    "load_private_key_data",
    "make_signer",
    "md5_fingerprint",
    "parse_authorization",
    "parse_http_date",
    "parse_key_id",
    "parse_public_key",
    "public_key_to_openssh",
    "sha256_fingerprint",
    "sign_bytes",
    "signature_algorithm",
    "signing_string",
    "signing_string_for",
    "verify_bytes",
    "verify_request",
]

if TYPE_CHECKING:
    from smartdc.auth.httpx_auth import HTTPSignatureAuth


def __getattr__(name: str) -> Any:
    # The httpx adapter loads on first use, so signing alone never imports httpx.
    if name == "HTTPSignatureAuth":
        from smartdc.auth.httpx_auth import HTTPSignatureAuth

        return HTTPSignatureAuth
    raise AttributeError(f"module 'smartdc.auth' has no attribute {name!r}")
