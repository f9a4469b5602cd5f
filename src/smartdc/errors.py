"""Every exception smartdc raises.

The tree::

    SmartDCError                       catch-all for this package
    ├── ConfigError                    bad client options (no account, bad URL, bad key_id ...)
    ├── LocalFileError                 a local file a call needs is missing or unreadable
    │   └── ScriptFileError            the boot script file (``boot_script=``)
    ├── SigningError                   a request could not be signed
    │   ├── KeyFileError               private key file missing or unreadable (also a
    │   │                              LocalFileError)
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
    ├── UnexpectedResponseError        a 2xx answer that is not CloudAPI JSON (an HTML page
    │                                  from a portal or proxy: the URL is not CloudAPI's)
    ├── CloudAPIError                  CloudAPI answered with an error status
    │   ├── <one subclass per CloudAPI error code>, e.g. ResourceNotFoundError
    │   └── GoneError                  410 Gone
    │       └── MachineGoneError       410 for a machine: it was deleted
    ├── SnapshotExistsError            a snapshot of that name already exists
    └── WaitError                      a poll did not reach its goal
        ├── WaitTimeoutError           the deadline passed
        ├── ServerUnreachableError     polls got no response several times in a row
        └── MachineFailedError         the machine went to state ``failed``

"Not there" comes in two shapes: 404 (``ResourceNotFoundError``, ``VolumeNotFoundError``)
for what never existed or was purged, and 410 (``GoneError``, ``MachineGoneError``) for a
machine deleted a short while ago. Both derive from :class:`NotFoundError`, so one
``except NotFoundError:`` catches either (``except (ResourceNotFoundError,
MachineGoneError):`` names them one by one).

Every CloudAPI error carries ``status``, ``code``, ``message`` and ``request_id``; subclasses
are looked up by ``code`` with :func:`error_for_response`.
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import unquote, urlsplit


class SmartDCError(Exception):
    """Base class of every error raised by smartdc."""


class ConfigError(SmartDCError):
    """Client options are missing or inconsistent."""


class LocalFileError(SmartDCError):
    """A local file that a call needs is missing or cannot be read. ``path`` names it."""

    def __init__(self, message: str, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path


class ScriptFileError(LocalFileError):
    """The boot script file (``boot_script=``, ``set_boot_script``) cannot be read."""


class NotFoundError(SmartDCError):
    """What was asked for does not exist, or no longer does: the common base of the 404
    errors (:class:`ResourceNotFoundError`, :class:`VolumeNotFoundError`) and of the 410 ones
    (:class:`GoneError`, :class:`MachineGoneError`)."""


class SnapshotExistsError(SmartDCError):
    """A snapshot of that name already exists on the machine (checked before creating one,
    because CloudAPI queues the duplicate instead of refusing it)."""


# --- signing -------------------------------------------------------------------------------


class SigningError(SmartDCError):
    """A request could not be signed."""


class KeyFileError(SigningError, LocalFileError):
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


class UnexpectedResponseError(SmartDCError):
    """A 2xx answer whose body is not CloudAPI's JSON: a web portal, a proxy's login or
    error page. The URL most likely points at something other than CloudAPI.

    Attributes: ``url``, ``status``, ``content_type`` (``None`` when absent) and
    ``request_id``.
    """

    def __init__(
        self,
        message: str,
        *,
        url: str,
        status: int,
        content_type: str | None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.url = url
        self.status = status
        self.content_type = content_type
        self.request_id = request_id


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


class ResourceNotFoundError(CloudAPIError, NotFoundError):
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


class VolumeNotFoundError(CloudAPIError, NotFoundError):
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


class GoneError(CloudAPIError, NotFoundError):
    """410 Gone for something that is not a machine (CloudAPI itself answers 410 only for
    deleted machines, which raise :class:`MachineGoneError`)."""


class MachineGoneError(GoneError):
    """410 Gone: the machine has been deleted.

    ``machine`` is the machine's last state when CloudAPI sent it; ``machine_id`` and
    ``machine_name`` name it (``machine_name`` is ``None`` when the answer did not carry it).
    """

    def __init__(
        self,
        message: str,
        *,
        status: int = 410,
        code: str | None = None,
        request_id: str | None = None,
        body: Any = None,
        hint: str | None = None,
        machine_id: str | None = None,
    ) -> None:
        found = body if isinstance(body, Mapping) else {}
        ident = found.get("id")
        if not isinstance(ident, str) or not ident:
            # DeleteMachine may answer with the machine id alone as a JSON string.
            ident = body if isinstance(body, str) and _UUID_RE.fullmatch(body) else machine_id
        name = found.get("name")
        self.machine_id: str | None = ident
        self.machine_name: str | None = name if isinstance(name, str) and name else None
        super().__init__(
            message, status=status, code=code, request_id=request_id, body=body, hint=hint
        )

    @property
    def machine(self) -> dict[str, Any] | None:
        """The deleted machine's last state, when CloudAPI sent it."""
        return self.body if isinstance(self.body, dict) else None

    def about(self, subject: str) -> CloudAPIError:
        """The same error with ``subject`` put before the message."""
        return MachineGoneError(
            f"{subject}: {self.message}",
            status=self.status,
            code=self.code,
            request_id=self.request_id,
            body=self.body,
            hint=self.hint,
            machine_id=self.machine_id,
        )


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


