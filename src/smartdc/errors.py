"""Every exception smartdc raises.

The tree::

    SmartDCError                       catch-all for this package
    ├── ConfigError                    bad client options (no account, bad URL, bad key_id ...)
    ├── SigningError                   a request could not be signed
    │   ├── KeyFileError               private key file missing or unreadable
    │   ├── KeyFormatError             file is not a private key we can parse
    │   ├── UnsupportedKeyTypeError    key type CloudAPI cannot verify (e.g. DSA)
    │   ├── PassphraseRequiredError    key is encrypted and no passphrase was given
    │   ├── WrongPassphraseError       the passphrase does not decrypt the key
    │   ├── FingerprintMismatchError   key does not match the fingerprint in key_id
    │   └── AgentError                 ssh-agent problems
    │       ├── AgentUnavailableError  SSH_AUTH_SOCK unset, or the socket refuses us
    │       └── AgentKeyNotFoundError  agent holds no key with that fingerprint
    ├── TransportError                 no HTTP response was received
    │   ├── ConnectError               could not connect (refused, DNS, TLS)
    │   └── TimeoutError               connect or read timed out
    ├── CloudAPIError                  CloudAPI answered with an error status
    │   ├── <one subclass per CloudAPI error code>, e.g. ResourceNotFoundError
    │   └── MachineGoneError           410 Gone: the machine was deleted
    └── WaitError                      a poll did not reach its goal
        ├── WaitTimeoutError           the deadline passed
        └── MachineFailedError         the machine went to state ``failed``

Every CloudAPI error carries ``status``, ``code``, ``message`` and ``request_id``; subclasses
are looked up by ``code`` with :func:`error_for_response`.
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Mapping, Sequence
from typing import Any


class SmartDCError(Exception):
    """Base class of every error raised by smartdc."""


class ConfigError(SmartDCError):
    """Client options are missing or inconsistent."""


# --- signing -------------------------------------------------------------------------------


class SigningError(SmartDCError):
    """A request could not be signed."""


class KeyFileError(SigningError):
    """The private key file is missing or cannot be read."""


class KeyFormatError(SigningError):
    """The data is not a private (or public) key in a format we understand."""


class UnsupportedKeyTypeError(SigningError):
    """The key type cannot sign CloudAPI requests (only RSA, ECDSA and Ed25519 can)."""


class PassphraseRequiredError(SigningError):
    """The key is encrypted and no passphrase (or passphrase callback) was supplied."""


class WrongPassphraseError(SigningError):
    """The passphrase supplied does not decrypt the key."""


class FingerprintMismatchError(SigningError):
    """The key does not have the fingerprint that the key id names."""


class AgentError(SigningError):
    """ssh-agent could not be used."""


class AgentUnavailableError(AgentError):
    """No ssh-agent is reachable (``SSH_AUTH_SOCK`` unset, empty, or refusing)."""


class AgentKeyNotFoundError(AgentError):
    """The agent holds no key with the wanted fingerprint.

    ``tried`` lists the MD5 fingerprints the agent offered.
    """

    def __init__(self, message: str, tried: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.tried = list(tried)


# --- transport -----------------------------------------------------------------------------


class TransportError(SmartDCError):
    """No HTTP response was received."""


class ConnectError(TransportError):
    """The connection could not be made."""


class TimeoutError(TransportError, builtins.TimeoutError):  # mirrors httpx's name on purpose
    """The server did not answer in time."""


# --- CloudAPI errors -----------------------------------------------------------------------


class CloudAPIError(SmartDCError):
    """CloudAPI answered with an error status.

    Attributes:
        status: the HTTP status code.
        code: CloudAPI's error code (``ResourceNotFound``, ``InvalidArgument`` ...), or ``None``
            when the body had none.
        message: the human-readable message from the body.
        request_id: the ``Request-Id`` response header, for support requests.
        body: the decoded response body (a dict, a list, a string or ``None``).
        errors: per-field details some backends add (``[{"field","code","message"}]``).
        hint: a likely cause worked out on the client side (e.g. clock skew), or ``None``.
    """

    default_code: str | None = None

    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: str | None = None,
        request_id: str | None = None,
        body: Any = None,
        hint: str | None = None,
    ) -> None:
        self.status = status
        self.code = code if code is not None else self.default_code
        self.message = message
        self.request_id = request_id
        self.body = body
        self.hint = hint
        errors = body.get("errors") if isinstance(body, Mapping) else None
        self.errors: list[dict[str, Any]] = list(errors) if isinstance(errors, list) else []
        super().__init__(str(self))

    def about(self, subject: str) -> CloudAPIError:
        """The same error, of the same class, with ``subject`` (what was asked for, such as
        ``machine <id>``) put before the message."""
        return type(self)(
            f"{subject}: {self.message}",
            status=self.status,
            code=self.code,
            request_id=self.request_id,
            body=self.body,
            hint=self.hint,
        )

    def __str__(self) -> str:
        label = f"{self.status} {self.code}" if self.code else str(self.status)
        text = f"{label}: {self.message}"
        for detail in self.errors:
            if isinstance(detail, Mapping):
                text += f"\n  {detail.get('field', '?')}: {detail.get('code', '?')}: "
                text += str(detail.get("message", ""))
        if self.request_id:
            text += f" (request {self.request_id})"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class MachineGoneError(CloudAPIError):
    """410 Gone: the machine has been deleted. ``machine`` is the body CloudAPI returned."""

    @property
    def machine(self) -> dict[str, Any] | None:
        """The deleted machine's last state, when CloudAPI sent it."""
        return self.body if isinstance(self.body, dict) else None


