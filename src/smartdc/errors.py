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
        return self.body if isinstance(self.body, dict) else None


_CODES = (
    "BadRequest",
    "InvalidHeader",
    "InvalidVersion",
    "InvalidContent",
    "BadDigest",
    "RequestExpired",
    "InvalidCredentials",
    "NotAuthorized",
    "ResourceNotFound",
    "MethodNotAllowed",
    "NotAcceptable",
    "InvalidArgument",
    "MissingParameter",
    "KeyRequired",
    "CannotDestroyMachine",
    "InvalidFabricPackage",
    "PayloadTooLarge",
    "UnsupportedMediaType",
    "TooManyRequests",
    "InternalError",
    "CloudApiError",
    "NotImplemented",
    "ServiceUnavailable",
    "ValidationFailed",
    "UnallocatedVM",
    "BrandNotSupported",
    "VmNotRunning",
    "VmNotStopped",
    "InvalidParameters",
    "VolumeNotFound",
    "VolumeInUse",
    "Forbidden",
    "Conflict",
)


def _class_name(code: str) -> str:
    return code if code.endswith("Error") else f"{code}Error"


_BY_CODE: dict[str, type[CloudAPIError]] = {}
for _code in _CODES:
    _cls = type(
        _class_name(_code),
        (CloudAPIError,),
        {
            "default_code": _code,
            "__doc__": f"CloudAPI error code ``{_code}``.",
            "__module__": __name__,
        },
    )
    globals()[_cls.__name__] = _cls
    _BY_CODE[_code] = _cls
    # restify names some codes with an ``Error`` suffix on the wire (MethodNotAllowedError ...).
    _BY_CODE[f"{_code}Error"] = _cls

# Names for static type checkers and readers; the classes above are built from _CODES.
ResourceNotFoundError: type[CloudAPIError] = _BY_CODE["ResourceNotFound"]
InvalidArgumentError: type[CloudAPIError] = _BY_CODE["InvalidArgument"]
MissingParameterError: type[CloudAPIError] = _BY_CODE["MissingParameter"]
InvalidCredentialsError: type[CloudAPIError] = _BY_CODE["InvalidCredentials"]
NotAuthorizedError: type[CloudAPIError] = _BY_CODE["NotAuthorized"]
InvalidHeaderError: type[CloudAPIError] = _BY_CODE["InvalidHeader"]
RequestExpiredError: type[CloudAPIError] = _BY_CODE["RequestExpired"]
TooManyRequestsError: type[CloudAPIError] = _BY_CODE["TooManyRequests"]
ServiceUnavailableError: type[CloudAPIError] = _BY_CODE["ServiceUnavailable"]
KeyRequiredError: type[CloudAPIError] = _BY_CODE["KeyRequired"]
CannotDestroyMachineError: type[CloudAPIError] = _BY_CODE["CannotDestroyMachine"]
ValidationFailedError: type[CloudAPIError] = _BY_CODE["ValidationFailed"]
UnallocatedVMError: type[CloudAPIError] = _BY_CODE["UnallocatedVM"]


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
    if status == 410:
        return MachineGoneError(
            "the machine has been deleted",
            status=status,
            code=None,
            request_id=request_id,
            body=body,
            hint=hint,
        )
    code: str | None = None
    message = ""
    if isinstance(body, Mapping):
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
    cls = error_class_for(code)
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