#: A machine's path, ``/<login>/machines/<id>`` (and its sub-resources).
_MACHINE_PATH_RE = re.compile(r"/[^/?#]+/machines/(?P<id>[^/?#]+)")
_UUID_RE = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")


def _gone_machine_id(body: Any, url: str | None) -> str | None:
    """The machine a 410 is about, or ``None`` when it is not about a machine.

    CloudAPI answers 410 only for a deleted machine, with the machine object (or, from
    DeleteMachine, its id as a string) as the body (sdc-cloudapi lib/machines.js). The
    request's path decides when it is known; the body only when it is not.
    """
    if url is not None:
        found = _MACHINE_PATH_RE.search(urlsplit(url).path)
        return unquote(found["id"]) if found else None
    if isinstance(body, Mapping):
        ident = body.get("id")
        if isinstance(ident, str) and ident and "state" in body:
            return ident
    if isinstance(body, str) and _UUID_RE.fullmatch(body):
        return body
    return None


def _text_message(body: str) -> str:
    message = " ".join(body.split())
    if len(message) > _TEXT_MESSAGE_LIMIT:
        message = message[: _TEXT_MESSAGE_LIMIT - 3] + "..."
    return message


def error_for_response(
    status: int,
    body: Any,
    request_id: str | None = None,
    *,
    hint: str | None = None,
    url: str | None = None,
) -> CloudAPIError:
    """Build the exception for an error response from its status and decoded body.

    ``url`` (the request's) tells a machine's 410 from any other.
    """
    if status == 410:
        return _gone_error(body, request_id, hint, url)
    code: str | None = None
    message = ""
    if isinstance(body, Mapping):
        nested = body.get("error")
        inner: Mapping[str, Any] = nested if isinstance(nested, Mapping) else body
        raw_code = inner.get("code")
        code = str(raw_code) if raw_code is not None else None
        message = str(inner.get("message", ""))
    elif isinstance(body, str):
        message = _text_message(body)
    if not message:
        message = f"HTTP {status}"
    cls = error_class_for(code)
    return cls(message, status=status, code=code, request_id=request_id, body=body, hint=hint)


def _gone_error(
    body: Any, request_id: str | None, hint: str | None, url: str | None
) -> CloudAPIError:
    machine_id = _gone_machine_id(body, url)
    if machine_id is None:
        message = ""
        if isinstance(body, Mapping):
            message = str(body.get("message") or "")
        elif isinstance(body, str):
            message = _text_message(body)
        where = f" ({url})" if url else ""
        return GoneError(
            message or f"HTTP 410 Gone{where}",
            status=410,
            request_id=request_id,
            body=body,
            hint=hint,
        )
    name = body.get("name") if isinstance(body, Mapping) else None
    label = f"machine {name} ({machine_id})" if isinstance(name, str) and name else None
    return MachineGoneError(
        f"{label or f'machine {machine_id}'} has been deleted",
        status=410,
        request_id=request_id,
        body=body,
        hint=hint,
        machine_id=machine_id,
    )


# --- waits ---------------------------------------------------------------------------------


class WaitError(SmartDCError):
    """A wait ended without reaching its goal."""


class WaitTimeoutError(WaitError, builtins.TimeoutError):
    """The deadline passed before the goal was reached. ``last`` holds the last value seen."""

    def __init__(self, message: str, last: Any = None) -> None:
        super().__init__(message)
        self.last = last


class ServerUnreachableError(WaitError):
    """Several polls in a row got no response at all (connection refused, DNS, timeouts):
    the wait stopped before its deadline. The last failure is the ``__cause__``, and
    ``last`` holds the last value seen (``None`` if no poll ever answered)."""

    def __init__(self, message: str, last: Any = None) -> None:
        super().__init__(message)
        self.last = last


class MachineFailedError(WaitError):
    """The machine went to state ``failed`` while we waited. ``machine`` is its last state."""

    def __init__(self, message: str, machine: Any = None) -> None:
        super().__init__(message)
        self.machine = machine