class BadRequestError(CloudAPIError):
    """``BadRequest``: the request is malformed."""

    default_code = "BadRequest"


class InvalidHeaderError(CloudAPIError):
    """``InvalidHeader``: a header is malformed (Authorization, Date, clock skew)."""

    default_code = "InvalidHeader"


class InvalidVersionError(CloudAPIError):
    """``InvalidVersion``: no API version satisfies the Accept-Version range."""

    default_code = "InvalidVersion"


class InvalidContentError(CloudAPIError):
    """``InvalidContent``: the body is not valid JSON."""

    default_code = "InvalidContent"


class BadDigestError(CloudAPIError):
    """``BadDigest``: Content-MD5 does not match the body."""

    default_code = "BadDigest"


class RequestExpiredError(CloudAPIError):
    """``RequestExpired``: the Date header is too old."""

    default_code = "RequestExpired"


class InvalidCredentialsError(CloudAPIError):
    """``InvalidCredentials``: the key or signature was not accepted."""

    default_code = "InvalidCredentials"


#: CloudAPI's RBAC refusal: "... access <path> (<action>)", or "... access <login>" when the
#: roles could not be resolved (sdc-cloudapi lib/auth.js, authorize).
_PERMISSION_RE = re.compile(
    r"You do not have permission to access (?P<resource>\S+)(?: \((?P<action>[^()\s]+)\))?$"
)


class NotAuthorizedError(CloudAPIError):
    """``NotAuthorized`` (403): the caller may not do this (RBAC, disabled account, quota).

    For an RBAC refusal, ``resource`` is what was refused: the request path
    (``/<login>/machines/<id>``), or the account login when the requested roles (``as-role``)
    are not all the user's; ``action`` is the RBAC action (``getmachine``, ``listmachines``
    ...). Both are ``None`` when the message names no such part (a disabled account, a quota),
    and ``action`` is ``None`` in the account case. ``message`` stays CloudAPI's wording;
    ``str()`` puts it plainly and says what to check.
    """

    default_code = "NotAuthorized"

    def __init__(
        self,
        message: str,
        *,
        status: int = 403,
        code: str | None = None,
        request_id: str | None = None,
        body: Any = None,
        hint: str | None = None,
    ) -> None:
        found = _PERMISSION_RE.search(message)
        self._refusal_span = found.span() if found else None
        self.resource: str | None = found["resource"] if found else None
        self.action: str | None = found["action"] if found else None
        super().__init__(
            message, status=status, code=code, request_id=request_id, body=body, hint=hint
        )

    def _advice(self) -> str:
        if self.action is None:
            return (
                "CloudAPI answers this when a role asked for with as-role (the client's "
                f"roles=) is not one of the caller's roles on account {self.resource}, or when "
                "it cannot look the caller's roles up"
            )
        return (
            f"RBAC allows {self.action} on {self.resource} only when it is role-tagged with one "
            "of the caller's active roles (the default ones, or those asked for with as-role) "
            f"and that role's policy allows {self.action}"
        )

    def __str__(self) -> str:
        text = super().__str__()
        if self._refusal_span is None:
            return text
        start, end = self._refusal_span
        if self.action is None:
            plain = f"not allowed to act on account {self.resource}"
        else:
            plain = f"not allowed to {self.action} {self.resource}"
        text = text.replace(self.message, self.message[:start] + plain + self.message[end:], 1)
        # The advice stays out of ``hint``, which the CLI prints: its output matches triton's.
        return text if self.hint else f"{text}\n  hint: {self._advice()}"


class ResourceNotFoundError(CloudAPIError):
    """``ResourceNotFound``: no such resource."""

    default_code = "ResourceNotFound"


class ResourceMovedError(CloudAPIError):
    """``ResourceMoved``: the resource lives elsewhere (GetDatacenter)."""

    default_code = "ResourceMoved"


class MethodNotAllowedError(CloudAPIError):
    """``MethodNotAllowed``: the path does not take this HTTP method."""

    default_code = "MethodNotAllowed"


class NotAcceptableError(CloudAPIError):
    """``NotAcceptable``: the server cannot produce the Accept type."""

    default_code = "NotAcceptable"


class InvalidArgumentError(CloudAPIError):
    """``InvalidArgument``: a parameter has a bad value."""

    default_code = "InvalidArgument"


class MissingParameterError(CloudAPIError):
    """``MissingParameter``: a required parameter is absent."""

    default_code = "MissingParameter"


class KeyRequiredError(CloudAPIError):
    """``KeyRequired``: provisioning needs at least one SSH key on the account."""

    default_code = "KeyRequired"


class CannotDestroyMachineError(CloudAPIError):
    """``CannotDestroyMachine``: deletion protection prevents deleting the machine."""

    default_code = "CannotDestroyMachine"


class InvalidFabricPackageError(CloudAPIError):
    """``InvalidFabricPackage``: the package may not use fabric networks."""

    default_code = "InvalidFabricPackage"


class PayloadTooLargeError(CloudAPIError):
    """``PayloadTooLarge``: the body exceeds 100000 bytes."""

    default_code = "PayloadTooLarge"


class UnsupportedMediaTypeError(CloudAPIError):
    """``UnsupportedMediaType``: the Content-Type is not accepted on this route."""

    default_code = "UnsupportedMediaType"


class TooManyRequestsError(CloudAPIError):
    """``TooManyRequests``: the account's request rate limit was exceeded."""

    default_code = "TooManyRequests"


class InternalError(CloudAPIError):
    """``InternalError``: the server failed unexpectedly."""

    default_code = "InternalError"


class CloudApiError(CloudAPIError):
    """``CloudApiError``: a backend error CloudAPI does not expose."""

    default_code = "CloudApiError"


class NotImplementedError(CloudAPIError):
    """``NotImplemented``: the feature is disabled in this datacenter."""

    default_code = "NotImplemented"


class ServiceUnavailableError(CloudAPIError):
    """``ServiceUnavailable``: the datacenter is in maintenance or read-only mode."""

    default_code = "ServiceUnavailable"


class ValidationFailedError(CloudAPIError):
    """``ValidationFailed``: VMAPI rejected the parameters (see ``errors``)."""

    default_code = "ValidationFailed"


class UnallocatedVMError(CloudAPIError):
    """``UnallocatedVM``: the machine has not finished provisioning."""

    default_code = "UnallocatedVM"


class BrandNotSupportedError(CloudAPIError):
    """``BrandNotSupported``: the machine's brand does not support this."""

    default_code = "BrandNotSupported"


class VmNotRunningError(CloudAPIError):
    """``VmNotRunning``: the machine must be running."""

    default_code = "VmNotRunning"


class VmNotStoppedError(CloudAPIError):
    """``VmNotStopped``: the machine must be stopped."""

    default_code = "VmNotStopped"


class InvalidParametersError(CloudAPIError):
    """``InvalidParameters``: a backend rejected the parameters (see ``errors``)."""

    default_code = "InvalidParameters"


class VolumeNotFoundError(CloudAPIError):
    """``VolumeNotFound``: no such volume."""

    default_code = "VolumeNotFound"


class VolumeInUseError(CloudAPIError):
    """``VolumeInUse``: the volume is still mounted by machines."""

    default_code = "VolumeInUse"


class ForbiddenError(CloudAPIError):
    """``Forbidden``: the resource belongs to someone else."""

    default_code = "Forbidden"


class ConflictError(CloudAPIError):
    """``Conflict``: the request conflicts with the resource's state."""

    default_code = "Conflict"


#: CloudAPI error code -> exception class. restify names some codes with an ``Error``
#: suffix on the wire (``MethodNotAllowedError``); both spellings map to the same class.
_BY_CODE: dict[str, type[CloudAPIError]] = {}
for _cls in CloudAPIError.__subclasses__():
    if _cls.default_code is not None:
        _BY_CODE[_cls.default_code] = _cls
        _BY_CODE[f"{_cls.default_code}Error"] = _cls


def error_class_for(code: str | None) -> type[CloudAPIError]:
    """The exception class for a CloudAPI error code (``CloudAPIError`` when unknown)."""
    if code is None:
        return CloudAPIError
    return _BY_CODE.get(code, CloudAPIError)


#: Longest message taken from a body that is not JSON (an HTML error page from a proxy ...).
_TEXT_MESSAGE_LIMIT = 300


def error_for_response(
    status: int, body: Any, request_id: str | None = None, *, hint: str | None = None
) -> CloudAPIError:
    """Build the exception for an error response from its status and decoded body."""
    code: str | None = None
    message = ""
    if status == 410:
        message = "the machine has been deleted"
    elif isinstance(body, Mapping):
        nested = body.get("error")
        inner: Mapping[str, Any] = nested if isinstance(nested, Mapping) else body
        raw_code = inner.get("code")
        code = str(raw_code) if raw_code is not None else None
        message = str(inner.get("message", ""))
    elif isinstance(body, str):
        message = " ".join(body.split())
        if len(message) > _TEXT_MESSAGE_LIMIT:
            message = message[: _TEXT_MESSAGE_LIMIT - 3] + "..."
    if not message:
        message = f"HTTP {status}"
    cls = MachineGoneError if status == 410 else error_class_for(code)
    return cls(message, status=status, code=code, request_id=request_id, body=body, hint=hint)


# --- waits ---------------------------------------------------------------------------------


class WaitError(SmartDCError):
    """A wait ended without reaching its goal."""


class WaitTimeoutError(WaitError, builtins.TimeoutError):
    """The deadline passed before the goal was reached. ``last`` holds the last value seen."""

    def __init__(self, message: str, last: Any = None) -> None:
        super().__init__(message)
        self.last = last


class MachineFailedError(WaitError):
    """The machine went to state ``failed`` while we waited. ``machine`` is its last state."""

    def __init__(self, message: str, machine: Any = None) -> None:
        super().__init__(message)
        self.machine = machine
